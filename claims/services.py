"""Writes: every change to claimdesk's data goes through a function here."""

import dataclasses
import enum
import functools
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, Protocol

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, ProtectedError, Q, Subquery
from django.db.models.functions import Length
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from claims import attribution, segmentation, selectors, spans
from claims.attribution import language
from claims.importing import ArticleRecord, body_checksum, title_from_body
from claims.models import (
    Annotation,
    AnnotationEvent,
    Article,
    Assignment,
    AttributionType,
    Claim,
    GoldLabel,
    ReviewItem,
    SendBack,
    SendBackResponse,
    Sentence,
    Source,
    SourceAlias,
    SourceMerge,
    VerificationStatus,
)


class ImportOutcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def article_segment(
    *, article: Article, suggester: "Suggester | None" = None, fresh: bool = False
) -> list[Sentence]:
    """(Re)build an article's sentences with their suggestions. The caller holds the transaction.

    `fresh` says the article was just created, so there are no old sentences to delete.
    """
    if not fresh:
        article.sentences.all().delete()
    sentences = _sentences_build(article, segmentation.segment(article.body), suggester)
    return Sentence.objects.bulk_create(sentences, batch_size=SENTENCE_BATCH)


def _sentences_build(
    article: Article, segments: list[segmentation.Segment], suggester: "Suggester | None"
) -> list[Sentence]:
    """The article's sentences in memory, the annotatable ones with their suggestions."""
    return [Sentence(None, *row) for row in _sentence_rows(article, segments, suggester)]


def _sentence_rows(
    article: Article, segments: list[segmentation.Segment], suggester: "Suggester | None"
) -> list[list[object]]:
    """_sentences_build as rows: the values of Sentence's columns but its id, in order
    (`_sentence_columns`), the article id left None while the article has none. The import
    writes rows, not model instances: Model.__init__ was a quarter of its time
    (docs/benchmarks.md)."""
    names, defaults = _sentence_columns()
    annotatable = [s for s in segments if s.kind == Sentence.Kind.SENTENCE]
    values = iter(_suggestion_values(article, annotatable, suggester))
    rows = []
    for position, segment in enumerate(segments):
        row = dict(defaults)
        if segment.kind == Sentence.Kind.SENTENCE:
            row.update(next(values))
        row.update(
            article_id=article.pk,
            position=position,
            start=segment.start,
            end=segment.end,
            text=segment.text,
            kind=segment.kind,
        )
        rows.append([row[name] for name in names])
    return rows


@functools.cache
def _sentence_columns() -> tuple[tuple[str, ...], dict[str, object]]:
    """The attnames of Sentence's concrete fields after its id, in order, and their defaults."""
    pk, *fields = Sentence._meta.concrete_fields
    assert pk.primary_key and not any(callable(f.default) for f in fields if f.has_default())
    return tuple(f.attname for f in fields), {f.attname: f.get_default() for f in fields}


def _find_existing(record: ArticleRecord, checksum: str) -> Article | None:
    if record.external_id:
        article = (
            Article.objects.select_for_update().filter(external_id=record.external_id).first()
        )
        if article is not None:
            return article
    article = Article.objects.select_for_update().filter(checksum=checksum).first()
    if article and record.external_id and article.external_id not in (None, record.external_id):
        raise ValidationError(
            f"this text is already imported as article #{article.pk} "
            f"with external_id {article.external_id!r}, not {record.external_id!r}"
        )
    return article


def article_upsert(
    *, record: ArticleRecord, suggester: "Suggester | None" = None
) -> tuple[Article, ImportOutcome]:
    """Create the article, update it, or leave it: never a duplicate, never orphaned labels.

    An article is the same article when its external_id matches, or, without one, when its
    body is identical. Metadata present in the record overwrites; absent metadata is kept.
    """
    checksum = body_checksum(record.body)
    with transaction.atomic():
        article = _find_existing(record, checksum)
        if article is None:
            article = _article_new(record, checksum)
            article.save()
            article_segment(article=article, suggester=suggester, fresh=True)
            return article, ImportOutcome.CREATED

        changed = []
        if article.checksum != checksum:
            _check_body_replaceable(article, checksum)
            if not record.title and article.title == title_from_body(article.body):
                article.title = title_from_body(record.body)  # the title was derived: follow
                changed.append("title")
            article.body, article.checksum = record.body, checksum
            article.language = language.detect(record.body)
            changed += ["body", "checksum", "language"]
        for field in ("title", "published_on", "outlet", "url", "external_id"):
            value = getattr(record, field)
            if value not in (None, "") and getattr(article, field) != value:
                setattr(article, field, value)
                changed.append(field)
        if not changed:
            return article, ImportOutcome.UNCHANGED
        article.save(update_fields=[*changed, "updated_at"])
        if "body" in changed:
            try:
                article_segment(article=article, suggester=suggester)
            except ProtectedError:  # work of a kind _check_body_replaceable does not know yet
                raise ValidationError(
                    f"article #{article.pk} ({article.title!r}) has work on its sentences, so "
                    "its text cannot change; import the new text as a new article"
                ) from None
        return article, ImportOutcome.UPDATED


def _check_body_replaceable(article: Article, checksum: str) -> None:
    """A new text deletes the sentences, so refuse while any work refers to them."""
    of_article = {"sentence__article": article}
    work = {
        "annotation(s)": Annotation.objects.filter(**of_article).count(),
        "label change(s) in the history": AnnotationEvent.objects.filter(**of_article).count(),
        "gold label(s)": GoldLabel.objects.filter(**of_article).count(),
        "send-back(s)": SendBack.objects.filter(**of_article).count(),
        "review item(s)": ReviewItem.objects.filter(article=article).count(),
    }
    done = [f"{count} {what}" for what, count in work.items() if count]
    if done:
        raise ValidationError(
            f"article #{article.pk} ({article.title!r}) already has {', '.join(done)}, so "
            "its text cannot change; import the new text as a new article (another external_id)"
        )
    other = Article.objects.filter(checksum=checksum).exclude(pk=article.pk).first()
    if other is not None:
        raise ValidationError(
            f"the new text is identical to article #{other.pk} ({other.title!r})"
        )


IMPORT_BATCH = 250  # new articles written per bulk INSERT
SENTENCE_BATCH = 2000


class ImportRecordError(ValidationError):
    """A record refused by the import; `place` says where it is ("a.csv, row 3"), `reason` why."""

    def __init__(self, place: str, reason: str):
        super().__init__(f"{place}: {reason}" if place else reason)
        self.place, self.reason = place, reason


def articles_import(
    *,
    records: Iterable[ArticleRecord],
    on_batch: Callable[[list[tuple[int, ImportOutcome]]], None] | None = None,
    suggester: "Suggester | None" = None,
    prepared: "list[Prepared] | None" = None,
) -> Counter[ImportOutcome]:
    """Import records all or nothing; an ImportRecordError names the failing record.

    New articles, the common case, are written in batches: one INSERT for the articles and
    one for their sentences. A record that matches an article already in the database, or
    one earlier in its own batch, goes through `article_upsert` (after the batch so far is
    written), so the rules of a re-import are the same as for a single record.
    `on_batch` hears of each batch once written: (article id, outcome) per record, in order
    (the ids are final only if the whole import commits). `suggester`: one loaded already,
    for a caller that imports a file in several calls. `prepared`: the records' articles as
    `articles_prepare` built them, one per record, so that the transaction only writes.
    """
    outcomes: Counter[ImportOutcome] = Counter()
    suggester = suggester or suggester_load()
    pairs = zip(records, prepared, strict=True) if prepared else ((r, None) for r in records)
    with transaction.atomic():
        for batch in itertools.batched(pairs, IMPORT_BATCH):
            done = _import_batch(batch, suggester, outcomes)
            if on_batch is not None:
                on_batch([(article.pk, outcome) for article, outcome in done])
    return outcomes


