"""gunicorn settings for `make serve` (docs/deploy.md): downloads that stream for minutes.

A sync worker that streams a large export would be killed at `timeout` (30 s by default) and
cut the download. Threaded workers (gthread) answer the arbiter's heartbeat from the main
thread while a request thread streams, so `timeout` no longer bounds a response's length.
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Only a worker that stops answering its heartbeat is restarted; a long download is not.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
