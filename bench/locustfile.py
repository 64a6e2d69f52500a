"""Locust scenario for bench/concurrency.py: annotators log in and save labels, no think time.

Not meant to be run by hand: bench/concurrency.py writes the plan (users, passwords, articles)
and passes it in BENCH_PLAN. Each simulated annotator

1. logs in once (the login form, a real password check), opens its annotate page once and
   reads the CSRF token from <body hx-headers> and its annotatable sentences from the page;
2. waits until every annotator is ready; then the statistics are reset and the measured window
   of ``seconds`` starts;
3. loops with no think time: POST a label for its next unlabelled sentence (version 0,
   alternating claim/unverified and not-a-claim) as htmx does, and records the sentence of
   every save acknowledged with 200 (and the changed row in the response);
4. after the window, finishes the request in flight and stops. When all have stopped, the
   acknowledged (username, sentence_id) pairs and the window go to BENCH_PLAN's ``ack_file``
   and locust quits, so that nothing unacknowledged is in flight when the database is checked.

The app runs with production settings behind a pretend TLS proxy: every request carries
``X-Forwarded-Proto: https`` (the server has BEHIND_TLS_PROXY=1), and the cookie jar sends the
Secure session and CSRF cookies over the plain-HTTP loopback, as a browser would over TLS.
"""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import time
from pathlib import Path

import gevent
from gevent.event import Event
from locust import FastHttpUser, constant, events, task

PLAN = json.loads(Path(os.environ["BENCH_PLAN"]).read_text(encoding="utf-8"))
ACCOUNTS = iter(PLAN["users"])
CSRF_FORM = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_HEADER = re.compile(r"hx-headers='([^']+)'")
SENTENCE = re.compile(r'<span id="s-(\d+)" data-sentence="\d+"\s+class="sentence kind-sentence')

READY, GO, STOP, ALL_DONE = Event(), Event(), Event(), Event()
STATE = {"ready": 0, "done": 0, "failed_start": 0, "ran_out": 0}
ACKS: list[tuple[str, int]] = []


def _count(key: str) -> None:
    STATE[key] += 1
    if STATE["ready"] + STATE["failed_start"] == len(PLAN["users"]):
        READY.set()
    if STATE["done"] + STATE["failed_start"] == len(PLAN["users"]):
        ALL_DONE.set()


class Annotator(FastHttpUser):
    wait_time = constant(PLAN.get("wait", 0))
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self):
        self.account = next(ACCOUNTS)
        self.username = self.account["username"]
        # Send the Secure cookies over http://127.0.0.1 (TLS ends at the pretend proxy).
        self.client.cookiejar.set_policy(
            http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
        )
        origin = self.host.replace("http://", "https://", 1)
        self.base_headers = {"X-Forwarded-Proto": "https", "Origin": origin}
        self.todo: list[int] = []
        self.claim = self.account["index"] % 2 == 0
        self.finished = False
        try:
            self._login()
            self._open_page()
        except Exception as error:  # counted as a failure by locust already, or here
            events.request.fire(
                request_type="START",
                name="start failed",
                response_time=0,
                response_length=0,
                exception=error,
                context={},
            )
            self.finished = True
            _count("failed_start")
            GO.wait()
            return
        _count("ready")
        GO.wait()  # set by the controller once the statistics are reset

    def _login(self):
        page = self.client.get("/accounts/login/", headers=self.base_headers, name="login page")
        token = CSRF_FORM.search(page.text or "")
        if page.status_code != 200 or not token:
            raise RuntimeError(f"login page: HTTP {page.status_code}")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": PLAN["password"],
                "csrfmiddlewaretoken": html.unescape(token.group(1)),
            },
            headers={**self.base_headers, "Referer": self.base_headers["Origin"] + "/"},
            name="login",
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login: HTTP {response.status_code}")
                raise RuntimeError("login failed")

    def _open_page(self):
        url = f"/articles/{self.account['article']}/annotate/"
        page = self.client.get(url, headers=self.base_headers, name="annotate page")
        header = CSRF_HEADER.search(page.text or "")
        if page.status_code != 200 or not header:
            raise RuntimeError(f"annotate page: HTTP {page.status_code}")
        token = json.loads(html.unescape(header.group(1)))["X-CSRFToken"]
        self.save_headers = {
            **self.base_headers,
            "X-CSRFToken": token,
            "HX-Request": "true",
            "HX-Current-URL": self.base_headers["Origin"] + url,
            "Referer": self.base_headers["Origin"] + url,
        }
        self.todo = [int(sid) for sid in SENTENCE.findall(page.text)]
        self.todo.reverse()  # pop() from the end: the first sentence first

    @task
    def save(self):
        if self.finished:
            gevent.sleep(3600)  # stopped: wait for the controller to quit locust
            return
        if STOP.is_set() or not self.todo:
            if not self.todo and not STOP.is_set():
                STATE["ran_out"] += 1
            self.finished = True
            _count("done")
            return
        sentence_id = self.todo.pop()
        self.claim = not self.claim
        data = {
            "is_claim": "yes" if self.claim else "no",
            "source": "",
            "attribution_type": "",
            "status": "unverified" if self.claim else "",
            "span_start": "",
            "span_end": "",
            "note": "",
            "evidence_url": "",
            "version": "0",
        }
        with self.client.post(
            f"/articles/{self.account['article']}/sentences/{sentence_id}/save/",
            data=data,
            headers=self.save_headers,
            name="save",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif f'id="s-{sentence_id}"' not in (response.text or ""):
                response.failure("200 without the saved sentence's row")
            else:
                ACKS.append((self.username, sentence_id))


def _controller(environment):
    """Reset the statistics when all are ready; stop after the window; write the acks; quit."""
    if not READY.wait(timeout=PLAN["start_timeout"]):
        print("bench: not all annotators got ready in time", flush=True)
    environment.runner.stats.reset_all()
    start = time.time()
    GO.set()
    Path(PLAN["ready_file"]).touch()
    gevent.sleep(PLAN["seconds"])
    STOP.set()
    stop = time.time()
    ALL_DONE.wait(timeout=120)
    end = time.time()
    save = environment.stats.get("save", "POST")  # the same numbers as the CSV, all final
    stats = {
        "saves": save.num_requests,
        "save_failures": save.num_failures,
        "failures": environment.stats.total.num_failures,
        **{f"p{p}_ms": save.get_response_time_percentile(p / 100) for p in (50, 95, 99)},
        "max_ms": save.max_response_time,
    }
    with open(PLAN["ack_file"], "w", encoding="utf-8") as out:
        json.dump(
            {
                "window_start": start,
                "window_stop": stop,
                "window_end": end,
                "all_done": ALL_DONE.is_set(),
                **STATE,
                "stats": stats,
                "acks": ACKS,
            },
            out,
        )
    environment.runner.quit()


@events.test_start.add_listener
def _on_test_start(environment, **_kwargs):
    gevent.spawn(_controller, environment)
