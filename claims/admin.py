"""The Django admin: articles (with spreadsheet import), sources, statuses, annotations."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ExportMixin, ImportExportMixin
from import_export.forms import ImportForm
from simple_history.admin import SimpleHistoryAdmin

from claims import importing, services
from claims.models import (
    Annotation,
    AnnotationEvent,
    Article,
    Assignment,
    GoldLabel,
    SendBack,
    Sentence,
    Source,
    SourceAlias,
    VerificationStatus,
)
from claims.resources import (
    UPLOAD_FORMATS,
    AnnotationResource,
    ArticleResource,
    GoldLabelResource,
    PrivateImportStorage,
    SourceResource,
    VerificationStatusResource,
    record_from,
)
from claims.roles import ANNOTATOR


class SentenceInline(admin.TabularInline):
    model = Sentence
    fields = ("position", "kind", "start", "end", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ("title", "body", "published_on", "outlet", "url", "external_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The body is stored exactly as given: sentence offsets and the checksum depend on it.
        if "body" in self.fields:  # read-only, so absent, on the change page
            self.fields["body"].strip = False
        if self.instance.pk is None:
            self.fields["title"].required = False
            self.fields["title"].help_text = "Leave empty to use the first sentence."

    def clean_external_id(self):
        return (self.cleaned_data.get("external_id") or "").strip() or None

    def clean(self):
        cleaned = super().clean()
        body = cleaned.get("body")
        if self.instance.pk is None and body:
            twin = Article.objects.filter(checksum=importing.body_checksum(body)).first()
            if twin is not None:
                raise forms.ValidationError(
                    f"This text is already imported as article #{twin.pk} ({twin.title!r})."
                )
        return cleaned


class CheckedChangeList(ChangeList):
    """A date-hierarchy year past what a date holds is a wrong filter, not an OverflowError."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error


class CheckedParametersMixin:
    """Filters and ids from the address are checked as the changelist checks its own: the
    export page (which filters like the changelist) and simple_history's pages answer a
    malformed one with a message or a 404, not a 500."""

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def export_action(self, request):
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            messages.error(request, "The filters in the address are not valid; choose again.")
            return HttpResponseRedirect(request.path)

    def history_view(self, request, object_id, extra_context=None):
        _id_or_404(self.model, unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        _id_or_404(self.model, unquote(object_id))
        _id_or_404(self.model.history.model, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


def _id_or_404(model, value) -> None:
    try:
        model._meta.pk.to_python(value)
    except ValidationError:
        raise Http404(f"No {model._meta.verbose_name} with the id {value!r}.") from None


class SizeLimitedImportForm(ImportForm):
    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.CLAIMDESK_MAX_IMPORT_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; the limit is {limit:,} bytes."
            )
        return upload


class AllOrNothingImportMixin:
    """A spreadsheet import writes every row or none: a row refused at confirm time (the data
    changed since the preview) rolls back the others and says so. Uploads have a size limit,
    come in the formats claimdesk reads itself (CSV, XLSX, JSON), and wait for the confirm
    step in a private folder, which the confirm step reads only its own files from."""

    import_form_class = SizeLimitedImportForm
    tmp_storage_class = PrivateImportStorage
    import_template_name = "admin/claims/import.html"  # messages, never a traceback

    def get_import_formats(self):  # not HTML, TSV, ODS...: they went through tablib unchecked
        return list(UPLOAD_FORMATS)

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, importing.ImportFileError):  # named by the upload's own name
            name = getattr(form.cleaned_data.get("import_file"), "name", None) or e.name
            form.add_error(
                "import_file", f"{importing.place(name, line=e.line, row=e.row)}: {e.reason}"
            )
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        upload = request.FILES.get("import_file")
        name = getattr(upload, "tmp_storage_name", None)
        if name and not (getattr(response, "context_data", None) or {}).get("confirm_form"):
            PrivateImportStorage(name=name).remove()  # no confirm step will read it
        return response

    def process_import(self, request, **kwargs):
        if request.method != "POST" or not self.has_import_permission(request):
            return super().process_import(request, **kwargs)
        storage = PrivateImportStorage(name=request.POST.get("import_file_name"))
        formats = [str(i) for i in range(len(self.get_import_formats()))]
        resources = ["", *(str(i) for i in range(len(self.get_import_resource_classes(request))))]
        if (
            not storage.owns(storage.name)
            or request.POST.get("format") not in formats
            or request.POST.get("resource", "") not in resources
        ):
            return HttpResponseBadRequest("This is not a confirm step of an upload of yours.")
        if not storage.exists():
            messages.error(
                request, "This upload was imported already or has expired; upload the file again."
            )
            return HttpResponseRedirect(
                reverse(f"admin:claims_{self.model._meta.model_name}_import")
            )
        try:
            return super().process_import(request, **kwargs)
        finally:
            storage.remove()  # also when the import failed: the preview must be redone

    def get_import_data_kwargs(self, **kwargs):
        # All or nothing: a row refused at confirm time rolls back every other row too.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            messages.error(
                request,
                "Nothing was imported: the data changed since the preview and a row is now "
                "refused. Upload the file again to see why.",
            )
            return HttpResponseRedirect(
                reverse(f"admin:claims_{self.model._meta.model_name}_import")
            )
        return super().process_result(result, request)


