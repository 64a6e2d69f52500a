"""The API's endpoints: thin views over the selectors, services and jobs the pages use."""

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from claims import dataset, jobs, selectors, services
from claims.api import permissions, serializers
from claims.api import selectors as api_selectors
from claims.forms import ExportForm
from claims.jobs import exports
from claims.models import (
    Annotation,
    Article,
    Assignment,
    GoldLabel,
    Job,
    Source,
    VerificationStatus,
)

IMPORT_FILE = "api.jsonl"


class IdCursorPagination(CursorPagination):
    """Keyset pagination on the id: a page costs the same at the millionth row as at the
    first, and rows added meanwhile neither repeat nor go missing."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class SentenceCursorPagination(IdCursorPagination):
    """Gold labels in the order of their sentences (one label a sentence): the corpus order,
    and on PostgreSQL a walk of two indexes in step rather than a sort of the join."""

    ordering = "sentence_id"


class ServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "Service unavailable."


def _pseudonymizer():
    try:
        return dataset.pseudonymizer()
    except dataset.PseudonymKeyMissing as error:
        raise ServiceUnavailable(str(error)) from None


def _export_form(data: dict) -> ExportForm:
    """The export page's form, bound to a JSON object of values or lists of values."""
    query = QueryDict(mutable=True)
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                item = "on" if item else ""
            query.appendlist(key, "" if item is None else str(item))
    return ExportForm(query)


def _filters(request, *, exclude=("level", "format")) -> selectors.ExportFilters:
    """The export filters from the query string; unknown or invalid ones are a 400."""
    params = {k: v for k, v in request.query_params.lists() if k not in ("cursor", "page_size")}
    unknown = sorted(set(params) - (set(ExportForm.base_fields) - set(exclude)))
    if unknown:
        raise exceptions.ValidationError({name: "Unknown filter." for name in unknown})
    form = _export_form(params)
    if not form.is_valid():
        raise exceptions.ValidationError(form.errors.get_json_data())
    return form.filters()


LABEL_FILTERS = [
    OpenApiParameter(name, OpenApiTypes.STR, many=many, description=description)
    for name, many, description in (
        ("date_from", False, "Articles published on or after (YYYY-MM-DD)"),
        ("date_to", False, "Articles published on or before (YYYY-MM-DD)"),
        ("outlets", True, "Article outlets"),
        ("articles", True, "Article ids"),
        ("sources", True, "Labels with a claim of these source ids"),
        ("source_kinds", True, "Labels with a claim of a source of these kinds"),
        ("sides", True, "Labels with a claim of a source of these sides"),
        ("statuses", True, "Labels with a claim of these status codes"),
        ("claims_only", False, "true: only labels that are claims"),
        ("reviewed_only", False, "true: only labels of sentences with a gold label"),
    )
]


def _file_response(job: Job):
    if job.state != Job.State.SUCCEEDED or not job.file:
        raise exceptions.NotFound("This job has no file (yet), or its file was removed.")
    if job.expires_at and job.expires_at < timezone.now():
        raise exceptions.NotFound("This download has expired. Start the export again.")
    try:
        file = job.file.open("rb")
    except FileNotFoundError:  # removed by hand, or storage not shared with this machine
        raise exceptions.NotFound("This job's file is missing. Start the export again.") from None
    return FileResponse(file, as_attachment=True, filename=job.file_name)


def _job_accepted(job: Job, request) -> Response:
    data = serializers.JobSerializer(job, context={"request": request}).data
    location = request.build_absolute_uri(reverse("api:job-detail", kwargs={"pk": job.pk}))
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


@extend_schema(
    parameters=[
        OpenApiParameter("outlet", OpenApiTypes.STR),
        OpenApiParameter("language", OpenApiTypes.STR),
        OpenApiParameter("external_id", OpenApiTypes.STR),
        OpenApiParameter("date_from", OpenApiTypes.DATE),
        OpenApiParameter("date_to", OpenApiTypes.DATE),
    ]
)
class ArticleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Articles (annotators: those assigned to them). POST imports articles as a job."""

    permission_classes = [permissions.ReadOrEditor]
    pagination_class = IdCursorPagination
    queryset = Article.objects.none()

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.ArticleDetailSerializer
        return serializers.ArticleSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Article.objects.none()
        articles = api_selectors.articles_for(self.request.user)
        if self.action == "retrieve":
            return articles.prefetch_related("sentences")
        params = self.request.query_params
        conditions = {
            "outlet": params.get("outlet"),
            "language": params.get("language"),
            "external_id": params.get("external_id"),
            "published_on__gte": params.get("date_from"),
            "published_on__lte": params.get("date_to"),
        }
        try:
            return articles.filter(**{k: v for k, v in conditions.items() if v})
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.messages) from None

    @extend_schema(
        request=serializers.ArticleImportSerializer, responses={202: serializers.JobSerializer}
    )
    def create(self, request):
        """Import articles (editors): an import job, as an upload of a JSONL file would be."""
        incoming = serializers.ArticleImportSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        lines = [
            json.dumps({k: v for k, v in article.items() if v is not None}, default=str)
            for article in incoming.validated_data["articles"]
        ]
        params = {"files": [IMPORT_FILE], "outlet": "", "published_on": None}
        data = ("\n".join(lines) + "\n").encode()
        job = jobs.start(
            kind="import", user=request.user, params=params, files={IMPORT_FILE: data}
        )
        return _job_accepted(job, request)


class SourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The source taxonomy with aliases. POST (editors) creates or updates a source by name."""

    serializer_class = serializers.SourceSerializer
    permission_classes = [permissions.ReadOrEditor]
    pagination_class = IdCursorPagination
    queryset = Source.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Source.objects.none()
        return api_selectors.sources_for(self.request.user)

    @extend_schema(
        request=serializers.SourceInSerializer, responses={201: serializers.SourceSerializer}
    )
    def create(self, request):
        incoming = serializers.SourceInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            source = services.source_upsert(**incoming.validated_data)
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.messages) from None
        source = Source.objects.prefetch_related("aliases").get(pk=source.pk)
        return Response(serializers.SourceSerializer(source).data, status=status.HTTP_201_CREATED)


class StatusViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The verification statuses (a claim's status is one of their codes)."""

    serializer_class = serializers.StatusSerializer
    pagination_class = None

    def get_queryset(self):
        return VerificationStatus.objects.order_by("order", "code")


class AssignmentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Assignments (annotators: their own). POST (editors) assigns articles to annotators."""

    serializer_class = serializers.AssignmentSerializer
    permission_classes = [permissions.ReadOrEditor]
    pagination_class = IdCursorPagination
    queryset = Assignment.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Assignment.objects.none()
        return api_selectors.assignments_for(self.request.user)

    @extend_schema(
        request=serializers.AssignmentInSerializer,
        responses={201: serializers.AssignmentSerializer(many=True)},
    )
    def create(self, request):
        incoming = serializers.AssignmentInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        articles = list(Article.objects.filter(pk__in=data["articles"]).order_by("pk"))
        annotators = list(selectors.annotators().filter(pk__in=data["annotators"]))
        missing = len(set(data["articles"])) - len(articles)
        if missing or len(annotators) != len(set(data["annotators"])):
            raise exceptions.ValidationError("Unknown article or annotator id.")
        try:
            created = services.assignments_create(
                articles=articles,
                annotators=annotators,
                overlap=data["overlap"],
                assigned_by=request.user,
            )
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.messages) from None
        body = serializers.AssignmentSerializer(created, many=True).data
        return Response(body, status=status.HTTP_201_CREATED)


def _labels_page(view, *, gold: bool) -> Response:
    """A page of labels with their claims: two queries, whatever the page size."""
    pseudonymize = _pseudonymizer()
    rows = view.paginate_queryset(view.get_queryset())
    labels = api_selectors.labels_with_claims(rows, gold=gold, pseudonymize=pseudonymize)
    return view.get_paginated_response(labels)


@extend_schema(parameters=LABEL_FILTERS)
class AnnotationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Annotations with their claims (annotators: only their own), filtered as exports are."""

    serializer_class = serializers.AnnotationSerializer
    pagination_class = IdCursorPagination
    queryset = Annotation.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Annotation.objects.none()
        return api_selectors.annotations_for(self.request.user, filters=_filters(self.request))

    def list(self, request):
        return _labels_page(self, gold=False)


@extend_schema(parameters=LABEL_FILTERS)
class GoldLabelViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Gold labels with their claims (researchers, editors, admins), filtered as exports are."""

    serializer_class = serializers.GoldLabelSerializer
    permission_classes = [permissions.CanExport]
    pagination_class = SentenceCursorPagination
    queryset = GoldLabel.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GoldLabel.objects.none()
        return api_selectors.gold_labels(filters=_filters(self.request))

    def list(self, request):
        return _labels_page(self, gold=True)


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your jobs (admins: everyone's): progress, result, error, and the file of an export."""

    serializer_class = serializers.JobSerializer
    pagination_class = IdCursorPagination
    queryset = Job.objects.none()
    kind = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Job.objects.none()
        return api_selectors.jobs_for(self.request.user, kind=self.kind)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True)
    def download(self, request, pk=None):
        """The job's file (an export's data), while it has not expired."""
        job = get_object_or_404(self.get_queryset(), pk=pk)
        if not selectors.job_kind_allowed(request.user, job.kind):
            raise exceptions.PermissionDenied("You may no longer download this job's file.")
        return _file_response(job)


class ExportViewSet(JobViewSet):
    """Export jobs (researchers, editors, admins): POST starts one, GET polls it."""

    permission_classes = [permissions.CanExport]
    kind = Job.Kind.EXPORT

    @extend_schema(
        request=serializers.ExportInSerializer, responses={202: serializers.JobSerializer}
    )
    def create(self, request):
        incoming = serializers.ExportInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        query = incoming.validated_data["query"]
        form = _export_form(query)
        if form.unknown():
            raise exceptions.ValidationError({name: "Unknown filter." for name in form.unknown()})
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors.get_json_data())
        try:
            dataset.pseudonym_key()
        except dataset.PseudonymKeyMissing as error:
            raise ServiceUnavailable(str(error)) from None
        # the values the form validated (a single-valued field takes its last value)
        job = exports.export_start(user=request.user, query=exports.query_of(form.data))
        return _job_accepted(job, request)
