# Zvonok: `make serve` runs the embedded default, `make test` runs every check.
# Both set themselves up from a fresh clone: the virtual environment is made
# and refreshed whenever pyproject.toml changes, web/node_modules whenever
# web/package-lock.json does (`npm ci`), and the web client (web/dist) is
# rebuilt whenever one of its sources changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CODE   := server signaling media tests $(wildcard bench)
NPM_STAMP := web/node_modules/.installed
WEB_SRC   := $(shell find web/src -type f) web/build.mjs web/tsconfig.json
WEB_DIST  := web/dist/index.html

.PHONY: serve test lint typecheck pytest web schema clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# Playwright's browsers are never downloaded: the tests drive Debian's chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

$(NPM_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $(NPM_STAMP)

$(WEB_DIST): $(NPM_STAMP) $(WEB_SRC)
	cd web && node build.mjs

web: $(WEB_DIST)

serve: $(STAMP) $(WEB_DIST)
	$(BIN)/zvonok serve

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

typecheck: $(STAMP) $(NPM_STAMP)
	$(BIN)/mypy
	cd web && ./node_modules/.bin/tsc --noEmit -p .

pytest: $(STAMP) $(WEB_DIST)
	$(BIN)/python -m pytest

# The JSON Schema (schema/zvonok.schema.json), the web client's TypeScript
# declarations (web/src/generated/protocol.ts) and the docs' generated tables,
# from the message registry and the error catalogue; a test fails when stale.
schema: $(STAMP)
	$(BIN)/python -m signaling.export

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache web/node_modules web/dist
