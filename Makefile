# Two commands on a fresh machine: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_OUT ?= demo-build

.PHONY: install chromium demo test bench clean

install: $(VENV)/.installed chromium

# The report's browser tests drive the system Chromium (Debian packages; nothing is downloaded at run time).
# Skipped when both are already there; needs root (or sudo) otherwise.
chromium:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	else echo "chromium/chromedriver missing and no apt-get: the report's browser tests will be skipped"; fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,train]"
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
