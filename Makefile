# The two commands: `make run` (a server at http://127.0.0.1:8000) and
# `make test` (the whole suite). Both build .venv on first use.
# Servers: `make install-runtime`, `make migrate`, `make serve` (README, "Deploy").
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
# Locked, hashed versions (`make lock` writes them from pyproject.toml).
LOCK_DEV := requirements/dev.txt
LOCK_RUNTIME := requirements/runtime.txt
UV_VERSION := uv>=0.9,<1

.PHONY: run serve test lint migrate install install-runtime lock bench clean axe

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

## Development install: the locked versions of everything (runtime, test,
## bench), then the project itself, editable. A lock older than
## pyproject.toml (a dependency added, `make lock` not run yet) is said so,
## and the missing packages come from the index instead.
$(VENV)/.installed: pyproject.toml $(LOCK_DEV) | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK_DEV)
	$(BIN)/pip install --quiet --no-deps -e . -e clients/python
	@$(BIN)/pip check >/dev/null || { \
	  echo "warning: $(LOCK_DEV) is stale: pyproject.toml needs packages it does not lock:"; \
	  $(BIN)/pip check | sed 's/^/  /'; \
	  echo "  installing them unlocked from the index; run 'make lock' and commit requirements/."; \
	  $(BIN)/pip install --quiet -e ".[test,bench]"; }
	touch $@

install: $(VENV)/.installed

## Servers: only what the server runs (no test, lint or benchmark tools),
## the locked versions, then the project (not editable).
install-runtime: | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK_RUNTIME)
	$(BIN)/pip install --quiet --no-deps .
	@$(BIN)/pip check >/dev/null || { \
	  echo "warning: $(LOCK_RUNTIME) is stale (run 'make lock'):"; $(BIN)/pip check; \
	  $(BIN)/pip install --quiet .; }
	touch $(VENV)/.installed-runtime

## Re-lock after changing dependencies in pyproject.toml; commit requirements/.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet "$(UV_VERSION)"
	$(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal \
	  --python-version 3.11 --custom-compile-command "make lock" -o $(LOCK_RUNTIME)
	$(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal \
	  --python-version 3.11 --custom-compile-command "make lock" --extra test --extra bench -o $(LOCK_DEV)

## Apply migrations: its own step, once per deploy, before the new servers
## start (servers never migrate: several workers would race).
migrate:
	@test -f $(VENV)/.installed -o -f $(VENV)/.installed-runtime || $(MAKE) install
	$(BIN)/python manage.py migrate --noinput

## Development server: uvicorn with autoreload, SQLite, in-memory layer.
## (The production server, so the protocol's close codes hold; Daphne, via
## `manage.py runserver`, cannot send 1008/1009/1011: see docs/protocol.md.)
## Another port: `make run PORT=8001`.
run: install
	$(BIN)/python manage.py migrate --noinput
	@echo "Chat at http://$(HOST):$(PORT)/ (Ctrl+C stops it)"
	$(BIN)/python -m config.serve --reload --host $(HOST) --port $(PORT)

## Production server (uvicorn) with WORKERS processes, production settings
## (SECRET_KEY and ALLOWED_HOSTS required); WORKERS>1 needs REDIS_URL.
## Run `make migrate` first. DJANGO_SETTINGS_MODULE set elsewhere wins.
serve: export DJANGO_SETTINGS_MODULE ?= config.settings.production
serve:
	@test -f $(VENV)/.installed -o -f $(VENV)/.installed-runtime || $(MAKE) install-runtime
	$(BIN)/python -m config.serve --check
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python -m config.serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

## Lint, format check (ruff) and type check (mypy); `make test` runs it first.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## axe-core, the accessibility auditor the browser tests inject (npm; pinned
## range). Without npm the accessibility tests skip, saying why (fail in CI).
AXE := .cache/npm/node_modules/axe-core/axe.min.js
$(AXE):
	-mkdir -p .cache/npm && npm install --silent --no-save --no-package-lock --prefix .cache/npm "axe-core@>=4.10 <5"

axe: $(AXE)

test: install lint $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles artifacts .pytest_cache .cache
