# Liên Thông — the commands a user types. `make demo` and `make test` set everything up themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv demo test test-fast scale-test bench lint migration clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,airflow,spark]'
	touch $(STAMP)

venv: $(STAMP)

## Run the main job on the bundled demo sources into var/ (SQLite unless LIENTHONG_DATABASE_URL is set).
demo: $(STAMP)
	$(BIN)/lienthong demo

## The whole test suite, integration tests included, against a real PostgreSQL (started if needed).
test: $(STAMP)
	@dsn="$$(PYTHON=$(BIN)/python scripts/ensure-postgres.sh)" && \
	  LIENTHONG_TEST_PG_DSN="$$dsn" $(BIN)/pytest $(PYTEST_ARGS)

## Unit tests only (no database, no servers).
test-fast: $(STAMP)
	$(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

## Airflow on CeleryExecutor (two workers, one killed mid-task) and Splink on a Spark standalone cluster, run for
## real on this machine: one line per engine. Also part of `make test` (tests/scale/test_scale.py, marked slow).
scale-test: $(STAMP)
	@dsn="$$(PYTHON=$(BIN)/python scripts/ensure-postgres.sh)" && \
	  LIENTHONG_TEST_PG_DSN="$$dsn" PYTHONPATH=$(CURDIR) $(BIN)/python scripts/scale_test $(SCALE_ARGS)

## 1,000,000 generated member rows, CSV to published PostgreSQL rows; writes docs/BENCHMARKS.md.
bench: $(STAMP)
	@dsn="$$(PYTHON=$(BIN)/python scripts/ensure-postgres.sh)" && \
	  LIENTHONG_TEST_PG_DSN="$$dsn" $(BIN)/lienthong bench $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

## After changing a contract: freeze the new warehouse tables in an Alembic revision.
migration: $(STAMP)
	rm -f var/migration-base.db && $(BIN)/lienthong --database-url sqlite:///var/migration-base.db init
	$(BIN)/python -c "from alembic import command; from lienthong.warehouse.migrate import alembic_config; \
	  command.revision(alembic_config('sqlite:///var/migration-base.db'), message='$(MSG)', autogenerate=True)"

clean:
	rm -rf var .pytest_cache
