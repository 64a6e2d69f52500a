"""django-import-export resources: the admin's spreadsheet import/export of articles."""

import datetime

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from claims import dataset, exporting, importing, services
from claims.models import Annotation, Article, GoldLabel, Source, VerificationStatus


class SpreadsheetSafeResource(resources.ModelResource):
    """Admin exports open in spreadsheets: every text cell goes through the one sanitiser,
    and an import takes the protective quote off again, so a round trip changes nothing."""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return exporting.csv_safe(value) if isinstance(value, str) else value

    def before_import_row(self, row, **kwargs):
        for key, value in row.items():
            if isinstance(value, str):
                row[key] = exporting.csv_unescape(value)
        super().before_import_row(row, **kwargs)


class ArticleResource(SpreadsheetSafeResource):
    """Admin import of articles (CSV, JSON, XLSX) through the same path as the command line.

    Rows are matched by external_id, else by identical body, so re-importing never duplicates;
    each saved row goes through `services.article_upsert`, which segments the article.
    """

    class Meta:
        model = Article
        fields = ("id", "title", "body", "published_on", "outlet", "url", "external_id")
        # A list: import-export compares with ["id"] to know the column is optional.
        import_id_fields = ["id"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        headers = {(h or "").strip() for h in dataset.headers or []}
        missing = [c for c in importing.REQUIRED_COLUMNS if c not in headers]
        if missing:
            raise ValidationError(
                f"missing column(s): {', '.join(missing)} "
                f"(columns: {', '.join(importing.COLUMNS)})"
            )
        seen: dict[str, int] = {}
        if "external_id" in headers:
            for number, value in enumerate(dataset["external_id"], start=1):
                key = str(value or "").strip()
                if key and key in seen:
                    raise ValidationError(
                        f"external_id {key!r} appears in rows {seen[key]} and {number}"
                    )
                seen[key] = number

    def get_instance(self, instance_loader, row):
        external_id = str(row.get("external_id") or "").strip()
        if external_id:
            article = Article.objects.filter(external_id=external_id).first()
            if article:
                return article
        body = row.get("body") or ""
        return Article.objects.filter(checksum=importing.body_checksum(str(body))).first()

    def import_instance(self, instance, row, **kwargs):
        try:
            super().import_instance(instance, row, **kwargs)
        finally:
            # Normalise even when a field failed, so only that field's error is reported.
            if isinstance(instance.published_on, datetime.datetime):  # XLSX date cells
                instance.published_on = instance.published_on.date()
            instance.external_id = (instance.external_id or "").strip() or None
            instance.checksum = importing.body_checksum(instance.body or "")
            if not (instance.title or "").strip() and (instance.body or "").strip():
                instance.title = importing.title_from_body(instance.body)

    def do_instance_save(self, instance, is_create):
        article, _ = services.article_upsert(record=record_from(instance))
        instance.pk = article.pk


def record_from(article: Article) -> importing.ArticleRecord:
    return importing.ArticleRecord(
        body=article.body,
        title=article.title,
        published_on=article.published_on,
        outlet=article.outlet,
        url=article.url,
        external_id=article.external_id,
    )


class AliasesWidget(widgets.Widget):
    """Aliases as one cell: "Russian MoD; the Defence Ministry"."""

    def clean(self, value, row=None, **kwargs):
        return [a.strip() for a in str(value or "").split(";") if a.strip()]

    def render(self, value, obj=None, **kwargs):
        if value is None or value.instance.pk is None:  # a new source, not saved yet
            return ""
        return "; ".join(alias.alias for alias in value.all())


class SourceResource(SpreadsheetSafeResource):
    """The source taxonomy, editable in a spreadsheet: matched by name, aliases added."""

    aliases = fields.Field(attribute="aliases", column_name="aliases", widget=AliasesWidget())

    class Meta:
        model = Source
        fields = ("name", "kind", "side", "status", "description", "aliases")
        import_id_fields = ["name"]
        skip_unchanged = False
        clean_model_instances = True
        use_transactions = True

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.attribute == "aliases":  # saved after the instance, in after_save_instance
            instance._imported_aliases = field.clean(row, **kwargs)
            return
        super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def after_save_instance(self, instance, row, **kwargs):
        services.source_upsert(
            name=instance.name,
            kind=instance.kind,
            side=instance.side,
            description=instance.description,
            aliases=getattr(instance, "_imported_aliases", []),
        )


class VerificationStatusResource(SpreadsheetSafeResource):
    class Meta:
        model = VerificationStatus
        fields = ("code", "label", "guideline", "order", "key", "colour", "is_active")
        import_id_fields = ["code"]
        skip_unchanged = True
        clean_model_instances = True
        use_transactions = True

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        instance.key = instance.key or None  # an empty key cell means "no key" (NULL)


class AnnotationResource(SpreadsheetSafeResource):
    """Export only; annotators appear as pseudonyms as in dataset exports."""

    annotator = fields.Field(column_name="annotator")

    class Meta:
        model = Annotation
        fields = (
            "id",
            "sentence",
            "sentence__article",
            "sentence__text",
            "is_claim",
            "source__name",
            "attribution_type",
            "status__code",
            "span_start",
            "span_end",
            "note",
            "evidence_url",
            "annotator",
            "version",
            "updated_at",
        )

    def dehydrate_annotator(self, annotation):
        return dataset_pseudonym(annotation.annotator_id)


class GoldLabelResource(SpreadsheetSafeResource):
    reviewed_by = fields.Field(column_name="reviewed_by")

    class Meta:
        model = GoldLabel
        fields = (
            "id",
            "sentence",
            "sentence__article",
            "sentence__text",
            "is_claim",
            "source__name",
            "attribution_type",
            "status__code",
            "span_start",
            "span_end",
            "origin",
            "comment",
            "reviewed_by",
            "version",
            "updated_at",
        )

    def dehydrate_reviewed_by(self, gold):
        return dataset_pseudonym(gold.editor_id)


def dataset_pseudonym(user_id) -> str:
    return dataset.pseudonymizer()(user_id)
