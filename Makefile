# claimdesk: `make run` starts the app with demo data; `make test` runs lint and the tests.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format migrate demo serve worker bench clean help

help:
	@echo "make run    - set up, load demo data, serve on http://$(HOST):$(PORT) (SQLite)"
	@echo "make test   - ruff + pytest (DATABASE_URL selects PostgreSQL)"
	@echo "make serve  - gunicorn and a job worker with production settings (SECRET_KEY, DATABASE_URL)"
	@echo "make worker - one more job worker (docs/deploy.md)"
	@echo "make bench  - the benchmarks of docs/benchmarks.md (PostgreSQL on 127.0.0.1:5432)"

# The virtualenv is rebuilt when the requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@interpreter=$$(scripts/find-python) || exit 1; \
	  [ -x $(PY) ] || { echo "Creating $(VENV) with $$interpreter"; "$$interpreter" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed
	DEBUG=1 $(PY) manage.py migrate --no-input
	DEBUG=1 $(PY) manage.py load_demo --with-gold
	@echo "claimdesk runs on http://$(HOST):$(PORT)/ - log in as annotator1 / annotator1-demo"
	DEBUG=1 $(PY) manage.py requeue_jobs --all-running
	@# Demo exports need a secret pseudonym key (never the public development key): one per run.
	@# The job worker runs beside the web server and stops with it (Ctrl-C stops both).
	@# runserver is claimdesk's (project/devserver): no 40 ms wait on kept-alive connections.
	export DEBUG=1 CLAIMDESK_PSEUDONYM_KEY=$${CLAIMDESK_PSEUDONYM_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_hex(32))')}; \
	  trap 'kill 0' EXIT; \
	  $(PY) manage.py db_worker --interval 0.5 & \
	  $(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

serve: $(VENV)/.installed
	$(PY) manage.py collectstatic --no-input -v0
	$(PY) manage.py migrate --no-input
	$(PY) manage.py requeue_jobs
	@# Web and job worker; on several machines run `make worker` on the others (docs/deploy.md).
	trap 'kill 0' EXIT; \
	  $(PY) manage.py db_worker & \
	  $(VENV)/bin/gunicorn project.wsgi --config project/gunicorn.conf.py --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-3} --access-logfile -

# One job worker (imports, large exports, recomputations); start as many as wanted.
worker: $(VENV)/.installed
	$(PY) manage.py db_worker

# Each script builds its own databases and rewrites only its section of docs/benchmarks.md.
bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-bench.txt
	$(PY) bench/export.py --write
	$(PY) bench/pages.py --db both --write
	$(PY) bench/api.py --db both --write
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) bench/concurrency.py --profile --write
	$(PY) bench/concurrency.py --tool locust --wait 2 --write
	$(PY) bench/concurrency.py --db sqlite --users 10 --tool wrk --seconds 45 --write
	$(PY) bench/concurrency.py --db sqlite --users 50 --tool wrk --seconds 45 --write

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
