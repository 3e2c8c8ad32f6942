# Two commands do all the set-up (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.installed $(VENV)/.cwalk

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.cwalk

# The C extension (hatch_build.py: the compiled walks and passes) is built beside its source by the editable install: again
# whenever its source or the hook changes, so that tests never run a stale build.
$(VENV)/.cwalk: src/parity/normalize/_cwalk.c hatch_build.py | $(VENV)/.installed
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

demo: setup
	$(BIN)/parity demo

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: setup
	sh bench/run

clean:
	rm -rf $(VENV) .parity parity-demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
