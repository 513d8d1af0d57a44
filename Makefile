# Every target bootstraps what it needs: a virtualenv in .venv with pinned dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install lock migrate revision downgrade seed seed-large purge bench test lint erd format run clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

lock: ## re-pin every dependency to what is installed now
	$(BIN)/python -m pip install --quiet --upgrade -e ".[dev]"
	{ echo "# Pinned versions for reproducible installs (make install uses this as pip constraints)."; \
	  echo "# Regenerate after changing dependencies: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt

migrate: install
	$(BIN)/alembic upgrade head

revision: install
	@test -n "$(m)" || { echo 'usage: make revision m="what changed"' >&2; exit 2; }
	$(BIN)/alembic revision --autogenerate -m "$(m)"

downgrade: install
	$(BIN)/alembic downgrade -1

seed: install
	$(BIN)/python -m taskflow.seed

OLDER_THAN ?= 30d

purge: install  ## delete for good what has been in the trash longer than OLDER_THAN
	$(BIN)/python -m taskflow.purge --older-than $(OLDER_THAN)

TASKS ?= 1000000

seed-large: migrate
	$(BIN)/python -m taskflow.seed --tasks $(TASKS) $(SEED_ARGS)

BENCH_ARGS ?=

bench: install  ## PostgreSQL at BENCH_DATABASE_URL (default: the local server)
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python migrations/lint_sql.py  # squawk on each revision's PostgreSQL SQL

erd: install  ## the README's schema diagram, redrawn from the models
	$(BIN)/paracelsus inject README.md

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

HOST ?= 127.0.0.1
PORT ?= 8000

run: migrate seed
	@echo "TaskFlow API: http://$(HOST):$(PORT)/docs  (Authorize with the demo login above)"
	$(BIN)/uvicorn taskflow.api:app --host $(HOST) --port $(PORT)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache taskflow.db
