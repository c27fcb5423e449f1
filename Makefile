# Advocate CRM: `make run` and `make test` are the two commands the README promises.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := CRM_ENV=development $(BIN)/flask --app wsgi

.PHONY: run test lint format bench services browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-deps

## run: set up, migrate the embedded SQLite database, load demo data, start web + worker + beat
run: $(VENV)/.run-deps
	$(FLASK) db upgrade
	$(FLASK) crm seed-demo
	$(BIN)/honcho --procfile Procfile.dev start

## test: install test dependencies and Chromium, start PostgreSQL and Redis if needed, run the whole suite
test: $(VENV)/.test-deps services browser
	$(BIN)/pytest --durations=15

services:
	@bash scripts/services.sh

browser:
	@bash scripts/browser.sh

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.test-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.test-deps services
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.followups
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.claims
	$(BIN)/python -m bench.reports
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.chat_load
	$(BIN)/python -m bench.chat_reports

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
