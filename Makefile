# The two commands: `make run` (a server at http://127.0.0.1:8000) and
# `make test` (the whole suite). Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: run serve test migrate install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

## Development server (daphne via runserver): SQLite, in-memory layer.
run: migrate
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## Production server (uvicorn) with WORKERS processes; WORKERS>1 needs REDIS_URL.
serve: migrate
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python -m config.serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: migrate
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles artifacts .pytest_cache
