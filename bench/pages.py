"""Page benchmark: import speed, and the hot pages' server time and query counts.

Run from the repo root (the lock keeps benchmarks from overlapping on the 2-core machine):

    flock /tmp/claimdesk-bench.lock .venv/bin/python bench/pages.py --db both [--write]
    flock /tmp/claimdesk-bench.lock .venv/bin/python bench/pages.py --db sqlite --quick

Each database runs in its own child process with its own database: PostgreSQL
``claimdesk_bench_pages`` (server from BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432;
dropped and recreated) and a SQLite file under /tmp/claimdesk-bench-pages/. The child uses
``project.settings_test``: the production settings (DEBUG off, cached templates) with plain
static storage, no SSL redirect, axes off; CONN_MAX_AGE=60 (a persistent connection, as the
test client keeps it anyway).

Steps in the child:

1. import: ``--articles`` articles of 30 sentences from bench/corpus.py through
   ``services.articles_import`` in batches of 250 (segmentation + suggestions; the real path);
   then four 200-sentence articles (the annotate/save targets).
2. bulk load (not timed as a target) up to ``--sentences`` sentences with annotations by 2-3
   annotators on part of them, gold labels, and the review queue rows (bench/corpus.py).
3. pages, driven in-process with ``django.test.Client`` (force_login), each request timed with
   ``time.perf_counter`` after a warm-up; queries counted with CaptureQueriesContext on one
   extra request (the whole request, session and auth included).

``--quick``: 500 articles, 100,000 sentences, 50 requests. ``--profile`` prints a pyinstrument
profile of the pages that miss their target; ``--explain`` prints EXPLAIN ANALYZE (PostgreSQL)
of each page's slowest query.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "pages.md"
SQLITE_DIR = Path("/tmp/claimdesk-bench-pages")
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_DB = "claimdesk_bench_pages"
HX = {"HX-Request": "true"}

TARGET_IMPORT_S = 60.0  # for 10,000 articles / ~300,000 sentences
TARGETS_MS = {  # p95
    "annotate": 60.0,
    "save (new label)": 15.0,
    "save (update)": 15.0,
    "save (3 claims)": 15.0,
    "review page 1": 100.0,
    "review page 500": 100.0,
    "export page": 100.0,
    "export page's count (htmx)": 100.0,
    "export count (htmx)": 100.0,
}
TARGET_SAVE_QUERIES = 8  # issue 12: a save with three claims, in the service


# --- child ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn, n: int, warmup: int = 5) -> dict:
    for _ in range(warmup):
        fn(-1)
    times = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return {"p50": statistics.median(times), "p95": percentile(times, 0.95), "n": n}


def classify(queries) -> dict:
    kinds = {"session": 0, "auth": 0, "app": 0, "tx": 0}
    for q in queries:
        sql = q["sql"]
        if "django_session" in sql:
            kinds["session"] += 1
        elif '"auth_' in sql or "auth_" in sql.split("FROM", 1)[-1][:40]:
            kinds["auth"] += 1
        elif sql.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")):
            kinds["tx"] += 1
        else:
            kinds["app"] += 1
    return kinds


def capture(fn) -> tuple[int, dict, list]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn(-2)
    queries = ctx.captured_queries
    slowest = sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:3]
    return len(queries), classify(queries), slowest


def child_run(args) -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    sys.path.insert(0, str(ROOT / "bench"))
    import corpus

    from claims import selectors, services
    from claims.models import Annotation, Article, Assignment, ReviewItem, Sentence

    result: dict = {"vendor": connection.vendor}
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            result["server"] = "PostgreSQL " + cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            result["server"] = "SQLite " + cursor.fetchone()[0]

    def user(name, role):
        u = User.objects.create_user(username=name, password="x")
        u.groups.add(Group.objects.get(name=role))
        return u

    ann, ann2, ann3 = (user(f"bench-ann{i}", "annotator") for i in (1, 2, 3))
    editor = user("bench-editor", "editor")
    researcher = user("bench-researcher", "researcher")
    corpus.sources_ensure()

    # 1. import (the real path)
    records = list(corpus.article_records(args.articles, sentences=30))
    start = time.perf_counter()
    for k in range(0, len(records), 250):
        services.articles_import(records=records[k : k + 250])
    seconds = time.perf_counter() - start
    n_sentences = Sentence.objects.count()
    result["import"] = {
        "articles": len(records),
        "sentences": n_sentences,
        "seconds": seconds,
        "sentences_per_s": n_sentences / seconds,
        "target_s": TARGET_IMPORT_S * args.articles / 10_000,
    }
    print(f"import: {result['import']}", file=sys.stderr, flush=True)
    big = list(corpus.article_records(4, sentences=200, start=900_000))
    services.articles_import(records=big)
    targets = list(Article.objects.filter(external_id__in=[r.external_id for r in big]))

    # 2. bulk load
    start = time.perf_counter()
    left = max(0, args.sentences - Sentence.objects.count())
    counts = corpus.bulk_load(
        sentences=left,
        annotators=[ann.pk, ann2.pk, ann3.pk],
        editor=editor.pk,
        annotated_articles=max(200, args.sentences // 2500),
    )
    result["load"] = {
        "seconds": time.perf_counter() - start,
        "rows": counts,
        "sentences": Sentence.objects.count(),
        "annotations": Annotation.objects.count(),
        "review_items": ReviewItem.objects.count(),
        "open_items": ReviewItem.objects.filter(state="open").count(),
    }
    print(f"load: {result['load']}", file=sys.stderr, flush=True)
    for article in [*targets, *Article.objects.order_by("id")[:30]]:
        Assignment.objects.get_or_create(article=article, annotator=ann)

    ann_client, ed_client, res_client = Client(), Client(), Client()
    ann_client.force_login(ann)
    ed_client.force_login(editor)
    res_client.force_login(researcher)
    n = args.requests
    pages: dict[str, dict] = {}

    def check(response):
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.content[:300]!r}")
        return response

    # my queue
    def home(_):
        check(ann_client.get("/"))

    # annotate page of a 200-sentence article
    annotate_article = targets[0]

    def annotate(_):
        check(ann_client.get(f"/articles/{annotate_article.pk}/annotate/"))

    # save: a new label on a different sentence each time (version 0) ...
    fresh = list(
        Sentence.objects.filter(article__in=targets[1:], kind="sentence")
        .order_by("article_id", "position")
        .values_list("article_id", "id", "start", "end")
    )
    fresh_iter = iter(fresh)
    service_queries: dict[str, list[int]] = {}
    original_save = services.annotation_save
    current = {"name": ""}

    def counting_save(**kwargs):
        from django.test.utils import CaptureQueriesContext

        if current["name"] and connection.queries_logged:
            with CaptureQueriesContext(connection) as ctx:
                out = original_save(**kwargs)
            service_queries.setdefault(current["name"], []).append(len(ctx))
            return out
        return original_save(**kwargs)

    services.annotation_save = counting_save

    def post(article_id, sentence_id, claims, version, note=""):
        """The annotate form: the label and its claims formset, `claims` as content spans
        (body offsets); none: not a claim."""
        data = {
            "is_claim": "yes" if claims else "no",
            "version": str(version),
            "claims-TOTAL_FORMS": str(len(claims)),
            "claims-INITIAL_FORMS": "0",
            "claims-MIN_NUM_FORMS": "0",
            "claims-MAX_NUM_FORMS": "20",
        }
        for i, (start, end) in enumerate(claims):
            data.update(
                {
                    f"claims-{i}-content_start": str(start),
                    f"claims-{i}-content_end": str(end),
                    f"claims-{i}-status": "unverified",
                    f"claims-{i}-attribution_type": "paraphrase",
                    f"claims-{i}-note": note,
                }
            )
        url = f"/articles/{article_id}/sentences/{sentence_id}/save/"
        check(ann_client.post(url, data, headers=HX))

    def save_new(_):
        article_id, sentence_id, start, end = next(fresh_iter)
        post(article_id, sentence_id, [(start, end)], 0)

    # ... and toggling one existing label with the right version
    toggle = {"article": targets[0].pk, "sentence": None, "version": 0, "claim": False}
    toggled = Sentence.objects.filter(article=targets[0], kind="sentence").order_by("position")[5]
    toggle["sentence"] = toggled.pk

    def save_update(_):
        toggle["claim"] = not toggle["claim"]
        claims = [(toggled.start, toggled.end)] if toggle["claim"] else []
        post(toggle["article"], toggle["sentence"], claims, toggle["version"])
        toggle["version"] += 1

    # ... and a label of three claims (issue 12), changed each time (the third claim's note)
    three = Sentence.objects.filter(article=targets[0], kind="sentence").order_by("position")[7]
    third = (three.end - three.start) // 3
    thirds = [
        (three.start, three.start + third),
        (three.start + third, three.start + 2 * third),
        (three.start + 2 * third, three.end),
    ]
    state = {"version": 0}

    def save_three_claims(_):
        post(targets[0].pk, three.pk, thirds, state["version"], note=f"take {state['version']}")
        state["version"] += 1

    # review queue: page 1 and page 500 (the cursor of the 12,475th open item)
    order = ("bucket", "first_annotated_at", "sentence_id")
    open_items = ReviewItem.objects.filter(state="open").order_by(*order)
    index = min(12_474, open_items.count() - 26)
    cursor = selectors.encode_cursor(open_items[index])
    result["review_page_500_index"] = index + 1

    def review_1(_):
        check(ed_client.get("/review/"))

    def review_500(_):
        check(ed_client.get("/review/", {"after": cursor}))

    def export_page(_):
        check(res_client.get("/export/"))

    def export_page_count(_):  # the request the bare page sends on load (all gold rows)
        check(res_client.get("/export/", headers=HX))

    def export_count(_):
        check(
            res_client.get(
                "/export/",
                {"level": "annotations", "claims_only": "on", "sides": ["Ukraine"]},
                headers=HX,
            )
        )

    plan = [
        ("my queue", home),
        ("annotate", annotate),
        ("save (new label)", save_new),
        ("save (update)", save_update),
        ("save (3 claims)", save_three_claims),
        ("review page 1", review_1),
        ("review page 500", review_500),
        ("export page", export_page),
        ("export page's count (htmx)", export_page_count),
        ("export count (htmx)", export_count),
    ]
    for name, fn in plan:
        current["name"] = ""
        stats = timed(fn, n)
        current["name"] = name
        total, kinds, slowest = capture(fn)
        current["name"] = ""
        stats.update(queries=total, kinds=kinds)
        if name in service_queries:
            stats["service_queries"] = service_queries[name][-1]
        stats["slowest"] = [
            {"ms": float(q["time"]) * 1000, "sql": q["sql"][:2000]} for q in slowest
        ]
        pages[name] = stats
        print(f"{name}: p50 {stats['p50']:.1f} p95 {stats['p95']:.1f} q={total}", file=sys.stderr)
        target = TARGETS_MS.get(name)
        if args.profile and (args.profile == "all" or (target and stats["p95"] > target)):
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            for _ in range(20):
                fn(-3)
            profiler.stop()
            print(f"\n===== profile: {name} (20 requests) =====", file=sys.stderr)
            print(profiler.output_text(unicode=True, color=False), file=sys.stderr)
        if args.explain and connection.vendor == "postgresql" and slowest:
            q = slowest[0]
            with connection.cursor() as c:
                c.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                plan_text = "\n".join(r[0] for r in c.fetchall())
            print(f"\n===== EXPLAIN: {name} =====\n{q['sql']}\n{plan_text}", file=sys.stderr)
    services.annotation_save = original_save
    result["pages"] = pages
    result["requests"] = n
    return result


# --- parent --------------------------------------------------------------------------------


def run_child(db: str, args) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings_test",
        "CONN_MAX_AGE": "60",
        "PYTHONPATH": str(ROOT),
        "ALLOWED_HOSTS": "testserver",
    }
    env.pop("DEBUG", None)
    if db == "postgres":
        import psycopg

        with psycopg.connect(PG_SERVER + "/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            conn.execute(f"CREATE DATABASE {PG_DB}")
        env["DATABASE_URL"] = f"{PG_SERVER}/{PG_DB}"
    else:
        shutil.rmtree(SQLITE_DIR, ignore_errors=True)
        SQLITE_DIR.mkdir(parents=True)
        env["DATABASE_URL"] = f"sqlite:///{SQLITE_DIR / 'pages.sqlite3'}"
    command = [sys.executable, __file__, "--child", *sys.argv[1:]]
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{db} child failed ({proc.returncode})")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def mark(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return " ✅" if value <= target else " ❌"


def render(results: dict, args) -> str:
    lines = []
    for r in results.values():
        imp, load = r["import"], r["load"]
        lines += [
            f"### {r['server']}",
            "",
            f"Import of {imp['articles']:,} articles ({imp['sentences']:,} sentences) through "
            f"`services.articles_import` in batches of 250: **{imp['seconds']:.1f} s**, "
            f"{imp['sentences_per_s']:,.0f} sentences/s (target ≤ {imp['target_s']:.0f} s"
            f"{mark(imp['seconds'], imp['target_s'])}).",
            "",
            f"Database for the pages: {load['sentences']:,} sentences, "
            f"{load['annotations']:,} annotations, {load['review_items']:,} review items "
            f"({load['open_items']:,} open); bulk load {load['seconds']:.0f} s. Page 500 of the "
            f"review queue starts after open item {r['review_page_500_index']:,}.",
            "",
            "| page | p50 ms | p95 ms | target p95 | queries (request) | session / auth / app "
            "/ tx | service queries |",
            "| --- | ---: | ---: | --- | ---: | --- | ---: |",
        ]
        for name, s in r["pages"].items():
            target = TARGETS_MS.get(name)
            k = s["kinds"]
            svc = s.get("service_queries", "")
            if svc != "":
                svc = f"{svc}{mark(svc, TARGET_SAVE_QUERIES)}"
            lines.append(
                f"| {name} | {s['p50']:.1f} | {s['p95']:.1f}{mark(s['p95'], target)} | "
                f"{f'≤ {target:.0f} ms' if target else '—'} | {s['queries']} | "
                f"{k['session']} / {k['auth']} / {k['app']} / {k['tx']} | {svc} |"
            )
        lines.append("")
    return "\n".join(lines)


def machine() -> str:
    mem = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "0",
    )
    import django

    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
        f"{int(mem) / 1024 / 1024:.1f} GiB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}, Django {django.get_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--sentences", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--profile", nargs="?", const="slow", default="")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:  # smaller defaults; explicit flags still win
        quick = {"articles": 500, "sentences": 100_000, "requests": 50}
        for name, value in quick.items():
            if f"--{name}" not in sys.argv:
                setattr(args, name, value)
    if args.child:
        print("RESULT " + json.dumps(child_run(args)))
        return 0
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {db: run_child(db, args) for db in dbs}
    table = render(results, args)
    print(table)
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        command = " ".join(["flock /tmp/claimdesk-bench.lock .venv/bin/python", *sys.argv])
        RESULTS.write_text(
            "# Page benchmark\n\n"
            f"Machine: {machine()}.\n\n"
            f"Command: `{command}` ({args.requests} timed requests per page after 5 warm-up "
            "requests; settings `project.settings_test`: production settings, DEBUG off, "
            "no SSL redirect; in-process `django.test.Client`, so server time without the "
            "network or WSGI server).\n\n"
            "Queries are those of one whole request (session and auth included); "
            '"service queries" are those inside `services.annotation_save`.\n\n' + table + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
