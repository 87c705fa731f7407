# The two commands of the README's quick start, and the checks CI runs.
PYTHON ?= python
PIP := $(PYTHON) -m pip
PLUGINS := $(sort $(wildcard plugins/ganloss-*))

.PHONY: install install-test run test test-wheels lint typecheck check

install:  ## the core and every plugin, editable
	$(PIP) install -q -e . $(addprefix -e ,$(PLUGINS))

# In two steps: pip (23.x) cannot satisfy one plugin's requirement on another
# (ganloss-diffusion needs ganloss-pixelwise) from an editable path that carries
# extras, so the packages are installed first and their extras added after.
install-test: install  ## the same, with the test extras (and MkDocs, for the strict docs build test)
	$(PIP) install -q -e '.[test,docs]' $(foreach p,$(PLUGINS),-e '$(p)[test]')

# The command through the interpreter, not the `ganloss` script: `make run
# PYTHON=venv/bin/python` works without activating the venv (its bin/ is not on PATH).
# RUN_ARGS: options for the job, e.g. RUN_ARGS='--steps 200 --out /tmp/tb'.
RUN_ARGS ?=
run: install  ## the main job
	$(PYTHON) -m ganlosscore toybench $(RUN_ARGS)

test: install-test  ## every test: the core's and every plugin's
	$(PYTHON) -m pytest --import-mode=importlib -p no:cacheprovider tests $(addsuffix /tests,$(PLUGINS))

test-wheels:  ## build every sdist and wheel, install only the wheels in a fresh venv, test that
	scripts/test-wheels.sh

lint:
	ruff check .
	ruff format --check .
	lint-imports

typecheck:
	mypy ganlosscore plugins/*/src

check: test test-wheels lint typecheck
