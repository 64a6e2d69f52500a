"""Development server benchmark: the time of a request on one kept-alive connection.

A browser keeps its connection to the server open between requests. Django's stock
`runserver` writes a response's headers and its body in two small sends; with Nagle's
algorithm on, the body waits for the client's ACK of the headers, which a kept-alive
connection delays (about 40 ms on Linux). This script serves the app with each candidate,
then times `--requests` sequential GETs on one kept-alive connection and on a new connection
per request:

    .venv/bin/python bench/devserver.py                 # the table for docs/benchmarks.md
    .venv/bin/python bench/devserver.py --path /accounts/login/ --requests 100

Candidates: the stock runserver (Django's staticfiles `runserver`, as claimdesk had it),
claimdesk's `runserver` (TCP_NODELAY), and gunicorn with `--reload` (gthread, as
`make serve` but one worker). All run with DEBUG=1 against the SQLite database of the
checkout (run `make run` or `manage.py migrate` once before); auto-reload is off while timing
(it does not change a request's path) except for gunicorn, whose `--reload` is the point.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

STOCK = (
    "import django, sys; django.setup(); "
    "from django.core.management import call_command; "
    "from django.contrib.staticfiles.management.commands.runserver import Command; "
    "call_command(Command(), sys.argv[1], use_reloader=False, use_static_handler=False)"
)


def candidates(port: int) -> dict[str, list[str]]:
    addr = f"127.0.0.1:{port}"
    return {
        "Django runserver (stock)": [PY, "-c", STOCK, addr],
        "claimdesk runserver (TCP_NODELAY)": [PY, "manage.py", "runserver", "--noreload", addr],
        "gunicorn --reload (gthread)": [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "project.wsgi",
            "--config",
            "project/gunicorn.conf.py",
            "--reload",
            "--workers",
            "1",
            "--bind",
            addr,
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, path: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on {port} did not answer in {seconds} s")


def get(conn: http.client.HTTPConnection, path: str) -> None:
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status} for {path}")


def kept_alive(port: int, path: str, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    get(conn, path)  # warm-up, and the connection is open
    times = []
    for _ in range(n):
        start = time.perf_counter()
        get(conn, path)
        times.append((time.perf_counter() - start) * 1000)
    conn.close()
    return times


def fresh(port: int, path: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        get(conn, path)
        conn.close()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):.1f} / {p95:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/healthz")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "project.settings"}
    env.pop("DATABASE_URL", None)
    rows = []
    for name, _ in candidates(0).items():
        port = free_port()
        command = candidates(port)[name]
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_up(port, args.path)
            alive = kept_alive(port, args.path, args.requests)
            new = fresh(port, args.path, args.requests)
        finally:
            server.terminate()
            server.wait(10)
        rows.append(f"| {name} | {summary(alive)} | {summary(new)} |")
        print(rows[-1], file=sys.stderr, flush=True)
    load = os.getloadavg()[0]
    print(
        f"`python bench/devserver.py --path {args.path} --requests {args.requests}`, "
        f"{args.requests} sequential GETs each, load average {load:.2f}; ms, median / p95:\n"
    )
    print("| server | one kept-alive connection | a new connection per request |")
    print("| --- | ---: | ---: |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