def articles_matching(*, records: list[ArticleRecord]) -> bool:
    """Whether any record is an article already in the database (by external_id or text)."""
    for batch in itertools.batched(records, 500):
        ids = [record.external_id for record in batch if record.external_id]
        sums = [body_checksum(record.body) for record in batch]
        if Article.objects.filter(Q(external_id__in=ids) | Q(checksum__in=sums)).exists():
            return True
    return False


def articles_discard(*, ids: list[int]) -> None:
    """Delete articles an import just created, with their sentences: the import's way back
    when a later part of its file fails. Work on them since (an annotation) refuses it
    (ProtectedError), and then nothing is deleted."""
    with transaction.atomic():
        for batch in itertools.batched(ids, 500):
            Article.objects.filter(pk__in=batch).delete()


class Prepared(NamedTuple):
    """A new article and its sentences (with suggestions), built in memory from its record:
    rows of column values (`_sentence_rows`)."""

    article: Article
    sentences: list[list[object]]


def articles_prepare(
    *, records: Iterable[ArticleRecord], suggester: "Suggester"
) -> list[Prepared]:
    """Segment records and compute their suggestions, as `articles_import` does for a new
    article, without a transaction or a write: the slow part of an import, done before it."""
    prepared = []
    for record in records:
        segments = segmentation.segment(record.body)
        article = _article_new(record, body_checksum(record.body), segments)
        prepared.append(Prepared(article, _sentence_rows(article, segments, suggester)))
    return prepared


def _import_batch(
    pairs, suggester: "Suggester", outcomes: Counter[ImportOutcome]
) -> list[tuple[Article, ImportOutcome]]:
    batch = [record for record, _ in pairs]
    ready = [ready for _, ready in pairs]
    checksums = [body_checksum(record.body) for record in batch]
    ids = {record.external_id for record in batch if record.external_id}
    # What exists already: ("id", external_id) and ("sum", checksum) keys.
    taken = {
        ("id", i)
        for i in Article.objects.filter(external_id__in=ids).values_list("external_id", flat=True)
    }
    taken |= {
        ("sum", c)
        for c in Article.objects.filter(checksum__in=checksums).values_list("checksum", flat=True)
    }
    pending: list[
        tuple[Article, list[segmentation.Segment] | None, list[list[object]] | None]
    ] = []
    done: list[tuple[Article, ImportOutcome]] = []
    for record, checksum, prepared in zip(batch, checksums, ready, strict=True):
        keys = _keys(record.external_id, checksum)
        if keys & taken:  # an update, or a duplicate: the single-record path decides
            _articles_create(pending, suggester)
            pending = []
            try:
                article, outcome = article_upsert(record=record, suggester=suggester)
            except ValidationError as exc:
                raise ImportRecordError(record.place, "; ".join(exc.messages)) from None
            taken |= _keys(article.external_id, article.checksum)
        elif prepared is not None:
            article = prepared.article
            pending.append((article, None, prepared.sentences))
            outcome = ImportOutcome.CREATED
            taken |= keys
        else:
            segments = segmentation.segment(record.body)
            article = _article_new(record, checksum, segments)
            pending.append((article, segments, None))
            outcome = ImportOutcome.CREATED
            taken |= keys
        outcomes[outcome] += 1
        done.append((article, outcome))
    _articles_create(pending, suggester)
    return done


def _keys(external_id: str | None, checksum: str) -> set[tuple[str, str]]:
    return {("sum", checksum), *([("id", external_id)] if external_id else [])}


def _article_new(
    record: ArticleRecord, checksum: str, segments: list[segmentation.Segment] | None = None
) -> Article:
    return Article(
        title=record.title or title_from_body(record.body, segments),
        body=record.body,
        published_on=record.published_on,
        outlet=record.outlet,
        url=record.url,
        external_id=record.external_id,
        checksum=checksum,
        language=language.detect(record.body),
    )


def _articles_create(
    pending: list[tuple[Article, list[segmentation.Segment] | None, list[list[object]] | None]],
    suggester: "Suggester",
) -> None:
    """Write new articles and their sentences: one INSERT for each (per batch of rows).
    Sentences built already (`articles_prepare`) are written as they are."""
    if not pending:
        return
    # Sets the pks (RETURNING) and writes the "created" history rows in one more INSERT.
    bulk_create_with_history([article for article, _, _ in pending], Article)
    article_at = _sentence_columns()[0].index("article_id")
    rows = []
    for article, segments, built in pending:
        if built is None:
            built = _sentence_rows(article, segments, suggester)
        for row in built:
            row[article_at] = article.pk  # known now
        rows += built
    _sentences_insert(rows)


def _sentences_insert(rows: list[list[object]]) -> None:
    """INSERT new sentences, rows of `_sentence_rows`, with one executemany: without
    bulk_create's model instances and per-field preparation (most of the import's time outside
    the suggestions in the profiles; docs/benchmarks.md). Rows hold only plain values (ints,
    strings, booleans, NULL), which both databases adapt as they are; the columns come from the
    model, and a test compares the rows with those bulk_create writes."""
    fields = Sentence._meta.concrete_fields[1:]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(Sentence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)


def source_upsert(
    *, name: str, kind: str, side: str = "", description: str = "", aliases: Iterable[str] = ()
) -> Source:
    """Create or update a source by name, adding the aliases it lacks (none are removed)."""
    with transaction.atomic():
        source = Source.objects.filter(name__iexact=name).first() or Source(name=name)
        source.kind, source.side, source.description = kind, side, description
        source.full_clean(validate_unique=False, validate_constraints=False)
        source.save()
        for alias in aliases:
            taken = SourceAlias.objects.filter(alias__iexact=alias).first()
            if taken is None:
                SourceAlias.objects.create(source=source, alias=alias)
            elif taken.source_id != source.pk:
                raise ValidationError(
                    f"alias {alias!r} of {name!r} already names source {taken.source.name!r}"
                )
        return source


def demo_users_ensure(*, users: Iterable[tuple[str, str, str]]) -> None:
    """Create or reset demo users (username, password, role); role "admin" is a superuser."""
    User = get_user_model()
    with transaction.atomic():
        for username, password, role in users:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = user.is_superuser = role == "admin"
            user.set_password(password)
            user.save()
            if role != "admin":
                user.groups.add(Group.objects.get(name=role))


# --- suggestions ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Suggester:
    """What suggesting needs, read once per import: the taxonomy matcher and the statuses."""

    matcher: attribution.SourceMatcher
    statuses: dict[str, VerificationStatus]


def suggester_load() -> Suggester:
    return Suggester(
        matcher=source_matcher(),
        statuses={s.code: s for s in VerificationStatus.objects.all()},
    )


SUGGESTION_FIELDS = [
    "suggested_source",
    "suggested_attribution",
    "suggested_is_claim",
    "suggested_status",
    "cue_start",
    "cue_end",
    "mention_start",
    "mention_end",
    "content_start",
    "content_end",
    "suggested_new_source_name",
    "suggested_new_source_kind",
    "suggested_new_source_side",
]


def _suggest(article: Article, sentences: list[Sentence], suggester: Suggester | None) -> None:
    """Set the suggestion fields of an article's annotatable sentences, in memory."""
    for sentence, values in zip(
        sentences, _suggestion_values(article, sentences, suggester), strict=True
    ):
        for name, value in values.items():
            setattr(sentence, name, value)


class _Piece(Protocol):
    start: int
    end: int
    text: str


