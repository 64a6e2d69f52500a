"""Forms validate input only; the services decide what is stored."""

from urllib.parse import urlencode

from django import forms
from django.core.validators import URLValidator
from django.db.models import Q

from claims import selectors
from claims.models import Article, AttributionType, Source, SourceKind, VerificationStatus


class StatusChoiceField(forms.TypedChoiceField):
    """A status by code, chosen among the (active) statuses already read for the request."""

    def __init__(self, statuses):
        by_code = {status.code: status for status in statuses}
        super().__init__(
            choices=[(code, status.label) for code, status in by_code.items()],
            coerce=by_code.__getitem__,
            required=False,
            empty_value=None,
            widget=forms.RadioSelect,
        )


class LabelForm(forms.Form):
    is_claim = forms.TypedChoiceField(
        choices=[("yes", "Claim"), ("no", "Not a claim")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the sentence is a claim (c / n)."},
    )
    source = forms.CharField(required=False, max_length=200)
    attribution_type = forms.ChoiceField(
        choices=[("", "—"), *AttributionType.choices], required=False
    )
    status = forms.ModelChoiceField(
        queryset=VerificationStatus.objects.filter(is_active=True),
        to_field_name="code",
        required=False,
        widget=forms.RadioSelect,
    )
    span_start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    span_end = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence_url = forms.CharField(
        required=False, max_length=1000, validators=[URLValidator(schemes=["http", "https"])]
    )
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, user=None, statuses=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        if statuses is not None:  # the statuses the view has read: no lookup of its own
            self.fields["status"] = StatusChoiceField(statuses)

    def clean_source(self) -> Source | None:
        name = self.cleaned_data["source"].strip()
        if not name:
            return None
        source = selectors.resolve_source_name(name, user=self.user)
        if source is None:
            raise forms.ValidationError(
                f"No source is called {name!r}. Pick one from the list, or propose it below."
            )
        return source

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_claim") and not cleaned.get("status") and "status" not in self.errors:
            self.add_error("status", "A claim needs a verification status (keys 1 to 9).")
        return cleaned

    def attach_relations(self, annotation) -> None:
        """Give a label saved from this form the source and status objects the form read."""
        for field in ("source", "status"):
            value = self.cleaned_data.get(field)
            if value is not None and getattr(annotation, f"{field}_id") == value.pk:
                setattr(annotation, field, value)

    def label(self) -> dict:
        data = self.cleaned_data
        return {
            "is_claim": data["is_claim"],
            "source_id": data["source"].pk if data["source"] else None,
            "attribution_type": data["attribution_type"],
            "status_id": data["status"].pk if data["status"] else None,
            "span_start": data["span_start"],
            "span_end": data["span_end"],
            "note": data["note"],
            "evidence_url": data["evidence_url"],
        }


class SourceProposalForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=SourceKind.choices, initial=SourceKind.UNKNOWN)
    side = forms.CharField(max_length=100, required=False)


def is_id(value) -> bool:
    """A database id as sent by a form: ASCII digits (not "²" or "٣") within 64 bits."""
    text = str(value)
    return text.isascii() and text.isdigit() and 0 < int(text) < 2**63


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Ids must be positive 64-bit integers before they reach the database."""

    def _check_values(self, value):
        for item in value:
            if not is_id(item):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": item},
                )
        return super()._check_values(value)


class AssignForm(forms.Form):
    articles = IdMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    annotators = IdMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    overlap = forms.IntegerField(min_value=1, max_value=10, initial=2)

    def __init__(self, *args, articles, annotators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["articles"].queryset = articles
        self.fields["annotators"].queryset = annotators


class ReviewFilterForm(forms.Form):
    """The review queue's filters: only these keys reach the query."""

    state = forms.ChoiceField(
        choices=[
            ("open", "Open"),
            ("sent_back", "Sent back"),
            ("reviewed", "Reviewed"),
            ("all", "All"),
        ],
        required=False,
    )
    article = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    outlet = forms.CharField(required=False, max_length=200)
    source = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    status = forms.SlugField(required=False, max_length=32)
    annotator = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    q = forms.CharField(required=False, max_length=200)
    after = forms.CharField(required=False, max_length=80)

    def filters(self) -> selectors.ReviewFilters:
        self.is_valid()
        data = self.cleaned_data  # the valid fields only
        return selectors.ReviewFilters(
            state=data.get("state") or "open",
            article=data.get("article"),
            outlet=(data.get("outlet") or "").strip(),
            source=data.get("source"),
            status=data.get("status") or "",
            annotator=data.get("annotator"),
            q=(data.get("q") or "").strip(),
        )

    def query(self, **changes) -> str:
        """The query string of these filters, with some values changed (for links)."""
        params = {k: v for k, v in (self.data.items() if self.is_bound else []) if v}
        params.update({k: v for k, v in changes.items()})
        return urlencode({k: v for k, v in params.items() if v not in (None, "")})


