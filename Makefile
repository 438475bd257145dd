# Liên Thông — the commands a user types. `make demo` and `make test` set everything up themselves.
PY ?= python3
# Processes started by make keep their bytecode: the test suite starts hundreds of Python processes (CLI doors,
# `airflow dags test`, servers), each would otherwise recompile every module it imports.
unexport PYTHONDONTWRITEBYTECODE
PROJECT_PACKAGES := lienthong connectors catalog quality schemas dags
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

LOCK := requirements/lock.txt
UV := $(BIN)/uv
# The lock is resolved for the Python of docker/Dockerfile's image; Airflow's own pins are respected as its metadata
# states them (Airflow's published constraints files are not reachable from our machines: only PyPI is).
LOCK_CMD = $(UV) pip compile pyproject.toml --extra dev --extra airflow --extra spark --extra bench --python-version 3.11 --quiet -o $(LOCK)

.PHONY: venv demo test test-all test-fast smoke bench lint lock upgrade migration clean

# uv itself, at the version the lock names, bootstraps the venv (its cache, ~/.cache/uv, makes re-installs fast).
$(UV):
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep '^uv==' $(LOCK))"

# The venv is exactly the lock (sync removes what the lock does not name), then the project itself, editable.
# `uv pip check` fails when pyproject.toml asks for something the lock lacks: run `make lock`.
# Bytecode is compiled at install: machines that set PYTHONDONTWRITEBYTECODE (ours do) would otherwise compile
# Great Expectations, pandas and the rest from source in every process (`check` took 14 s instead of 2).
$(STAMP): pyproject.toml $(LOCK) | $(UV)
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python $(LOCK)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q $(PROJECT_PACKAGES)
	$(UV) pip check --quiet --python $(BIN)/python || { echo "pyproject.toml and $(LOCK) disagree: make lock"; exit 1; }
	touch $(STAMP)

venv: $(STAMP)

## After changing a dependency in pyproject.toml: re-resolve the lock, keeping every other pin where it is.
lock: | $(UV)
	$(LOCK_CMD)

## Newest versions allowed by pyproject.toml into the lock, installed, then the whole test suite.
upgrade: | $(UV)
	$(LOCK_CMD) --upgrade
	$(MAKE) test-all

## Run the main job on the bundled demo sources into var/ (SQLite unless LIENTHONG_DATABASE_URL is set).
demo: $(STAMP)
	$(BIN)/lienthong demo

# Tests run on every core (pytest-xdist), a test file per worker at a time: module fixtures are built once.
TEST_WORKERS ?= auto
PYTEST_PARALLEL = -n $(TEST_WORKERS) --dist loadfile

## The test suite, integration tests included, against a real PostgreSQL (started if needed), but the scale floors
## (marked `bench`) and the long real-process tests (marked `slow`): under 10 minutes on 2 cores.
test: $(STAMP)
	@dsn="$$(PYTHON=$(BIN)/python scripts/ensure-postgres.sh)" && \
	  LIENTHONG_TEST_PG_DSN="$$dsn" $(BIN)/pytest $(PYTEST_PARALLEL) -m "not bench and not slow" $(PYTEST_ARGS)

## Every test: what `make test` runs, the long real-process tests (servers and workers killed mid-work, Airflow's
## `dags test`, the demo, a browser) and the scale floors (tens of thousands of generated records). CI runs it.
test-all: $(STAMP)
	@dsn="$$(PYTHON=$(BIN)/python scripts/ensure-postgres.sh)" && \
	  LIENTHONG_TEST_PG_DSN="$$dsn" $(BIN)/pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

## The wheel without extras in a fresh venv: init, normalize, sync; then [airflow] and the DAGs' import.
smoke: $(STAMP)
	UV=$(UV) SMOKE_PYTHON=$(BIN)/python scripts/smoke-wheel.sh

## Unit tests only (no database, no servers).
test-fast: $(STAMP)
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not integration and not bench" $(PYTEST_ARGS)

## Airflow on CeleryExecutor (two workers, one killed mid-task) and Splink on a Spark standalone cluster, run for
## real on this machine: one line per engine. Also part of `make test-all`, what CI runs (tests/scale/test_scale.py).
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
