"""Concurrency benchmark: gunicorn on PostgreSQL (or SQLite) under 50 annotators saving labels.

Run from the repo root (wrap it in the bench lock, the machine has 2 cores):

    flock /tmp/claimdesk-bench.lock .venv/bin/python bench/concurrency.py \
        [--db postgres|sqlite] [--users 50] [--seconds 60] [--workers N] [--threads T]
        [--tool locust|wrk|both] [--profile] [--write]

``--db sqlite`` runs the same on the embedded default: the seed and the run database are
SQLite files under /tmp/claimdesk-bench-concurrency/sqlite/ (copied, not cloned), with the
project's SQLite settings (immediate transactions, busy timeout, WAL) shared by the workers.

Needs ``pip install locust==2.47.0`` (and ``py-spy`` for --profile) in the venv and wrk on the
PATH for --tool wrk. Never touches development data:

1. builds the seed database ``claimdesk_bench_concurrency_seed`` once (kept; rebuilt when the
   shape changes or with --rebuild): migrate, N annotators ``bench-ann-01``… (one password),
   each assigned an article of --sentences synthetic sentences (services.article_upsert,
   services.assignments_create); statuses come from the migrations;
2. per tool, clones it into a fresh ``claimdesk_bench_concurrency`` and starts gunicorn on it
   with production settings (DEBUG=0, secure cookies, SSL redirect, HSTS, collectstatic into
   /tmp) and CONN_MAX_AGE=60; the load generator plays the TLS proxy (X-Forwarded-Proto:
   https with BEHIND_TLS_PROXY=1), so no setting is relaxed for plain HTTP;
3. locust (headless, another process, bench/locustfile.py): every annotator logs in, opens
   its page, then saves labels with no think time (or --wait seconds after each save) for
   --seconds; throughput, p50/p95/p99 and errors come from locust's CSV; wrk (C, Lua script
   generated here): the same saves from sessions created in the database, to see the server
   without Python's load generator on the same 2 cores;
4. checks the database: the (annotator, sentence) labels equal the acknowledged saves (none
   lost, none duplicated), and one "created" AnnotationEvent per label.

``--write`` writes bench/results/concurrency.md (with --wait W: concurrency-think-Ws.md; with
--db sqlite: concurrency-sqlite-<users>-writers.md).
``--profile`` adds the query count and the in-process CPU cost of one save, and a py-spy
profile of the gunicorn workers under load.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
WORK = Path("/tmp/claimdesk-bench-concurrency")
RESULT_PATH = ROOT / "bench" / "results" / "concurrency.md"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
SQLITE_DIR = WORK / "sqlite"
DB_ENGINE = "postgres"  # or "sqlite" (--db), set by main()
DB = "claimdesk_bench_concurrency"
SEED_DB = f"{DB}_seed"
PASSWORD = "bench-annotator-password-1"  # bench users, throwaway database
TARGET_RPS = 300.0
TARGET_ERRORS = 0
# With think time (--wait) the proposed target is latency at a realistic rate, not throughput.
TARGET_THINK_P95_MS = 300.0
SEED = 20240611
# One key for the server and the children that write sessions for it.
SECRET_KEY = "bench-" + secrets.token_urlsafe(40)

CITIES = ("Kyiv", "Odesa", "Kharkiv", "Zaporizhzhia", "Dnipro", "Lviv", "Kherson", "Belgorod")
SPEAKERS = (
    "the General Staff",
    "the regional governor",
    "the Ministry of Defence",
    "local residents",
    "the air force",
    "a military spokesperson",
)
TEMPLATES = (
    "{who} said {n} drones were shot down over the {city} region overnight.",
    "According to {who}, {n} people were injured in the strike on the port of {city}.",
    "Air raid alerts lasted {n} hours in {city}, where residents reported loud explosions.",
    "Officials in {city} said power had been restored to {n} households by the evening.",
    "{who} denied that its forces had targeted civilian infrastructure in {city}.",
    "Satellite images showed {n} craters near the {city} airfield, analysts said.",
)


# --- helpers ---------------------------------------------------------------------------------


def sqlite_path(name: str) -> Path:
    return SQLITE_DIR / f"{name}.sqlite3"


def db_url(name: str) -> str:
    if DB_ENGINE == "sqlite":
        return f"sqlite:///{sqlite_path(name)}"
    return f"{PG_SERVER.rstrip('/')}/{name}"


def pg_admin(sql: str, *params) -> list:
    import psycopg

    with psycopg.connect(f"{PG_SERVER.rstrip('/')}/postgres", autocommit=True) as conn:
        cur = conn.execute(sql, params or None)
        return cur.fetchall() if cur.description else []


@contextlib.contextmanager
def db_connect(name: str):
    """A DB-API connection to the bench database (committed on success)."""
    if DB_ENGINE == "sqlite":
        conn = sqlite3.connect(sqlite_path(name), timeout=30)
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(db_url(name)) as conn:
            yield conn


def sqlite_remove(name: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path(name)}{suffix}").unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database: str) -> dict:
    """Production settings (DEBUG off) behind a pretend TLS proxy; static files under /tmp."""
    settings_dir = WORK / "settings"
    settings_dir.mkdir(parents=True, exist_ok=True)
    (settings_dir / "bench_concurrency_settings.py").write_text(
        f"from project.settings import *  # noqa: F403\nSTATIC_ROOT = {str(WORK / 'static')!r}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="bench_concurrency_settings",
        PYTHONPATH=os.pathsep.join([str(settings_dir), str(ROOT)]),
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        BEHIND_TLS_PROXY="1",
        DATABASE_URL=db_url(database),
        CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
    )
    return env


def run_child(kind: str, database: str, *extra: str, timeout: int = 1200) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, *extra]
    proc = subprocess.run(
        cmd, env=server_env(database), cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"child {kind} failed ({proc.returncode})")
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"child {kind} printed no result:\n{proc.stdout}\n{proc.stderr}")


def version_of(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "n/a"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


# --- CPU accounting from /proc ----------------------------------------------------------------

CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def total_cpu() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # minus idle, iowait
    return busy / CLK


class CpuSampler(threading.Thread):
    """Samples cumulative CPU seconds of the server, the load generator and PostgreSQL."""

    def __init__(self, server_pid: int, loadgen_pid: int):
        super().__init__(daemon=True)
        self.server_pid, self.loadgen_pid = server_pid, loadgen_pid
        self.samples: list[tuple[float, dict]] = []
        self.stop = threading.Event()
        self.seen: dict[int, float] = {}

    def snapshot(self) -> dict:
        workers = children(self.server_pid)
        for pid in [self.server_pid, *workers]:
            self.seen[pid] = max(self.seen.get(pid, 0.0), proc_cpu(pid))
        return {
            "server": sum(self.seen.values()),
            "loadgen": proc_cpu(self.loadgen_pid),
            "postgres": sum(proc_cpu(p) for p in postgres_pids()),
            "total": total_cpu(),
        }

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.time(), self.snapshot()))
            self.stop.wait(0.5)

    def between(self, start: float, end: float) -> dict:
        first = min(self.samples, key=lambda s: abs(s[0] - start))
        last = min(self.samples, key=lambda s: abs(s[0] - end))
        seconds = max(last[0] - first[0], 1e-9)
        return {k: (last[1][k] - first[1][k]) / seconds for k in first[1]}  # cores busy


# --- children (Django configured on one database) ---------------------------------------------


def synthetic_body(number: int, sentences: int) -> str:
    rng = random.Random(SEED + number)
    city = rng.choice(CITIES)
    texts = [f"Dispatch {number} from {city}: the situation remained tense on day {number}."]
    for i in range(sentences - 1):
        text = rng.choice(TEMPLATES).format(
            who=rng.choice(SPEAKERS), n=rng.randint(2, 120) + i, city=rng.choice(CITIES)
        )
        texts.append(text[0].upper() + text[1:])
    paragraphs = [" ".join(texts[i : i + 5]) for i in range(0, len(texts), 5)]
    return "\n\n".join(paragraphs)


def child_build(users: int, sentences: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    from claims import services
    from claims.importing import ArticleRecord
    from claims.models import Sentence

    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    group = Group.objects.get(name="annotator")
    hashed = make_password(PASSWORD)  # once: the hasher's work factor is per call
    accounts = User.objects.bulk_create(
        [User(username=f"bench-ann-{i:02d}", password=hashed) for i in range(1, users + 1)]
    )
    group.user_set.add(*accounts)
    suggester = services.suggester_load()
    for number, user in enumerate(accounts, start=1):
        record = ArticleRecord(
            body=synthetic_body(number, sentences),
            title=f"Bench article {number}",
            outlet="Bench",
            external_id=f"bench-concurrency-{number}",
        )
        article, _ = services.article_upsert(record=record, suggester=suggester)
        services.assignments_create(articles=[article], annotators=[user], overlap=1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    per_user = Sentence.objects.annotatable().filter(article__assignments__isnull=False).count()
    return {"seconds": time.perf_counter() - start, "annotatable": per_user}


def child_sessions(out_path: str) -> dict:
    """Log every bench annotator in (a session row, as django.contrib.auth.login makes it)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    from claims.models import Assignment, Sentence

    alphabet = string.ascii_letters + string.digits
    users = []
    for user in User.objects.filter(username__startswith="bench-ann-").order_by("username"):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        article_id = Assignment.objects.get(annotator=user).article_id
        sentence_ids = list(
            Sentence.objects.annotatable()
            .filter(article_id=article_id)
            .order_by("position")
            .values_list("id", flat=True)
        )
        csrf = "".join(secrets.choice(alphabet) for _ in range(32))  # the cookie's secret
        users.append(
            {
                "username": user.username,
                "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
                f"{settings.CSRF_COOKIE_NAME}={csrf}",
                "csrf": csrf,
                "article": article_id,
                "sentences": sentence_ids,
            }
        )
    Path(out_path).write_text(json.dumps(users), encoding="utf-8")
    return {"users": len(users)}