class GoldForm(LabelForm):
    """An editor's correction: the label fields plus a comment; version is the gold version."""

    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class SendBackForm(forms.Form):
    comment = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


ARTICLE_CHOICES = 200


class ExportForm(forms.Form):
    """The export filters. Only these keys are accepted (see `unknown`)."""

    FORMATS = [
        ("csv", "CSV (spreadsheets)"),
        ("jsonl", "JSONL (exact text, for code)"),
        ("zip", "ZIP bundle: data, dataset card, taxonomy"),
        ("claimreview", "ClaimReview JSON-LD (gold claims)"),
    ]

    level = forms.ChoiceField(
        choices=[
            ("gold", "Gold labels: one row per sentence"),
            ("annotations", "All annotations: one row per sentence and annotator"),
        ],
        initial="gold",
        required=False,
    )
    format = forms.ChoiceField(choices=FORMATS, initial="csv", required=False)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    outlets = forms.MultipleChoiceField(required=False)
    articles = IdMultipleChoiceField(queryset=Article.objects.none(), required=False)
    sources = IdMultipleChoiceField(queryset=Source.objects.none(), required=False)
    source_kinds = forms.MultipleChoiceField(choices=SourceKind.choices, required=False)
    sides = forms.MultipleChoiceField(required=False)
    statuses = forms.ModelMultipleChoiceField(
        queryset=VerificationStatus.objects.all(), to_field_name="code", required=False
    )
    claims_only = forms.BooleanField(required=False)
    reviewed_only = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        outlets = Article.objects.exclude(outlet="").values_list("outlet", flat=True).distinct()
        self.fields["outlets"].choices = [(o, o) for o in outlets.order_by("outlet")]
        sides = Source.objects.exclude(side="").values_list("side", flat=True).distinct()
        self.fields["sides"].choices = [(s, s) for s in sides.order_by("side")]
        self.fields["articles"].queryset = Article.objects.only("id", "title")
        self.fields["sources"].queryset = Source.objects.filter(merged_into=None).order_by("name")
        # The list offers the most recent articles (and any already chosen): thousands of
        # options would make the page slow; any article id still validates.
        data = self.data if self.is_bound else {}
        raw = data.getlist("articles") if hasattr(data, "getlist") else data.get("articles", [])
        chosen = [int(v) for v in ([raw] if isinstance(raw, str) else raw) if is_id(v)]
        recent = Article.objects.order_by("-published_on", "-id").values_list("pk", flat=True)
        self.article_choices = (
            Article.objects.filter(Q(pk__in=recent[:ARTICLE_CHOICES]) | Q(pk__in=chosen))
            .only("id", "title")
            .order_by("title")
        )

    def unknown(self) -> list[str]:
        """Parameters that are not filters: refused rather than silently ignored."""
        return sorted(set(self.data) - set(self.fields)) if self.is_bound else []

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> selectors.ExportFilters:
        data = self.cleaned_data
        return selectors.ExportFilters(
            level=data.get("level") or "gold",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            outlets=tuple(data.get("outlets") or ()),
            articles=tuple(a.pk for a in data.get("articles") or ()),
            sources=tuple(s.pk for s in data.get("sources") or ()),
            source_kinds=tuple(data.get("source_kinds") or ()),
            sides=tuple(data.get("sides") or ()),
            statuses=tuple(s.code for s in data.get("statuses") or ()),
            claims_only=bool(data.get("claims_only")),
            reviewed_only=bool(data.get("reviewed_only")),
        )