def _suggestion_values(
    article: Article, pieces: Sequence[_Piece], suggester: Suggester | None
) -> list[dict[str, object]]:
    """The suggestion fields (by attname) of an article's annotatable sentences or segments,
    in order. The rules read the article's language (detected when it has none yet:
    `article.language`)."""
    suggester = suggester or suggester_load()
    if not article.language:
        article.language = language.detect(article.body)
    breaks = {
        i
        for i, (prev, cur) in enumerate(itertools.pairwise(pieces), start=1)
        if "\n" in article.body[prev.end : cur.start]
    }
    suggestions = suggester.matcher.suggest(
        [p.text for p in pieces], paragraph_breaks=breaks, lang=article.language
    )
    hint = attribution.status_hint(article.body)
    status = suggester.statuses.get(hint) if hint else None
    status_id = status.pk if status else None
    out = []
    for piece, suggestion in zip(pieces, suggestions, strict=True):
        size = len(piece.text)
        cue = _relative_span(suggestion.cue_span, size)
        mention = _relative_span(suggestion.mention_span, size)
        content = _relative_span(suggestion.content_span, size)
        new = suggestion.new_source if suggestion.source_id is None else None
        name = " ".join(new.name.split())[:200] if new else ""  # as source_propose stores it
        claim = suggestion.is_claim
        out.append(
            {
                "suggested_source_id": suggestion.source_id,
                "suggested_attribution": suggestion.attribution_type if claim else "",
                "suggested_is_claim": claim,
                "suggested_status_id": status_id if claim else None,
                "cue_start": cue[0],
                "cue_end": cue[1],
                "mention_start": mention[0],
                "mention_end": mention[1],
                "content_start": content[0],
                "content_end": content[1],
                "suggested_new_source_name": name,
                "suggested_new_source_kind": (
                    (new.kind if new.kind in Source.Kind.values else Source.Kind.UNKNOWN)
                    if name
                    else ""
                ),
                "suggested_new_source_side": new.side.strip()[:100] if name else "",
            }
        )
    return out


def _relative_span(span: tuple[int, int] | None, size: int) -> tuple[int | None, int | None]:
    """A suggested span inside a sentence of `size` characters, or (None, None): a span the
    rules got wrong (empty, reversed, past the text) is dropped, not stored."""
    if span is None:
        return None, None
    start, end = span
    return (start, end) if 0 <= start < end <= size else (None, None)


def article_suggest(*, article: Article, suggester: Suggester | None = None) -> None:
    """Recompute and store the suggestions of an article's sentences (the taxonomy changed),
    and the article's language when it was not known yet (imported before it was detected)."""
    sentences = list(article.sentences.annotatable().order_by("position"))
    had_language = bool(article.language)
    _suggest(article, sentences, suggester)
    if not had_language:  # derived from the body: no history row of its own
        Article.objects.filter(pk=article.pk).update(language=article.language)
    Sentence.objects.bulk_update(sentences, SUGGESTION_FIELDS, batch_size=500)


def source_matcher() -> attribution.SourceMatcher:
    sources = Source.objects.filter(merged_into=None).prefetch_related("aliases")
    return attribution.SourceMatcher(
        attribution.SourceEntry(
            id=s.pk,
            name=s.name,
            kind=s.kind,
            aliases=tuple(a.alias for a in s.aliases.all()),
            side=s.side,
        )
        for s in sources
        if s.status == Source.Status.ACTIVE
    )


def suggestions_refresh(
    *, articles: Iterable[Article] | None = None, on_article: Callable[[], None] | None = None
) -> int:
    """Recompute suggestions (after the taxonomy changed); returns the number of articles.

    `on_article` is called after each article (a job's progress)."""
    suggester = suggester_load()
    count = 0
    for article in articles if articles is not None else Article.objects.iterator():
        with transaction.atomic():
            article_suggest(article=article, suggester=suggester)
        count += 1
        if on_article is not None:
            on_article()
    return count


# --- assignments ---------------------------------------------------------------------------


def assignments_create(
    *, articles: Iterable[Article], annotators: Iterable[User], overlap: int = 2, assigned_by=None
) -> list[Assignment]:
    """Give each article to `overlap` annotators, least-loaded first (open assignments)."""
    annotators = list(annotators)
    if overlap < 1:
        raise ValidationError("Each article needs at least one annotator.")
    if overlap > len(annotators):
        raise ValidationError(
            f"An overlap of {overlap} needs at least {overlap} annotators; "
            f"{len(annotators)} chosen."
        )
    with transaction.atomic():
        open_load = dict.fromkeys((a.pk for a in annotators), 0)
        for row in (
            Assignment.objects.filter(annotator__in=annotators, completed_at=None)
            .values("annotator")
            .annotate(n=Count("id"))
        ):
            open_load[row["annotator"]] = row["n"]
        created = []
        for article in dict.fromkeys(articles):  # each article once, in order
            have = set(article.assignments.values_list("annotator_id", flat=True))
            candidates = sorted(
                (a for a in annotators if a.pk not in have),
                key=lambda a: (open_load[a.pk], a.username),
            )
            for annotator in candidates[: max(0, overlap - len(have))]:
                created.append(
                    Assignment(article=article, annotator=annotator, assigned_by=assigned_by)
                )
                open_load[annotator.pk] += 1
        return bulk_create_with_history(created, Assignment, default_user=assigned_by)


# --- annotations ---------------------------------------------------------------------------

# A label, as the services take it and as the history (AnnotationEvent) records it:
#   {"is_claim": bool, "note": str, "evidence_url": str, "claims": [claim, ...]}
# a claim being a dict of CLAIM_FIELDS, its spans offsets into the article body. "Not a claim"
# is is_claim False with no claims; a claim label has one claim or more, stored in list order.
CLAIM_FIELDS = (
    "content_start",
    "content_end",
    "cue_start",
    "cue_end",
    "mention_start",
    "mention_end",
    "source_id",
    "attribution_type",
    "status_id",
    "note",
    "evidence_url",
)
SPANS = ("content", "cue", "mention")
MAX_CLAIMS = 20  # per label; the form allows as many


class AnnotationConflict(Exception):
    """The annotator's own label changed since they loaded it; nothing was overwritten.

    It carries only the annotator's own label: never the gold label nor another annotator's.
    """

    def __init__(self, current: Annotation | None):
        self.current = current
        super().__init__("This label was changed elsewhere since you opened it.")


def claim_snapshot(claim: Claim) -> dict:
    return {field: getattr(claim, field) for field in CLAIM_FIELDS}


def label_snapshot(
    annotation: Annotation | None, claims: Iterable[Claim] | None = None
) -> dict | None:
    """The label as the services take it; `claims` when already read, else the annotation's
    (prefetched or read in one query)."""
    if annotation is None:
        return None
    if claims is None:
        claims = annotation.claims.all()
    return {
        "is_claim": annotation.is_claim,
        "note": annotation.note,
        "evidence_url": annotation.evidence_url,
        "claims": [claim_snapshot(claim) for claim in claims],
    }


def annotation_save(
    *, sentence: Sentence, annotator: User, label: dict, expected_version: int
) -> Annotation:
    """Save one annotator's label for a sentence, refusing to overwrite a newer one.

    `expected_version` is the version the annotator's form was built from (0: no label yet).
    Re-sending the same label (a double submit) changes nothing and is not a conflict. The
    saved annotation comes back with `.claim_list`, its claims in order.

    Blind annotation: nothing here depends on the gold label or on other annotators' labels,
    so the annotator's answer cannot either. A label saved after an editor adjudicated the
    sentence is saved as usual; the sentence stays adjudicated (its queue row stays
    "reviewed"), and if the label was the one the editor accepted, the gold label's history
    records the change (the gold label itself stands).
    """
    if not sentence.is_annotatable:
        raise ValidationError("Credits, datelines and boilerplate are not annotated.")
    label = clean_label(sentence, label)
    try:
        with transaction.atomic():
            return _annotation_write(sentence, annotator, label, expected_version)
    except _LabelInsertRefused as refused:
        # Another request created this label between our read and our insert (the unique
        # constraint caught it; the transaction is rolled back): report the winner.
        current = Annotation.objects.filter(sentence=sentence, annotator=annotator).first()
        if current is None:
            raise refused.__cause__ from None
        raise AnnotationConflict(current) from None


