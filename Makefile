# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv and installs when needed;
# the install stamp is keyed on the hash of pyproject.toml and constraints.txt (the pinned versions), so a
# no-op re-run costs well under 5 s.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install demo test test-fast lint dev bench postgres clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.stamp-*
	@touch $@

demo: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/python scripts/demo.py

test: $(STAMP) postgres
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

dev: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/python scripts/dev.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# PostgreSQL for the storage suite: start it if it is down (CI must test on it as well as SQLite).
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	  pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL at 127.0.0.1:5432 is down and could not be started" >&2; \
	    [ "$$CI" != "true" ] || exit 1; }; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
