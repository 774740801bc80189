# The two commands: `make run` (a server at http://127.0.0.1:8000) and
# `make test` (the whole suite). Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: run serve test lint migrate install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

## Development server: uvicorn with autoreload, SQLite, in-memory layer.
## (The production server, so the protocol's close codes hold; Daphne, via
## `manage.py runserver`, cannot send 1008/1009/1011: see docs/protocol.md.)
run: migrate
	@echo "Chat at http://$(HOST):$(PORT)/ (Ctrl+C stops it)"
	$(BIN)/python -m config.serve --reload --host $(HOST) --port $(PORT)

## Production server (uvicorn) with WORKERS processes; WORKERS>1 needs REDIS_URL.
serve: migrate
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python -m config.serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

## Lint, format check (ruff) and type check (mypy); `make test` runs it first.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: migrate
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles artifacts .pytest_cache
