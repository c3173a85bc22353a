# seg — the README's two commands: `make train` and `make test`. Both install first if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.DEFAULT_GOAL := help
.PHONY: help install train teacher student test test-all lint format bench-data bench-real-data bench-losses peers benchmark evidence badcase-evidence bench-video video-evidence clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

# torch and torchvision come from PyPI (their builds run on CPU and GPU alike). A CPU-only torch
# wheel from elsewhere breaks torchvision, which timm and smp import: the check below catches it.
# torch pulls ~3 GB of wheels: a download cut off midway is retried (pip resumes it), 3 times.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@for i in 1 2 3; do \
		$(BIN)/python -m pip install --progress-bar off --retries 10 -e '.[dev]' && exit 0; \
		echo "make install: pip install failed (attempt $$i of 3)"; sleep 10; \
	done; echo "make install: pip install failed 3 times; check the network and free disk space (torch needs ~6 GB), then run make install again"; exit 1
	$(BIN)/python -c "import torch, torchvision, timm, segmentation_models_pytorch, lightning, albumentations; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'cuda', torch.cuda.is_available())"
	@touch $(STAMP)

install:  ## create .venv and install seg with its dev extras
	@rm -f $(STAMP)
	@$(MAKE) --no-print-directory $(STAMP)

train: $(STAMP)  ## the main job: teacher (trained once, cached) -> attention-distilled student (ARGS="...")
	$(BIN)/python train.py experiment=attn_distill $(ARGS)

teacher: $(STAMP)  ## train the teacher alone
	$(BIN)/python train.py experiment=teacher $(ARGS)

student: $(STAMP)  ## train the student alone (no distillation)
	$(BIN)/python train.py experiment=student $(ARGS)

# pytest exits 5 when it collected no test: that is a failure here, with a message saying so.
PYTEST = rc=0; $(BIN)/python -m pytest -q $(1) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test: $(STAMP)  ## fast tests (a few minutes on 2 cores; lists the 15 slowest)
	@$(call PYTEST,--durations=15)

test-all: $(STAMP)  ## every test, the slow ones too
	@$(call PYTEST,-m "slow or not slow")

lint: $(STAMP)  ## ruff lint + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)  ## ruff autofix + format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-losses: $(STAMP)  ## time and memory of each KD/aux loss term -> docs/loss_benchmark.md
	$(BIN)/python scripts/bench_losses.py $(ARGS)

peers: $(STAMP)  ## fetch the MediaPipe selfie segmentation models -> data/peers/mediapipe/ (+ ai-edge-litert)
	bash scripts/fetch_peers.sh $(BIN)/python data/peers/mediapipe

benchmark: $(STAMP)  ## latency of the students vs MediaPipe -> docs/benchmarks.md (ARGS="--model NAME=PATH ...")
	$(BIN)/python scripts/benchmark.py $(ARGS)

evidence: $(STAMP)  ## distillation evidence: 5 variants x 3 seeds, then a mean ± std table (hours on CPU)
	PY=$(BIN)/python bash scripts/distill_evidence.sh

bench-video: $(STAMP)  ## end-to-end latency of the video path vs MediaPipe at 640x480 and 1280x720 -> docs/video.md (needs make peers)
	$(BIN)/python scripts/bench_video.py $(ARGS)

video-evidence: $(STAMP)  ## temporal/edge evidence: 5 variants x 3 seeds, scored on clips with and without smoothing (~2 h on CPU)
	PY=$(BIN)/python bash scripts/video_evidence.sh
	$(BIN)/python scripts/video_evidence_table.py --archive docs/evidence/video

badcase-evidence: $(STAMP)  ## closed loop: mine each student's badcases, retrain with them, compare (~30 min)
	PY=$(BIN)/python bash scripts/badcase_evidence.sh

bench-data: $(STAMP)  ## data pipeline frames/s -> docs/data_pipeline.md
	$(BIN)/python scripts/bench_data.py

bench-real-data: $(STAMP)  ## real photos: check pass and loading throughput -> docs/real_data_pipeline.md
	$(BIN)/python scripts/bench_real_data.py

clean:  ## remove caches, cached teachers and run outputs (keeps .venv)
	rm -rf logs outputs multirun data/cache checkpoints .pytest_cache .ruff_cache
