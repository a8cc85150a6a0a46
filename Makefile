# Preflight. `make run` to try it, `make test` to check it. Needs only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` is the zero-setup demo: SQLite, eager Celery, DEBUG on.
DEV_ENV := DEBUG=1

.PHONY: install run test lint types layers format pygments-css bench bench-quick wrk worker beat clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(DEV_ENV) $(BIN)/python manage.py compile_translations
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py demo --url http://$(HOST):$(PORT)/
	@echo "Serving Preflight on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(DEV_ENV) PREFLIGHT_SITE_URL=$${PREFLIGHT_SITE_URL:-http://$(HOST):$(PORT)} $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(DEV_ENV) $(BIN)/mypy
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(DEV_ENV) $(BIN)/python manage.py compile_translations
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(DEV_ENV) $(BIN)/mypy

layers: install
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The colours of highlighted code (courses/markdown.py), committed as a static file:
# the CSP forbids inline styles. Re-run after changing the Pygments style or version.
pygments-css: install
	$(BIN)/python -c "from courses.markdown import highlight_stylesheet as css; print(css(), end='')" > training/static/training/pygments.css

# Benchmarks (PostgreSQL and Redis required; not part of `make test`): writes
# docs/benchmarks.md. See bench/run.py for the databases and queues it uses.
# The HTTP section needs wrk: installed from Debian's packages when it is missing
# and this user may (otherwise the report says the section was not run).
bench: install wrk
	$(BIN)/python -m bench.run

bench-quick: install wrk
	$(BIN)/python -m bench.run --quick

wrk:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
		|| echo "bench: wrk is not installed (apt-get install wrk); the HTTP section will be skipped"

worker: install
	$(BIN)/celery -A training worker --loglevel=INFO

beat: install
	$(BIN)/celery -A training beat --loglevel=INFO

clean:
	rm -rf $(VENV) preflight.sqlite3 staticfiles .pytest_cache
