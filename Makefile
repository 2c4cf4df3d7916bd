# Shopfloor: `make dev` runs the app with demo data, `make test` runs every suite,
# `make lint` runs ruff and basedpyright. All install whatever is missing first, so they
# work on a fresh machine. `make lock` re-pins requirements*.txt from requirements*.in.

SHELL := /bin/bash
.DEFAULT_GOAL := dev

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_NPM := 1
export PYTHONPATH := $(CURDIR)
export PYTHONUNBUFFERED := 1
# Hot reload watches the code only (not var/ storage or test artifacts).
export REFLEX_HOT_RELOAD_OVERRIDE_PATHS ?= $(CURDIR)/app:$(CURDIR)/components:$(CURDIR)/state

PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
REDIS_HOST ?= 127.0.0.1
REDIS_PORT ?= 6379
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get
# Commands we need, as command:package (a command found anywhere is enough):
# chromium for e2e tests, prusa-slicer for slicing, pdftoppm for PDF checks,
# npm to fetch Node 22 and the frontend's packages.
DEB_COMMANDS := chromium:chromium prusa-slicer:prusa-slicer pdftoppm:poppler-utils npm:npm pgrep:procps
# Libraries WeasyPrint loads, and a font for PDFs.
DEB_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

.PHONY: dev test lint lock install system services venv node db db-test unit integration e2e bench clean

dev: install db
	@echo "Starting web (http://127.0.0.1:3000), worker and cron. Ctrl-C stops all three."
	honcho -f docker/Procfile.dev start

test: install db-test
	@set -o pipefail; rc=0; \
	pytest tests/unit tests/integration -p no:cacheprovider || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: unit/integration suites ran no test"; rc=1; fi; \
	rc2=0; pytest tests/e2e -p no:cacheprovider || rc2=$$?; \
	if [ $$rc2 -eq 5 ]; then echo "ERROR: e2e suite ran no test"; rc2=1; fi; \
	if [ $$rc -ne 0 ] || [ $$rc2 -ne 0 ]; then echo "make test: FAILED (unit+integration=$$rc, e2e=$$rc2)"; exit 1; fi; \
	echo "make test: all suites passed"

# Settings in pyproject.toml. Checks only, never rewrites: `ruff check --fix .` and
# `ruff format .` apply the fixes. basedpyright fails on any type error (there is
# no baseline: the code type-checks clean).
lint: system venv node
	@set -o pipefail; rc=0; \
	echo "== ruff check"; ruff check . || rc=1; \
	echo "== ruff format --check"; ruff format --check --output-format concise . || rc=1; \
	echo "== basedpyright"; basedpyright || rc=1; \
	if [ $$rc -ne 0 ]; then echo "make lint: FAILED"; exit 1; fi; \
	echo "make lint: clean"

# Re-pin after editing requirements*.in. Keeps today's pins (pip-compile prefers
# the versions already in the .txt); `make lock UPGRADE=1` moves them to the newest.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)
lock: venv
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

install: system services venv node

system:
	@missing=""; \
	for cp in $(DEB_COMMANDS); do command -v $${cp%%:*} >/dev/null || missing="$$missing $${cp#*:}"; done; \
	for p in $(DEB_LIBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	(exec 3<>/dev/tcp/$(PG_HOST)/$(PG_PORT)) 2>/dev/null || command -v pg_ctlcluster >/dev/null || missing="$$missing postgresql"; \
	(exec 3<>/dev/tcp/$(REDIS_HOST)/$(REDIS_PORT)) 2>/dev/null || command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v $(PYTHON) >/dev/null || missing="$$missing python3 python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

services:
	@if ! (exec 3<>/dev/tcp/$(PG_HOST)/$(PG_PORT)) 2>/dev/null; then \
	  echo "Starting PostgreSQL"; \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -1) main start; \
	  for i in $$(seq 30); do (exec 3<>/dev/tcp/$(PG_HOST)/$(PG_PORT)) 2>/dev/null && break; sleep 1; done; \
	fi
	@if ! (exec 3<>/dev/tcp/$(REDIS_HOST)/$(REDIS_PORT)) 2>/dev/null; then \
	  echo "Starting Redis"; \
	  redis-server --daemonize yes --bind $(REDIS_HOST) --port $(REDIS_PORT) --save "" --appendonly no; \
	  for i in $$(seq 30); do (exec 3<>/dev/tcp/$(REDIS_HOST)/$(REDIS_PORT)) 2>/dev/null && break; sleep 1; done; \
	fi

venv: $(VENV)/.installed

# Runtime (requirements.txt) plus test and lint tools (requirements-dev.txt), both
# pinned with hashes; the production image installs requirements.txt only.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r requirements.txt -r requirements-dev.txt
	@touch $@

node: $(TOOLS)/node_modules/.bin/node

$(TOOLS)/node_modules/.bin/node:
	@mkdir -p $(TOOLS)
	npm install --prefix $(TOOLS) --no-audit --no-fund --silent node@22

db:
	$(PY) -m app.cli bootstrap

db-test:
	$(PY) -m tests.testenv db-setup --fresh

unit:
	pytest tests/unit
integration:
	pytest tests/integration
e2e:
	pytest tests/e2e

bench:
	@for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf .web .states var/test-storage var/test-web var/test-states
