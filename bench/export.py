"""Export benchmark: CSV and JSONL of 1M claim rows on SQLite and PostgreSQL.

Run from the repo root:

    .venv/bin/python bench/export.py [--rows N] [--db sqlite|postgres|both] [--write]

The benchmark never touches development data. It builds its own databases: a SQLite file
under /tmp/claimdesk-bench/ (or $BENCH_SQLITE_DIR) and the PostgreSQL database
``claimdesk_bench`` (server from BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432),
migrates them, and loads a deterministic synthetic corpus: sentences in articles of 25, each
labelled by two annotators; a label is "not a claim" (one row) or holds 1 to 3 claims (one
row each; some contents run over two sentences, some mentions lie in the sentence before),
until the export at level ``annotations`` has exactly N rows. Then each measurement runs in
a fresh child process (clean peak RSS from getrusage):

- stage ``cursor``: the export SQL on Django's chunked cursor, rows fetched and dropped
  (database + driver only);
- stage ``values_list``: the export queryset's ``.values_list(...).iterator(5000)`` (adds
  Django's row building and converters, which export_rows no longer runs);
- stage ``export_rows``: ``selectors.export_rows`` (adds our per-row code);
- ``csv`` and ``jsonl``: ``dataset.data_chunks(filters, fmt)``, the code path of the
  download view, each chunk encoded to UTF-8 (as the view does) and written to /dev/null;
- PostgreSQL only: ``COPY (<the same SELECT>) TO STDOUT WITH (FORMAT csv, HEADER)``,
  consumed in Python, as the floor;
- ``zip`` (with ``--zip``): the whole ZIP bundle (data CSV, attributions.jsonl, brat files)
  written to /dev/null, for the record (no target).

``--write`` rewrites the block between the bench:export markers in docs/benchmarks.md.
``--profile csv|jsonl`` runs that export once more under pyinstrument (pip install
pyinstrument) and prints where the time goes. ``--keep`` keeps the bench databases;
``--reuse`` skips generation when the kept database already gives N export rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "benchmarks.md"
# BENCH_SQLITE_DIR: a directory of its own, when several checkouts benchmark on one machine.
SQLITE_DIR = Path(os.environ.get("BENCH_SQLITE_DIR", "/tmp/claimdesk-bench"))
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_DB = "claimdesk_bench"
BEGIN, END = "<!-- bench:export:begin -->", "<!-- bench:export:end -->"

TARGET_SECONDS = 25.0  # for 1M claim rows (issue 12); scaled linearly for other sizes
TARGET_RSS_MB = 200.0
TARGET_COPY_RATIO = 0.3
CHILD_TIMEOUT = 900  # seconds, per child process

SENTENCES_PER_ARTICLE = 25
ANNOTATORS = 2
SEED = 20240302
STAGES = ("cursor", "values_list", "export_rows")
FORMATS = ("csv", "jsonl")


# --- synthetic corpus ----------------------------------------------------------------------

OUTLETS = ("Reuters", "AP", "Kyiv Independent", "Meduza", "BBC", "Ukrainska Pravda", "TASS")
CITIES = ("Kyiv", "Odesa", "Kharkiv", "Zaporizhzhia", "Dnipro", "Lviv", "Kherson", "Belgorod")
SOURCES = (  # name, kind, side
    ("Ministry of Defence of Russia", "military", "Russia"),
    ("Ministry of Defence of Ukraine", "military", "Ukraine"),
    ("General Staff of the Armed Forces of Ukraine", "military", "Ukraine"),
    ("Ukrainian Air Force", "military", "Ukraine"),
    ("State Emergency Service of Ukraine", "emergency", "Ukraine"),
    ("Office of the President of Ukraine", "head_of_state", "Ukraine"),
    ("Kremlin", "head_of_state", "Russia"),
    ("Ministry of Foreign Affairs of Russia", "government", "Russia"),
    ("Ministry of Foreign Affairs of Ukraine", "government", "Ukraine"),
    ("Odesa Regional Military Administration", "government", "Ukraine"),
    ("Belgorod Regional Governor", "government", "Russia"),
    ("Unnamed US officials", "unnamed_officials", "United States"),
    ("Unnamed Ukrainian officials", "unnamed_officials", "Ukraine"),
    ("Institute for the Study of War", "international", "United States"),
    ("United Nations", "international", ""),
    ("IAEA", "international", ""),
    ("Telegram channel Rybar", "social_media", "Russia"),
    ("RIA Novosti", "media", "Russia"),
    ("Local residents", "individual", ""),
    ("Witness", "individual", ""),
)
TEMPLATES = (
    "{src} said {n} drones were shot down over the {city} region overnight.",
    "According to {src}, {n} people were injured in the strike on {city}’s port.",
    "“We will respond to every attack,” a spokesperson for {src} told reporters on Tuesday.",
    "{src} claimed that {n} tanks had been destroyed near {city} in the past 24 hours.",
    "Air raid alerts lasted {n} hours in {city}, where residents reported loud explosions.",
    "The claim could not be independently verified — {src} did not provide evidence.",
    "- {n} apartment buildings in {city} were damaged, {src} reported.",
    "Officials in {city} said power had been restored to {n} households by the evening.",
    "{src} denied that its forces had targeted civilian infrastructure in {city}.",
    "Satellite images reviewed by analysts showed {n} craters near the {city} airfield.",
)
STATUS_CODES = ("verified", "unverified", "disputed", "false")
ATTRIBUTIONS = ("direct_quote", "paraphrase", "unnamed", "none")
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


# Claims per label, cyclic over the annotation ids: 0 is "not a claim" (still one row).
CLAIMS_PATTERN = (0, 1, 2, 1, 0, 1, 3, 1, 0, 2)


def label_plan(rows: int):
    """Yield (annotation id, claims) until the labels give `rows` export rows."""
    total = annotation_id = 0
    while total < rows:
        annotation_id += 1
        claims = CLAIMS_PATTERN[(annotation_id - 1) % len(CLAIMS_PATTERN)]
        claims = min(claims, rows - total)
        total += max(claims, 1)
        yield annotation_id, claims


def shape(rows: int) -> tuple[int, int]:
    """(articles, sentences) for `rows` export rows."""
    annotations = sum(1 for _ in label_plan(rows))
    sentences = math.ceil(annotations / ANNOTATORS)
    return math.ceil(sentences / SENTENCES_PER_ARTICLE), sentences


def article_content(number: int, n_sentences: int) -> tuple[str, list[str]]:
    """Deterministic (title, sentence texts) of article `number` (from 1)."""
    rng = random.Random(SEED * 1_000_003 + number)
    city = rng.choice(CITIES)
    texts = [f"Dispatch {number} from {city}: the situation remained tense on day {number}."]
    for _ in range(n_sentences - 1):
        texts.append(
            rng.choice(TEMPLATES).format(
                src=rng.choice(SOURCES)[0], n=rng.randint(2, 120), city=rng.choice(CITIES)
            )
        )
    title = f"{city}: {texts[1][:80]}"
    return title, texts[:n_sentences]


def corpus(rows: int):
    """Yield (article_number, title, body, [(position, start, end, text)]) in id order."""
    n_articles, n_sentences = shape(rows)
    left = n_sentences
    for number in range(1, n_articles + 1):
        count = min(SENTENCES_PER_ARTICLE, left)
        left -= count
        title, texts = article_content(number, count)
        sentences, offset = [], 0
        for position, text in enumerate(texts):
            sentences.append((position, offset, offset + len(text), text))
            offset += len(text) + 1
        yield number, title, " ".join(texts), sentences


def claim_values(rng, sentences, index, sources, statuses):
    """One claim on sentence `index` of an article: (content_start, content_end, cue_start,
    cue_end, mention_start, mention_end, source_id, attribution_type, status_id), body
    offsets, valid. A tenth of the contents run on over the next sentence, a tenth of the
    mentions lie in the sentence before."""
    _, start, end, text = sentences[index]
    content_start = start + rng.randrange(0, len(text) // 2)
    content_end = rng.randrange(content_start + 1, end + 1)
    if index + 1 < len(sentences) and rng.random() < 0.1:
        content_end = sentences[index + 1][2]
    cue = (None, None)
    if rng.random() < 0.7:
        at = start + rng.randrange(0, len(text) - 4)
        cue = (at, at + 4)
    mention = (None, None)
    if rng.random() < 0.6:
        where = sentences[index - 1] if index and rng.random() < 0.1 else sentences[index]
        mention = (where[1], where[1] + min(12, where[2] - where[1]))
    source = rng.choice(sources) if rng.random() < 0.9 else None
    return (
        content_start,
        content_end,
        *cue,
        *mention,
        source,
        rng.choice(ATTRIBUTIONS),
        rng.choice(statuses),
    )


def labels(rows: int, annotators: list[int], sources: list[int], statuses: list[int]):
    """Yield (annotation row, [claim rows]) in id order, deterministic."""
    plan = label_plan(rows)
    sentence_id = claim_id = 0
    for number, _, _, sentences in corpus(rows):
        rng = random.Random(SEED * 7 + number)
        for index in range(len(sentences)):
            sentence_id += 1
            for annotator in annotators:
                step = next(plan, None)
                if step is None:
                    return
                annotation_id, n_claims = step
                claims = [
                    claim_values(rng, sentences, index, sources, statuses) for _ in range(n_claims)
                ]
                when = EPOCH + dt.timedelta(days=30, seconds=annotation_id * 7)
                first = claims[0] if claims else None
                annotation = (
                    annotation_id,
                    sentence_id,
                    annotator,
                    first is not None,
                    first[6] if first else None,
                    first[7] if first else "",
                    first[8] if first else None,
                    None,
                    None,
                    "",
                    "",
                    1,
                    when,
                    when,
                )
                claim_rows = []
                for position, values in enumerate(claims):
                    claim_id += 1
                    claim_rows.append((claim_id, annotation_id, None, position, *values, "", ""))
                yield annotation, claim_rows


# --- child: generate -------------------------------------------------------------------------


def child_generate(rows: int) -> dict:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection, transaction

    from claims.models import Source, VerificationStatus

    timings = {}
    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    timings["migrate_s"] = time.perf_counter() - start

    start = time.perf_counter()
    users = User.objects.bulk_create(
        [User(username=f"bench-annotator-{i}") for i in range(1, ANNOTATORS + 1)]
    )
    Source.objects.bulk_create([Source(name=n, kind=k, side=s) for n, k, s in SOURCES])
    annotators = [u.pk for u in users]  # bulk_create sets pks on SQLite and PostgreSQL
    sources = list(Source.objects.order_by("pk").values_list("pk", flat=True))
    statuses = list(
        VerificationStatus.objects.filter(code__in=STATUS_CODES).values_list("pk", flat=True)
    )
    if not statuses:
        raise SystemExit("no verification statuses: migration 0002 should have created them")

    def article_rows():
        for number, title, body, _ in corpus(rows):
            created = EPOCH + dt.timedelta(minutes=number)
            yield (
                number,
                title,
                body,
                dt.date(2022, 2, 24) + dt.timedelta(days=number % 1200),
                OUTLETS[number % len(OUTLETS)],
                f"https://news.example.com/{number}",
                f"bench-{number}",
                hashlib.sha256(body.encode()).hexdigest(),
                created,
                created,
                "en",
            )

    def sentence_rows():
        sentence_id = 0
        for number, _, _, sentences in corpus(rows):
            for position, start, end, text in sentences:
                sentence_id += 1
                yield (
                    sentence_id,
                    number,
                    position,
                    start,
                    end,
                    text,
                    "sentence",
                    "",
                    False,
                    "",
                    "",
                    "",
                )

    def annotation_rows():
        for annotation, _ in labels(rows, annotators, sources, statuses):
            yield (*annotation, "")

    def claim_rows():
        for _, claims in labels(rows, annotators, sources, statuses):
            yield from claims

    tables = {
        "claims_article": (
            "id, title, body, published_on, outlet, url, external_id, checksum, created_at, "
            "updated_at, language",
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
            "span_start, span_end, note, evidence_url, version, created_at, updated_at, "
            "suggested_new_source_name",
            annotation_rows,
        ),
        "claims_claim": (
            "id, annotation_id, gold_id, position, content_start, content_end, cue_start, "
            "cue_end, mention_start, mention_end, source_id, attribution_type, status_id, note, "
            "evidence_url",
            claim_rows,
        ),
    }
    counts = {}
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            for table, (columns, make) in tables.items():
                n = 0
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in make():
                        copy.write_row(row)
                        n += 1
                counts[table] = n
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")

        def sqlite_value(value):
            if isinstance(value, dt.datetime):
                return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
            if isinstance(value, dt.date):
                return value.isoformat()
            return value

        def batches(make, size=50_000):
            batch = []
            for row in make():
                batch.append(tuple(sqlite_value(v) for v in row))
                if len(batch) == size:
                    yield batch
                    batch = []
            if batch:
                yield batch

        with transaction.atomic(), connection.cursor() as cursor:
            for table, (columns, make) in tables.items():
                marks = ", ".join(["%s"] * len(columns.split(",")))
                n = 0
                for batch in batches(make):
                    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", batch)
                    n += len(batch)
                counts[table] = n
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA journal_mode=DELETE")
            cursor.execute("PRAGMA synchronous=FULL")
    timings["load_s"] = time.perf_counter() - start
    return {**timings, "counts": counts}


# --- child: measure --------------------------------------------------------------------------


def export_sql():
    """The export SELECT exactly as export_rows builds it: (sql, params)."""
    from django.db import connection

    from claims import selectors

    rows, columns = selectors.export_queryset(selectors.ExportFilters(level="annotations"))
    # Same column list as selectors.export_rows.
    return rows.values_list(*columns).query.get_compiler(connection=connection).as_sql()


def child_measure(what: str) -> dict:
    from django.db import connection

    from claims import dataset, selectors

    filters = selectors.ExportFilters(level="annotations")
    connection.ensure_connection()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    base_kb, cpu0 = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    nbytes = lines = 0
    first = None
    start = time.perf_counter()
    if what in FORMATS:
        with open(os.devnull, "wb") as out:
            for chunk in dataset.data_chunks(filters, what):
                if first is None:
                    first = time.perf_counter() - start
                data = chunk.encode("utf-8")
                nbytes += len(data)
                lines += data.count(b"\n")
                out.write(data)
    elif what == "export_rows":
        for _ in selectors.export_rows(filters=filters, pseudonymize=dataset.pseudonymizer()):
            lines += 1
    elif what == "zip":

        class Sink:
            def __init__(self):
                self.size = 0
                self.out = open(os.devnull, "wb")  # noqa: SIM115

            def write(self, data):
                self.size += len(data)
                return self.out.write(data)

            def flush(self):
                pass

        sink = Sink()
        dataset.write_bundle(sink, filters)
        nbytes, lines = sink.size, None
    elif what == "values_list":
        rows, columns = selectors.export_queryset(filters)
        for _ in rows.values_list(*columns).iterator(chunk_size=5000):
            lines += 1
    elif what == "cursor":
        sql, params = export_sql()
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(5000):
                lines += len(batch)
    elif what == "copy":
        import psycopg

        sql, params = export_sql()
        query = psycopg.ClientCursor(connection.connection).mogrify(sql, params)
        copy_sql = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)"
        with connection.connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for block in copy:
                if first is None:
                    first = time.perf_counter() - start
                nbytes += len(block)
                lines += bytes(block).count(b"\n")
    else:
        raise SystemExit(f"unknown measurement {what!r}")
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu0
    return {
        "what": what,
        "seconds": seconds,
        "cpu_s": cpu,
        "first_chunk_s": first,
        "bytes": nbytes,
        "lines": lines,
        "base_rss_mb": base_kb / 1024,
        "peak_rss_mb": peak_kb / 1024,
    }


def child_profile(fmt: str) -> dict:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    result = child_measure(fmt)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False), file=sys.stderr)
    return result


def child_main(args) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if args.child == "generate":
        result = child_generate(args.rows)
    elif args.child.startswith("profile:"):
        result = child_profile(args.child.split(":", 1)[1])
    elif args.child == "info":
        from django.db import connection

        from claims import selectors

        rows = selectors.export_count(filters=selectors.ExportFilters(level="annotations"))
        result = {"annotations": rows}
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
                result["server"] = cursor.fetchone()[0]
    else:
        result = child_measure(args.child)
    print("RESULT " + json.dumps(result))
    return 0


# --- parent ----------------------------------------------------------------------------------


def database_url(db: str, rows: int) -> str:
    if db == "sqlite":
        return f"sqlite:///{SQLITE_DIR / f'bench-{rows}.sqlite3'}"
    return f"{PG_SERVER}/{PG_DB}"


def run_child(db: str, rows: int, what: str, *, echo_stderr: bool = False) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url(db, rows),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("SECRET_KEY", None)  # DEBUG=1: the development key
    # Exports refuse to pseudonymise with the development key; the bench's data is synthetic.
    env.setdefault("CLAIMDESK_PSEUDONYM_KEY", "bench-" + "0123456789abcdef" * 4)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", what, "--rows", str(rows)]
    proc = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT
    )
    if proc.returncode or echo_stderr:
        sys.stderr.write(proc.stderr)
    if proc.returncode:
        raise SystemExit(f"{db} {what}: child failed ({proc.returncode})")
    line = next(x for x in reversed(proc.stdout.splitlines()) if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def prepare(db: str, rows: int, reuse: bool) -> dict | None:
    """A fresh bench database with the corpus (generation figures), or None if reused."""
    if reuse:
        try:
            if run_child(db, rows, "info")["annotations"] == rows:
                print(f"{db}: reusing the bench database ({rows:,} export rows)", flush=True)
                return None
        except (SystemExit, StopIteration):
            pass
    if db == "sqlite":
        SQLITE_DIR.mkdir(parents=True, exist_ok=True)
        Path(database_url(db, rows).removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")
        pg_admin(f"CREATE DATABASE {PG_DB}")
    print(f"{db}: generating labels for {rows:,} export rows ...", flush=True)
    start = time.perf_counter()
    result = run_child(db, rows, "generate")
    result["total_s"] = time.perf_counter() - start
    print(f"{db}: generated in {result['total_s']:.1f} s {result['counts']}", flush=True)
    return result


def cleanup(db: str, rows: int) -> None:
    if db == "sqlite":
        Path(database_url(db, rows).removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def table(results: dict, rows: int) -> str:
    limit = TARGET_SECONDS * rows / 1_000_000
    out = [
        "| database | format | time | rows/s | peak RSS | vs COPY | CPU (client) | output "
        "| first chunk |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for db, runs in results.items():
        copy = runs.get("copy")
        for fmt in FORMATS:
            r = runs[fmt]
            ratio = ""
            if copy:
                value = copy["seconds"] / r["seconds"]
                ratio = f"{value:.2f}x {mark(value >= TARGET_COPY_RATIO)}"
            out.append(
                f"| {db} | {fmt} | {r['seconds']:.1f} s {mark(r['seconds'] <= limit)} "
                f"| {rows / r['seconds']:,.0f} "
                f"| {r['peak_rss_mb']:.0f} MB {mark(r['peak_rss_mb'] < TARGET_RSS_MB)} "
                f"| {ratio or 'n/a'} | {r['cpu_s']:.1f} s | {r['bytes'] / 1e6:,.0f} MB "
                f"| {r['first_chunk_s']:.1f} s |"
            )
        if runs.get("zip"):
            z = runs["zip"]
            out.append(
                f"| {db} | ZIP bundle (data CSV + attributions.jsonl + brat), no target "
                f"| {z['seconds']:.1f} s | {rows / z['seconds']:,.0f} | {z['peak_rss_mb']:.0f} MB "
                f"{mark(z['peak_rss_mb'] < TARGET_RSS_MB)} | n/a | {z['cpu_s']:.1f} s "
                f"| {z['bytes'] / 1e6:,.0f} MB | — |"
            )
        if copy:
            out.append(
                f"| {db} | COPY … TO STDOUT (csv) | {copy['seconds']:.1f} s "
                f"| {rows / copy['seconds']:,.0f} | {copy['peak_rss_mb']:.0f} MB | 1.00x "
                f"| {copy['cpu_s']:.1f} s | {copy['bytes'] / 1e6:,.0f} MB "
                f"| {copy['first_chunk_s']:.1f} s |"
            )
    return "\n".join(out)


def stage_table(results: dict) -> str:
    dbs = list(results)
    out = [
        "| stage (cumulative) | " + " | ".join(dbs) + " |",
        "| --- |" + " ---: |" * len(dbs),
    ]
    labels = {
        "cursor": "SQL on Django's chunked cursor, rows dropped",
        "values_list": "+ Django `values_list().iterator(5000)`",
        "export_rows": "+ `selectors.export_rows` (pseudonyms, span text)",
        "csv": "+ `exporting.csv_chunks` + UTF-8 encode",
        "jsonl": "+ `exporting.jsonl_chunks` + UTF-8 encode (instead of CSV)",
    }
    for what, label in labels.items():
        cells = []
        for db in dbs:
            r = results[db].get(what)
            if not r:
                cells.append("—")
                continue
            previous = results[db].get("export_rows" if what in FORMATS else _before(what))
            delta = f" ({r['seconds'] - previous['seconds']:+.1f})" if previous else ""
            cells.append(f"{r['seconds']:.1f} s{delta}, {r['peak_rss_mb']:.0f} MB")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def _before(what: str) -> str | None:
    i = STAGES.index(what)
    return STAGES[i - 1] if i else None


def versions(results_meta: dict) -> str:
    import sqlite3

    import django
    import psycopg

    pg = results_meta.get("postgres_server")
    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__}), "
        f"SQLite {sqlite3.sqlite_version}" + (f", PostgreSQL {pg}" if pg else "")
    )


def machine() -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, {platform.system()}"


def block(results, generation, rows, command, meta) -> str:
    limit = TARGET_SECONDS * rows / 1_000_000
    gen = [
        f"- {db}: {g['total_s']:.0f} s ({g['migrate_s']:.0f} s migrate, "
        f"{g['load_s']:.0f} s load; {', '.join(f'{n:,} {t}' for t, n in g['counts'].items())})"
        for db, g in generation.items()
        if g
    ]
    return "\n".join(
        [
            BEGIN,
            f"Run {dt.date.today().isoformat()} on {machine()}; {versions(meta)}.  ",
            f"Command: `{command}`. {rows:,} claim rows (level `annotations`), each "
            f"measurement in a fresh process, best of {meta['repeat']} for the exports and COPY"
            f" (load average {meta['load_before']} before, {meta['load_after']} after: the"
            " machine is shared, so compare the CPU column too). Targets: time ≤ "
            f"{limit:g} s, peak RSS < {TARGET_RSS_MB:g} MB, ≥ {TARGET_COPY_RATIO}x the speed "
            "of COPY (COPY time ÷ our time).",
            "",
            table(results, rows),
            "",
            "Where the time goes: each stage runs the pipeline up to that step in its own process"
            " (cumulative seconds; in brackets, the step's own share; peak RSS).",
            "",
            stage_table(results),
            "",
            "Corpus generation (not part of the targets):",
            "",
            *(gen or ["- reused from an earlier run"]),
            END,
        ]
    )


DOC_HEAD = """# Benchmarks

