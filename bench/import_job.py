"""The import job under load: one CSV file of generated articles (bench/corpus.py, 30 sentences
each, 1 in 5 Russian or Ukrainian) imported by a real `manage.py db_worker` process into a fresh
SQLite file, while a thread requests an article page from gunicorn (gthread, as `make serve`)
on the same database; reports the job's time and the page's latency before and during it.

Run from the repo root:  .venv/bin/python bench/import_job.py [--articles 10000] [--write]

`--write` puts the numbers in docs/benchmarks.md between the "import-job" markers. The file is
larger than the default upload limit (5 MB), so the bench raises CLAIMDESK_MAX_IMPORT_BYTES for
its own processes; the job is started as the import page starts it (`claims.jobs.start`).
"""

import argparse
import csv
import http.client
import io
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
DOC = ROOT / "docs" / "benchmarks.md"
MARKERS = ("<!-- import-job:start -->", "<!-- import-job:end -->")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def csv_file(records) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["title", "body", "published_on", "outlet", "url", "external_id"])
    for r in records:
        writer.writerow([r.title, r.body, r.published_on or "", r.outlet, r.url, r.external_id])
    return buffer.getvalue().encode("utf-8")


class Hammer(threading.Thread):
    """GET one page over and over (one connection at a time, no think time); latencies in ms,
    each with the time it was sent."""

    def __init__(self, port: int, path: str, cookie: str):
        super().__init__(daemon=True)
        self.port, self.path, self.cookie = port, path, cookie
        self.samples: list[tuple[float, float, int]] = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", self.path, headers={"Cookie": self.cookie})
                status = conn.getresponse().status
                conn.close()
            except OSError:
                status = 0
            self.samples.append((started, (time.perf_counter() - started) * 1000, status))
            time.sleep(0.05)  # ~15 requests/s: a few people at work, not a load test

    def between(self, start: float, end: float) -> list[float]:
        return [ms for t, ms, _ in self.samples if start <= t <= end]


