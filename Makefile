# The two commands: `make demo` and `make test`. Everything else is a step they share.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR := var/demo

.PHONY: demo test venv lint typecheck js services services-down engines-up engines-down engines-status unit postgres bench clean parity

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup --out $(DEMO_DIR)
	@echo "Serving on http://127.0.0.1:8000 (Ctrl-C stops it)"
	$(PY) manage.py runserver --noreload --insecure 127.0.0.1:8000

# The track-store benchmark against PostgreSQL and DuckDB (prints a table, then one JSON line).
bench: $(STAMP)
	$(PY) benchmarks/track_store.py

test: $(STAMP) lint typecheck js services engines-up unit postgres

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy .

# The playback page's pure ES modules, under Node's own test runner (no npm packages).
js:
	node --test tests/js/

# Redis and PostgreSQL for their suites: reuse running servers, else start installed ones privately under var/.
services: $(STAMP)
	$(PY) tools/services.py up

services-down:
	$(PYTHON) tools/services.py down

# HBase, Trino and PrestoDB from Maven Central on loopback (tools/engines.py; cache in ~/.cache/dispatchscope).
# Without Java or Maven it says so and the real-engine suites skip loudly (they fail under CI=true).
engines-up: $(STAMP)
	$(PY) tools/engines.py up

engines-down:
	$(PYTHON) tools/engines.py down

engines-status: $(STAMP)
	$(PY) tools/engines.py status

unit: $(STAMP)
	$(PY) -m pytest

# Django's tests again on PostgreSQL (DATABASE_URL); skipped loudly when the server is absent, fatal under CI.
postgres: $(STAMP)
	$(PY) tests/run_postgres.py

clean:
	rm -rf $(VENV) var

# The statistics engine against gbstats 0.8.0, statsmodels and scipy: build their own virtualenv (gbstats needs
# numpy<2 and pandas<2), regenerate tests/experiments/stats/golden/ from them, then check our engine against it.
parity: $(STAMP)
	test -x var/parity-venv/bin/python || $(PYTHON) -m venv var/parity-venv
	var/parity-venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/experiments/stats/parity/requirements.txt
	var/parity-venv/bin/python tests/experiments/stats/parity/reference.py
	$(PY) -m pytest -q tests/experiments/stats/test_parity.py
