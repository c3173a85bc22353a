#!/usr/bin/env bash
# Distillation evidence (docs/results.md): every variant with the same schedule, several seeds, then a
# mean ± std table. The first distillation run trains and caches the teacher (experiment=teacher
# settings); every later offline run reuses it, so all students learn from the same teacher.
#
#   bash scripts/distill_evidence.sh                      # 5 variants x seeds 42 43 44 (~3 h on 2 CPU cores)
#   SEEDS="42" VARIANTS="student attn_distill" bash scripts/distill_evidence.sh
#   EXTRA="trainer=gpu" bash scripts/distill_evidence.sh  # extra Hydra overrides for every run
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SEEDS=${SEEDS:-"42 43 44"}
VARIANTS=${VARIANTS:-"attn_distill student pixel_distill affinity_distill online_distill"}
EXTRA=${EXTRA:-}
for seed in $SEEDS; do
  for variant in $VARIANTS; do
    if [ -z "${FORCE:-}" ]; then  # a finished run of this variant and seed exists: skip it
      for d in logs/"$variant"/*/; do
        if [ -f "$d/metrics.json" ] && grep -qs "^seed: $seed$" "$d/.hydra/config.yaml"; then
          echo "skip $variant seed=$seed: done in $d"; continue 2
        fi
      done
    fi
    echo "=== $variant seed=$seed ($(date -u +%H:%M:%S))"
    # shellcheck disable=SC2086
    $PY train.py experiment="$variant" seed="$seed" callbacks.progress_bar=null $EXTRA
  done
done
$PY scripts/compare_runs.py logs/{student,pixel_distill,attn_distill,affinity_distill,online_distill}/* \
  --metrics test/iou test/boundary_f val/iou time/fit_s --skip-unfinished
