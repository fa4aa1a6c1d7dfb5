# alertsvc: `make run` starts the demo, `make test` runs every test. Both create .venv when missing;
# `make test` also installs what the browser tests need (Debian's chromium, axe-core from npm) when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
CHROMIUM := /usr/bin/chromium
AXE := node_modules/axe-core/axe.min.js
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser-deps postgres postgres-server run cluster test check bench soak screenshots clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser tests drive the system Chromium (never `playwright install`) and inject axe-core.
browser-deps: $(CHROMIUM) $(AXE)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# The PostgreSQL store's tests need a server at ALERTSVC_TEST_DATABASE_URL (default: postgres on
# 127.0.0.1:5432, trust authentication, database `test`). Nothing to do when one answers; otherwise
# install Debian's `postgresql`, start its cluster (pg_ctlcluster: no systemd needed), let 127.0.0.1 in
# without a password (tests only: the first line of pg_hba.conf) and create the `test` database.
AS_POSTGRES := $(if $(SUDO),sudo -u postgres,runuser -u postgres --)
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || $(MAKE) --no-print-directory postgres-server

postgres-server:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
	version=$$(ls /etc/postgresql | sort -V | tail -1); \
	hba=/etc/postgresql/$$version/main/pg_hba.conf; \
	$(SUDO) grep -q '^host all all 127.0.0.1/32 trust' $$hba \
		|| $(SUDO) sed -i '1i host all all 127.0.0.1/32 trust' $$hba; \
	$(SUDO) pg_ctlcluster $$version main start 2>/dev/null || $(SUDO) pg_ctlcluster $$version main reload
	for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
	$(AS_POSTGRES) psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
		|| $(AS_POSTGRES) createdb test

$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
	touch $(AXE)

# `make run` installs only what running needs, quietly (pip's output goes to .venv/install.log and is shown
# only when it fails), so the screen holds the demo's addresses and sign-in link.
$(RUN_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing alertsvc into $(VENV) (log: $(VENV)/install.log)..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -e . >$(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@touch $(RUN_STAMP)

run: $(RUN_STAMP)
	@$(PY) -m alertsvc.demo

# The demo ward on three processes (ports 8001-8003) sharing PostgreSQL (ALERTSVC_DATABASE_URL, default
# the local test server), to watch the timer lease fail over: see alertsvc/cluster_demo.py.
cluster: $(RUN_STAMP) postgres
	@$(PY) -m alertsvc.cluster_demo

# Then every test that starts the service (through tests/web/conftest.py, tests/web/processes.py or the
# `settings` fixture) again on PostgreSQL, a schema of its own per service (tests/postgres.py).
POSTGRES_SUITE := tests/web tests/chaos tests/browser tests/test_knowledge_recheck.py tests/test_foundation.py
test: install browser-deps postgres
	$(PY) -m pytest
	ALERTSVC_TEST_ENGINE=postgres $(PY) -m pytest $(POSTGRES_SUITE)

check: install
	$(VENV)/bin/ruff format --check alertsvc tests bench
	$(VENV)/bin/ruff check alertsvc tests bench
	$(VENV)/bin/mypy

# The simulated hospital runs on SQLite, then on PostgreSQL (ALERTSVC_BENCH_DATABASE_URL, default the local
# test server, in a schema of its own), side by side.
ALERTSVC_BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
bench: install postgres
	ALERTSVC_BENCH_DATABASE_URL='$(ALERTSVC_BENCH_DATABASE_URL)' $(PY) -m bench  # writes BENCHMARKS.md and docs/bench/*.png; `$(PY) -m bench bench.x` runs one module

# Runs too long for CI's budget, at full size; each prints its counts. `make test` runs each reduced:
# schemathesis at 25 examples per operation, stream churn at 200 clients x 3 cycles, kill -9 at 5 runs.
SOAK_ENV := ALERTSVC_SOAK_CLIENTS=1000 ALERTSVC_SOAK_CYCLES=10 ALERTSVC_SCHEMATHESIS_EXAMPLES=300
soak: install
	$(SOAK_ENV) $(PY) -m pytest -s -p no:cacheprovider -k "churn or schemathesis" \
		tests/chaos/test_stream_load.py tests/web/test_openapi.py
	ALERTSVC_KILL_RUNS=25 $(PY) -m pytest tests/web/test_kill_retry.py -s -q -p no:cacheprovider

# The README's pictures, taken by the browser tests (a plain `make test` writes them to a scratch folder).
screenshots: install browser-deps
	ALERTSVC_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q -p no:cacheprovider tests/browser

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis node_modules
