# T-Shape: `make run` (SQLite demo at http://127.0.0.1:8000) and `make test` (PostgreSQL + Redis).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite's services (local defaults; override in the environment).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tshape
TEST_REDIS_URL ?= redis://127.0.0.1:6379/14
PYTEST_ARGS ?=

APT_PACKAGES := chromium fonts-wqy-microhei gettext libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
PO_FILES := $(shell find locale -name '*.po' 2>/dev/null)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: install run test lint services system-packages messages demo clean lock prod-up prod-down prod-smoke load bench

install: system-packages $(VENV)/.installed static/vendor/.installed $(MO_FILES)

# Debian packages the features need, only where we are root and they are missing.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "Missing Debian packages (install them as root):$$missing"; fi; \
	fi

$(VENV)/.installed: requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $@

static/vendor/.installed: package.json package-lock.json scripts/copy_vendor.mjs
	npm ci --no-audit --no-fund --loglevel=error
	node scripts/copy_vendor.mjs
	touch $@

locale/%.mo: locale/%.po
	msgfmt --check-format -o $@ $<

# Re-extract the catalogues after changing user-facing strings (then translate the new entries).
messages: $(VENV)/.installed
	$(MANAGE) makemessages -l en --ignore=.venv --ignore=node_modules --ignore=static/vendor --no-obsolete

run: install
	mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@echo ""
	@echo "T-Shape: http://$(HOST):$(PORT)/  (demo logins: admin, hr, supervisor, manager, outsider; password tshape-demo)"
	$(MANAGE) runserver $(HOST):$(PORT)

# PostgreSQL and Redis must answer before the suite runs; start them where they are down.
services:
	@bash scripts/ensure_services.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run

# The production smoke runs first (its own stack, port and database), so pytest's summary is the
# last line; a failed smoke still fails the target.
test: install services lint
	$(BIN)/python scripts/prod_smoke.py; smoke=$$?; \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DJANGO_ALLOW_ASYNC_UNSAFE=true \
	  $(BIN)/pytest --create-db $(PYTEST_ARGS) && exit $$smoke

# The same processes as docker-compose, without Docker: gunicorn, a Celery worker and beat.
prod-up: install services
	bash scripts/prod_up.sh

prod-down:
	bash scripts/prod_down.sh

prod-smoke: install services
	$(BIN)/python scripts/prod_smoke.py

BENCH_MANAGERS ?= 20000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tshape_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/13

# Gap report vs SQL floor, naive loop and exports on a dedicated database; writes bench/results.json.
bench: install services
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) DEBUG=false \
	  $(MANAGE) bench --managers $(BENCH_MANAGERS)

# Load test (not part of make test): locust headless on loopback; writes bench/load.json.
load: install services
	$(BIN)/python scripts/load/run.py $(LOAD_ARGS)

demo: install
	mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo

# Regenerate the locked dependency sets from pyproject.toml.
lock:
	PYTHON=$(PYTHON) bash scripts/lock.sh

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles
