"""Writes: every change to claimdesk's data goes through a function here."""

import enum
from collections import Counter
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from claims import segmentation
from claims.importing import ArticleRecord, body_checksum, title_from_body
from claims.models import Annotation, Article, Sentence, Source, SourceAlias


class ImportOutcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def article_segment(*, article: Article) -> list[Sentence]:
    """(Re)build an article's sentences from its body. The caller holds the transaction."""
    article.sentences.all().delete()
    return Sentence.objects.bulk_create(
        Sentence(
            article=article,
            position=position,
            start=segment.start,
            end=segment.end,
            text=segment.text,
            kind=segment.kind,
        )
        for position, segment in enumerate(segmentation.segment(article.body))
    )


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


def article_upsert(*, record: ArticleRecord) -> tuple[Article, ImportOutcome]:
    """Create the article, update it, or leave it: never a duplicate, never orphaned labels.

    An article is the same article when its external_id matches, or, without one, when its
    body is identical. Metadata present in the record overwrites; absent metadata is kept.
    """
    checksum = body_checksum(record.body)
    with transaction.atomic():
        article = _find_existing(record, checksum)
        if article is None:
            article = Article.objects.create(
                title=record.title or title_from_body(record.body),
                body=record.body,
                published_on=record.published_on,
                outlet=record.outlet,
                url=record.url,
                external_id=record.external_id,
                checksum=checksum,
            )
            article_segment(article=article)
            return article, ImportOutcome.CREATED

        changed = []
        if article.checksum != checksum:
            _check_body_replaceable(article, checksum)
            if not record.title and article.title == title_from_body(article.body):
                article.title = title_from_body(record.body)  # the title was derived: follow
                changed.append("title")
            article.body, article.checksum = record.body, checksum
            changed += ["body", "checksum"]
        for field in ("title", "published_on", "outlet", "url", "external_id"):
            value = getattr(record, field)
            if value not in (None, "") and getattr(article, field) != value:
                setattr(article, field, value)
                changed.append(field)
        if not changed:
            return article, ImportOutcome.UNCHANGED
        article.save(update_fields=[*changed, "updated_at"])
        if "body" in changed:
            article_segment(article=article)
        return article, ImportOutcome.UPDATED


def _check_body_replaceable(article: Article, checksum: str) -> None:
    labels = Annotation.objects.filter(sentence__article=article).count()
    if labels:
        raise ValidationError(
            f"article #{article.pk} ({article.title!r}) already has {labels} annotation(s), so "
            "its text cannot change; import the new text as a new article (another external_id)"
        )
    other = Article.objects.filter(checksum=checksum).exclude(pk=article.pk).first()
    if other is not None:
        raise ValidationError(
            f"the new text is identical to article #{other.pk} ({other.title!r})"
        )


def articles_import(*, records: Iterable[ArticleRecord]) -> Counter[ImportOutcome]:
    """Import a batch of records all or nothing; a ValidationError names the failing record."""
    outcomes: Counter[ImportOutcome] = Counter()
    with transaction.atomic():
        for record in records:
            try:
                _, outcome = article_upsert(record=record)
            except ValidationError as exc:
                where = f"{record.place}: " if record.place else ""
                raise ValidationError(f"{where}{'; '.join(exc.messages)}") from None
            outcomes[outcome] += 1
    return outcomes


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
