"""What the API returns and accepts. Offsets are into the article body, as in the exports."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from claims.models import (
    Annotation,
    Article,
    Assignment,
    Claim,
    GoldLabel,
    Job,
    Sentence,
    Source,
    SourceKind,
    VerificationStatus,
)


class ArticleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = [
            "id",
            "title",
            "published_on",
            "outlet",
            "url",
            "external_id",
            "language",
            "checksum",
            "created_at",
            "updated_at",
        ]


class SentenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sentence
        fields = ["id", "position", "start", "end", "kind", "text"]


class ArticleDetailSerializer(ArticleSerializer):
    sentences = SentenceSerializer(many=True, read_only=True)

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body", "sentences"]


class ArticleInSerializer(serializers.Serializer):
    """One article to import: the columns of the import files (claims.importing.COLUMNS)."""

    body = serializers.CharField(trim_whitespace=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    published_on = serializers.DateField(required=False, allow_null=True)
    outlet = serializers.CharField(required=False, allow_blank=True, max_length=200)
    url = serializers.URLField(required=False, allow_blank=True, max_length=1000)
    external_id = serializers.CharField(required=False, allow_null=True, max_length=200)


class ArticleImportSerializer(serializers.Serializer):
    articles = ArticleInSerializer(many=True, allow_empty=False, max_length=10_000)


class SourceSerializer(serializers.ModelSerializer):
    aliases = serializers.SlugRelatedField(many=True, read_only=True, slug_field="alias")

    class Meta:
        model = Source
        fields = [
            "id",
            "name",
            "kind",
            "side",
            "description",
            "status",
            "merged_into",
            "aliases",
            "created_at",
            "updated_at",
        ]


class SourceInSerializer(serializers.Serializer):
    """Create or update a source by name; aliases it lacks are added (none removed)."""

    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=SourceKind.choices, default=SourceKind.UNKNOWN)
    side = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=100
    )


class StatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = VerificationStatus
        fields = ["code", "label", "guideline", "order", "key", "colour", "is_active"]


class AssignmentSerializer(serializers.ModelSerializer):
    annotator = serializers.CharField(source="annotator.username", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "article",
            "annotator_id",
            "annotator",
            "created_at",
            "completed_at",
        ]


class AssignmentInSerializer(serializers.Serializer):
    articles = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=1000
    )
    annotators = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=100
    )
    overlap = serializers.IntegerField(min_value=1, max_value=10, default=2)


class ClaimSerializer(serializers.ModelSerializer):
    source = serializers.SerializerMethodField()
    status = serializers.CharField(source="status.code", read_only=True)

    class Meta:
        model = Claim
        fields = [
            "position",
            "content_start",
            "content_end",
            "cue_start",
            "cue_end",
            "mention_start",
            "mention_end",
            "source",
            "attribution_type",
            "status",
            "note",
            "evidence_url",
        ]

    def get_source(self, claim) -> dict | None:
        source = claim.source
        return None if source is None else {"id": source.pk, "name": source.name}


class LabelSentenceSerializer(serializers.ModelSerializer):
    article = serializers.IntegerField(source="article_id", read_only=True)

    class Meta:
        model = Sentence
        fields = ["id", "article", "position", "start", "end", "text"]


@extend_schema_field(OpenApiTypes.STR)
class PseudonymField(serializers.Field):
    """A user as the exports name them: a keyed pseudonym, never the id or the username."""

    def to_representation(self, user_id) -> str:
        return self.context["pseudonymize"](user_id)


# The label serializers describe the lists' items for the schema; the lists themselves are
# built from plain rows by claims.api.selectors.labels_with_claims, for speed.


class AnnotationSerializer(serializers.ModelSerializer):
    sentence = LabelSentenceSerializer(read_only=True)
    annotator = PseudonymField(source="annotator_id", read_only=True)
    claims = ClaimSerializer(many=True, read_only=True)

    class Meta:
        model = Annotation
        fields = [
            "id",
            "sentence",
            "annotator",
            "is_claim",
            "note",
            "evidence_url",
            "claims",
            "updated_at",
        ]


class GoldLabelSerializer(serializers.ModelSerializer):
    sentence = LabelSentenceSerializer(read_only=True)
    reviewed_by = PseudonymField(source="editor_id", read_only=True)
    claims = ClaimSerializer(many=True, read_only=True)

    class Meta:
        model = GoldLabel
        fields = [
            "id",
            "sentence",
            "is_claim",
            "origin",
            "comment",
            "version",
            "reviewed_by",
            "claims",
            "updated_at",
        ]


class JobSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "state",
            "step",
            "done",
            "total",
            "percent",
            "params",
            "result",
            "error",
            "file_name",
            "expires_at",
            "download",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_download(self, job) -> str | None:
        """The file's URL, once the job has one."""
        if job.state != Job.State.SUCCEEDED or not job.file:
            return None
        url = reverse("api:job-download", kwargs={"pk": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ExportInSerializer(serializers.Serializer):
    """The export page's filters (claims.forms.ExportForm): a value or a list of values each."""

    query = serializers.DictField(
        child=serializers.JSONField(), help_text="e.g. {'level': 'gold', 'format': 'csv'}"
    )