def child_save_cost(n: int) -> dict:
    """In-process cost of one htmx save (no network, one thread): queries and CPU time."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from claims.models import Annotation, Assignment, Sentence

    user = User.objects.filter(username__startswith="bench-ann-").order_by("-username").first()
    article_id = Assignment.objects.get(annotator=user).article_id
    done = Annotation.objects.filter(annotator=user).values("sentence_id")
    todo = list(
        Sentence.objects.annotatable()
        .filter(article_id=article_id)
        .exclude(id__in=done)
        .order_by("-position")
        .values_list("id", flat=True)[: n + 1]
    )
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    client.get(f"/articles/{article_id}/annotate/")

    def save(sentence_id: int, claim: bool):
        return client.post(
            f"/articles/{article_id}/sentences/{sentence_id}/save/",
            {
                "is_claim": "yes" if claim else "no",
                "status": "unverified" if claim else "",
                "version": "0",
            },
            HTTP_HX_REQUEST="true",
        )

    sql: list[str] = []

    def record(execute, query, params, many, context):
        sql.append(" ".join(query.split())[:200])
        return execute(query, params, many, context)

    with connection.execute_wrapper(record):  # request_started clears connection.queries
        first = save(todo.pop(), True)
    if first.status_code != 200:
        raise SystemExit(f"save returned {first.status_code}")
    timed, profiled = todo[: n // 2], todo[n // 2 :]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i, sentence_id in enumerate(timed):
        save(sentence_id, i % 2 == 0)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    profile = ""
    try:
        from pyinstrument import Profiler
    except ImportError:
        pass
    else:
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for i, sentence_id in enumerate(profiled):
            save(sentence_id, i % 2 == 0)
        profiler.stop()
        profile = profiler.output_text(unicode=True, color=False, show_all=False)
        (WORK / "save-profile.txt").write_text(profile, encoding="utf-8")
    return {
        "queries": len(sql),
        "sql": sql,
        "cpu_ms": 1000 * cpu / len(timed),
        "wall_ms": 1000 * wall / len(timed),
        "n": len(timed),
    }


def child_main(args) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if args.child == "build":
        result = child_build(args.users, args.sentences)
    elif args.child == "sessions":
        result = child_sessions(args.out)
    elif args.child == "save-cost":
        result = child_save_cost(300)
    elif args.child == "collectstatic":
        from django.core.management import call_command

        call_command("collectstatic", verbosity=0, interactive=False)
        result = {}
    else:
        raise SystemExit(f"unknown child {args.child!r}")
    print("RESULT " + json.dumps(result))
    return 0


# --- databases ---------------------------------------------------------------------------------


def ensure_seed(users: int, sentences: int, rebuild: bool) -> dict:
    shape = f"claimdesk bench concurrency users={users} sentences={sentences} v1"
    if DB_ENGINE == "sqlite":
        marker = sqlite_path(SEED_DB).with_suffix(".shape")
        seeded = sqlite_path(SEED_DB).exists() and marker.exists()
        if seeded and not rebuild and marker.read_text(encoding="utf-8") == shape:
            return {"reused": True}
        SQLITE_DIR.mkdir(parents=True, exist_ok=True)
        marker.unlink(missing_ok=True)
        sqlite_remove(SEED_DB)
        result = run_child("build", SEED_DB, "--users", str(users), "--sentences", str(sentences))
        marker.write_text(shape, encoding="utf-8")
        return {"reused": False, **result}
    rows = pg_admin(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        SEED_DB,
    )
    if rows and rows[0][0] == shape and not rebuild:
        return {"reused": True}
    pg_admin(f'DROP DATABASE IF EXISTS "{SEED_DB}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{SEED_DB}"')
    result = run_child("build", SEED_DB, "--users", str(users), "--sentences", str(sentences))
    pg_admin(f"COMMENT ON DATABASE \"{SEED_DB}\" IS '{shape}'")
    return {"reused": False, **result}


def fresh_db() -> None:
    if DB_ENGINE == "sqlite":  # the seed was closed cleanly: its WAL is checkpointed
        sqlite_remove(DB)
        shutil.copyfile(sqlite_path(SEED_DB), sqlite_path(DB))
        return
    pg_admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{DB}" TEMPLATE "{SEED_DB}"')


def verify(acked: list[tuple[str, int]], in_flight_allowance: int = 0) -> dict:
    with db_connect(DB) as conn:
        if DB_ENGINE == "sqlite":
            # One snapshot for every count below (PostgreSQL reads in one transaction anyway):
            # a save still in flight may commit between two statements otherwise.
            conn.execute("BEGIN")
        rows = conn.execute(
            "SELECT u.username, a.sentence_id FROM claims_annotation a "
            "JOIN auth_user u ON u.id = a.annotator_id"
        ).fetchall()
        created, events = conn.execute(
            "SELECT count(*) FILTER (WHERE action = 'created'), count(*) "
            "FROM claims_annotationevent"
        ).fetchone()
        versions = conn.execute(
            "SELECT count(*) FROM claims_annotation WHERE version <> 1"
        ).fetchone()[0]
    stored = collections.Counter((u, s) for u, s in rows)
    acks = collections.Counter((u, s) for u, s in acked)
    lost = set(acks) - set(stored)
    extra = set(stored) - set(acks)
    result = {
        "annotations": len(rows),
        "acked": len(acked),
        "acked_distinct": len(acks),
        "duplicate_acks": sum(n - 1 for n in acks.values() if n > 1),
        "duplicate_rows": sum(n - 1 for n in stored.values() if n > 1),
        "lost": len(lost),
        "unacked_in_db": len(extra),
        "events": events,
        "created_events": created,
        "not_version_1": versions,
    }
    result["ok"] = (
        not lost
        and len(extra) <= in_flight_allowance
        and result["duplicate_rows"] == 0
        and result["duplicate_acks"] == 0
        and created == events == len(rows)
        and versions == 0
    )
    return result


# --- the server ----------------------------------------------------------------------------------


class Server:
    def __init__(self, workers: int, threads: int, port: int):
        self.workers, self.threads, self.port = workers, threads, port
        self.proc: subprocess.Popen | None = None
        self.cmd = [  # this interpreter: the venv's gunicorn script may name another one
            sys.executable,
            "-m",
            "gunicorn",
            "project.wsgi",
            "--workers",
            str(workers),
            *(["--threads", str(threads)] if threads > 1 else []),
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-tmp-dir",
            "/dev/shm",
            "--backlog",
            "2048",
            "--error-logfile",
            str(WORK / "gunicorn.log"),
        ]

    def __enter__(self):
        env = server_env(DB)
        self.proc = subprocess.Popen(self.cmd, env=env, cwd=ROOT, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{self.port}/accounts/login/",
                    headers={"X-Forwarded-Proto": "https"},
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200 and len(children(self.proc.pid)) >= self.workers:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.proc.returncode}), see gunicorn.log")
            time.sleep(0.3)
        raise SystemExit("gunicorn did not come up in 60 s")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def py_spy(server: Server, seconds: int, out: Path) -> subprocess.Popen | None:
    exe = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
    if not exe:
        print("py-spy not installed: no profile", file=sys.stderr)
        return None
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(server.proc.pid),
            "--subprocesses",
            "--duration",
            str(seconds),
            "--rate",
            "100",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


PROFILE_BUCKETS = (  # (label, substring of a frame), first match from the leaf wins
    ("PostgreSQL round trips (psycopg execute/fetch)", "psycopg/"),
    ("template rendering", "django/template/"),
    ("password hashing", "hashers.py"),
    ("form validation", "django/forms/"),
    ("ORM query building / model instances", "django/db/"),
    ("URL resolving", "django/urls/"),
    ("gunicorn (request parsing, socket)", "gunicorn/"),
)


def summarize_profile(path: Path) -> dict:
    """Leaf-attributed buckets and the top inclusive frames of app code, from py-spy raw."""
    buckets: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        for label, needle in PROFILE_BUCKETS:
            if any(needle in f for f in frames[-6:]):
                buckets[label] += n
                break
        else:
            buckets["other Python"] += n
        seen = set()
        for frame in frames:
            if "(claims/" in frame or "/claims/" in frame or "middleware" in frame:
                name = frame.split(" (")[0] + " (" + frame.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += n
    return {
        "samples": total,
        "buckets": {k: round(100 * v / total, 1) for k, v in buckets.most_common()},
        "inclusive": {k: round(100 * v / total, 1) for k, v in inclusive.most_common(15)},
    }


# --- load generators ---------------------------------------------------------------------------


def run_locust(args, server: Server) -> dict:
    run_dir = WORK / "locust"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    run_child("sessions", DB, "--out", str(run_dir / "sessions.json"))  # names, articles
    sessions = json.loads((run_dir / "sessions.json").read_text())
    # The locust users log in themselves; the plan gives them only names and articles.
    sessions_clear()
    plan = {
        "password": PASSWORD,
        "users": [
            {"index": i, "username": s["username"], "article": s["article"]}
            for i, s in enumerate(sessions[: args.users])
        ],
        "seconds": args.seconds,
        "wait": args.wait,
        "start_timeout": 120,
        "ack_file": str(run_dir / "acks.json"),
        "ready_file": str(run_dir / "window-started"),
    }
    plan_path = run_dir / "plan.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    host = f"http://127.0.0.1:{server.port}"
    cmd = [
        str(VENV_BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(args.users),
        "-r",
        str(args.users),
        "-t",
        f"{args.seconds + 240}s",
        "--host",
        host,
        "--csv",
        str(run_dir / "locust"),
        "--loglevel",
        "WARNING",
    ]
    env = {**os.environ, "BENCH_PLAN": str(plan_path)}
    with open(run_dir / "locust.log", "w") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        sampler = CpuSampler(server.proc.pid, proc.pid)
        sampler.start()
        spy = None
        if args.profile:
            deadline = time.time() + 180
            while not (run_dir / "window-started").exists() and time.time() < deadline:
                time.sleep(0.5)
            time.sleep(5)
        try:
            if args.profile:
                spy = py_spy(server, max(5, min(20, args.seconds - 10)), WORK / "profile.raw")
            proc.wait(timeout=args.seconds + 300)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise SystemExit("locust did not finish in time") from None
        finally:
            sampler.stop.set()
            sampler.join()
        if spy:
            spy.wait(timeout=60)
    if not (run_dir / "acks.json").exists():
        raise SystemExit(f"locust wrote no acks; see {run_dir / 'locust.log'}")
    acks = json.loads((run_dir / "acks.json").read_text())
    # locust's CSV (locust_stats.csv) is written every second and may miss the last one;
    # the locustfile saves the same statistics, final, with the acknowledgements.
    stats = acks["stats"]
    with open(run_dir / "locust_stats.csv", encoding="utf-8") as stats_file:
        csv_saves = {r["Name"]: r for r in csv.DictReader(stats_file)}["save"]["Request Count"]
    window = acks["window_end"] - acks["window_start"]
    result = {
        "tool": "locust",
        "saves": stats["saves"],
        "csv_saves": int(csv_saves),
        "acked": len(acks["acks"]),
        "window_s": window,
        "rps": len(acks["acks"]) / window,
        "p50_ms": stats["p50_ms"],
        "p95_ms": stats["p95_ms"],
        "p99_ms": stats["p99_ms"],
        "max_ms": stats["max_ms"],
        "errors": stats["failures"],
        "ran_out": acks["ran_out"],
        "failed_start": acks["failed_start"],
        "cpu": sampler.between(acks["window_start"], acks["window_stop"]),
        "verify": verify([tuple(a) for a in acks["acks"]]),
    }
    if args.profile and (WORK / "profile.raw").exists():
        result["profile"] = summarize_profile(WORK / "profile.raw")
    return result


def sessions_clear() -> None:
    with db_connect(DB) as conn:
        conn.execute("DELETE FROM django_session")


WRK_SCRIPT = r"""
-- generated by bench/concurrency.py
local users = __USERS__
local origin = "__ORIGIN__"
local out_path = "__OUT__"
local nthreads = __THREADS__
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  mine = {}
  for i, u in ipairs(users) do
    if (i - 1) % nthreads == tid then
      table.insert(mine, {u = u, next = 1, claim = (i % 2 == 0)})
    end
  end
  turn = 0
  acks = {}
  codes = {}
  ran_out = 0