@admin.register(Article)
class ArticleAdmin(
    CheckedParametersMixin, AllOrNothingImportMixin, ImportExportMixin, SimpleHistoryAdmin
):
    resource_classes = [ArticleResource]
    form = ArticleForm
    list_display = (
        "title",
        "published_on",
        "outlet",
        "sentence_count",
        "external_id",
        "created_at",
    )
    list_filter = ("published_on", "outlet", "language")
    search_fields = ("title", "external_id", "outlet", "url")
    date_hierarchy = "published_on"

    def get_inlines(self, request, obj):
        # Sentences exist only once the article is saved and segmented.
        return [SentenceInline] if obj else []

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_sentences=Count("sentences"))

    @admin.display(description="sentences", ordering="_sentences")
    def sentence_count(self, obj):
        return obj._sentences

    def get_readonly_fields(self, request, obj=None):
        # Sentence offsets point into the body, so it cannot be edited once saved.
        return ("body", "checksum", "created_at") if obj else ()

    def get_fields(self, request, obj=None):
        fields = ["title", "body", "published_on", "outlet", "url", "external_id"]
        return [*fields, "checksum", "created_at"] if obj else fields

    def import_action(self, request, **kwargs):
        """Articles are imported on the import page, as a background job with progress and a
        per-file summary, by the same rules as the command: never inside this request, which a
        large file outlived (the web worker's timeout)."""
        messages.info(
            request,
            "Articles are imported here, as a background job: upload the file (CSV, XLSX, "
            "JSONL, TXT or a ZIP of them) and follow its progress.",
        )
        return HttpResponseRedirect(reverse("claims:import_articles"))

    def process_import(self, request, **kwargs):
        return self.import_action(request)

    actions = ["assign_to_annotators"]

    @admin.action(description="Assign to 2 annotators each (least-loaded first)")
    def assign_to_annotators(self, request, queryset):
        annotators = User.objects.filter(groups__name=ANNOTATOR, is_active=True)
        try:
            created = services.assignments_create(
                articles=queryset, annotators=annotators, assigned_by=request.user
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, f"Created {len(created)} assignment(s).")

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
        else:
            article, _ = services.article_upsert(record=record_from(obj))
            obj.pk = article.pk


class SourceAliasInline(admin.TabularInline):
    model = SourceAlias
    extra = 1


class SourceAdminForm(forms.ModelForm):
    """Setting "merged into" merges (see SourceAdmin.save_model): a merge the service would
    refuse is a form error here, never a 500."""

    class Meta:
        model = Source
        fields = ("name", "kind", "side", "description", "wikidata_id", "status", "merged_into")

    def clean(self):
        cleaned = super().clean()
        into = cleaned.get("merged_into")
        if into is not None and "merged_into" in self.changed_data:  # on add, too
            try:
                services.source_merge_check(source=self.instance, into=into)
            except ValidationError as error:
                self.add_error("merged_into", error.messages)
        return cleaned


