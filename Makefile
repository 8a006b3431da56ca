# SmartCare: `make run` starts the demo portal, `make test` runs the whole suite.
# Both set everything up first on a fresh clone (Python 3.11 and Node/npm are all they need).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test setup system-deps migrate demo lint messages compile-messages clean help

help:
	@echo "make run   - set up, load demo data and start web, worker and beat on http://127.0.0.1:$(PORT)"
	@echo "             (with DEBUG off, like production; DEBUG=true make run shows Django's debug pages)"
	@echo "make test  - set up and run the whole test suite"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

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

test: setup system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Developers: refresh the catalogues after changing user-facing strings (needs GNU gettext).
messages: setup
	$(BIN)/python manage.py makemessages --locale=da --locale=en --ignore=node_modules --ignore=.venv --ignore=var --ignore=test-artifacts --no-obsolete
	$(BIN)/python scripts/fill_english_catalogue.py

clean:
	rm -rf $(VENV) node_modules var
