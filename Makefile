# Two entry points, each creating or reusing .venv at the repository root:
#   make demo   grade a demo class end to end with the real nbgrader commands
#   make test   run the test suite (what CI runs), on every core (pytest-xdist)
#   make test-fast  the tests marked neither slow nor whole-corpus (about 2.5 minutes): the edit loop
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# nbgrader runs some of its tools (alembic) by name, so the venv's bin goes first on PATH.
RUN := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

.PHONY: demo test test-fast

$(INSTALLED): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

demo: $(INSTALLED)
	$(RUN) $(VENV)/bin/autograder demo --dir demo

# Tests sharing a module-scoped fixture stay on one worker (tests/conftest.py); the rest spread.
XDIST := -n auto --dist loadgroup

test: $(INSTALLED)
	$(RUN) $(PYTHON) -m pytest $(XDIST) -rfE --durations=25

test-fast: $(INSTALLED)
	$(RUN) $(PYTHON) -m pytest $(XDIST) -m "not slow" --durations=10
