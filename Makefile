# SmartCare: `make run` starts the demo portal, `make test` runs the whole suite.
# Both set everything up first on a fresh clone (Python 3.11 and Node/npm are all they need).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test check lock setup system-deps migrate demo lint messages compile-messages clean help bench bench-writes bench-deps

help:
	@echo "make run   - set up, load demo data and start web, workers and beat on http://127.0.0.1:$(PORT)"
	@echo "             (with DEBUG off, like production; DEBUG=true make run shows Django's debug pages)"
	@echo "make test  - set up, run the checks and the whole test suite"
	@echo "make check - lint, formatting, missing migrations and type checks (make test runs them first)"
	@echo "make lock  - regenerate requirements.txt and requirements-dev.txt (hashed) from the .in files"
	@echo "make bench - generate the region once into a database of its own, run the portal under gunicorn"
	@echo "             beside a raw-SQL ceiling app, drive both with wrk and print req/s, p50, p95, the ratio"
	@echo "             to the ceiling, queries per request, worker memory and EXPLAIN of each slowest statement"
	@echo "             (needs PostgreSQL and Redis; installs Debian's wrk when missing and run as root). Variables:"
	@echo "               BENCH_DATABASE_URL  the benchmark's own database (default $(BENCH_DEFAULT_DATABASE_URL))"
	@echo "               BENCH_REDIS_URL     its Redis database, flushed at the start (default redis://127.0.0.1:6379/5)"
	@echo "               BENCH_CITIZENS      region size; generated once, skipped when already there (default 1200000)"
	@echo "               BENCH_SECONDS       wrk duration per case (default 20); BENCH_CONNECTIONS (default 8)"
	@echo "               BENCH_WORKERS       gunicorn sync workers of the portal and the ceiling (default 2)"
	@echo "               BENCH_CASES         reads (default), writes, or case names/prefixes: api-search,page-:gp"
	@echo "               BENCH_TARGETS       citizens and plans per organisation read in turn (default 200)"
	@echo "               BENCH_PORT, BENCH_CEILING_PORT  where the portal and the ceiling listen (8765, 8766)"
	@echo "               BENCH_USERS_PER_ORGANISATION (8), BENCH_WARMUP seconds per case (1), BENCH_SEED (1)"
	@echo "make bench-writes - the write path (BENCH_CASES=writes): hospital events through \$$process-message and"
	@echo "             care communications through the API with readers beside them and a Celery worker; prints"
	@echo "             deadlocks, send rates and errors, notification-to-inbox latency and pipeline vs no-op throughput."
	@echo "               BENCH_WRITE_SECONDS (default 60), BENCH_HOSPITAL_EVENTS_PER_SECOND (50),"
	@echo "               BENCH_CARE_MESSAGES_PER_SECOND (10), BENCH_DRAIN_SECONDS (180), BENCH_NOOP_TASKS (2000)"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Every package, transitive ones included, comes pinned with its hashes from the lock (pip too).
$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

# Developers: after editing requirements.in or requirements-dev.in, regenerate both locks (needs PyPI).
# A pin kept in the .in file stays; `make lock UPGRADE=1` moves the unpinned (transitive) packages to their latest.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe \
	--strip-extras --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)
lock: $(VENV)/.installed
	$(PIP_COMPILE) --output-file=requirements.txt requirements.in
	$(PIP_COMPILE) --output-file=requirements-dev.txt requirements-dev.in

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Translations are compiled with Babel, so GNU gettext is not needed on the machine.
compile-messages: $(VENV)/.installed
	$(BIN)/pybabel compile --domain=django --directory=locale --statistics 2>&1 | grep -v "^$$" || true

setup: $(VENV)/.installed node_modules/.installed compile-messages
	@mkdir -p var

migrate: setup
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_reference_data
	$(BIN)/python manage.py load_demo_data

# The processes are the Procfile's: web, worker (queue celery), sealer (queue access-log) and beat.
run: demo
	@echo "SmartCare on http://127.0.0.1:$(PORT)  (Ctrl-C stops web, worker, sealer and beat)"
	$(BIN)/honcho --procfile Procfile start

# Browser and compose-file tests need Debian's chromium and docker-compose; install them when we may.
system-deps:
	@bash scripts/system-deps.sh

# The run measures the coverage of the apps and fails below the floor ([tool.coverage] in pyproject.toml).
# (--cov-report comes after --cov so that --cov never takes a test path as its source.)
# To run a few tests only, leave coverage out: `make test COV_ARGS= PYTEST_ARGS=tests/test_health.py`.
COV_ARGS ?= --cov --cov-report=term
test: check system-deps
	$(BIN)/python -m pytest $(COV_ARGS) $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# What CI checks besides the tests: lint, formatting, no model change without its migration, and types
# (mypy with django-stubs; the checked modules are listed under [tool.mypy] in pyproject.toml).
check: lint
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=smartcare.settings_test
	$(BIN)/mypy

# Developers: refresh the catalogues after changing user-facing strings (needs GNU gettext).
messages: setup
	$(BIN)/python manage.py makemessages --locale=da --locale=en --ignore=node_modules --ignore=.venv --ignore=var --ignore=test-artifacts --no-obsolete
	$(BIN)/python scripts/fill_english_catalogue.py

# The benchmark (scripts/bench/, `make help` lists its variables). wrk comes from Debian's packages.
BENCH_DEFAULT_DATABASE_URL := postgres://postgres@127.0.0.1:5432/smartcare_bench
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing wrk from Debian's packages"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else echo "make bench needs wrk: apt-get install wrk" >&2; exit 1; fi; }

bench: setup bench-deps
	$(BIN)/python -m scripts.bench

bench-writes: setup bench-deps
	BENCH_CASES=writes $(BIN)/python -m scripts.bench

clean:
	rm -rf $(VENV) node_modules var
