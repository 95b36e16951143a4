# The two commands in the README: `make demo` (main job) and `make test` (test suite).
# Both create .venv with a Python >= 3.12 found by scripts/find-python (pyenv included).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml
	@python=$$(scripts/find-python) || exit 1; \
	  echo "Using $$python ($$($$python --version))"; \
	  $$python -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(STAMP)
	$(PY) examples/compare_regimes.py

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(STAMP)
	$(PY) benchmarks/bench_municipality.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache
