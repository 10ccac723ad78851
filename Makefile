# The two set-up commands of the README:
#   make run    installs layerscope and opens the desktop app on the bundled sample archive
#   make test   installs layerscope with its test tools and runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench screenshots system-deps clean

system-deps:
	@./scripts/install-system-deps.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

run: system-deps $(VENV)/.installed
	$(BIN)/layerscope open --sample

test: system-deps $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy layerscope

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/report_speed.py

screenshots: system-deps $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
