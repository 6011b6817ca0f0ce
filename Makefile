# `make demo` and `make test` each build .venv on first use, then run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test benchmarks mini clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# The CPU build of PyTorch first: a looser requirement would pull a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/digitlab demo

test: $(STAMP)
	$(PY) -m pytest -q

benchmarks: $(STAMP)
	$(PY) benchmarks/knn.py

# Rebuild the shipped subset from full MNIST (needs DIGITLAB_DATA or a download).
mini: $(STAMP)
	$(PY) scripts/build_mini.py

clean:
	rm -rf $(VENV) runs .pytest_cache