class _LabelInsertRefused(Exception):
    """The INSERT of a new label failed (its IntegrityError is the cause)."""


class _Locked(NamedTuple):
    send_back_id: int | None  # the sentence's open send-back
    accepted_id: int | None  # the annotation its gold label accepted
    body_length: int | None  # of the sentence's article: claims must lie inside


def _sentence_lock(sentence_id: int) -> _Locked:
    """Lock the sentence row for the rest of the transaction, then read, under the lock, its
    open send-back, the annotation its gold label accepted and its article's length.

    Every write that changes a sentence's annotations, gold label, send-back or queue row takes
    this lock first, so those writes are serialized per sentence and each recomputes the queue
    row from committed data (PostgreSQL, READ COMMITTED: the statements after the lock see what
    the previous holder committed). The reads are a statement of their own: subqueries of the
    locking statement would see its snapshot, taken before a waiting lock was granted.
    SQLite serializes all writes anyway; the path is the same.
    """
    locked = Sentence.objects.select_for_update(of=("self",)).filter(pk=sentence_id)
    if not locked.values_list("pk", flat=True):
        return _Locked(None, None, None)
    open_send_back = SendBack.objects.filter(sentence=OuterRef("pk"), resolved_at=None)
    accepted = GoldLabel.objects.filter(sentence=OuterRef("pk"))
    row = (
        Sentence.objects.filter(pk=sentence_id)
        .annotate(
            open_send_back=Subquery(open_send_back.values("pk")[:1]),
            accepted=Subquery(accepted.values("accepted_annotation")[:1]),
            body_length=Length("article__body"),
        )
        .values_list("open_send_back", "accepted", "body_length")
        .first()
    )
    return _Locked(*row) if row else _Locked(None, None, None)


class _Label(NamedTuple):
    annotation: Annotation
    claims: list[Claim]


_ANNOTATION_COLUMNS = [f.attname for f in Annotation._meta.concrete_fields]
_CLAIM_COLUMNS = ["id", "position", *CLAIM_FIELDS]


def _sentence_labels(sentence_id: int) -> dict[int, _Label]:
    """Every annotator's label of the sentence with its claims, in one query (a LEFT JOIN):
    what the save compares with and the queue row is computed from."""
    rows = (
        Annotation.objects.filter(sentence_id=sentence_id)
        .order_by("pk", "claims__position")
        .values_list(*_ANNOTATION_COLUMNS, *(f"claims__{c}" for c in _CLAIM_COLUMNS))
    )
    labels: dict[int, _Label] = {}
    width = len(_ANNOTATION_COLUMNS)
    for row in rows:
        values = dict(zip(_ANNOTATION_COLUMNS, row[:width], strict=True))
        label = labels.get(values["annotator_id"])
        if label is None:
            annotation = Annotation.from_db("default", _ANNOTATION_COLUMNS, row[:width])
            label = labels[values["annotator_id"]] = _Label(annotation, [])
        claim = dict(zip(_CLAIM_COLUMNS, row[width:], strict=True))
        if claim["id"] is not None:
            label.claims.append(Claim(annotation_id=values["id"], **claim))
    return labels


def _annotation_write(sentence, annotator, label: dict, expected_version: int) -> Annotation:
    locked = _sentence_lock(sentence.pk)
    _check_inside_body(label, locked.body_length)
    labels = _sentence_labels(sentence.pk)
    mine = labels.get(annotator.pk)
    current = mine.annotation if mine else None
    before = label_snapshot(current, mine.claims) if mine else None
    if before == label:
        if locked.send_back_id is not None and current is not None:  # "I stand by my label"
            _send_back_respond(locked.send_back_id, sentence.pk, annotator, confirmed=True)
        current.claim_list = mine.claims
        return current
    if (current.version if current else 0) != expected_version:
        raise AnnotationConflict(current)
    if current is None:
        current = Annotation(sentence=sentence, annotator=annotator, version=1)
        action = AnnotationEvent.Action.CREATED
    else:
        current.version += 1
        action = AnnotationEvent.Action.UPDATED
    _label_fields_set(current, label, sentence)
    current.suggested_source_id = sentence.suggested_source_id
    current.suggested_new_source_name = sentence.suggested_new_source_name
    if action == AnnotationEvent.Action.CREATED:
        try:
            current.save()  # no savepoint: a failure rolls the whole transaction back
        except IntegrityError as error:
            raise _LabelInsertRefused from error
    else:
        current.save()
    claims = _claims_replace(current, label["claims"], had_claims=bool(mine and mine.claims))
    AnnotationEvent.objects.create(
        sentence=sentence,
        annotator=annotator,
        actor=annotator,
        action=action,
        before=before,
        after=label,
    )
    labels[annotator.pk] = _Label(current, claims)
    _review_write(sentence.pk, labels)
    if locked.accepted_id is not None and locked.accepted_id == current.pk:
        _gold_note_accepted_change(current, actor=annotator, why="changed by its annotator")
    if locked.send_back_id is not None:
        _send_back_respond(locked.send_back_id, sentence.pk, annotator, confirmed=False)
    current.claim_list = claims
    return current


def _label_fields_set(label_row: Annotation | GoldLabel, label: dict, sentence: Sentence) -> None:
    """Set a label row's own fields. Its old single-claim fields (source, attribution type,
    status, span) mirror its first claim: the sentence-level κ and the admin lists read them."""
    first = label["claims"][0] if label["claims"] else None
    label_row.is_claim = label["is_claim"]
    label_row.source_id = first["source_id"] if first else None
    label_row.attribution_type = first["attribution_type"] if first else ""
    label_row.status_id = first["status_id"] if first else None
    inside = first and sentence.start <= first["content_start"] <= first["content_end"] <= (
        sentence.end
    )
    label_row.span_start = first["content_start"] - sentence.start if inside else None
    label_row.span_end = first["content_end"] - sentence.start if inside else None
    if isinstance(label_row, Annotation):
        label_row.note, label_row.evidence_url = label["note"], label["evidence_url"]


def _claims_replace(owner: Annotation | GoldLabel, claims: list[dict], *, had_claims: bool):
    """The label's claims become `claims`: a DELETE (when it had any) and one INSERT."""
    link = {"annotation": owner} if isinstance(owner, Annotation) else {"gold": owner}
    if had_claims:
        Claim.objects.filter(**link).delete()
    return Claim.objects.bulk_create(
        [Claim(**link, position=position, **claim) for position, claim in enumerate(claims)]
    )


def _send_back_respond(send_back_id: int, sentence_id: int, annotator, *, confirmed: bool):
    """Record the annotator's answer to the open send-back (their first answer counts), then
    resolve it if every annotator with a label of the sentence has answered."""
    kind = SendBackResponse.Kind.CONFIRMED if confirmed else SendBackResponse.Kind.CHANGED
    SendBackResponse.objects.bulk_create(
        [SendBackResponse(send_back_id=send_back_id, annotator=annotator, kind=kind)],
        ignore_conflicts=True,
    )
    _send_back_settle(send_back_id, sentence_id)


def _send_back_settle(send_back_id: int, sentence_id: int) -> None:
    """Resolve the send-back when no annotator of the sentence still owes an answer: the
    sentence goes back to the review queue as open (the editor asked for another look)."""
    waiting = Annotation.objects.filter(sentence_id=sentence_id).exclude(
        annotator__in=SendBackResponse.objects.filter(send_back_id=send_back_id).values(
            "annotator"
        )
    )
    if waiting.exists():
        return
    SendBack.objects.filter(pk=send_back_id, resolved_at=None).update(resolved_at=timezone.now())
    ReviewItem.objects.filter(sentence_id=sentence_id, state=ReviewItem.State.SENT_BACK).update(
        state=ReviewItem.State.OPEN
    )