class Writer(threading.Thread):
    """A small write transaction (a session row saved), as a label save is, every 0.2 s:
    on SQLite it waits for the write lock whenever the import holds it."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float, int]] = []
        self.stop = threading.Event()

    def run(self):
        from django.contrib.sessions.backends.db import SessionStore
        from django.db import DatabaseError, connection

        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                store = SessionStore()
                store["probe"] = started
                store.create()
                ok = 200
            except DatabaseError:
                ok = 0
            self.samples.append((started, (time.perf_counter() - started) * 1000, ok))
            time.sleep(0.2)
        connection.close()

    between = Hammer.between


def p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else float("nan")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="claimdesk-import-job-") as folder:
        env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "CLAIMDESK_JOB_FILES_DIR": f"{folder}/jobs",
            "CLAIMDESK_MAX_IMPORT_BYTES": str(500 * 1024 * 1024),
            "CLAIMDESK_MAX_IMPORT_ROWS": str(max(args.articles, 10_000)),
            "DJANGO_SETTINGS_MODULE": "project.settings",
        }
        os.environ.update(env)
        import django

        django.setup()
        import corpus
        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore
        from django.core.management import call_command

        from claims import jobs, services
        from claims.models import Article, Job, Sentence
        from tests.conftest import make_user

        call_command("migrate", verbosity=0, interactive=False)
        corpus.sources_ensure()
        editor = make_user("bench-editor", "editor")
        services.articles_import(records=list(corpus.article_records(1, start=10**6)))
        page = f"/articles/{Article.objects.get().pk}/"
        sentences_before = Sentence.objects.count()
        session = SessionStore()
        session[SESSION_KEY] = str(editor.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = editor.get_session_auth_hash()
        session.create()
        cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

        print(f"generating {args.articles:,} articles…", flush=True)
        data = csv_file(corpus.article_records(args.articles, sentences=30))
        port = free_port()
        python = sys.executable
        web = subprocess.Popen(
            [
                str(Path(python).parent / "gunicorn"),
                "project.wsgi",
                "--config",
                "project/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        worker = subprocess.Popen(
            [python, "manage.py", "db_worker", "--interval", "0.5"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            hammer = Hammer(port, page, cookie)
            hammer.start()
            writer = Writer()
            writer.start()
            time.sleep(10)  # the page alone, for comparison
            started = time.perf_counter()
            job = jobs.start(
                kind=Job.Kind.IMPORT,
                user=editor,
                params={"files": ["bench.csv"], "outlet": "", "published_on": None},
                files={"bench.csv": data},
            )
            while not job.finished:
                time.sleep(0.5)
                job.refresh_from_db()
            ended = time.perf_counter()
            time.sleep(2)
            hammer.stop.set()
            writer.stop.set()
            hammer.join()
            writer.join()
        finally:
            worker.terminate()
            web.terminate()
            worker.wait()
            web.wait()
        assert job.state == Job.State.SUCCEEDED, (job.error, job.result)
        queued = (job.started_at - job.created_at).total_seconds()
        ran = (job.finished_at - job.started_at).total_seconds()
        sentences = Sentence.objects.count() - sentences_before
        before = hammer.between(started - 10, started)
        during = hammer.between(started, ended)
        errors = sum(1 for t, _, s in hammer.samples if started <= t <= ended and s != 200)
        writes = writer.between(started, ended)
        write_errors = sum(1 for t, _, s in writer.samples if started <= t <= ended and s != 200)
        result = {
            "articles": args.articles,
            "sentences": sentences,
            "bytes": len(data),
            "queued": queued,
            "ran": ran,
            "wall": ended - started,
            "before": (len(before), p(before, 50), p(before, 95)),
            "during": (len(during), p(during, 50), p(during, 95), max(during)),
            "errors": errors,
            "writes": (len(writes), p(writes, 50), p(writes, 95), max(writes)),
            "write_errors": write_errors,
            "created": job.result["totals"]["created"],
        }
    report = render(result)
    print(report)
    if args.write:
        text = DOC.read_text()
        start, end = text.index(MARKERS[0]), text.index(MARKERS[1])
        DOC.write_text(text[: start + len(MARKERS[0])] + "\n" + report + "\n" + text[end:])
    return 0


def render(r: dict) -> str:
    n, p50, p95 = r["before"]
    m, d50, d95, dmax = r["during"]
    w, w50, w95, wmax = r["writes"]
    ok = "✅" if r["ran"] <= 60 else "❌"
    ok_p95 = "✅" if d95 <= 100 else "❌"
    return (
        f"`.venv/bin/python bench/import_job.py --articles {r['articles']}` "
        f"({time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} CPUs, "
        "SQLite, DEBUG=1, one `db_worker`, gunicorn 2 gthread workers):\n\n"
        "| | measured | target |\n| --- | --- | --- |\n"
        f"| file | {r['articles']:,} articles, {r['sentences']:,} sentences, "
        f"{r['bytes'] / 1e6:.1f} MB CSV | 10,000 articles, ~300k sentences |\n"
        f"| job (worker start to finish) | {r['ran']:.1f} s "
        f"({r['sentences'] / r['ran']:,.0f} sentences/s; queued {r['queued']:.1f} s) {ok} "
        "| ≤ 60 s |\n"
        f"| article page before the job, p50 / p95 | {p50:.1f} / {p95:.1f} ms "
        f"({n} requests) | — |\n"
        f"| article page during the job, p50 / p95 / max | {d50:.1f} / {d95:.1f} / {dmax:.1f} ms "
        f"({m} requests, {r['errors']} errors) {ok_p95} | p95 ≤ 100 ms |\n"
        f"| a small write (session row) during the job, p50 / p95 / max | {w50:.1f} / "
        f"{w95:.1f} / {wmax:.1f} ms ({w} writes, {r['write_errors']} errors) | — |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