Figures measured by the scripts in `bench/`, each section regenerated by its own script
between its own markers (`<!-- bench:NAME:begin -->` … `<!-- bench:NAME:end -->`); the text
outside the markers is written by hand and kept. Speed targets live here, not in the tests.

File created {date} on: {machine}; {versions}.
Each generated block states its own run date, versions and command.
"""

EXPORT_HEAD = """## Export

`bench/export.py` builds its own databases (SQLite under /tmp, PostgreSQL `claimdesk_bench`)
with a synthetic corpus, then streams every claim row through the download view's code
path, `claims.dataset.data_chunks(ExportFilters(level="annotations"), fmt)`, each chunk
UTF-8 encoded and written to /dev/null. The floor is PostgreSQL's own
`COPY (<the same SELECT>) TO STDOUT WITH (FORMAT csv, HEADER)`, read in Python.

```sh
.venv/bin/python bench/export.py --write              # 1M rows, SQLite and PostgreSQL
.venv/bin/python bench/export.py --rows 20000         # quick check
```

"""


def write_doc(text: str, meta: dict, command: str) -> None:
    if DOC_PATH.exists():
        doc = DOC_PATH.read_text(encoding="utf-8")
    else:
        doc = DOC_HEAD.format(
            date=dt.date.today().isoformat(),
            machine=machine(),
            versions=versions(meta) + f". Command: `{command}`",
        )
    if BEGIN in doc and END in doc:
        head, _, rest = doc.partition(BEGIN)
        _, _, tail = rest.partition(END)
        doc = head + text + tail
    else:
        doc = doc.rstrip("\n") + "\n\n" + EXPORT_HEAD + text + "\n"
    DOC_PATH.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="export (claim) rows")
    parser.add_argument("--zip", action="store_true", help="also time the whole ZIP bundle")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--write", action="store_true", help=f"update docs/{DOC_PATH.name}")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept bench database")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each export and COPY; the best is kept"
    )
    parser.add_argument("--profile", choices=FORMATS, help="also profile this export")
    parser.add_argument("--no-stages", action="store_true", help="skip the stage breakdown")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args)
    if args.rows < ANNOTATORS:
        parser.error(f"--rows must be at least {ANNOTATORS}")

    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    command = "python bench/export.py " + " ".join(
        a for a in (argv if argv is not None else sys.argv[1:])
    )
    results: dict[str, dict] = {}
    generation: dict[str, dict | None] = {}
    meta: dict = {"repeat": args.repeat, "load_before": _load()}
    for db in dbs:
        generation[db] = prepare(db, args.rows, args.reuse)
        info = run_child(db, args.rows, "info")
        if info["annotations"] != args.rows:
            raise SystemExit(f"{db}: {info['annotations']:,} export rows, expected {args.rows:,}")
        if "server" in info:
            meta["postgres_server"] = info["server"]
        runs = results[db] = {}
        todo = [*(() if args.no_stages else STAGES), *FORMATS]
        if db == "postgres":
            todo.append("copy")
        if args.zip:
            todo.append("zip")
        for what in todo:
            tries = [
                run_child(db, args.rows, what)
                for _ in range(args.repeat if what in (*FORMATS, "copy") else 1)
            ]
            r = runs[what] = min(tries, key=lambda t: t["seconds"])
            r["all_s"] = [t["seconds"] for t in tries]
            expected = args.rows + (what in ("csv", "copy"))  # + header line
            if what != "zip" and r["lines"] != expected:
                raise SystemExit(f"{db} {what}: {r['lines']:,} lines, expected {expected:,}")
            print(
                f"{db:8} {what:12} {r['seconds']:6.1f} s  {r['peak_rss_mb']:5.0f} MB peak "
                f"({r['base_rss_mb']:.0f} MB at start)  {r['bytes'] / 1e6:7.1f} MB out  "
                f"cpu {r['cpu_s']:.1f} s  runs {' '.join(f'{x:.1f}' for x in r['all_s'])}",
                flush=True,
            )
        if args.profile:
            print(f"\n{db}: pyinstrument profile of the {args.profile} export", flush=True)
            run_child(db, args.rows, f"profile:{args.profile}", echo_stderr=True)
        if not args.keep:
            cleanup(db, args.rows)

    meta["load_after"] = _load()
    text = block(results, generation, args.rows, command.strip(), meta)
    print()
    print(text.removeprefix(BEGIN + "\n").removesuffix("\n" + END))
    if args.write:
        write_doc(text, meta, command.strip())
        print(f"\nwrote {DOC_PATH.relative_to(ROOT)}")
    if not args.keep and SQLITE_DIR.exists() and not any(SQLITE_DIR.iterdir()):
        shutil.rmtree(SQLITE_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
