# The two commands of the README's quick start, and the checks CI runs.
PYTHON ?= python
PIP := $(PYTHON) -m pip
PLUGINS := $(sort $(wildcard plugins/ganloss-*))

.PHONY: install install-test run test lint typecheck check

install:  ## the core and every plugin, editable
	$(PIP) install -q -e . $(addprefix -e ,$(PLUGINS))

install-test:  ## the same, with the test extras
	$(PIP) install -q -e '.[test]' $(foreach p,$(PLUGINS),-e '$(p)[test]')

run: install  ## the main job
	ganloss toybench

test: install-test  ## every test: the core's and every plugin's
	$(PYTHON) -m pytest --import-mode=importlib -p no:cacheprovider tests $(addsuffix /tests,$(PLUGINS))

lint:
	ruff check .
	ruff format --check .

typecheck:
	mypy ganlosscore

check: test lint typecheck
