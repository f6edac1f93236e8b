# Mini CRM: `make run` starts the app, `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUN_VERSION := 1.4.4
BUN := .tools/node_modules/.bin/bun
REFLEX_ENV := REFLEX_USE_SYSTEM_BUN=1 REFLEX_TELEMETRY_ENABLED=false \
	REFLEX_CHECK_LATEST_VERSION=false REFLEX_HTTP_CLIENT_BIND_ADDRESS=0.0.0.0 \
	PATH="$(CURDIR)/.tools/node_modules/.bin:$(CURDIR)/$(BIN):$$PATH"

.PHONY: run test install lint format services chromium nginx worker seed clean load

run: install
	$(REFLEX_ENV) $(BIN)/mini-crm run

test: install services chromium nginx
	$(BIN)/ruff check .
	$(REFLEX_ENV) $(BIN)/pytest tests --ignore=tests/e2e --ignore=tests/multi -q
	$(REFLEX_ENV) $(BIN)/pytest tests/e2e -q
	$(REFLEX_ENV) $(BIN)/pytest tests/multi -q

install: $(VENV)/.installed $(BUN)

# Reinstalls only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(BUN):
	mkdir -p .tools
	npm install --silent --no-fund --no-audit --prefix .tools bun@$(BUN_VERSION)

services:
	scripts/services.sh

chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# The multi-instance and fault tests run their own nginx (never the system service).
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
		(apt-get update -qq && apt-get install -y -qq nginx-light)

# Load tests (bench/load): locust is an optional extra, installed only here.
load: install
	$(BIN)/pip install -q -e '.[load]'
	$(REFLEX_ENV) $(BIN)/python -m bench.load.run $(LOAD_ARGS)

worker: install
	$(BIN)/mini-crm worker

seed: install
	$(BIN)/mini-crm seed --customers 2000

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean:
	rm -rf .web .states data
