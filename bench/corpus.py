"""Deterministic synthetic news corpus for the benchmarks (seeded ``random.Random``).

Two uses:

- ``article_records(n, ...)`` yields ``claims.importing.ArticleRecord`` objects with
  realistic war-reporting bodies (a ``date YYYY-MM-DD`` header, paragraphs, attributions such
  as "according to Russia's Defence Ministry", "Ukrainian officials said", quotes, credits
  "Credit: AP") for the import benchmark, which runs the real path
  (``services.articles_import``: segmentation and suggestions).
- ``bulk_load(...)`` fills a big database fast (COPY on PostgreSQL, ``executemany`` with
  PRAGMAs on SQLite): articles, sentences, annotations by 2-3 annotators on part of them, a
  few gold labels, and the review-queue rows computed in SQL with the same rules as
  ``services.review_item_refresh``. Every row satisfies the database constraints.

Run directly to print a sample article:  .venv/bin/python bench/corpus.py --sample
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
from collections.abc import Iterator

SEED = 20240611

OUTLETS = ("Reuters", "AP", "BBC", "Kyiv Independent", "Meduza", "Ukrainska Pravda", "Al Jazeera")
CREDITS = ("Credit: AP", "Credit: Reuters", "Credit: AFP", "Credit: Getty Images", "Photo: EPA")
CITIES = (
    "Kyiv",
    "Odesa",
    "Kharkiv",
    "Zaporizhzhia",
    "Dnipro",
    "Lviv",
    "Kherson",
    "Belgorod",
    "Donetsk",
    "Mykolaiv",
    "Sumy",
    "Kursk",
)
# name, kind, side, aliases (the phrases the texts use, so that suggestions find them)
SOURCES = (
    (
        "Ministry of Defence of Russia",
        "military",
        "Russia",
        (
            "Russia's Defence Ministry",
            "Russian Defence Ministry",
            "Russian MoD",
            "Минобороны России",
            "Міноборони Росії",
        ),
    ),
    (
        "Ministry of Defence of Ukraine",
        "military",
        "Ukraine",
        ("Ukraine's Defence Ministry", "Ukrainian Defence Ministry", "Міноборони України"),
    ),
    (
        "General Staff of the Armed Forces of Ukraine",
        "military",
        "Ukraine",
        ("General Staff", "Генштаб ЗСУ", "Генштаб ВСУ"),
    ),
    ("Ukrainian Air Force", "military", "Ukraine", ("Ukraine's Air Force", "Повітряні сили ЗСУ")),
    (
        "State Emergency Service of Ukraine",
        "emergency",
        "Ukraine",
        ("State Emergency Service", "Ukraine's emergency service", "ДСНС"),
    ),
    (
        "Emergency Situations Ministry of Russia",
        "emergency",
        "Russia",
        ("Russia's Emergency Situations Ministry", "МЧС России"),
    ),
    ("Office of the President of Ukraine", "head_of_state", "Ukraine", ("Zelensky's office",)),
    ("Kremlin", "head_of_state", "Russia", ("the Kremlin",)),
    ("Unnamed Ukrainian officials", "unnamed_officials", "Ukraine", ("Ukrainian officials",)),
    ("Unnamed Russian officials", "unnamed_officials", "Russia", ("Russian officials",)),
    ("Institute for the Study of War", "international", "United States", ("ISW",)),
    ("IAEA", "international", "", ("the UN nuclear watchdog",)),
    ("RIA Novosti", "media", "Russia", ("state news agency RIA", "РИА Новости")),
    ("Telegram channel Rybar", "social_media", "Russia", ("Rybar",)),
)
# A sentence template: {src} a source phrase, {city}, {n} a number, {day} a weekday.
CLAIMS = (
    "{n} people were injured in the strike on {city}, according to {src}.",
    "{src} said {n} drones had been shot down over the {city} region overnight.",
    "According to {src}, {n} tanks were destroyed near {city} in the past 24 hours.",
    '"We will respond to every attack," a spokesperson for {src} told reporters on {day}.',
    "{src} claimed that its forces had taken control of a village near {city}.",
    "{src} denied that civilian infrastructure in {city} had been targeted.",
    "Ukrainian officials said {n} apartment buildings in {city} were damaged.",
    "Russian officials said air defences had intercepted {n} missiles near {city}.",
    "The attack killed at least {n} civilians, {src} said in a statement on {day}.",
    "In a post on Telegram, {src} said power had been restored to {n} households in {city}.",
)
CONTEXT = (
    "Air raid sirens sounded across {city} for {n} hours.",
    "Images on social media showed burning cars and plumes of black smoke over {city}.",
    "The claims could not be independently verified.",
    "It was one of the biggest attacks on {city} since the full-scale invasion began.",
    "Residents described hearing loud explosions shortly after midnight.",
    "Satellite images showed {n} craters near the airfield outside {city}.",
    "The strike came a day after talks in Istanbul ended without agreement.",
    "Schools in {city} moved lessons online for the rest of the week.",
)
# Russian and Ukrainian articles (one in five), for an import with mixed languages.
CITIES_LOC = {
    "ru": ("Белгороде", "Курске", "Брянске", "Харькове", "Одессе", "Запорожье"),
    "uk": ("Харкові", "Одесі", "Запоріжжі", "Дніпрі", "Сумах", "Києві"),
}
SOURCES_BY_LANGUAGE = {
    "ru": ("Минобороны России", "МЧС России", "Генштаб ВСУ", "РИА Новости"),
    "uk": ("Міноборони України", "Генштаб ЗСУ", "Повітряні сили ЗСУ", "ДСНС", "Міноборони Росії"),
}
CLAIMS_BY_LANGUAGE = {
    "ru": (
        "{src} сообщает, что в {city} сбиты {n} беспилотников.",
        "«Мы ответим на каждый удар», — сообщает {src}.",
        "Об этом сообщает {src}.",
        "По данным Минобороны России, в {city} повреждены {n} домов.",
        "Как сообщили в МЧС России, в {city} пострадали {n} человек.",
        "В Минобороны России заявили, что ночью в {city} перехвачены {n} ракет.",
    ),
    "uk": (
        "{src} повідомляє, що в {city} збито {n} дронів.",
        "«Ми відповімо на кожен удар», — повідомляє {src}.",
        "Про це повідомляє {src}.",
        "За даними ДСНС, у {city} пошкоджено {n} будинків.",
        "Як повідомили в Генштабі ЗСУ, за добу відбулося {n} боєзіткнень.",
        "У Повітряних силах ЗСУ заявили, що в {city} знищено {n} ракет.",
    ),
}
CONTEXT_BY_LANGUAGE = {
    "ru": (
        "Воздушная тревога в {city} длилась {n} часов.",
        "Независимо проверить эти данные не удалось.",
        "Школы в {city} перешли на дистанционное обучение.",
        "Сообщается, что в {city} были слышны взрывы.",
    ),
    "uk": (
        "Повітряна тривога в {city} тривала {n} годин.",
        "Незалежно перевірити ці дані не вдалося.",
        "Школи в {city} перейшли на дистанційне навчання.",
        "Повідомляється, що в {city} було чути вибухи.",
    ),
}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STATUS_CODES = ("verified", "unverified", "disputed", "false")
ATTRIBUTIONS = ("direct_quote", "paraphrase", "unnamed", "none")
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
FIRST_DAY = dt.date(2022, 2, 24)


def _sentence(rng: random.Random, lang: str = "en") -> str:
    if lang != "en":
        claims, context = CLAIMS_BY_LANGUAGE[lang], CONTEXT_BY_LANGUAGE[lang]
        template = rng.choice(claims) if rng.random() < 0.55 else rng.choice(context)
        return template.format(
            src=rng.choice(SOURCES_BY_LANGUAGE[lang]),
            city=rng.choice(CITIES_LOC[lang]),
            n=rng.randint(2, 140),
        )
    if rng.random() < 0.55:
        template = rng.choice(CLAIMS)
        source = rng.choice(SOURCES)
        latin = [alias for alias in source[3] if alias.isascii()]
        phrase = rng.choice(latin) if latin else source[0]
    else:
        template, phrase = rng.choice(CONTEXT), ""
    text = template.format(
        src=phrase, city=rng.choice(CITIES), n=rng.randint(2, 140), day=rng.choice(DAYS)
    )
    return text[0].upper() + text[1:]


def article_sentences(number: int, n_sentences: int, *, seed: int = SEED) -> list[list[str]]:
    """Paragraphs of sentence texts for article `number`; about 1 in 12 paragraphs ends in a
    credit. The first sentence names the article number, so every body is unique."""
    rng = random.Random(seed * 1_000_003 + number)
    city = rng.choice(CITIES)
    lang = {7: "ru", 8: "uk"}.get(number % 10, "en")
    first = {
        "en": f"Report {number} from {city}: fighting continued on day {number % 900 + 1}.",
        "ru": f"Сводка {number}: бои продолжились на {number % 900 + 1}-й день.",
        "uk": f"Зведення {number}: бої тривали {number % 900 + 1}-й день.",
    }[lang]
    paragraphs, current, left = [], [first], n_sentences - 1
    while left > 0:
        if len(current) >= rng.randint(2, 4):
            paragraphs.append(current)
            current = []
        if current and rng.random() < 0.08:
            current.append(rng.choice(CREDITS))
        else:
            current.append(_sentence(rng, lang))
        left -= 1
    paragraphs.append(current)
    return paragraphs


def published_on(number: int) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=number % 700)


def article_body(number: int, n_sentences: int, *, seed: int = SEED) -> str:
    paragraphs = article_sentences(number, n_sentences, seed=seed)
    return f"date {published_on(number).isoformat()} " + "\n\n".join(
        " ".join(p) for p in paragraphs
    )


def article_records(
    n_articles: int, *, sentences: int = 30, seed: int = SEED, start: int = 1
) -> Iterator:
    """ArticleRecord objects for the import path (segmented by the app, not here)."""
    from claims.importing import ArticleRecord

    for number in range(start, start + n_articles):
        yield ArticleRecord(
            body=article_body(number, sentences, seed=seed),
            title="",  # derived from the first sentence, as for most real imports
            published_on=published_on(number),
            outlet=OUTLETS[number % len(OUTLETS)],
            url=f"https://news.example.com/{seed}/{number}",
            external_id=f"bench-{seed}-{number}",
        )


def sources_ensure() -> None:
    """The taxonomy the corpus refers to (through the service, so aliases are checked)."""
    from claims import services

    for name, kind, side, aliases in SOURCES:
        services.source_upsert(name=name, kind=kind, side=side, aliases=aliases)


# --- bulk load -----------------------------------------------------------------------------


def _layout(number: int, n_sentences: int, seed: int):
    """(body, [(position, start, end, text, kind)]) with offsets computed, not segmented."""
    paragraphs = article_sentences(number, n_sentences, seed=seed)
    header = f"date {published_on(number).isoformat()} "
    parts, rows, offset, position = [header], [], len(header), 0
    for p, paragraph in enumerate(paragraphs):
        if p:
            parts.append("\n\n")
            offset += 2
        for i, text in enumerate(paragraph):
            if i:
                parts.append(" ")
                offset += 1
            kind = "credit" if text in CREDITS else "sentence"
            rows.append((position, offset, offset + len(text), text, kind))
            parts.append(text)
            offset += len(text)
            position += 1
    return "".join(parts), rows


def _label(rng: random.Random, sources: list[int], statuses: list[int]) -> tuple:
    """(is_claim, source_id, attribution_type, status_id): valid under the constraints."""
    if rng.random() < 0.45:
        return False, None, "", None
    source = rng.choice(sources) if rng.random() < 0.85 else None
    return True, source, rng.choice(ATTRIBUTIONS), rng.choice(statuses)


# The set-based form of the services' queue row (one row per annotated sentence). Every claim
# of the corpus covers its whole sentence, so claims.spans' rule is: the same claim or not,
# source, status and attribution type.
REVIEW_FILL = """
INSERT INTO claims_reviewitem
    (sentence_id, article_id, bucket, annotation_count, first_annotated_at, state)
