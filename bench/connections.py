"""Persistent database connections: a request's time with CONN_MAX_AGE=0 and with the default.

Serves the app with gunicorn (production settings, `project/gunicorn.conf.py`, one worker) on
PostgreSQL and times `--requests` GETs of /healthz (one `SELECT 1`) on one kept-alive HTTP
connection: with CONN_MAX_AGE=0 each request opens and closes a database connection, with the
default (60 s on PostgreSQL) the thread keeps it. The database must exist and be migrated:

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/claimdesk_bench_conn \\
        .venv/bin/python manage.py migrate
    .venv/bin/python bench/connections.py --database-url postgres://postgres@127.0.0.1:5432/claimdesk_bench_conn

`--open-cost` times, in-process, opening a connection through Django's backend (its setup
and, on SQLite, the WAL pragmas), one `SELECT 1` and closing, against the query alone.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from devserver import free_port, wait_up

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-only-Key-" + "0123456789abcdefghijklmnopqrstuvwxyz"


def timed(port: int, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    for i in range(n + 20):  # 20 warm-up requests
        start = time.perf_counter()
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status}")
        if i >= 20:
            times.append((time.perf_counter() - start) * 1000)
    conn.close()
    return sorted(times)


OPEN_COST = """
import statistics, time, django
django.setup()
from django.db import connection

def run(keep):
    times = []
    for _ in range(500):
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        if not keep:
            connection.close()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)

print(f"| {connection.vendor}: open, SELECT 1, close | {run(False):.2f} ms |")
print(f"| {connection.vendor}: SELECT 1 on a kept connection | {run(True):.2f} ms |")
"""


def open_cost(url: str) -> None:
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": url}
    env["DJANGO_SETTINGS_MODULE"] = "project.settings"
    print("| in-process, 500 times | median |\n| --- | ---: |", flush=True)
    subprocess.run([sys.executable, "-c", OPEN_COST], cwd=ROOT, env=env, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--ages", default="0,default", help='values of CONN_MAX_AGE, "default": unset'
    )
    parser.add_argument("--open-cost", action="store_true")
    args = parser.parse_args()
    if args.open_cost:
        open_cost(args.database_url)
        return 0
    print("| CONN_MAX_AGE | median | p95 |\n| --- | ---: | ---: |")
    for age in args.ages.split(","):
        age = None if age == "default" else age
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "CONN_MAX_AGE"}},
            "SECRET_KEY": KEY,
            "DATABASE_URL": args.database_url,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            **({"CONN_MAX_AGE": age} if age is not None else {}),
        }
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "project.wsgi"]
        command += ["--config", "project/gunicorn.conf.py", "--workers", "1"]
        server = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_up(port, "/healthz")
            times = timed(port, args.requests)
        finally:
            server.terminate()
            server.wait(10)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        name = age if age is not None else "unset (the default)"
        print(f"| {name} | {statistics.median(times):.1f} ms | {p95:.1f} ms |")
    print(f"\n{args.requests} requests each; load average {os.getloadavg()[0]:.2f}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
