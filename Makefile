# steadystate — every entry point a person or CI uses. `make help` lists them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
# Every command target passes ARGS through to its tool, e.g. make check ARGS=--json.
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv check test docs lint format

help:  ## list the targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

# The virtualenv is rebuilt whenever a requirements file changes; each step prints a line and pip
# lists what it installs (no --quiet), so a first run that takes minutes shows where it is. mk/python-check.sh refuses a
# Python older than 3.11 and removes a $(VENV) that another Python version made.
$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt app/requirements.txt
	@sh mk/python-check.sh "$(PYTHON)" "$(VENV)"
	@echo "venv 1/3: creating $(VENV) with $(PYTHON)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "venv 2/3: upgrading pip"
	$(PY) -m pip install --quiet --upgrade pip
	@echo "venv 3/3: installing requirements-dev.txt (program, policy pack, app, tools); pip names each package, a few minutes the first time"
	$(PY) -m pip install -r requirements-dev.txt
	@# the tools run as `python -m ops...` from any directory with this venv's python
	$(PY) -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_path("purelib"), "steadystate.pth").write_text("$(CURDIR)\n")'
	touch $@
	@echo "venv: $(VENV) is ready"

venv: $(VENV)/.installed  ## create .venv with the pinned requirements

check: $(VENV)/.installed  ## synthesize STACK (dev|prod) offline under mocks and judge it with the policy pack
	$(PY) -m ops.gate.check --stack $(STACK) $(ARGS)

test: $(VENV)/.installed  ## run the whole test suite on every core, measuring coverage (per-package table, fails under the floor); lists why tests were skipped
	@$(PY) -m coverage erase
	$(PY) -m coverage run -m pytest -q -rs -n auto $(ARGS)
	@$(PY) -m coverage combine -q
	@$(PY) mk/coverage_packages.py
	@printf 'coverage total (floor: fail_under in pyproject.toml): '
	@$(PY) -m coverage report --format=total --precision=1

# mkdocs without --quiet: --quiet hides the warnings that --strict counts, and the build would pass.
docs: $(VENV)/.installed  ## regenerate the docs' generated pages from the code, then build the site strictly into build/site
	$(PY) -m ops.docs.generate $(ARGS)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# pyright reads pyrightconfig.json; the wheel bundles pyright and runs it on the system node (or
# installs one through nodeenv). IGNORE_WARNINGS skips its "newer version on PyPI" lookup.
lint: $(VENV)/.installed  ## ruff lint + format check, then pyright (standard mode) over the program
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYRIGHT_PYTHON_IGNORE_WARNINGS=1 $(VENV)/bin/pyright

format: $(VENV)/.installed  ## apply ruff formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

-include mk/*.mk
