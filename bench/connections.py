"""Persistent database connections: a request's time with CONN_MAX_AGE=0 and with the default.

Serves the app with gunicorn (production settings, `project/gunicorn.conf.py`, one worker) on
PostgreSQL and times `--requests` GETs of /healthz (one `SELECT 1`) on one kept-alive HTTP
connection: with CONN_MAX_AGE=0 each request opens and closes a database connection, with the
default (60 s on PostgreSQL) the thread keeps it. The database must exist and be migrated:

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/claimdesk_bench_conn \\
        .venv/bin/python manage.py migrate
    .venv/bin/python bench/connections.py --database-url postgres://postgres@127.0.0.1:5432/claimdesk_bench_conn
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print("| CONN_MAX_AGE | median | p95 |\n| --- | ---: | ---: |")
    for age in ("0", None):
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
        name = age if age is not None else "default (60)"
        print(f"| {name} | {statistics.median(times):.1f} ms | {p95:.1f} ms |")
    print(f"\n{args.requests} requests each; load average {os.getloadavg()[0]:.2f}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
