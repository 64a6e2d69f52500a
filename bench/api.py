"""API benchmark: list 1,000 gold labels with their claims, at 1M sentences.

Run from the repo root (the lock keeps benchmarks from overlapping on a small machine):

    flock /tmp/claimdesk-bench.lock .venv/bin/python bench/api.py --db both [--write]
    flock /tmp/claimdesk-bench.lock .venv/bin/python bench/api.py --db sqlite --sentences 100000

Each database runs in a child process with a database of its own: PostgreSQL
``claimdesk_bench_api`` (server from BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432;
dropped and recreated) and a SQLite file under /tmp/claimdesk-bench-api/. The child uses
``project.settings_test`` (production settings, DEBUG off) with the API's rate limit off, and
fills the database with bench/corpus.py's bulk load (articles of 100 sentences, annotations by
two or three annotators on part of them, a gold label for one labelled sentence in ten).

Each request goes through ``rest_framework.test.APIClient`` in-process with a researcher's
API token (authentication, permissions, the export filters, pagination, serialisation to
JSON): server time without the network or a WSGI server. Timed after 5 warm-up requests;
queries counted on one more request, at page size 10 and 1,000.

``--write`` rewrites the block between the bench:api markers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "benchmarks.md"
SQLITE_DIR = Path("/tmp/claimdesk-bench-api")
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_DB = "claimdesk_bench_api"
BEGIN, END = "<!-- bench:api:begin -->", "<!-- bench:api:end -->"
TARGET_P95_MS = 100.0  # 1,000 gold labels with claims, at 1M sentences (issue 14)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def child_run(args) -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    sys.path.insert(0, str(ROOT / "bench"))
    import corpus

    from claims import tokens
    from claims.models import Annotation, Claim, GoldLabel, Sentence

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

    annotators = [user(f"bench-ann{i}", "annotator").pk for i in (1, 2, 3)]
    editor = user("bench-editor", "editor")
    researcher = user("bench-researcher", "researcher")
    corpus.sources_ensure()
    start = time.perf_counter()
    corpus.bulk_load(
        sentences=args.sentences,
        annotators=annotators,
        editor=editor.pk,
        annotated_articles=max(200, args.sentences // 2500),
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    result["load"] = {
        "seconds": time.perf_counter() - start,
        "sentences": Sentence.objects.count(),
        "annotations": Annotation.objects.count(),
        "gold_labels": GoldLabel.objects.count(),
        "claims": Claim.objects.count(),
    }
    print(f"load: {result['load']}", file=sys.stderr, flush=True)

    _, key = tokens.token_create(user=researcher, name="bench")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    first = client.get("/api/v1/gold-labels/?page_size=1000").json()
    second_page = first["next"]
    statuses = "&".join(f"statuses={code}" for code in corpus.STATUS_CODES[:2])
    cases = {
        "gold labels, page 1": "/api/v1/gold-labels/?page_size=1000",
        "gold labels, page 2 (cursor)": second_page,
        f"gold labels, filtered ({statuses.replace('&', ', ')})": (
            f"/api/v1/gold-labels/?page_size=1000&{statuses}"
        ),
        "gold labels, claims only, one outlet": (
            f"/api/v1/gold-labels/?page_size=1000&claims_only=true&outlets={corpus.OUTLETS[0]}"
        ),
        "annotations, page 1": "/api/v1/annotations/?page_size=1000",
        "articles, page 1": "/api/v1/articles/?page_size=1000",
    }
    pages = {}
    for name, url in cases.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        rows = len(response.json()["results"])
        for _ in range(5):
            client.get(url)
        times = []
        for _ in range(args.requests):
            start = time.perf_counter()
            response = client.get(url)
            response.content  # noqa: B018 - the body is rendered
            times.append((time.perf_counter() - start) * 1000)
        counts = []
        for size in (10, 1000):
            with CaptureQueriesContext(connection) as queries:
                client.get(url.replace("page_size=1000", f"page_size={size}"))
            counts.append(len(queries))
        pages[name] = {
            "rows": rows,
            "claims": sum(len(r.get("claims", [])) for r in response.json()["results"]),
            "bytes": len(response.content),
            "p50": statistics.median(times),
            "p95": percentile(times, 0.95),
            "n": len(times),
            "queries": counts,
        }
        print(f"{name}: {pages[name]}", file=sys.stderr, flush=True)
    result["pages"] = pages
    result["loadavg"] = os.getloadavg()[0]  # the machine is shared: say how busy it was
    return result


def run_child(db: str, args) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings_test",
        "CONN_MAX_AGE": "60",
        "PYTHONPATH": str(ROOT),
        "ALLOWED_HOSTS": "testserver",
        "CLAIMDESK_API_THROTTLE_RATE": "",  # measure the API, not the limiter
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
        env["DATABASE_URL"] = f"sqlite:///{SQLITE_DIR / 'api.sqlite3'}"
    command = [sys.executable, __file__, "--child", *sys.argv[1:]]
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{db} child failed ({proc.returncode})")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def render(results: dict, args) -> str:
    import django

    lines = [
        f"Run {time.strftime('%Y-%m-%d')}, Django {django.get_version()}, "
        f"{os.cpu_count()} CPUs; command: `python bench/api.py {' '.join(sys.argv[1:])}`; "
        f"{args.requests} timed requests per row after 5 warm-up requests.",
        "",
    ]
    for r in results.values():
        load = r["load"]
        lines += [
            f"### {r['server']}",
            "",
            f"{load['sentences']:,} sentences, {load['annotations']:,} annotations, "
            f"{load['gold_labels']:,} gold labels, {load['claims']:,} claims "
            f"(bulk load {load['seconds']:.0f} s). Load average (1 min) after the requests: "
            f"{r['loadavg']:.1f}.",
            "",
            "| request (page size 1,000) | rows | claims | KB | p50 ms | p95 ms | queries at "
            "page size 10 / 1,000 |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for name, s in r["pages"].items():
            target = name == "gold labels, page 1"
            mark = ""
            if target:
                mark = " ✅" if s["p95"] <= TARGET_P95_MS else " ❌"
            lines.append(
                f"| {name} | {s['rows']:,} | {s['claims']:,} | {s['bytes'] / 1024:,.0f} | "
                f"{s['p50']:.1f} | {s['p95']:.1f}{mark} | {s['queries'][0]} / "
                f"{s['queries'][1]} |"
            )
        lines.append("")
    lines.append(f"Target: p95 ≤ {TARGET_P95_MS:.0f} ms for the first page of gold labels.")
    return "\n".join(lines)


def write(block: str) -> None:
    text = DOC_PATH.read_text()
    section = f"{BEGIN}\n{block}\n{END}"
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## REST API\n\n" + section + "\n"
    DOC_PATH.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--sentences", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child_run(args)))
        return 0
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {db: run_child(db, args) for db in dbs}
    block = render(results, args)
    print(block)
    if args.write:
        write(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
