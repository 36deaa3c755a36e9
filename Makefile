# make run: set everything up and serve the app as production does (DEBUG off, static files
# collected and served by WhiteNoise); make dev: the same with DEBUG on, for developers;
# make test: the whole suite. DATABASE_URL switches them from the embedded SQLite to
# PostgreSQL; PORT (8000) and HOST (127.0.0.1) say where to serve.
# Background tasks (roster checks and imports, ...) need no second service here:
# TASKS_IN_PROCESS runs the db_worker loop in a thread of the server, started by its first
# request, and it stops with the server. A thread rather than `db_worker` beside it because
# SQLite has one writer: an import holds the write lock until it commits, so a separate
# worker process could not write its progress anywhere the page could read it, while a
# thread shares it with the web threads in memory (tongzhan/workers.py). Production runs
# `db_worker` processes instead (deploy/).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run dev test install migrate lint messages clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

# Beside the embedded server, and stopped with it: the runner that enqueues the periodic
# jobs when they are due (tongzhan/schedule.py; a systemd timer in production).
BESIDE := $(PY) manage.py run_schedule --every 60 & trap 'kill $$! 2>/dev/null' EXIT INT TERM;

run: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo --if-empty
	$(BESIDE) DJANGO_DEBUG=0 TASKS_IN_PROCESS=1 $(PY) manage.py runserver $(HOST):$(PORT)

dev: migrate
	$(PY) manage.py seed_demo --if-empty
	$(BESIDE) DJANGO_DEBUG=1 TASKS_IN_PROCESS=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=staticfiles
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm
