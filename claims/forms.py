"""Forms validate input only; the services decide what is stored."""

import os
import re
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.validators import URLValidator
from django.db.models import Q
from django.utils.text import get_valid_filename

from claims import importing, selectors
from claims.models import (
    Article,
    AttributionType,
    Claim,
    Source,
    SourceKind,
    VerificationStatus,
)


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


OFFSET_MAX = 2**31 - 1  # offsets are PositiveIntegerField
MAX_CLAIMS = 20
CLAIM_PREFIX = "claims"
SPAN_ROLES = {"content": "content", "cue": "cue", "mention": "source mention"}


def _offset(required: bool = False) -> forms.IntegerField:
    return forms.IntegerField(
        required=required,
        min_value=0,
        max_value=OFFSET_MAX,
        widget=forms.HiddenInput,
        error_messages={"required": "Mark the claim's content (x) in the text."},
    )


def _source_by_name(name: str, user, article_id: int | None = None) -> Source | None:
    name = name.strip()
    if not name:
        return None
    source = selectors.resolve_source_name(name, user=user, article_id=article_id)
    if source is None:
        raise forms.ValidationError(
            f"No source is called {name!r}. Pick one from the list, or propose it below."
        )
    return source


class ClaimForm(forms.Form):
    """One claim of a label: spans as offsets into the article body, and what is said of it."""

    content_start = _offset(required=True)
    content_end = _offset(required=True)
    cue_start = _offset()
    cue_end = _offset()
    mention_start = _offset()
    mention_end = _offset()
    source = forms.CharField(required=False, max_length=200)
    attribution_type = forms.ChoiceField(
        choices=[("", "—"), *AttributionType.choices], required=False
    )
    status = forms.ModelChoiceField(
        queryset=VerificationStatus.objects.filter(is_active=True),
        to_field_name="code",
        widget=forms.RadioSelect,
        error_messages={"required": "A claim needs a verification status (keys 1 to 9)."},
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence_url = forms.CharField(
        required=False, max_length=1000, validators=[URLValidator(schemes=["http", "https"])]
    )

    def __init__(
        self, *args, user=None, statuses=None, body=None, sentence=None, article_id=None, **kwargs
    ):
        self.user = user
        self.article_id = article_id  # the annotator's article: its proposals are usable
        self.body = body  # the article body: spans are checked against it, texts cut from it
        self.sentence = sentence  # (start, end): the content must take words of the sentence
        super().__init__(*args, **kwargs)
        if statuses is not None:  # the statuses the view has read: no lookup of its own
            field = StatusChoiceField(statuses)
            field.required = True
            field.error_messages["required"] = self.fields["status"].error_messages["required"]
            self.fields["status"] = field

    def clean_source(self) -> Source | None:
        return _source_by_name(self.cleaned_data["source"], self.user, self.article_id)

    def clean(self):
        cleaned = super().clean()
        for role, name in SPAN_ROLES.items():
            start, end = cleaned.get(f"{role}_start"), cleaned.get(f"{role}_end")
            if f"{role}_start" in self.errors or f"{role}_end" in self.errors:
                continue
            if (start is None) != (end is None):
                self.add_error(None, f"The {name} needs both a start and an end.")
            elif start is not None and start >= end:
                self.add_error(None, f"The {name} must end after it starts.")
            elif start is not None and self.body is not None and end > len(self.body):
                self.add_error(None, f"The {name} runs past the end of the article.")
            elif role == "content" and not self._in_sentence(start, end):
                self.add_error(None, "The claim's content must include words of this sentence.")
        return cleaned

    def _in_sentence(self, start: int | None, end: int | None) -> bool:
        if start is None or self.sentence is None:
            return True
        return start < self.sentence[1] and end > self.sentence[0]

    def claim(self) -> dict:
        """The claim as the services take it (see the label dict in claims/services.py)."""
        data = self.cleaned_data
        return {
            "content_start": data["content_start"],
            "content_end": data["content_end"],
            "cue_start": data["cue_start"],
            "cue_end": data["cue_end"],
            "mention_start": data["mention_start"],
            "mention_end": data["mention_end"],
            "source_id": data["source"].pk if data["source"] else None,
            "attribution_type": data["attribution_type"],
            "status_id": data["status"].pk,
            "note": data["note"],
            "evidence_url": data["evidence_url"],
        }

    def unsaved_claim(self, position: int) -> Claim:
        """The claim as an unsaved row holding the source and status the form read: what the
        page shows after a save, without reading the stored claims back."""
        data = self.cleaned_data
        return Claim(
            position=position,
            **{
                f"{role}_{end}": data[f"{role}_{end}"]
                for role in SPAN_ROLES
                for end in ("start", "end")
            },
            source=data["source"],
            attribution_type=data["attribution_type"],
            status=data["status"],
            note=data["note"],
            evidence_url=data["evidence_url"],
        )

    def _offset_value(self, name: str) -> int | None:
        value = self[name].value()
        text = "" if value is None else str(value)
        return int(text) if text.isascii() and text.isdigit() and len(text) < 11 else None

    def span_text(self, role: str) -> str:
        """The text of a span as the form holds it now (empty if unmarked or invalid)."""
        start, end = self._offset_value(f"{role}_start"), self._offset_value(f"{role}_end")
        if self.body is None or start is None or end is None or not start < end:
            return ""
        return self.body[start:end]

    @property
    def content_text(self) -> str:
        return self.span_text("content")

    @property
    def cue_text(self) -> str:
        return self.span_text("cue")

    @property
    def mention_text(self) -> str:
        return self.span_text("mention")


class BaseClaimFormSet(forms.BaseFormSet):
    def live_forms(self) -> list[ClaimForm]:
        """The claims kept, in order: neither deleted nor left entirely empty."""
        return [
            form
            for form in self.forms
            if form.has_changed() or not form.empty_permitted
            if not (self.can_delete and self._should_delete_form(form))
        ]


ClaimFormSet = forms.formset_factory(
    ClaimForm,
    formset=BaseClaimFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_CLAIMS,
    validate_max=True,
    absolute_max=MAX_CLAIMS,
)


class LabelForm(forms.Form):
    """A sentence's label: claim or not, a note, and its claims (the formset `claims`)."""

    is_claim = forms.TypedChoiceField(
        choices=[("yes", "Claim"), ("no", "Not a claim")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the sentence is a claim (c / n)."},
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence_url = forms.CharField(
        required=False, max_length=1000, validators=[URLValidator(schemes=["http", "https"])]
    )
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        user=None,
        statuses=None,
        body=None,
        sentence=None,
        claims_initial=None,
        article_id=None,
        **kwargs,
    ):
        self.user = user
        super().__init__(*args, **kwargs)
        self.claims = ClaimFormSet(
            self.data if self.is_bound else None,
            initial=None if self.is_bound else claims_initial,
            prefix=CLAIM_PREFIX,
            form_kwargs={
                "user": user,
                "statuses": statuses,
                "body": body,
                "sentence": sentence,
                "article_id": article_id,
            },
        )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("is_claim"):
            return cleaned  # not a claim (or not said): the claims posted are not read
        if not self.claims.is_valid():
            self.add_error(None, "Check the claims below.")
        elif not self.claims.live_forms():
            self.add_error(
                None,
                "Mark the claim's content (x) in the text, or say it is not a claim (n).",
            )
        return cleaned

    def label(self) -> dict:
        data = self.cleaned_data
        claims = [form.claim() for form in self.claims.live_forms()] if data["is_claim"] else []
        return {
            "is_claim": data["is_claim"],
            "note": data["note"],
            "evidence_url": data["evidence_url"],
            "claims": claims,
        }

    def unsaved_claims(self) -> list[Claim]:
        if not self.cleaned_data["is_claim"]:
            return []
        return [form.unsaved_claim(i) for i, form in enumerate(self.claims.live_forms())]


class SourceProposalForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=SourceKind.choices, initial=SourceKind.UNKNOWN)
    side = forms.CharField(max_length=100, required=False)


QID = r"Q[1-9][0-9]{0,18}"  # as the database checks it (source_wikidata_id_is_qid)


class SourceEditForm(forms.Form):
    """An editor's change of a source; aliases one a line (commas separate them too)."""

    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=SourceKind.choices)
    side = forms.CharField(max_length=100, required=False)
    aliases = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line, or separated by commas.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    wikidata_id = forms.CharField(
        required=False,
        max_length=20,
        label="Wikidata id",
        help_text="Optional: the Wikidata item, e.g. Q2019016.",
    )

    @classmethod
    def for_source(cls, source: Source, data=None) -> "SourceEditForm":
        initial = {
            "name": source.name,
            "kind": source.kind,
            "side": source.side,
            "aliases": "\n".join(a.alias for a in source.aliases.all()),
            "description": source.description,
            "wikidata_id": source.wikidata_id or "",
        }
        return cls(data, initial=initial)

    def clean_wikidata_id(self) -> str | None:
        value = self.cleaned_data["wikidata_id"].strip().upper()
        if value and not re.fullmatch(QID, value):
            raise forms.ValidationError("A Wikidata id is Q followed by digits, e.g. Q2019016.")
        return value or None

    def clean_aliases(self) -> list[str]:
        text = self.cleaned_data["aliases"]
        aliases = [" ".join(a.split()) for a in text.replace(",", "\n").splitlines()]
        aliases = [a for a in aliases if a]
        if too_long := [a for a in aliases if len(a) > 200]:
            raise forms.ValidationError(f"An alias is at most 200 characters: {too_long[0][:40]}…")
        return aliases


