"""Large exports end to end: a 1M-row CSV through gunicorn, the export job, the thresholds.

Run from the repo root:

    .venv/bin/python bench/export_job.py [--rows N] [--timeout 10] [--write]

Builds (or, with ``--reuse``, reuses) the SQLite bench database of bench/export.py with N
export rows at level ``annotations`` (``--keep`` keeps it), then:

- ``http``: gunicorn with project/gunicorn.conf.py and a short ``--timeout`` (default 10 s)
  serves the database; a logged-in researcher downloads the whole CSV over HTTP, and the rows
  read (csv module) are checked against N: a download cut by a worker timeout fails here;
- ``job``: the export job of all N rows (CSV and ZIP) runs in a fresh child process, as a
  worker runs it (`claims.jobs.tasks.run_job`): time and peak RSS (getrusage);
- ``sizes``: the streamed CSV and the streamed ZIP bundle over HTTP for date ranges of
  growing size: rows, time to the first byte and to the last, the measure behind
  CLAIMDESK_EXPORT_JOB_ROWS and CLAIMDESK_EXPORT_JOB_ROWS_ZIP.

``--write`` rewrites the block between the bench:export-job markers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import export as bench_export  # the corpus builder, next to this file

ROOT = bench_export.ROOT
DOC_PATH = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:export-job:begin -->", "<!-- bench:export-job:end -->"
TARGET_SECONDS, TARGET_RSS_MB = 25.0, 200.0
RESEARCHER = "bench-researcher"
FIRST_DAY = dt.date(2022, 2, 24)  # bench/export.py dates article n FIRST_DAY + n % 1200 days
SIZES_DAYS = (12, 60, 120, 300)  # date ranges: about 10k, 50k, 100k, 250k rows at 1M


# --- children (Django set up in a fresh process) ---------------------------------------------


def child_session() -> dict:
    """A researcher and a logged-in session for the HTTP client."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore

    user, _ = User.objects.get_or_create(username=RESEARCHER)
    user.groups.add(Group.objects.get(name="researcher"))
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"session": session.session_key}


