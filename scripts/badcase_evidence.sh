#!/usr/bin/env bash
# Does the closed loop help? For each seed: the student run (experiment=student; trained here when
# logs/student has none for that seed), its TOP worst train samples mined with
# scripts/mine_badcases.py, the same recipe and seed retrained with those badcases drawn WEIGHT x
# as often, and both runs evaluated on the test split with scripts/evaluate.py (model card with
# the per-attribute breakdown). Results: docs/closed_loop.md.
#
#   bash scripts/badcase_evidence.sh                 # seeds 42 43 44, top 300 of 3000, weight 4 (~30 min on 2 cores)
#   SEEDS="42" TOP=150 WEIGHT=2 bash scripts/badcase_evidence.sh   # runs go to logs/badcase_retrain_w<WEIGHT>
#   LOGS=/elsewhere/logs bash scripts/badcase_evidence.sh   # where the baseline student runs are
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SEEDS=${SEEDS:-"42 43 44"}
TOP=${TOP:-300}
WEIGHT=${WEIGHT:-4}
LOGS=${LOGS:-logs}
EXTRA=${EXTRA:-}
find_run() {  # find_run <task dir> <seed>: a finished run of that seed
  for d in "$1"/*/; do
    if [ -f "$d/metrics.json" ] && grep -qs "^seed: $2$" "$d/.hydra/config.yaml"; then
      echo "${d%/}"; return 0
    fi
  done
  return 1
}
for seed in $SEEDS; do
  base=$(find_run "$LOGS/student" "$seed") || {
    echo "=== student seed=$seed ($(date -u +%H:%M:%S))"
    # shellcheck disable=SC2086
    $PY train.py experiment=student seed="$seed" callbacks.progress_bar=null $EXTRA
    base=$(find_run logs/student "$seed")
  }
  mined="logs/badcases/student_s$seed"
  if [ ! -f "$mined/badcases.csv" ]; then
    echo "=== mine $base ($(date -u +%H:%M:%S))"
    $PY scripts/mine_badcases.py "$base" --split train --top "$TOP" --output "$mined"
  fi
  retrain=$(find_run "logs/badcase_retrain_w$WEIGHT" "$seed") || {
    echo "=== retrain seed=$seed with $mined/badcases.csv x$WEIGHT ($(date -u +%H:%M:%S))"
    # shellcheck disable=SC2086
    $PY train.py experiment=student seed="$seed" task_name="badcase_retrain_w$WEIGHT" \
      data.badcases="$PWD/$mined/badcases.csv" data.badcase_weight="$WEIGHT" \
      callbacks.progress_bar=null $EXTRA
    retrain=$(find_run "logs/badcase_retrain_w$WEIGHT" "$seed")
  }
  for run in "$base" "$retrain"; do
    [ -f "$run/eval-test/summary.json" ] || $PY scripts/evaluate.py "$run" --no-latency
  done
done
$PY scripts/compare_runs.py "$LOGS"/student/* logs/badcase_retrain_w*/* --skip-unfinished \
  --metrics test/iou test/boundary_f group/lighting/low_light group/hands/two group/skin_tone/worst
