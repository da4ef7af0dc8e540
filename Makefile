# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run run-sso serve test install install-test install-bench browser lint bench clean screenshots demo-tokens

# Three sets, each installed only by what needs it: the portal (`make run`, `make serve`),
# the tests and lint (`make test`, `make lint`), the benchmarks (`make bench`).
$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(BIN)/.installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed-test: requirements-test.txt $(BIN)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

$(BIN)/.installed-bench: requirements-bench.txt $(BIN)/.installed-test
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

install: $(BIN)/.installed
install-test: $(BIN)/.installed-test
install-bench: $(BIN)/.installed-bench

## Debian's Chromium for the browser tests (Playwright drives it; it cannot download its own here)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

## Set everything up, seed the demo and serve the portal with its simulator on http://$(HOST)
## (development settings: DEBUG and the simulator on, explicitly)
DEMO := DJANGO_DEBUG=1 VPC_SIMULATOR_ENABLED=true PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://$(HOST)} \
	EGRESS_ALLOWED_NETWORKS=$${EGRESS_ALLOWED_NETWORKS:-127.0.0.1/32}
run: install
	$(DEMO) $(BIN)/python manage.py migrate --no-input
	$(DEMO) $(BIN)/python manage.py seed_demo
	$(DEMO) VPC_API_ENDPOINT=http://$(HOST) $(BIN)/python manage.py runserver $(HOST)

## `make run` plus company sign-in: the tests' OpenID provider on 127.0.0.1:8002 and its user
## erin (password peering-demo-2026), an approver of Globex through her group (bin/run-sso)
run-sso: install-test
	HOST=$(HOST) bin/run-sso

## The production way on PostgreSQL: gunicorn + WhiteNoise, the demo simulator apart on :8001,
## a Celery worker and beat when CELERY_BROKER_URL is set (see bin/serve and docs/operations.md)
serve: install
	HOST=$(HOST) bin/serve

## Set everything up and run the whole test suite (SQLite unless DATABASE_URL is set)
test: install-test browser
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=portal.test_settings
	$(BIN)/lint-imports --no-cache
	$(BIN)/python bin/import-cycles peerings notifications ops portal sso accounts

## Refresh the README's screenshots (docs/screenshots/) by walking through the portal in Chromium
screenshots: install-test browser
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest tests/browser/test_walkthrough.py -p no:cacheprovider -q

bench: install-bench
	@# PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/portal_bench), dropped and re-created
	$(BIN)/python -m bench

## The demo's API tokens as JSON (`seed_demo --json`), for the portal `make serve` runs (its var/serve.env)
demo-tokens: install
	@bin/demo-tokens

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm .pytest_cache staticfiles var
