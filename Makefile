# cityops — `make run` starts the demo city; `make test` runs the whole suite (SQLite, then PostgreSQL).
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
test: install-test chromium
	@status=0; \
	$(MAKE) --no-print-directory lint-only || status=1; \
	$(MAKE) --no-print-directory test-sqlite || status=1; \
	$(MAKE) --no-print-directory test-postgres || status=1; \
	exit $$status

lint-only:
	$(BIN)/ruff check .

test-sqlite:
	env -u DATABASE_URL $(BIN)/python -m pytest -q

test-postgres:
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -q --create-db; \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL at $(PG_URL) is not reachable and CI=true: failing"; exit 1; \
	else echo "PostgreSQL not reachable at $(PG_URL): PostgreSQL run skipped (CI=true makes this an error)"; fi

bench: install-test
	$(BIN)/python bench/transition.py
	$(BIN)/python bench/locate.py

# The whole OpenAPI document fuzzed on PostgreSQL, as admin and as a resident (the suite runs it with fewer examples).
fuzz: install-test
	DATABASE_URL=$(PG_URL) CITYOPS_FUZZ_EXAMPLES=$${CITYOPS_FUZZ_EXAMPLES:-50} $(BIN)/python -m pytest -q -p no:cacheprovider --create-db tests/test_api_fuzz.py

messages:
	cd src/cityops && ../../$(BIN)/cityops makemessages -l en --no-obsolete && ../../$(BIN)/cityops compilemessages

clean:
	rm -rf $(VENV) var