SELECT s.id, s.article_id,
       CASE WHEN COUNT(a.id) = 1 THEN 1
            WHEN COUNT(DISTINCT CAST(a.is_claim AS TEXT) || ':'
                 || COALESCE(CAST(a.source_id AS TEXT), '') || ':'
                 || COALESCE(CAST(a.status_id AS TEXT), '') || ':'
                 || a.attribution_type) = 1 THEN 2
            ELSE 0 END,
       COUNT(a.id), MIN(a.created_at),
       CASE WHEN EXISTS (SELECT 1 FROM claims_goldlabel g WHERE g.sentence_id = s.id)
            THEN 'reviewed' ELSE 'open' END
FROM claims_sentence s JOIN claims_annotation a ON a.sentence_id = s.id
WHERE s.id >= %s
GROUP BY s.id, s.article_id
"""


def bulk_load(
    *,
    sentences: int,
    per_article: int = 100,
    annotated_articles: int = 400,
    annotators: list[int],
    editor: int,
    seed: int = SEED,
    start_number: int = 1_000_000,
) -> dict:
    """Add `sentences` sentences in articles of `per_article`; label the sentences of the
    first `annotated_articles` articles by annotators[0:2] (and annotators[2] on every other
    article), accept a gold label for 1 in 10 of those sentences, and fill the review queue.

    Returns the row counts. Ids continue after the existing rows, so it can follow an import.
    """
    from django.db import connection, transaction
    from django.db.models import Max

    from claims.models import (
        Annotation,
        Article,
        Claim,
        GoldLabel,
        Sentence,
        Source,
        VerificationStatus,
    )

    source_ids = list(Source.objects.order_by("pk").values_list("pk", flat=True))
    status_ids = list(
        VerificationStatus.objects.filter(code__in=STATUS_CODES).values_list("pk", flat=True)
    )
    first_article = (Article.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    first_sentence = (Sentence.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    first_annotation = (Annotation.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    gold_id = (GoldLabel.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    claim_id = (Claim.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    n_articles = -(-sentences // per_article)
    article_rows, sentence_rows, annotation_rows, gold_rows = [], [], [], []
    claim_rows = []  # one claim over the whole sentence per claim label (annotation or gold)
    sentence_id, annotation_id = first_sentence, first_annotation
    left = sentences
    for i in range(n_articles):
        number = start_number + i
        article_id = first_article + i
        count = min(per_article, left)
        left -= count
        body, rows = _layout(number, count, seed)
        created = EPOCH + dt.timedelta(minutes=i)
        article_rows.append(
            (
                article_id,
                f"Report {number}",
                body,
                published_on(number),
                OUTLETS[number % len(OUTLETS)],
                f"https://news.example.com/{seed}/{number}",
                f"bench-{seed}-{number}",
                hashlib.sha256(body.encode("utf-8")).hexdigest(),
                "en",
                created,
                created,
            )
        )
        rng = random.Random(seed * 7 + number)
        labelled = i < annotated_articles
        who = annotators[:2] + (annotators[2:3] if i % 2 == 0 else [])
        for position, start, end, text, kind in rows:
            sentence_rows.append(
                (sentence_id, article_id, position, start, end, text, kind, "", False, "", "", "")
            )
            if labelled and kind == "sentence":
                base = _label(rng, source_ids, status_ids)
                for k, annotator in enumerate(who):
                    # mostly agreeing annotators, some disagreements, some single labels
                    if k == 1 and rng.random() < 0.15:
                        continue
                    lab = base if rng.random() < 0.75 else _label(rng, source_ids, status_ids)
                    when = EPOCH + dt.timedelta(days=30, seconds=annotation_id * 7)
                    annotation_rows.append(
                        (annotation_id, sentence_id, annotator, *lab, "", "", 1, when, when, "")
                    )
                    if lab[0]:
                        claim_rows.append((claim_id, annotation_id, None, start, end, *lab[1:]))
                        claim_id += 1
                    annotation_id += 1
                if rng.random() < 0.1:
                    when = EPOCH + dt.timedelta(days=60, seconds=sentence_id)
                    snapshot = []
                    if base[0]:
                        claim_rows.append((claim_id, None, gold_id, start, end, *base[1:]))
                        claim_id += 1
                        keys = ("source_id", "attribution_type", "status_id")
                        snapshot = [
                            {
                                "content_start": start,
                                "content_end": end,
                                **dict.fromkeys(("cue_start", "cue_end", "mention_start")),
                                "mention_end": None,
                                **dict(zip(keys, base[1:], strict=True)),
                                "note": "",
                                "evidence_url": "",
                            }
                        ]
                    row = (gold_id, sentence_id, *base, "corrected", editor, "", 1, when, when)
                    gold_rows.append((*row, json.dumps(snapshot)))
                    gold_id += 1
            sentence_id += 1
    tables = {
        "claims_article": (
            "id, title, body, published_on, outlet, url, external_id, checksum, language, "
            "created_at, "
            "updated_at",
            article_rows,
        ),
        "claims_sentence": (
            'id, article_id, position, start, "end", text, kind, suggested_attribution, '
            "suggested_is_claim, suggested_new_source_name, suggested_new_source_kind, "
            "suggested_new_source_side",
            sentence_rows,
        ),
        "claims_annotation": (
            "id, sentence_id, annotator_id, is_claim, source_id, attribution_type, status_id, "
            "note, evidence_url, version, created_at, updated_at, suggested_new_source_name",
            annotation_rows,
        ),
        "claims_goldlabel": (
            "id, sentence_id, is_claim, source_id, attribution_type, status_id, origin, "
            "editor_id, comment, version, created_at, updated_at, claims_snapshot",
            gold_rows,
        ),
        "claims_claim": (
            "id, annotation_id, gold_id, content_start, content_end, source_id, "
            "attribution_type, status_id, position, note, evidence_url",
            [(*row, 0, "", "") for row in claim_rows],
        ),
    }
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            for table, (columns, rows) in tables.items():
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cursor.execute(REVIEW_FILL, [first_sentence])
            for table in (
                "claims_article",
                "claims_sentence",
                "claims_annotation",
                "claims_goldlabel",
                "claims_claim",
            ):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")

        def value(v):
            if isinstance(v, dt.datetime):
                return v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
            if isinstance(v, dt.date):
                return v.isoformat()
            return v

        with transaction.atomic(), connection.cursor() as cursor:
            for table, (columns, rows) in tables.items():
                marks = ", ".join(["%s"] * len(columns.split(",")))
                for k in range(0, len(rows), 50_000):
                    cursor.executemany(
                        f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                        [tuple(value(v) for v in row) for row in rows[k : k + 50_000]],
                    )
            cursor.execute(REVIEW_FILL, [first_sentence])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA journal_mode=DELETE")
            cursor.execute("PRAGMA synchronous=FULL")
    return {table: len(rows) for table, (_, rows) in tables.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="store_true", help="print one article body")
    parser.add_argument("--sentences", type=int, default=30)
    parser.add_argument("--number", type=int, default=1)
    args = parser.parse_args()
    print(article_body(args.number, args.sentences))
