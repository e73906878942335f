# One command per habit. `make run` serves the tracker, `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test fuzz lint format bench screenshots clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## run: migrate, create the local admin (printing how to sign in), start the Firestore
## emulator (unless FIRESTORE_EMULATOR_HOST is set) and serve on
## http://127.0.0.1:$(PORT) with one task worker (notifications; e-mail on the
## console) and the notification sweep each minute, all stopping on Ctrl-C.
run: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_dev_admin --base-url http://127.0.0.1:$(PORT)
	SITE_URL=http://127.0.0.1:$(PORT) $(PY) manage.py firestore_emulator -- sh -c '\
	  $(PY) manage.py db_worker --no-reload --interval 0.5 & W=$$!; \
	  (while sleep 60; do $(PY) manage.py sweep_notifications >/dev/null; done) & S=$$!; \
	  trap "kill $$W $$S 2>/dev/null" EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT)'

## test: the whole suite against its own Firestore emulator.
test: $(VENV)/.dev
	$(PY) -m pytest

## fuzz: Schemathesis against the live API (own emulator and server): every
## operation and the schema's links, FUZZ_EXAMPLES examples each (default 50).
FUZZ_EXAMPLES ?= 50
fuzz: $(VENV)/.dev
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -m fuzz -p no:randomly issues/tests/test_fuzz_api.py

## lint: ruff (lint + format check) and mypy.
lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

## screenshots: the portal's dashboard, issue list, issue page, triage queue and
## a bulk action as PNGs in docs/screenshots/ (own emulator, database and server;
## needs Chromium).
screenshots: $(VENV)/.dev
	$(PY) scripts/screenshots.py

## bench: create rate through the API vs raw Firestore writes; creates, batches and
## storms through gunicorn (2 workers, 8 threads) vs raw creates; list-page latency
## with 1,000 and 20,000 issues stored, and portal page render with 100 and 20,000
## (own emulators), and an export/import round trip of 20,000 issues (identical
## bytes); see docs/benchmarks.md.
bench: $(VENV)/.dev
	$(PY) bench/issues_bench.py
	$(PY) bench/ingest_bench.py
	$(PY) bench/portal_bench.py
	$(PY) bench/transfer_bench.py

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache staticfiles
