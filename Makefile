# cityops — `make run` starts the demo city; `make test` runs the whole suite (SQLite and PostgreSQL side by side).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
PG_URL ?= postgres://postgres@127.0.0.1:5432/cityops
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: install install-test run demo test test-sqlite test-postgres lint lint-only chromium fonts bench fuzz messages clean

$(BIN)/uv:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(BIN)/uv fonts
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .

install-test: $(BIN)/uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements-test.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .

demo: install
	$(BIN)/cityops migrate --no-input
	$(BIN)/cityops load_demo

# `make run PORT=8001` serves on another port (or set CITYOPS_BIND=HOST:PORT).
run: demo
	$(BIN)/cityops run $(if $(PORT),--bind $(or $(CITYOPS_BIND_HOST),127.0.0.1):$(PORT))

# Debian's chromium drives the browser tests (never `playwright install`), with a CJK font (Noto Sans/Serif CJK)
# so that screenshots show Chinese, not boxes.
chromium: fonts
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# PDF documents (core/pdf.py, WeasyPrint on Pango) embed Debian's Noto CJK font, found through fontconfig. Without
# root (or apt) this only warns: the system check cityops.W011 says so again, and the PDF tests fail.
fonts:
	@if ! fc-list 2>/dev/null | grep -q "Noto S[a-z]* CJK" || ! (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null) | grep -q libpangoft2-1.0; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk fontconfig libpango-1.0-0 libpangoft2-1.0-0 >/dev/null) \
		|| echo "fonts: could not install fonts-noto-cjk (root needed): PDF documents will have no Chinese font"; \
	fi

lint: install-test
	$(BIN)/ruff check .

# Lint and both databases always run, so one report shows every problem; any failure fails the target.
# The SQLite and the PostgreSQL suites run side by side (one process per core; TEST_PARALLEL=0 runs them one after
# the other): each has its own test database (named after its process), its own data directory (media, private
# files, hotline model: TEST_DATA_DIR; the PostgreSQL run's screenshots go there too, SQLite's to screenshots/), its
# own Redis keys (named after the database), MQTT broker and free ports.
# SQLite's output comes as it runs, PostgreSQL's in one piece when it is done, then one line per database.
TEST_PARALLEL ?= 1
TEST_DATA_DIR ?= $(CURDIR)/var/test
test: install-test chromium
	@status=0; \
	$(MAKE) --no-print-directory lint-only || status=1; \
	if [ "$(TEST_PARALLEL)" = "0" ]; then \
		$(MAKE) --no-print-directory test-sqlite && sqlite=passed || { sqlite=FAILED; status=1; }; \
		$(MAKE) --no-print-directory test-postgres && pg=passed || { pg=FAILED; status=1; }; \
	else \
		pglog=$$(mktemp -t cityops-test-postgres.XXXXXX); \
		$(MAKE) --no-print-directory test-postgres >"$$pglog" 2>&1 & pgjob=$$!; \
		trap 'kill $$pgjob 2>/dev/null' INT TERM; \
		$(MAKE) --no-print-directory test-sqlite && sqlite=passed || { sqlite=FAILED; status=1; }; \
		wait $$pgjob && pg=passed || { pg=FAILED; status=1; }; \
		echo; echo "=============================== PostgreSQL run ==============================="; \
		cat "$$pglog"; rm -f "$$pglog"; \
	fi; \
	echo; echo "make test: SQLite $$sqlite, PostgreSQL $$pg"; \
	exit $$status

lint-only:
	$(BIN)/ruff check .

test-sqlite:
	env -u DATABASE_URL CITYOPS_DATA_DIR=$(TEST_DATA_DIR)/sqlite $(BIN)/python -m pytest -q

test-postgres:
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		DATABASE_URL=$(PG_URL) CITYOPS_DATA_DIR=$(TEST_DATA_DIR)/postgres CITYOPS_SCREENSHOTS=$(TEST_DATA_DIR)/postgres/screenshots \
			$(BIN)/python -m pytest -q --create-db; \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL at $(PG_URL) is not reachable and CI=true: failing"; exit 1; \
	else echo "PostgreSQL not reachable at $(PG_URL): PostgreSQL run skipped (CI=true makes this an error)"; fi

bench: install-test
	$(BIN)/python bench/transition.py
	$(BIN)/python bench/locate.py

# The whole OpenAPI document fuzzed on PostgreSQL, as admin and as a resident, and the workflow state machines with
# CITYOPS_FUZZ_SCALE times their budget (the suite runs both with fewer examples: core/tests/budget.py).
FUZZ_MACHINES := src/cityops/cases/tests/test_state_machine.py src/cityops/core/tests/test_workflow_machine.py \
	src/cityops/disputes/tests/test_lifecycle.py src/cityops/stability/tests/test_state_machine.py
fuzz: install-test
	DATABASE_URL=$(PG_URL) CITYOPS_FUZZ_EXAMPLES=$${CITYOPS_FUZZ_EXAMPLES:-50} CITYOPS_FUZZ_SCALE=$${CITYOPS_FUZZ_SCALE:-4} \
		$(BIN)/python -m pytest -q -p no:cacheprovider --create-db --timeout=0 tests/test_api_fuzz.py $(FUZZ_MACHINES)

messages:
	cd src/cityops && ../../$(BIN)/cityops makemessages -l en --no-obsolete && ../../$(BIN)/cityops compilemessages

clean:
	rm -rf $(VENV) var