end

function request()
  for _ = 1, #mine do
    turn = turn % #mine + 1
    local m = mine[turn]
    local sid = m.u.sentences[m.next]
    if sid then
      m.next = m.next + 1
      m.claim = not m.claim
      local body
      if m.claim then
        body = "is_claim=yes&status=unverified&source=&attribution_type=&note=&evidence_url="
      else
        body = "is_claim=no&status=&source=&attribution_type=&note=&evidence_url="
      end
      body = body .. "&span_start=&span_end=&version=0"
      local path = "/articles/" .. m.u.article .. "/sentences/" .. sid .. "/save/"
      return wrk.format("POST", path, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Cookie"] = m.u.cookie,
        ["X-CSRFToken"] = m.u.csrf,
        ["X-Forwarded-Proto"] = "https",
        ["Origin"] = origin,
        ["HX-Request"] = "true",
      }, body)
    end
  end
  ran_out = 1
  return wrk.format("GET", "/nothing-left/")
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  if status == 200 then
    local sid = string.match(body, '<span id="s%-(%d+)"[^>]-hx%-swap%-oob')
    if sid then
      acks[#acks + 1] = tonumber(sid)
    else
      codes["200-without-row"] = (codes["200-without-row"] or 0) + 1
    end
  end
end

function done(summary, latency, requests)
  local f = io.open(out_path, "w")
  f:write('{"requests": ', summary.requests, ', "duration_us": ', summary.duration)
  local e = summary.errors
  f:write(', "socket_errors": ', e.connect + e.read + e.write + e.timeout)
  f:write(', "status_errors": ', e.status)
  f:write(', "p50_us": ', latency:percentile(50), ', "p95_us": ', latency:percentile(95))
  f:write(', "p99_us": ', latency:percentile(99), ', "max_us": ', latency.max)
  f:write(', "threads": [')
  for i, t in ipairs(threads) do
    if i > 1 then f:write(", ") end
    f:write('{"ran_out": ', t:get("ran_out"), ', "codes": {')
    local first = true
    for code, n in pairs(t:get("codes")) do
      if not first then f:write(", ") end
      first = false
      f:write('"', tostring(code), '": ', n)
    end
    f:write('}, "acks": [')
    local a = t:get("acks")
    for j = 1, #a do
      if j > 1 then f:write(",") end
      f:write(a[j])
    end
    f:write("]}")
  end
  f:write("]}")
  f:close()
end
"""


def lua_value(value) -> str:
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"[{json.dumps(k)}] = {lua_value(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    return json.dumps(value)


def run_wrk(args, server: Server) -> dict:
    run_dir = WORK / "wrk"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    run_child("sessions", DB, "--out", str(run_dir / "sessions.json"))
    sessions = json.loads((run_dir / "sessions.json").read_text())[: args.users]
    by_sentence = {sid: s["username"] for s in sessions for sid in s["sentences"]}
    threads = min(2, args.users)
    script = (
        WRK_SCRIPT.replace("__USERS__", lua_value(sessions))
        .replace("__ORIGIN__", f"https://127.0.0.1:{server.port}")
        .replace("__OUT__", str(run_dir / "result.json"))
        .replace("__THREADS__", str(threads))
    )
    (run_dir / "script.lua").write_text(script, encoding="utf-8")
    cmd = [
        shutil.which("wrk") or "wrk",
        f"-t{threads}",
        f"-c{args.users}",
        f"-d{args.seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(run_dir / "script.lua"),
        f"http://127.0.0.1:{server.port}",
    ]
    with open(run_dir / "wrk.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        sampler = CpuSampler(server.proc.pid, proc.pid)
        sampler.start()
        start = time.time()
        try:
            proc.wait(timeout=args.seconds + 120)
        finally:
            sampler.stop.set()
            sampler.join()
    stop = time.time()
    data = json.loads((run_dir / "result.json").read_text())
    acked = [(by_sentence[sid], sid) for t in data["threads"] for sid in t["acks"]]
    codes: collections.Counter = collections.Counter()
    for t in data["threads"]:
        codes.update(t["codes"])
    non_ok = sum(n for code, n in codes.items() if code != "200")
    window = data["duration_us"] / 1e6
    return {
        "tool": "wrk",
        "saves": data["requests"],
        "acked": len(acked),
        "window_s": window,
        "rps": len(acked) / window,
        "p50_ms": data["p50_us"] / 1000,
        "p95_ms": data["p95_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "max_ms": data["max_us"] / 1000,
        "errors": non_ok + data["socket_errors"],
        "codes": dict(codes),
        "ran_out": sum(t["ran_out"] for t in data["threads"]),
        "failed_start": 0,
        "cpu": sampler.between(start + 2, stop - 2),
        # wrk stops with up to one request per connection in flight: those may be stored
        # without an acknowledgement, never the other way round.
        "verify": verify(acked, in_flight_allowance=args.users),
    }


# --- report --------------------------------------------------------------------------------------


def machine_info() -> dict:
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    import django
    import gunicorn

    if DB_ENGINE == "sqlite":
        database = (
            f"SQLite {sqlite3.sqlite_version} (a file; WAL, immediate transactions, busy timeout)"
        )
    else:
        database = f"PostgreSQL {pg_admin('SHOW server_version')[0][0]}"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "locust": version_of([str(VENV_BIN / "locust"), "--version"]),
        "wrk": version_of(["wrk", "--version"]),
        "database": database,
    }


def mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def results_table(results: list[dict], wait: float = 0) -> str:
    pg = DB_ENGINE == "postgres"  # the throughput target is PostgreSQL's
    head = "| figure | target | " + " | ".join(r["tool"] for r in results) + " |"
    lines = [head, "| --- | --- | " + " | ".join("---" for _ in results) + " |"]

    def row(name, target, cell):
        lines.append(f"| {name} | {target} | " + " | ".join(cell(r) for r in results) + " |")

    if wait:  # the rate is set by the think time; the target is the latency
        row("label saves/s (acknowledged)", "", lambda r: f"{r['rps']:.0f}")
    elif pg:
        row(
            "label saves/s (acknowledged)",
            f"≥ {TARGET_RPS:.0f}",
            lambda r: f"{r['rps']:.0f} {mark(r['rps'] >= TARGET_RPS)}",
        )
    else:
        row("label saves/s (acknowledged)", "", lambda r: f"{r['rps']:.0f}")
    row("saves in the window", "", lambda r: f"{r['acked']} in {r['window_s']:.1f} s")
    row("p50 latency", "", lambda r: f"{r['p50_ms']:.0f} ms")
    if wait:
        row(
            "p95 latency",
            f"< {TARGET_THINK_P95_MS:.0f} ms",
            lambda r: f"{r['p95_ms']:.0f} ms {mark(r['p95_ms'] < TARGET_THINK_P95_MS)}",
        )
    else:
        row("p95 latency", "", lambda r: f"{r['p95_ms']:.0f} ms")
    row("p99 latency", "", lambda r: f"{r['p99_ms']:.0f} ms")
    row("max latency", "", lambda r: f"{r['max_ms']:.0f} ms")
    row("errors", "0", lambda r: f"{r['errors']} {mark(r['errors'] == TARGET_ERRORS)}")
    row(
        "DB = acknowledged saves",
        "exact",
        lambda r: (
            f"{mark(r['verify']['ok'])} {r['verify']['annotations']} rows, "
            f"{r['verify']['lost']} lost, {r['verify']['duplicate_rows']} dup, "
            f"{r['verify']['unacked_in_db']} unacked, {r['verify']['created_events']} events"
        ),
    )
    row(
        "CPU cores busy: gunicorn / PostgreSQL / load gen / all"
        if pg
        else "CPU cores busy: gunicorn (SQLite inside) / load gen / all",
        "",
        lambda r: " / ".join(
            f"{r['cpu'][k]:.2f}"
            for k in (("server", "postgres") if pg else ("server",)) + ("loadgen", "total")
        ),
    )
    return "\n".join(lines)


def write_results(args, info, server_cmd, results, cost, seed) -> str:
    lines = [
        f"# Concurrency: label saves under {args.users} annotators"
        + (" on SQLite" if DB_ENGINE == "sqlite" else ""),
        "",
        "<!-- generated by bench/concurrency.py --write; the analysis below is by hand -->",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['memory_gb']} GB RAM. "
        f"Python {info['python']}, Django {info['django']}, gunicorn {info['gunicorn']}, "
        f"{info['locust']}, {info['wrk']}, {info['database']}.",
        "",
        "Command: `flock /tmp/claimdesk-bench.lock .venv/bin/python bench/concurrency.py "
        + " ".join(sys.argv[1:])
        + "`",
        "",
        f"Server: `{' '.join(['python', *server_cmd[1:]])}`"
        f" ({args.workers} sync worker(s)"
        + (f" x {args.threads} threads" if args.threads > 1 else "")
        + "), DEBUG=0, CONN_MAX_AGE=60, behind a pretend TLS proxy (X-Forwarded-Proto).",
        f"Data: {args.users} annotators, one article of {args.sentences} sentences each "
        f"({seed.get('annotatable', '?')} annotatable in all). "
        f"{args.users} concurrent annotators, {think_time(args.wait)}, {args.seconds} s window.",
        "",
        results_table(results, args.wait),
        "",
    ]
    if cost:
        lines += [
            f"One htmx save in-process (Django test client, one thread, no network): "
            f"{cost['queries']} queries, {cost['cpu_ms']:.1f} ms CPU, {cost['wall_ms']:.1f} ms "
            f"wall (mean of {cost['n']}).",
            "",
        ]
    for r in results:
        if "profile" in r:
            lines += [f"py-spy profile of the gunicorn workers ({r['tool']} run):", ""]
            lines += [f"- {k}: {v} %" for k, v in r["profile"]["buckets"].items()]
            lines += ["", "Inclusive, app code and middleware:", ""]
            lines += [f"- {k}: {v} %" for k, v in r["profile"]["inclusive"].items()]
            lines.append("")
    text = "\n".join(lines)
    path = result_path(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    analysis = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        marker = "## Analysis"
        if marker in old:
            analysis = old[old.index(marker) :]
    path.write_text(text + ("\n" + analysis if analysis else ""), encoding="utf-8")
    return text


def result_path(args) -> Path:
    name = "concurrency"
    if DB_ENGINE == "sqlite":
        name += f"-sqlite-{args.users}-writers"
    if args.wait:
        name += f"-think-{args.wait:g}s"
    return RESULT_PATH.with_name(f"{name}.md")


def think_time(wait: float) -> str:
    return f"{wait:g} s think time after each save" if wait else "no think time"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sentences", type=int, default=1000, help="per annotator's article")
    parser.add_argument("--tool", choices=("locust", "wrk", "both"), default="both")
    parser.add_argument(
        "--wait", type=float, default=0, help="think time after each save, s (locust only)"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the seed database")
    parser.add_argument("--keep", action="store_true", help="keep the run database")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args)
    global DB_ENGINE
    DB_ENGINE = args.db
    if args.wait and args.tool != "locust":
        parser.error("--wait needs --tool locust (wrk has no think time)")

    WORK.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    seed = ensure_seed(args.users, args.sentences, args.rebuild)
    print(f"seed database: {seed} ({time.time() - t0:.0f} s)", flush=True)
    run_child("collectstatic", SEED_DB)
    info = machine_info()
    results = []
    cost = None
    tools = ("locust", "wrk") if args.tool == "both" else (args.tool,)
    server_cmd: list[str] = []
    for tool in tools:
        fresh_db()
        server = Server(args.workers, args.threads, free_port())
        server_cmd = server.cmd
        with server:
            print(f"{tool}: gunicorn up on :{server.port}, running {args.seconds} s", flush=True)
            result = run_locust(args, server) if tool == "locust" else run_wrk(args, server)
        print(json.dumps({k: v for k, v in result.items() if k != "profile"}), flush=True)
        results.append(result)
    if args.profile:
        cost = run_child("save-cost", DB)
    if args.keep:
        pass
    elif DB_ENGINE == "sqlite":
        sqlite_remove(DB)
    else:
        pg_admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    print()
    print(results_table(results, args.wait))
    if cost:
        print(f"\none save in-process: {cost['queries']} queries, {cost['cpu_ms']:.1f} ms CPU")
        for sql in cost["sql"]:
            print("   ", sql)
    for r in results:
        if "profile" in r:
            print(f"\nprofile ({r['tool']}):", json.dumps(r["profile"], indent=1))
    if args.write:
        write_results(args, info, server_cmd, results, cost, seed)
        print(f"\nwrote {result_path(args).relative_to(ROOT)}")
    ok = all(r["verify"]["ok"] and r["errors"] == 0 for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
