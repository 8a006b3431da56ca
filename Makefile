# SmartCare: `make run` starts the demo portal, `make test` runs the whole suite.
# Both set everything up first on a fresh clone (Python 3.11 and Node/npm are all they need).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test check lock setup system-deps migrate demo lint messages compile-messages clean help

help:
	@echo "make run   - set up, load demo data and start web, worker and beat on http://127.0.0.1:$(PORT)"
	@echo "             (with DEBUG off, like production; DEBUG=true make run shows Django's debug pages)"
	@echo "make test  - set up, run the checks and the whole test suite"
	@echo "make check - lint, formatting, missing migrations and type checks (make test runs them first)"
	@echo "make lock  - regenerate requirements.txt and requirements-dev.txt (hashed) from the .in files"

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

run: demo
	@echo "SmartCare on http://127.0.0.1:$(PORT)  (Ctrl-C stops web, worker and beat)"
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

clean:
	rm -rf $(VENV) node_modules var
