# The two set-up commands of the README:
#   make run    installs layerscope and opens the desktop app on the bundled sample archive
#   make test   installs layerscope with its test tools and runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# One worker per core: the suite is CPU-bound and the GUI tests are safe in parallel (offscreen,
# settings in a temporary folder); worksteal keeps them busy around the few long tests.
PYTEST_WORKERS ?= auto

.PHONY: run test lint bench screenshots system-deps clean

system-deps:
	@./scripts/install-system-deps.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

# `run` needs only the runtime dependencies; `test` adds the test and lint tools.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test]'
	@touch $@ $(VENV)/.installed-run

run: system-deps $(VENV)/.installed-run
	$(BIN)/layerscope open --sample

test: system-deps $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy layerscope

bench: $(VENV)/.installed-run
	$(BIN)/python benchmarks/report_speed.py

screenshots: system-deps $(VENV)/.installed-run
	QT_QPA_PLATFORM=offscreen $(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