def _gold_note_accepted_change(annotation: Annotation, *, actor: User, why: str) -> None:
    """Record in the gold label's history that the annotation it accepted changed after
    acceptance. The gold label keeps its values: it is the editor's decision, and only an
    editor changes it."""
    gold = GoldLabel.objects.get(accepted_annotation=annotation)
    gold._history_user = actor
    gold._change_reason = f"accepted annotation {why} after acceptance; the gold label stands"
    gold.save(update_fields=["updated_at"])


def _is_offset(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def clean_label(sentence: Sentence, label: dict) -> dict:
    """Normalise a label so that it satisfies the database constraints, or explain why not.

    A label without "claims" in the old single-claim shape (source_id, attribution_type,
    status_id and an optional span_start/span_end inside the sentence) is one claim over that
    span, or over the whole sentence.
    """
    if "claims" not in label:
        label = _single_claim_label(sentence, label)
    is_claim = bool(label.get("is_claim"))
    cleaned = {
        "is_claim": is_claim,
        "note": (label.get("note") or "").strip(),
        "evidence_url": (label.get("evidence_url") or "").strip(),
        "claims": [],
    }
    if not is_claim:
        return cleaned
    claims = list(label.get("claims") or [])
    if not claims:
        raise ValidationError("Mark the claim: a claim needs its content marked in the text.")
    if len(claims) > MAX_CLAIMS:
        raise ValidationError(f"A sentence holds at most {MAX_CLAIMS} claims.")
    for number, claim in enumerate(claims, start=1):
        cleaned["claims"].append(_clean_claim(claim, number if len(claims) > 1 else None))
    return cleaned


def _clean_claim(claim: dict, number: int | None) -> dict:
    which = f"Claim {number}: " if number else ""
    claim = {field: claim.get(field) for field in CLAIM_FIELDS}
    for text in ("note", "evidence_url"):
        claim[text] = (claim[text] or "").strip()
    claim["attribution_type"] = claim["attribution_type"] or ""
    if claim["attribution_type"] not in ("", *AttributionType.values):
        raise ValidationError(f"{which}unknown attribution type {claim['attribution_type']!r}.")
    if claim["status_id"] is None:
        raise ValidationError(f"{which}a claim needs a verification status.")
    for span in SPANS:
        start, end = claim[f"{span}_start"], claim[f"{span}_end"]
        if span != "content" and start is None and end is None:
            continue
        if not (_is_offset(start) and _is_offset(end)):
            raise ValidationError(f"{which}the {span} span needs both a start and an end.")
        if start >= end:
            raise ValidationError(f"{which}the {span} span is empty or reversed.")
    return claim


def _single_claim_label(sentence: Sentence, label: dict) -> dict:
    start, end = label.get("span_start"), label.get("span_end")
    if (start is None) != (end is None):
        raise ValidationError("A claim span needs both a start and an end.")
    if start is not None and not (
        _is_offset(start) and _is_offset(end) and start < end <= len(sentence.text)
    ):
        raise ValidationError("The claim span must lie inside the sentence.")
    offset = sentence.start
    content = (offset, sentence.end) if start is None else (offset + start, offset + end)
    claim = {
        "content_start": content[0],
        "content_end": content[1],
        "source_id": label.get("source_id"),
        "attribution_type": label.get("attribution_type"),
        "status_id": label.get("status_id"),
    }
    claims = [claim] if label.get("is_claim") else []
    return {**label, "claims": claims}


def _check_inside_body(label: dict, body_length: int | None) -> None:
    """Refuse spans past the end of the article (the database would, with a less clear
    error: migration 0013's trigger)."""
    if body_length is None:
        return
    for claim in label["claims"]:
        for span in SPANS:
            end = claim[f"{span}_end"]
            if end is not None and end > body_length:
                raise ValidationError(
                    f"The {span} span ends at character {end}, past the end of the article "
                    f"({body_length} characters)."
                )


def annotation_undo(*, annotator: User, article: Article | None = None) -> AnnotationEvent | None:
    """Undo the annotator's most recent label change (in the article, if given)."""
    with transaction.atomic():
        events = AnnotationEvent.objects.select_for_update().filter(
            annotator=annotator,
            actor=annotator,
            undone=False,
            action__in=[AnnotationEvent.Action.CREATED, AnnotationEvent.Action.UPDATED],
        )
        if article is not None:
            events = events.filter(sentence__article=article)
        event = events.order_by("-id").select_related("sentence").first()
        if event is None:
            return None
        locked = _sentence_lock(event.sentence_id)  # before the label: the order saves take
        labels = _sentence_labels(event.sentence_id)
        mine = labels.get(annotator.pk)
        current = mine.annotation if mine else None
        if (label_snapshot(current, mine.claims) if mine else None) != event.after:
            raise AnnotationConflict(current)  # changed since (e.g. by review): keep it
        accepted = locked.accepted_id is not None and locked.accepted_id == current.pk
        if event.before is None:
            if accepted:
                # The gold label outlives the annotation it accepted: its link is cleared with
                # a history record (not silently, by the foreign key's SET NULL).
                _gold_unlink_accepted(current, actor=annotator)
            current.delete()
            del labels[annotator.pk]
        else:
            _label_fields_set(current, event.before, event.sentence)
            current.version += 1
            current.save()
            claims = _claims_replace(current, event.before["claims"], had_claims=True)
            labels[annotator.pk] = _Label(current, claims)
            if accepted:
                _gold_note_accepted_change(current, actor=annotator, why="undone by its annotator")
        _review_write(event.sentence_id, labels)
        if locked.send_back_id is not None:
            if event.before is None:  # one annotator fewer may owe an answer
                _send_back_settle(locked.send_back_id, event.sentence_id)
            else:
                _send_back_respond(
                    locked.send_back_id, event.sentence_id, annotator, confirmed=False
                )
        event.undone = True
        event.save(update_fields=["undone"])
        AnnotationEvent.objects.create(
            sentence=event.sentence,
            annotator=annotator,
            actor=annotator,
            action=AnnotationEvent.Action.UNDONE,
            before=event.after,
            after=event.before,
        )
        return event


def _gold_unlink_accepted(annotation: Annotation, *, actor: User) -> None:
    gold = GoldLabel.objects.get(accepted_annotation=annotation)
    gold.accepted_annotation = None
    gold._history_user = actor
    gold._change_reason = (
        f"accepted annotation (by {annotation.annotator}) withdrawn by its annotator (undo); "
        "the gold label stands"
    )
    gold.save(update_fields=["accepted_annotation", "updated_at"])


# --- sources -------------------------------------------------------------------------------


def source_propose(*, name: str, kind: str, side: str, proposed_by: User) -> Source:
    """An annotator's new source: pending until an editor approves or merges it.

    One name is one source. A name another annotator proposed and that is still pending is
    not proposed twice: the annotator joins its proposers and may use it too (the kind and
    side of the first proposal stay). Two proposals of a new name at the same moment end the
    same way: the database's unique name lets one INSERT win and the other joins it. A name
    the annotator can already use is refused, naming the source to choose.
    """
    name = " ".join(name.split())
    if not name:
        raise ValidationError("Give the source a name.")
    with transaction.atomic():
        existing = selectors.source_named(name)
        if existing is None:
            source = Source(
                name=name,
                kind=kind,
                side=side.strip(),
                status=Source.Status.PENDING,
                proposed_by=proposed_by,
            )
            source.full_clean(validate_unique=False, validate_constraints=False)
            try:
                with transaction.atomic():  # a savepoint: a lost race leaves the rest usable
                    source.save()
            except IntegrityError:
                # The same name was proposed meanwhile (PostgreSQL waited for it to commit).
                existing = selectors.source_named(name)
                if existing is None:
                    raise
                if existing.status == Source.Status.PENDING:
                    existing.proposers.add(proposed_by)  # a double submit is no error either
                    return existing
            else:
                source.proposers.add(proposed_by)
                return source
        if selectors.source_usable(existing, user=proposed_by):
            raise ValidationError(
                f"{name!r} already exists as {existing.name!r}; choose it instead."
            )
        existing.proposers.add(proposed_by)  # pending, proposed by someone else
        return existing


def source_approve(*, source: Source) -> Source:
    """A pending source becomes active: every annotator can choose it, suggestions can name it."""
    source.status = Source.Status.ACTIVE
    source.save(update_fields=["status", "updated_at"])
    return source


def _clean_names(names: Iterable[str]) -> list[str]:
    """Names as typed, spaces collapsed, blanks and case-insensitive repeats dropped."""
    seen, cleaned = set(), []
    for name in names:
        name = " ".join(name.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            cleaned.append(name)
    return cleaned


def source_edit(
    *,
    source: Source,
    name: str,
    kind: str,
    side: str = "",
    description: str = "",
    wikidata_id: str | None = None,
    aliases: Iterable[str] = (),
) -> Source:
    """An editor's change of a source: its fields, and its aliases become exactly `aliases`.

    A name or alias may name one source only: one that is another source's name or alias is
    refused, naming that source (merge the two instead). An alias equal to the source's own
    name is dropped. The history of the source and of each alias records the change.
    """
    name = " ".join(name.split())
    if not name:
        raise ValidationError("Give the source a name.")
    aliases = [a for a in _clean_names(aliases) if a.casefold() != name.casefold()]
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=source.pk)
        if source.merged_into_id is not None:
            raise ValidationError(
                f"{source.name!r} was merged into {source.merged_into.name!r}; edit that source."
            )
        for wanted in [name, *aliases]:
            other = (
                Source.objects.filter(Q(name__iexact=wanted) | Q(aliases__alias__iexact=wanted))
                .exclude(pk=source.pk)
                .first()
            )
            if other is not None:
                raise ValidationError(
                    f"{wanted!r} already names the source {other.name!r}; merge the two instead."
                )
        if wikidata_id and Source.objects.filter(wikidata_id=wikidata_id).exclude(pk=source.pk):
            raise ValidationError(f"Another source has the Wikidata id {wikidata_id}.")
        source.name, source.kind, source.side = name, kind, " ".join(side.split())
        source.description, source.wikidata_id = description.strip(), wikidata_id or None
        source.full_clean(validate_unique=False, validate_constraints=False)
        source.save()
        kept = {a.casefold() for a in aliases}
        for alias in SourceAlias.objects.filter(source=source):
            if alias.alias.casefold() not in kept:
                alias.delete()  # the history keeps it
        have = {a.casefold() for a in source.aliases.values_list("alias", flat=True)}
        for alias in aliases:
            if alias.casefold() not in have:
                SourceAlias.objects.create(source=source, alias=alias)
        return source


def _sentences_locked(annotations) -> list[int]:
    """Lock the sentences of these annotations in id order, as every writer of a sentence
    takes them (before its labels), and return their ids read again under the locks: a label
    saved meanwhile is counted, and no lock cycle can form."""
    while True:
        wanted = sorted(set(annotations.values_list("sentence", flat=True)))
        list(
            Sentence.objects.select_for_update(of=("self",))
            .filter(pk__in=wanted)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        now = sorted(set(annotations.values_list("sentence", flat=True)))
        if set(now) <= set(wanted):
            return now


def source_merge_check(*, source: Source, into: Source) -> None:
    """Refuse a merge that would lose or loop: into itself, into a merged source, or again."""
    if source.pk == into.pk:
        raise ValidationError("A source cannot be merged into itself.")
    if into.merged_into_id is not None:
        raise ValidationError(f"{into.name!r} was itself merged; merge into {into.merged_into}.")
    if Source.objects.filter(pk=source.pk).exclude(merged_into=None).exists():
        raise ValidationError(f"{source.name!r} is already merged; undo that merge first.")


def _ids(queryset) -> list[int]:
    return sorted(queryset.values_list("pk", flat=True))


def _locked_pair(source: Source, into: Source) -> tuple[Source, Source]:
    """Both sources locked in id order and read again as they are now: two opposite merges (or
    a merge and an undo) at once would otherwise make a loop or move labels twice."""
    fresh = {
        s.pk: s
        for s in Source.objects.select_for_update()
        .filter(pk__in=[source.pk, into.pk])
        .order_by("pk")
    }
    return fresh[source.pk], fresh[into.pk]


def _golds_repoint(golds, moved: dict, *, old: int, new: int, reason: str) -> None:
    """Point the gold labels' own source and the listed snapshot claims from `old` to `new`."""
    for gold in golds:
        if gold.source_id == old:
            gold.source_id = new
        positions = set(moved.get(str(gold.pk), []))
        gold.claims_snapshot = [
            {**c, "source_id": new} if i in positions else c
            for i, c in enumerate(gold.claims_snapshot)
        ]
    # The gold labels' history records the change, like every other change of theirs.
    bulk_update_with_history(
        golds, GoldLabel, ["source", "claims_snapshot"], default_change_reason=reason
    )


def source_merge(*, source: Source, into: Source, merged_by: User | None = None) -> int:
    """Merge `source` into `into`: labels re-pointed, the old name and aliases kept as aliases.

    What moved is recorded (SourceMerge) so that `source_unmerge` can reverse exactly this
    merge. Returns the number of annotators' claims re-pointed.
    """
    source_merge_check(source=source, into=into)
    with transaction.atomic():
        source, into = _locked_pair(source, into)
        source_merge_check(source=source, into=into)
        reason = f"source {source.name!r} merged into {into.name!r}"
        naming = Q(source=source) | Q(claims__source=source)
        touched = _sentences_locked(Annotation.objects.filter(naming))
        claims = Claim.objects.filter(source=source)
        golds = list(GoldLabel.objects.filter(naming).distinct())
        moved = {
            "annotations": _ids(Annotation.objects.filter(source=source)),
            "claims": _ids(claims.filter(annotation__isnull=False)),
            "gold_claims": _ids(claims.filter(gold__isnull=False)),
            "gold_labels": _ids(GoldLabel.objects.filter(source=source)),
            "gold_snapshots": {
                str(g.pk): [
                    i for i, c in enumerate(g.claims_snapshot) if c.get("source_id") == source.pk
                ]
                for g in golds
            },
            "suggested_sentences": _ids(Sentence.objects.filter(suggested_source=source)),
            "suggested_annotations": _ids(Annotation.objects.filter(suggested_source=source)),
            "merged_sources": _ids(Source.objects.filter(merged_into=source)),
            "aliases": _ids(SourceAlias.objects.filter(source=source)),
            "sentences": touched,
            "alias_created": None,
            "proposers_added": [],
        }
        Annotation.objects.filter(source=source).update(source=into)
        claims.update(source=into)
        _golds_repoint(golds, moved["gold_snapshots"], old=source.pk, new=into.pk, reason=reason)
        Sentence.objects.filter(suggested_source=source).update(suggested_source=into)
        Annotation.objects.filter(suggested_source=source).update(suggested_source=into)
        Source.objects.filter(merged_into=source).update(merged_into=into)
        aliases = list(SourceAlias.objects.filter(source=source))
        for alias in aliases:
            alias.source = into
        bulk_update_with_history(aliases, SourceAlias, ["source"], default_change_reason=reason)
        if not SourceAlias.objects.filter(alias__iexact=source.name).exists():
            alias = SourceAlias(source=into, alias=source.name)
            alias._change_reason = reason
            alias.save()
            moved["alias_created"] = alias.pk
        if into.status == Source.Status.PENDING:  # who could use the old proposal still can
            had = set(into.proposers.values_list("pk", flat=True))
            added = [pk for pk in source.proposers.values_list("pk", flat=True) if pk not in had]
            into.proposers.add(*added)
            moved["proposers_added"] = sorted(added)
        previous_status = source.status
        source.merged_into = into
        source.status = Source.Status.ACTIVE
        source._change_reason = reason
        source.save(update_fields=["merged_into", "status", "updated_at"])
        SourceMerge.objects.create(
            source=source,
            into=into,
            source_status=previous_status,
            moved=moved,
            merged_by=merged_by,
        )
        for sentence_id in touched:  # merged sources can turn a disagreement unanimous
            review_item_refresh(sentence_id=sentence_id)
        return len(moved["claims"])


def source_unmerge(*, merge: SourceMerge, undone_by: User | None = None) -> int:
    """Undo a merge: the merged source stands again, with its status, its aliases and exactly
    the labels, suggestions and earlier merged sources that moved to the target then.

    What was changed since keeps the change: a label re-pointed to another source meanwhile,
    or a moved alias an editor removed, is left as it is. Refused when the target has been
    merged since (undo that merge first). Returns the number of annotators' claims moved back.
    """
    with transaction.atomic():
        merge = SourceMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise ValidationError("This merge was undone already.")
        source, into = _locked_pair(merge.source, merge.into)
        if into.merged_into_id is not None:
            raise ValidationError(
                f"{into.name!r} was merged into {into.merged_into.name!r} since; "
                "undo that merge first."
            )
        if source.merged_into_id != into.pk:
            raise ValidationError(f"{source.name!r} is no longer merged into {into.name!r}.")
        moved = merge.moved
        reason = f"merge of {source.name!r} into {into.name!r} undone"
        annotations = Annotation.objects.filter(pk__in=moved["annotations"], source=into)
        claims = Claim.objects.filter(pk__in=moved["claims"], source=into)
        touched = _sentences_locked(
            Annotation.objects.filter(
                Q(pk__in=moved["annotations"]) | Q(claims__pk__in=moved["claims"])
            )
        )
        back = claims.count()
        claims.update(source=source)
        # A label's own source mirrors its first claim: it moves back with that claim. A label
        # saved again since has new claims, so it keeps what it says now.
        annotations.filter(claims__position=0, claims__source=source).update(source=source)
        gold_claims = Claim.objects.filter(pk__in=moved["gold_claims"], source=into)
        positions: dict[int, set[int]] = {}
        for gold_id, position in gold_claims.values_list("gold_id", "position"):
            positions.setdefault(gold_id, set()).add(position)
        gold_claims.update(source=source)
        golds = list(GoldLabel.objects.filter(pk__in=positions))
        for gold in golds:
            if 0 in positions[gold.pk] and gold.source_id == into.pk:
                gold.source_id = source.pk
            gold.claims_snapshot = [
                {**c, "source_id": source.pk} if i in positions[gold.pk] else c
                for i, c in enumerate(gold.claims_snapshot)
            ]
        bulk_update_with_history(
            golds, GoldLabel, ["source", "claims_snapshot"], default_change_reason=reason
        )
        Sentence.objects.filter(pk__in=moved["suggested_sentences"], suggested_source=into).update(
            suggested_source=source
        )
        Annotation.objects.filter(
            pk__in=moved["suggested_annotations"], suggested_source=into
        ).update(suggested_source=source)
        Source.objects.filter(pk__in=moved["merged_sources"], merged_into=into).update(
            merged_into=source
        )
        if moved["alias_created"] is not None:
            created = SourceAlias.objects.filter(pk=moved["alias_created"], source=into).first()
            if created is not None:
                created._change_reason = reason
                created.delete()
        aliases = list(SourceAlias.objects.filter(pk__in=moved["aliases"], source=into))
        for alias in aliases:
            alias.source = source
        bulk_update_with_history(aliases, SourceAlias, ["source"], default_change_reason=reason)
        into.proposers.remove(*moved["proposers_added"])
        source.merged_into = None
        source.status = merge.source_status
        source._change_reason = reason
        source.save(update_fields=["merged_into", "status", "updated_at"])
        merge.undone_at, merge.undone_by = timezone.now(), undone_by
        merge.save(update_fields=["undone_at", "undone_by"])
        for sentence_id in touched:
            review_item_refresh(sentence_id=sentence_id)
        return back


# --- review --------------------------------------------------------------------------------

# The queue row of a sentence, kept in step with its labels: the bucket is "single" for one
# label, "unanimous" when every two labels agree claim by claim (claims.spans), else
# "disagreement". The state is never changed by annotations: a new row of an adjudicated
# sentence is "reviewed" (adjudicated work stays adjudicated), and a sent-back row opens again
# only when every annotator has answered (_send_back_settle). The caller holds the sentence
# lock (_sentence_lock), so the labels it read include every committed label.
_REVIEW_UPSERT = """
INSERT INTO claims_reviewitem
    (sentence_id, article_id, bucket, annotation_count, first_annotated_at, state)
SELECT s.id, s.article_id, %s, %s, %s,
       CASE WHEN EXISTS (SELECT 1 FROM claims_goldlabel g WHERE g.sentence_id = s.id)
            THEN 'reviewed' ELSE 'open' END
FROM claims_sentence s
WHERE s.id = %s
ON CONFLICT (sentence_id) DO UPDATE SET
    bucket = excluded.bucket,
    annotation_count = excluded.annotation_count,
    first_annotated_at = excluded.first_annotated_at
"""


def review_bucket(labels: list[list[spans.ClaimSpans]]) -> int:
    """The queue bucket of a sentence with these labels (two or more, or one)."""
    if len(labels) == 1:
        return ReviewItem.Bucket.SINGLE
    if spans.sentence_disagrees(labels):
        return ReviewItem.Bucket.DISAGREEMENT
    return ReviewItem.Bucket.UNANIMOUS


def review_item_refresh(*, sentence_id: int) -> None:
    """Recompute the sentence's review-queue row from its labels (same transaction)."""
    _review_write(sentence_id, _sentence_labels(sentence_id))


def _review_write(sentence_id: int, labels: dict[int, "_Label"]) -> None:
    if not labels:  # no label left (an undone first label)
        rows = ReviewItem.objects.filter(sentence_id=sentence_id)
        if GoldLabel.objects.filter(sentence_id=sentence_id).exists():
            rows.update(annotation_count=0)  # adjudicated: the row stays, "reviewed"
        else:
            rows.delete()
        return
    bucket = review_bucket(
        [[spans.ClaimSpans.from_claim(c) for c in label.claims] for label in labels.values()]
    )
    first = min(label.annotation.created_at for label in labels.values())
    with connection.cursor() as cursor:
        cursor.execute(
            _REVIEW_UPSERT,
            [
                int(bucket),
                len(labels),
                connection.ops.adapt_datetimefield_value(first),
                sentence_id,
            ],
        )


class GoldConflict(Exception):
    """Another editor adjudicated the sentence first, or the label being accepted changed since
    the editor saw it; nothing was overwritten."""

    def __init__(self, current: GoldLabel | None, *, label_changed: bool = False):
        self.current, self.label_changed = current, label_changed
        super().__init__(
            "The annotator changed this label since you opened it."
            if label_changed
            else "Another editor adjudicated this sentence since you opened it."
        )


def gold_snapshot(gold: GoldLabel | None) -> dict | None:
    """The gold label in the label shape (its claims as saved with this version)."""
    if gold is None:
        return None
    return {
        "is_claim": gold.is_claim,
        "note": "",
        "evidence_url": "",
        "claims": list(gold.claims_snapshot),
    }


def gold_label_set(
    *,
    sentence: Sentence,
    editor: User,
    label: dict,
    expected_version: int,
    accepted: Annotation | None = None,
    comment: str = "",
) -> GoldLabel:
    """Record the sentence's gold label with its claims; refuse if it changed since the editor
    loaded it. The label's claims are kept with their notes and evidence; the label's own
    note is the annotator's and is not copied (the editor's comment is the gold label's)."""
    cleaned = clean_label(sentence, {**label, "note": "", "evidence_url": ""})
    with transaction.atomic():
        locked = _sentence_lock(sentence.pk)
        _check_inside_body(cleaned, locked.body_length)
        gold = GoldLabel.objects.select_for_update().filter(sentence=sentence).first()
        if (gold.version if gold else 0) != expected_version:
            raise GoldConflict(gold)
        had_claims = gold is not None and bool(gold.claims_snapshot)
        if gold is None:
            gold = GoldLabel(sentence=sentence, version=1)
        else:
            gold.version += 1
        _label_fields_set(gold, cleaned, sentence)
        gold.claims_snapshot = cleaned["claims"]
        gold.origin = GoldLabel.Origin.ACCEPTED if accepted else GoldLabel.Origin.CORRECTED
        gold.accepted_annotation = accepted
        gold.editor, gold.comment = editor, comment.strip()
        gold._history_user = editor
        try:
            with transaction.atomic():
                gold.save()
        except IntegrityError:  # another editor inserted the first gold label meanwhile
            raise GoldConflict(GoldLabel.objects.filter(sentence=sentence).first()) from None
        gold.claim_list = _claims_replace(gold, cleaned["claims"], had_claims=had_claims)
        ReviewItem.objects.filter(sentence=sentence).update(state=ReviewItem.State.REVIEWED)
        SendBack.objects.filter(sentence=sentence, resolved_at=None).update(
            resolved_at=timezone.now()
        )
        return gold


def gold_label_accept(
    *,
    annotation: Annotation,
    editor: User,
    expected_version: int,
    comment: str = "",
    expected_label_version: int | None = None,
) -> GoldLabel:
    """Make one annotator's label the gold label: the label as it is under the sentence's lock,
    and, given `expected_label_version`, only if it is still the version the editor saw."""
    with transaction.atomic():
        _sentence_lock(annotation.sentence_id)
        current = Annotation.objects.filter(pk=annotation.pk).prefetch_related("claims").first()
        changed = expected_label_version is not None and (
            current is None or current.version != expected_label_version
        )
        if current is None or changed:
            gold = GoldLabel.objects.filter(sentence_id=annotation.sentence_id).first()
            raise GoldConflict(gold, label_changed=True)
        return gold_label_set(
            sentence=annotation.sentence,
            editor=editor,
            label=label_snapshot(current),
            expected_version=expected_version,
            accepted=current,
            comment=comment,
        )


def sentence_send_back(*, sentence: Sentence, editor: User, comment: str) -> SendBack:
    """Ask the sentence's annotators to look again; it reappears in their queue."""
    comment = comment.strip()
    if not comment:
        raise ValidationError("Say what the annotators should look at again.")
    with transaction.atomic():
        if _sentence_lock(sentence.pk).send_back_id is not None:
            raise ValidationError("This sentence is already sent back and awaits the annotators.")
        send_back = SendBack.objects.create(sentence=sentence, editor=editor, comment=comment)
        ReviewItem.objects.filter(sentence=sentence).update(state=ReviewItem.State.SENT_BACK)
        return send_back


def gold_labels_bulk_accept(*, items, editor: User) -> int:
    """Accept the common label of every open unanimous item in `items`; returns the count.

    The queue row only chooses the candidates: under the sentences' locks, each one's
    labels are read again and only a sentence whose (two or more) labels really agree, claim
    by claim, is accepted; a row found stale is recomputed instead.
    """
    accepted = 0
    with transaction.atomic():
        candidates = items.filter(
            bucket=ReviewItem.Bucket.UNANIMOUS, state=ReviewItem.State.OPEN
        ).values("sentence_id")
        # Sentences first, in id order: the lock order every other writer takes.
        sentence_ids = list(
            Sentence.objects.select_for_update(of=("self",))
            .filter(pk__in=candidates)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        still_open = set(
            ReviewItem.objects.filter(
                sentence_id__in=sentence_ids, state=ReviewItem.State.OPEN
            ).values_list("sentence_id", flat=True)
        )
        labels: dict[int, list[Annotation]] = {}
        annotations = (
            Annotation.objects.filter(sentence_id__in=still_open)
            .select_related("sentence__gold")
            .prefetch_related("claims")
        )
        for annotation in annotations:
            labels.setdefault(annotation.sentence_id, []).append(annotation)
        for sentence_id in sentence_ids:
            if sentence_id not in still_open:
                continue
            annotations = labels.get(sentence_id, [])
            if not _unanimous(annotations):
                review_item_refresh(sentence_id=sentence_id)  # the row was stale: correct it
                continue
            gold = getattr(annotations[0].sentence, "gold", None)
            gold_label_accept(
                annotation=annotations[0],
                editor=editor,
                expected_version=gold.version if gold else 0,
            )
            accepted += 1
    return accepted


def _unanimous(annotations: list[Annotation]) -> bool:
    """Two or more labels that agree claim by claim (the queue's definition)."""
    labels = [[spans.ClaimSpans.from_claim(c) for c in a.claims.all()] for a in annotations]
    return len(labels) > 1 and review_bucket(labels) == ReviewItem.Bucket.UNANIMOUS


# Where the demo's second annotator departs from the suggestions (sentence positions), so
# that the review queue opens on real disagreements.
_DEMO_DISSENT = {
    9: {"is_claim": False},  # "It provided no additional information…"
    6: {"source": "Unattributed"},  # "Authorities say…"
    15: {"status": "disputed"},  # "Ukrainian officials never acknowledge…"
    0: {"is_claim": True, "status": "unverified"},  # "Russia has vowed retaliation…"
}


def suggested_claim(sentence: Sentence, **changes) -> dict:
    """The claim a sentence's suggestion proposes (body offsets): its content the suggested
    content span (else the whole sentence), its cue and source mention the suggested ones,
    its source, type and status the suggested ones."""
    claim = {
        **sentence.suggested_claim_spans(),
        "source_id": sentence.suggested_source_id,
        "attribution_type": sentence.suggested_attribution,
        "status_id": sentence.suggested_status_id,
        "note": "",
        "evidence_url": "",
    }
    return {**claim, **changes}


def demo_gold_ensure(*, article: Article, editor: User) -> int:
    """Accept as gold the demo article's claims its annotators agree on (the unanimous claim
    sentences still open), as the editor would with bulk accept; unanimous "not a claim"
    sentences stay in the queue for the editor to try bulk accept on. Returns the count."""
    items = ReviewItem.objects.filter(
        article=article, sentence__annotations__is_claim=True
    ).distinct()
    return gold_labels_bulk_accept(items=items, editor=editor)


def demo_labels_ensure(*, article: Article, annotators: list[User]) -> int:
    """Label the demo article as two annotators would (once): from the suggestions, with the
    second annotator disagreeing on a few sentences. Returns the number of labels made."""
    made = 0
    statuses = {s.code: s for s in VerificationStatus.objects.all()}
    sources = {s.name: s for s in Source.objects.all()}
    for index, annotator in enumerate(sorted(annotators, key=lambda u: u.username)):
        if Annotation.objects.filter(annotator=annotator, sentence__article=article).exists():
            continue
        for sentence in article.sentences.annotatable().order_by("position"):
            changes = _DEMO_DISSENT.get(sentence.position, {}) if index == 1 else {}
            is_claim = changes.get("is_claim", sentence.suggested_is_claim)
            source = (
                sources.get(changes["source"])
                if "source" in changes
                else sentence.suggested_source
            )
            status = statuses.get(changes.get("status", "")) or sentence.suggested_status
            claim = suggested_claim(
                sentence,
                source_id=source.pk if source else None,
                status_id=(status or statuses["unverified"]).pk,
            )
            label = {"is_claim": is_claim, "claims": [claim] if is_claim else []}
            annotation_save(
                sentence=sentence, annotator=annotator, label=label, expected_version=0
            )
            made += 1
    return made