class SourceMergeForm(forms.Form):
    """The source to merge into, by its name or an alias (GET, to preview) or by id (POST)."""

    into = forms.CharField(max_length=200, required=False, label="Merge into")
    into_id = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def __init__(self, *args, source: Source, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("into_id"):
            into = Source.objects.filter(pk=cleaned["into_id"]).first()
        elif cleaned.get("into"):
            into = selectors.source_named(cleaned["into"])
        else:
            raise forms.ValidationError("Choose the source to merge into.")
        if into is None:
            raise forms.ValidationError("No source has that name or alias.")
        cleaned["target"] = into
        return cleaned


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
    """An editor's correction: the label with its claims, and a comment; version is the gold
    version. (The label's own note and evidence URL are the annotators'; not posted here.)"""

    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def claim_initial(claim) -> dict:
    """A stored claim as the initial values of a ClaimForm."""
    return {
        "content_start": claim.content_start,
        "content_end": claim.content_end,
        "cue_start": claim.cue_start,
        "cue_end": claim.cue_end,
        "mention_start": claim.mention_start,
        "mention_end": claim.mention_end,
        "source": claim.source.name if claim.source else "",
        "attribution_type": claim.attribution_type,
        "status": claim.status.code,
        "note": claim.note,
        "evidence_url": claim.evidence_url,
    }


class SendBackForm(forms.Form):
    comment = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


ARTICLE_CHOICES = 200


class ExportForm(forms.Form):
    """The export filters. Only these keys are accepted (see `unknown`)."""

    FORMATS = [
        ("csv", "CSV (spreadsheets)"),
        ("jsonl", "JSONL (exact text, for code)"),
        ("zip", "ZIP bundle: data, dataset card, taxonomy, brat standoff, PARC-style JSONL"),
        ("claimreview", "ClaimReview JSON-LD (gold claims)"),
    ]

    level = forms.ChoiceField(
        choices=[
            ("gold", "Gold labels: one row per gold claim (or sentence without claims)"),
            ("annotations", "All annotations: one row per claim of each annotator's label"),
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


# --- import in the app ------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one <input type=file multiple>; none is fine (text may be pasted)."""

    def __init__(self, **kwargs):
        super().__init__(widget=MultipleFileInput(), required=False, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


class ImportForm(forms.Form):
    """Files and/or pasted text to import, with the outlet and date for articles without one.
    Only the upload is checked here (presence, size, type); the job reads the contents."""

    PASTED = "pasted.txt"

    files = MultipleFileField(label="Files")
    text = forms.CharField(
        label="Or paste an article", required=False, strip=False, widget=forms.Textarea
    )
    outlet = forms.CharField(label="Outlet", required=False, max_length=200)
    published_on = forms.DateField(
        label="Published on", required=False, input_formats=["%Y-%m-%d"]
    )

    def max_files(self) -> int:
        return settings.CLAIMDESK_MAX_IMPORT_FILES

    def max_bytes(self) -> int:
        return settings.CLAIMDESK_MAX_IMPORT_BYTES

    def clean_files(self):
        files = self.cleaned_data["files"]
        limit, most = settings.CLAIMDESK_MAX_IMPORT_BYTES, settings.CLAIMDESK_MAX_IMPORT_FILES
        if len(files) > most:
            raise forms.ValidationError(f"{len(files)} files; at most {most} at once.")
        errors = []
        for file in files:
            suffix = importing.suffix_of(file.name)
            if suffix not in importing.UPLOAD_FORMATS:
                errors.append(
                    f"{file.name}: the type {suffix or '(none)'!r} cannot be imported; "
                    f"use {', '.join(importing.UPLOAD_FORMATS)}."
                )
            elif file.size > limit:
                errors.append(
                    f"{file.name} is {file.size:,} bytes; the limit is {limit:,} bytes per file."
                )
        if errors:
            raise forms.ValidationError(errors)
        return files

    def clean_text(self):
        text = self.cleaned_data["text"]
        limit = settings.CLAIMDESK_MAX_IMPORT_BYTES
        if len(text.encode("utf-8")) > limit:
            raise forms.ValidationError(f"The pasted text is over the limit of {limit:,} bytes.")
        return text if text.strip() else ""

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("files") and not cleaned.get("text"):
            raise forms.ValidationError("Choose one or more files, or paste an article's text.")
        return cleaned

    def job_files(self) -> dict[str, bytes]:
        """The uploads by name, names made safe and unique ("a.csv", "a-2.csv")."""
        files: dict[str, bytes] = {}
        uploads = [(f.name, f.read()) for f in self.cleaned_data["files"]]
        if self.cleaned_data["text"]:
            uploads.append((self.PASTED, self.cleaned_data["text"].encode("utf-8")))
        for name, data in uploads:
            stem, suffix = os.path.splitext(get_valid_filename(name)[-100:])
            unique, number = f"{stem}{suffix}", 1
            while unique in files:
                number += 1
                unique = f"{stem}-{number}{suffix}"
            files[unique] = data
        return files

    def job_params(self, names: list[str]) -> dict:
        published_on = self.cleaned_data["published_on"]
        return {
            "files": names,
            "outlet": self.cleaned_data["outlet"].strip(),
            "published_on": published_on.isoformat() if published_on else None,
        }
