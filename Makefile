# The two commands: `make run` (the whole stack) and `make test` (the whole suite).
# Both create .venv and install the pinned requirements on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test test-pgbouncer test-replica bench load faults scale lint format check-migrations clean-dev

$(VENV)/.installed: requirements/base.txt requirements/prod.txt requirements/dev.txt
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required" if sys.version_info < (3, 11) else 0)'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

run: $(VENV)/.installed
	$(PY) scripts/devservices.py run

# The whole suite also measures coverage and holds the ratchet (scripts/coverage_ratchet.py); with ARGS it
# runs just what you ask for.
test: $(VENV)/.installed
ifeq ($(strip $(ARGS)),)
	$(PY) scripts/devservices.py test -- --cov=backend --cov=worker --cov-report=json --cov-report=term:skip-covered
	$(PY) scripts/coverage_ratchet.py
else
	$(PY) scripts/devservices.py test -- $(ARGS)
endif

# The database-heavy tests through a PgBouncer of its own in transaction mode (README "Scaling the database");
# needs DATABASE_URL on a TCP PostgreSQL and REDIS_URL; installs Debian's pgbouncer when missing.
test-pgbouncer: $(VENV)/.installed
	scripts/pgbouncer_suite.sh $(ARGS)

# The replica tests against a real streaming replica (a primary and a pg_basebackup standby of their own).
test-replica: $(VENV)/.installed
	scripts/replica_suite.sh $(ARGS)

# The performance table (docs/performance.md): the stack under gunicorn on PostgreSQL and Redis, one run.
bench: $(VENV)/.installed
	$(PY) scripts/devservices.py bench -- $(ARGS)

# A headless locust run on loopback, about 2 minutes: error rate and p95 per endpoint (scripts/load.py).
load: $(VENV)/.installed
	$(PY) scripts/devservices.py load -- $(ARGS)

# Kills and outages under 1,000 messages (SMS; push, WhatsApp and SMS) and 300 invoiced payments: lost,
# duplicated, out of order, inconsistent (scripts/faults.py; ARGS="--scenario NAME" runs one).
faults: $(VENV)/.installed
	$(PY) scripts/devservices.py faults -- $(ARGS)

# Past one machine, on this one: PostgreSQL + replica, PgBouncer, Redis + Sentinels, HAProxy, two of each
# process, under the load mix while one of each dies and Redis fails over (scripts/scale.py; docs/scaling.md).
scale: $(VENV)/.installed
	$(PY) scripts/devservices.py scale -- $(ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-migrations: $(VENV)/.installed
	$(PY) scripts/devservices.py manage makemigrations --check --dry-run

clean-dev:
	rm -rf .dev