def child_job(fmt: str) -> dict:
    """One export job of every row, run as the worker runs it; time and peak RSS."""
    from django.contrib.auth.models import User

    from claims.jobs.tasks import run_job
    from claims.models import Job

    user, _ = User.objects.get_or_create(username=RESEARCHER)
    job = Job.objects.create(
        kind=Job.Kind.EXPORT,
        started_by=user,
        params={"query": {"level": "annotations", "format": fmt}},
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    base_kb, cpu0 = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    run_job.func(job.pk)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    job.refresh_from_db()
    size = job.file.size if job.file else 0
    if job.file:
        job.file.delete(save=False)
    return {
        "format": fmt,
        "state": job.state,
        "error": job.error,
        "rows": job.result.get("rows"),
        "seconds": seconds,
        "cpu_s": usage.ru_utime + usage.ru_stime - cpu0,
        "base_rss_mb": base_kb / 1024,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "bytes": size,
    }


def child_main(args) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if args.child == "session":
        result = child_session()
    else:
        result = child_job(args.child.removeprefix("job:"))
    print("RESULT " + json.dumps(result))
    return 0


def env_for(rows: int, job_dir: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "1",
        "DATABASE_URL": bench_export.database_url("sqlite", rows),
        "LOG_LEVEL": "WARNING",
        "CLAIMDESK_JOB_FILES_DIR": str(job_dir),
    }
    env.pop("SECRET_KEY", None)
    env.setdefault("CLAIMDESK_PSEUDONYM_KEY", "bench-" + "0123456789abcdef" * 4)
    return env


def run_child(rows: int, what: str, job_dir: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", what, "--rows", str(rows)]
    proc = subprocess.run(
        cmd, env=env_for(rows, job_dir), cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{what}: child failed ({proc.returncode})")
    line = next(x for x in reversed(proc.stdout.splitlines()) if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


# --- HTTP ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with the project's config, one worker, a short timeout; its log kept."""

    def __init__(self, rows: int, timeout: int, job_dir: Path, log: Path):
        self.port = free_port()
        self.log = log
        cmd = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "project.wsgi",
            "--config",
            "project/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "1",
            "--timeout",
            str(timeout),
        ]
        self.handle = log.open("w")
        self.proc = subprocess.Popen(
            cmd, env=env_for(rows, job_dir), cwd=ROOT, stdout=self.handle, stderr=self.handle
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url("/healthz"), timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"gunicorn did not start; see {log}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.handle.close()

    def timeouts(self) -> int:
        return self.log.read_text().count("WORKER TIMEOUT")


def download(server: Gunicorn, session: str, params: dict, *, parse: bool) -> dict:
    """GET the export download; time to the first byte and the last; rows read if parse."""
    request = urllib.request.Request(
        server.url("/export/download/?" + urlencode(params, doseq=True)),
        headers={"Cookie": f"sessionid={session}"},
    )
    start = time.perf_counter()
    first = None
    nbytes = rows = 0
    with urllib.request.urlopen(request, timeout=1800) as response:
        if parse:
            text = io.TextIOWrapper(response, encoding="utf-8", newline="")
            reader = csv.reader(text)
            next(reader)  # the header
            first = time.perf_counter() - start
            for _ in reader:
                rows += 1
            nbytes = None
        else:
            while block := response.read(1 << 16):
                if first is None:
                    first = time.perf_counter() - start
                nbytes += len(block)
    return {
        "first_byte_s": first,
        "seconds": time.perf_counter() - start,
        "rows": rows,
        "bytes": nbytes,
    }


def date_range(days: int) -> dict:
    return {
        "date_from": FIRST_DAY.isoformat(),
        "date_to": (FIRST_DAY + dt.timedelta(days=days - 1)).isoformat(),
    }


# --- report ----------------------------------------------------------------------------------


def mb(n: int | None) -> str:
    return "—" if n is None else f"{n / 1e6:,.0f} MB"


def block(rows: int, timeout: int, http: dict | None, jobs: list, sizes: list, meta: dict) -> str:
    lines = [
        f"Run {meta['date']} on {bench_export.machine()}; load average {meta['load_before']} "
        f"before, {meta['load_after']} after (shared machine).  ",
        f"Command: `{meta['command']}`. SQLite bench database of `bench/export.py`, "
        f"{rows:,} export rows at level `annotations`.",
        "",
    ]
    if http:
        ok = http["rows"] == rows and http["timeouts"] == 0
        lines += [
            f"**1M-row CSV over HTTP** (gunicorn with `project/gunicorn.conf.py`, 1 gthread "
            f"worker, `--timeout {timeout}`): {http['rows']:,} of {rows:,} rows read "
            f"{'✅' if ok else '❌'} in {http['seconds']:.1f} s (first row after "
            f"{http['first_byte_s']:.2f} s), {http['timeouts']} worker timeouts in gunicorn's "
            "log.",
            "",
        ]
    if jobs:
        lines += [
            "**Export job of every row** (`claims.jobs.tasks.run_job` in a fresh process; "
            f"targets for 1M rows ≤ {TARGET_SECONDS:.0f} s, peak RSS < {TARGET_RSS_MB:.0f} MB):",
            "",
            "| format | state | rows | time | CPU | peak RSS (start) | file |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for j in jobs:
            time_ok = "✅" if j["seconds"] <= TARGET_SECONDS * rows / 1e6 else "❌"
            time_ok = time_ok if j["format"] == "csv" else "(no target)"
            rss_ok = "✅" if j["peak_rss_mb"] < TARGET_RSS_MB else "❌"
            lines.append(
                f"| {j['format']} | {j['state']} | {j['rows'] or 0:,} | {j['seconds']:.1f} s "
                f"{time_ok} | {j['cpu_s']:.1f} s | {j['peak_rss_mb']:.0f} MB {rss_ok} "
                f"({j['base_rss_mb']:.0f} MB) | {mb(j['bytes'])} |"
            )
        lines.append("")
    if sizes:
        lines += [
            "**Streamed downloads by size** (the same gunicorn; date ranges of the corpus): "
            "time to the first byte and to the last.",
            "",
            "| rows | CSV first byte | CSV whole | ZIP first byte | ZIP whole | ZIP size |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for s in sizes:
            z = s.get("zip")
            lines.append(
                f"| {s['rows']:,} | {s['csv']['first_byte_s']:.2f} s | "
                f"{s['csv']['seconds']:.1f} s | "
                + (
                    f"{z['first_byte_s']:.1f} s | {z['seconds']:.1f} s | {mb(z['bytes'])} |"
                    if z
                    else "— | — | — |"
                )
            )
        lines.append("")
    return "\n".join([BEGIN, *lines, END])


def write_doc(text: str) -> None:
    doc = DOC_PATH.read_text()
    if BEGIN in doc:
        head, rest = doc.split(BEGIN, 1)
        doc = head + text + rest.split(END, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n## Export jobs and long downloads\n\n" + text + "\n"
    DOC_PATH.write_text(doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=int, default=10, help="gunicorn's --timeout (s)")
    parser.add_argument("--only", choices=("http", "job", "sizes"), action="append")
    parser.add_argument("--zip-sizes", type=int, default=3, help="ZIP for the first n sizes")
    parser.add_argument("--job-formats", default="csv,zip", help="formats of the job runs")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept bench database")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--write", action="store_true", help=f"update docs/{DOC_PATH.name}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args)
    parts = args.only or ["http", "job", "sizes"]
    load_before = bench_export._load()
    bench_export.prepare("sqlite", args.rows, args.reuse)
    job_dir = bench_export.SQLITE_DIR / "job-files"
    job_dir.mkdir(parents=True, exist_ok=True)
    http, jobs, sizes = None, [], []
    try:
        if "http" in parts or "sizes" in parts:
            session = run_child(args.rows, "session", job_dir)["session"]
            log = bench_export.SQLITE_DIR / "gunicorn.log"
            server = Gunicorn(args.rows, args.timeout, job_dir, log)
            try:
                if "http" in parts:
                    print(f"http: downloading {args.rows:,} rows ...", flush=True)
                    params = {"level": "annotations", "format": "csv"}
                    http = download(server, session, params, parse=True)
                    http["timeouts"] = server.timeouts()
                    print(f"http: {http}", flush=True)
                if "sizes" in parts:
                    for number, days in enumerate(SIZES_DAYS):
                        params = {"level": "annotations", **date_range(days)}
                        size = {
                            "csv": download(
                                server, session, {**params, "format": "csv"}, parse=True
                            )
                        }
                        size["rows"] = size["csv"]["rows"]
                        if number < args.zip_sizes:
                            size["zip"] = download(
                                server, session, {**params, "format": "zip"}, parse=False
                            )
                        print(f"sizes: {size}", flush=True)
                        sizes.append(size)
            finally:
                server.stop()
        if "job" in parts:
            for fmt in args.job_formats.split(","):
                print(f"job: {fmt} ...", flush=True)
                jobs.append(run_child(args.rows, f"job:{fmt}", job_dir))
                print(f"job: {jobs[-1]}", flush=True)
    finally:
        if not args.keep:
            bench_export.cleanup("sqlite", args.rows)
    meta = {
        "date": dt.date.today().isoformat(),
        "load_before": load_before,
        "load_after": bench_export._load(),
        "command": "python bench/export_job.py " + " ".join(argv or sys.argv[1:]),
    }
    text = block(args.rows, args.timeout, http, jobs, sizes, meta)
    print(text)
    if args.write:
        write_doc(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
