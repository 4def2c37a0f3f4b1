# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup install lint bench clean-db

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

## Migrate, load the regulation and the demo back office (safe to run again).
setup: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_regulation
	$(PY) manage.py load_demo

## Set up and serve on http://127.0.0.1:8000 with the embedded SQLite database (DEBUG on only here), with one task
## worker (the month close, the files asked for with 作成を依頼する) in the background, stopped when the server stops.
run: setup
	DJANGO_SETTINGS_MODULE=config.settings.local DJANGO_DEBUG=1 $(PY) manage.py db_worker --no-reload & \
	worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DJANGO_SETTINGS_MODULE=config.settings.local DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

## The whole test suite (SQLite by default; DATABASE_URL=postgres://… for PostgreSQL).
test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

## Every benchmark on PostgreSQL at a small size, each printing its figures (see BENCHMARKS.md for the full-size
## runs). BENCH_ARGS goes to the export benchmark (e.g. BENCH_ARGS="--rows 1000000"); BENCH_PG is the server.
BENCH_ARGS ?= --rows 10000
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
bench: install
	$(PY) bench/export_bench.py $(BENCH_ARGS)
	DATABASE_URL=$(BENCH_PG)/backoffice_close_bench $(PY) bench/close_bench.py --contracts 2000
	DATABASE_URL=$(BENCH_PG)/backoffice_charges_bench $(PY) bench/charges_bench.py --contracts 2000
	DATABASE_URL=$(BENCH_PG)/backoffice_report_page_bench $(PY) bench/report_page.py --contracts 2000
	DATABASE_URL=$(BENCH_PG)/backoffice_impact_bench $(PY) bench/impact_bench.py --contracts 2000
	DATABASE_URL=$(BENCH_PG)/backoffice_ledger_bench $(PY) bench/ledger_bench.py --rows 100000,200000 --per-month 50000
	$(PY) bench/generate.py --scale 0.001 --database-url $(BENCH_PG)/backoffice_book_small
	$(PY) bench/generate.py --scale 0.01 --database-url $(BENCH_PG)/backoffice_book_1pct
	$(PY) bench/pages.py --small $(BENCH_PG)/backoffice_book_small --large $(BENCH_PG)/backoffice_book_1pct --repeat 5

clean-db:
	rm -f var/db.sqlite3
