# Zvonok: `make serve` runs the embedded default, `make test` runs every check.
# Both set themselves up from a fresh clone: the virtual environment is made
# and refreshed whenever pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CODE   := server signaling media tests $(wildcard bench)

.PHONY: serve test lint typecheck pytest schema clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

serve: $(STAMP)
	$(BIN)/zvonok serve

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

# The JSON Schema (schema/zvonok.schema.json) and the docs' generated tables,
# from the message registry and the error catalogue; a test fails when stale.
schema: $(STAMP)
	$(BIN)/python -m signaling.export

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