@admin.register(Source)
class SourceAdmin(
    CheckedParametersMixin, AllOrNothingImportMixin, ImportExportMixin, SimpleHistoryAdmin
):
    resource_classes = [SourceResource]
    form = SourceAdminForm
    list_display = ("name", "kind", "side", "status", "merged_into", "proposed_by", "alias_list")
    list_filter = ("status", "kind", "side")
    search_fields = ("name", "aliases__alias", "description")
    inlines = [SourceAliasInline]
    raw_id_fields = ("merged_into",)
    actions = ["approve"]

    def get_readonly_fields(self, request, obj=None):
        # A merge re-pointed labels and moved aliases: clearing the field cannot undo that,
        # so once set it is shown, not edited (a merged source is never silently un-merged).
        merged = ("merged_into",) if obj is not None and obj.merged_into_id else ()
        return ("proposed_by", "proposers", *merged)

    @admin.action(description="Approve selected pending sources")
    def approve(self, request, queryset):
        for source in queryset.filter(status=Source.Status.PENDING):
            services.source_approve(source=source)
        self.message_user(request, "Approved.")

    def save_model(self, request, obj, form, change):
        # Setting "merged into" merges: labels are re-pointed and the old name kept as an alias.
        into = obj.merged_into
        if change and into is not None and "merged_into" in form.changed_data:
            obj.merged_into = None
            obj.save()
            try:
                moved = services.source_merge(source=obj, into=into, merged_by=request.user)
            except ValidationError as error:  # a concurrent merge got there first
                self.message_user(request, " ".join(error.messages), level=messages.ERROR)
                return
            self.message_user(request, f"Merged into {into.name}; {moved} label(s) re-pointed.")
        else:
            obj.save()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("aliases")

    @admin.display(description="aliases")
    def alias_list(self, obj):
        return ", ".join(alias.alias for alias in obj.aliases.all())


@admin.register(SourceAlias)
class SourceAliasAdmin(CheckedParametersMixin, SimpleHistoryAdmin):
    """Aliases are edited on their source's page; here for their history (who, when)."""

    list_display = ("alias", "source")
    search_fields = ("alias", "source__name")
    list_select_related = ("source",)
    raw_id_fields = ("source",)


@admin.register(VerificationStatus)
class VerificationStatusAdmin(
    CheckedParametersMixin, AllOrNothingImportMixin, ImportExportMixin, SimpleHistoryAdmin
):
    resource_classes = [VerificationStatusResource]
    list_display = ("label", "code", "key", "swatch", "order", "is_active")
    list_editable = ("order", "is_active")
    ordering = ("order", "code")

    @admin.display(description="colour")
    def swatch(self, obj):
        return format_html(
            '<span style="background:{};color:#fff;padding:2px 8px;border-radius:3px">{}</span>',
            obj.colour,
            obj.colour,
        )


@admin.register(Annotation)
class AnnotationAdmin(CheckedParametersMixin, ExportMixin, admin.ModelAdmin):
    resource_classes = [AnnotationResource]
    """Read-only: labels change in the annotation workspace, where versions are checked."""

    list_display = ("sentence", "annotator", "is_claim", "source", "status", "updated_at")
    list_filter = ("is_claim", "status", "source__kind", "annotator")
    search_fields = ("sentence__text", "note", "sentence__article__title")
    list_select_related = ("sentence", "annotator", "source", "status")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(CheckedParametersMixin, SimpleHistoryAdmin):
    list_display = ("article", "annotator", "assigned_by", "created_at", "completed_at")
    list_filter = ("annotator", "completed_at")
    search_fields = ("article__title", "annotator__username")
    list_select_related = ("article", "annotator", "assigned_by")
    raw_id_fields = ("article",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History and decisions are changed through the app, where versions are checked."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GoldLabel)
class GoldLabelAdmin(CheckedParametersMixin, ExportMixin, SimpleHistoryAdmin, ReadOnlyAdmin):
    resource_classes = [GoldLabelResource]
    list_display = ("sentence", "is_claim", "source", "status", "origin", "editor", "updated_at")
    list_filter = ("origin", "is_claim", "status", "editor")
    search_fields = ("sentence__text", "comment")
    list_select_related = ("sentence", "source", "status", "editor")


@admin.register(AnnotationEvent)
class AnnotationEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "sentence", "annotator", "undone")
    list_filter = ("action", "actor")
    search_fields = ("sentence__text",)
    list_select_related = ("actor", "sentence", "annotator")


@admin.register(SendBack)
class SendBackAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "editor", "sentence", "comment", "resolved_at")
    list_filter = ("resolved_at",)
    list_select_related = ("editor", "sentence")
