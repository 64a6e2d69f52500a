"""Ten annotators saving at the same instant on the embedded SQLite database lose nothing.

The test suite's own SQLite database lives in memory, where locking differs from a file, so the
saves run in a child process configured by the real settings on a fresh SQLite *file*
(DATABASE_URL=sqlite:///…): migrate, ten annotators sharing one article, then ten threads,
each with its own connection and logged-in test client, post htmx saves behind a barrier so
that every round of saves starts at the same instant. Run this file directly to see the
figures:

    DATABASE_URL=sqlite:////tmp/x.sqlite3 ALLOWED_HOSTS=testserver \
        .venv/bin/python tests/test_sqlite_concurrency.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANNOTATORS = 10
ROUNDS = 20  # saves per annotator, each round started by all ten at once


def test_ten_annotators_saving_at_once_on_a_sqlite_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'claimdesk.sqlite3'}",
        DJANGO_SETTINGS_MODULE="project.settings_test",
        PYTHONPATH=str(ROOT),
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="CRITICAL",
    )
    proc = subprocess.run(
        [sys.executable, __file__],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["statuses"] == {"200": ANNOTATORS * ROUNDS}, result
    assert result["exceptions"] == [], result
    # Every acknowledged save is stored, once, with its history event; nothing else is.
    assert result["stored"] == result["acknowledged"] == ANNOTATORS * ROUNDS, result
    assert result["events"] == result["stored"], result
    assert result["journal_mode"] == "wal", result


# --- the child process ------------------------------------------------------------------------


def _body(sentences: int) -> str:
    cities = ("Kyiv", "Odesa", "Kharkiv", "Dnipro", "Lviv")
    lines = [
        f"Officials in {cities[i % len(cities)]} said {i + 3} drones were shot down overnight."
        for i in range(sentences)
    ]
    return "\n\n".join(" ".join(lines[i : i + 4]) for i in range(0, len(lines), 4))


def _seed():
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from claims import services
    from claims.importing import ArticleRecord
    from claims.models import Sentence

    call_command("migrate", verbosity=0, interactive=False)
    group = Group.objects.get(name="annotator")
    users = [User.objects.create_user(f"conc-{i:02d}") for i in range(ANNOTATORS)]
    group.user_set.add(*users)
    record = ArticleRecord(body=_body(ROUNDS + 10), title="Concurrency", outlet="Test")
    article, _ = services.article_upsert(record=record)
    services.assignments_create(articles=[article], annotators=users, overlap=ANNOTATORS)
    sentences = list(
        Sentence.objects.annotatable()
        .filter(article=article)
        .order_by("position")
        .values_list("id", "start", "end")
    )
    assert len(sentences) >= ROUNDS, len(sentences)
    return users, article, sentences[:ROUNDS]


def _annotator(user, article, sentences, barrier, out):
    from django.db import connection
    from django.test import Client

    client = Client(raise_request_exception=False)
    try:
        client.force_login(user)
    except Exception as error:
        out["exceptions"].append(f"login: {error!r}")
    barrier.wait()
    try:
        for i, (sentence_id, start, end) in enumerate(sentences):
            barrier.wait()  # every annotator's save of this round starts now
            try:
                response = client.post(
                    f"/articles/{article.pk}/sentences/{sentence_id}/save/",
                    {  # the annotate form: the label and one claim (prefix "claims")
                        "is_claim": "yes" if i % 2 else "no",
                        "version": "0",
                        "claims-TOTAL_FORMS": "1",
                        "claims-INITIAL_FORMS": "0",
                        "claims-0-content_start": str(start),
                        "claims-0-content_end": str(end),
                        "claims-0-status": "unverified" if i % 2 else "",
                    },
                    HTTP_HX_REQUEST="true",
                )
            except Exception as error:
                out["exceptions"].append(repr(error))
                continue
            out["statuses"].append(response.status_code)
            if response.status_code == 200:
                out["acked"].append((user.pk, sentence_id))
    finally:
        connection.close()


def child(path: str) -> dict:
    import django

    django.setup()
    from django.db import connection

    from claims.models import Annotation, AnnotationEvent

    users, article, sentences = _seed()
    connection.close()  # each thread opens its own
    barrier = threading.Barrier(ANNOTATORS, timeout=120)
    out = {"statuses": [], "acked": [], "exceptions": []}
    threads = [
        threading.Thread(target=_annotator, args=(user, article, sentences, barrier, out))
        for user in users
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = set(Annotation.objects.values_list("annotator_id", "sentence_id"))
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
    statuses: dict[str, int] = {}
    for status in out["statuses"]:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    acked = set(out["acked"])
    return {
        "statuses": statuses,
        "exceptions": out["exceptions"][:5],
        "acknowledged": len(out["acked"]),
        "stored": len(stored),
        "lost": len(acked - stored),
        "unacknowledged_stored": len(stored - acked),
        "events": AnnotationEvent.objects.count(),
        "journal_mode": journal_mode,
        "database": path,
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings_test")
    print(json.dumps(child(os.environ["DATABASE_URL"])))
