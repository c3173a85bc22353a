#!/usr/bin/env bash
# Temporal/edge evidence (docs/video.md): the plain student and four variants with the same
# schedule and seeds, each then scored on the synthetic test clips without and with the `smooth`
# post-processing preset (IoU, boundary F, dtSSD, TC), paired against the plain student of the
# same seed.
#
#   bash scripts/video_evidence.sh                       # 5 variants x seeds 42 43 44, then the table
#   SEEDS="42" VARIANTS="student temporal" bash scripts/video_evidence.sh
#   EPOCHS=6 TRAIN_LENGTH=3000 bash scripts/video_evidence.sh   # the results.md schedule (~2x longer)
#   EXTRA="trainer=gpu" bash scripts/video_evidence.sh   # extra Hydra overrides for every run
#
# Variants (each a task_name of its own under logs/video_evidence/):
#   student          experiment=student                       (no temporal or edge term)
#   temporal         + loss_terms=[temporal]                  (perturbation consistency)
#   temporal_frames  + loss_terms=[temporal_frames]           (consecutive synthetic frames)
#   temporal_w10     + loss_terms=[temporal], weight 10       (diagnostic: is weight 1 too low?)
#   temporal_strong  + loss_terms=[temporal], a perturbation twice as strong (diagnostic: is the
#                    perturbation too weak for moving clips?)
#   temporal_frames_w2  + loss_terms=[temporal_frames], weight 2 (diagnostic: is 0.5 too low?)
#   temporal_frames_w5  + loss_terms=[temporal_frames], weight 5 (diagnostic: and higher still?)
#   edge             + loss_terms=[edge]                      (edge branch + edge loss)
#   full             experiment=full                          (pixel + attention KD, edge, temporal)
# The default schedule (3 epochs over 2,000 training frames) is a third of results.md's, so that
# all 15 runs fit in about an hour on a 2-core CPU; every variant gets the same one.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SEEDS=${SEEDS:-"42 43 44"}
VARIANTS=${VARIANTS:-"student temporal temporal_frames edge full"}
EPOCHS=${EPOCHS:-3}
TRAIN_LENGTH=${TRAIN_LENGTH:-2000}
EXTRA=${EXTRA:-}
ROOT=${ROOT:-$PWD/logs/video_evidence}  # where the runs go (absolute)
# temporal_strong: every range of configs/loss_terms/temporal.yaml doubled (blur sigma 1 -> 2)
P=loss.perturbation
STRONG="$P.max_translate=0.06 $P.max_rotate_deg=6 $P.max_scale=0.1 $P.brightness=0.2 $P.contrast=0.2"
STRONG+=" $P.saturation=0.2 $P.noise_std=0.04 $P.blur_prob=0.6 $P.blur_sigma=2.0"
overrides() {
  case "$1" in
    student) echo "experiment=student" ;;
    temporal) echo "experiment=student +loss_terms=[temporal]" ;;
    temporal_frames) echo "experiment=student +loss_terms=[temporal_frames]" ;;
    temporal_w10) echo "experiment=student +loss_terms=[temporal] loss.terms.temporal.weight=10" ;;
    temporal_strong) echo "experiment=student +loss_terms=[temporal] $STRONG" ;;
    temporal_frames_w2) echo "experiment=student +loss_terms=[temporal_frames] loss.terms.temporal_frames.weight=2" ;;
    temporal_frames_w5) echo "experiment=student +loss_terms=[temporal_frames] loss.terms.temporal_frames.weight=5" ;;
    edge) echo "experiment=student +loss_terms=[edge]" ;;
    full) echo "experiment=full" ;;
    *) echo "video_evidence: unknown variant '$1'" >&2; exit 2 ;;
  esac
}
for seed in $SEEDS; do
  for variant in $VARIANTS; do
    if [ -z "${FORCE:-}" ]; then  # a finished run of this variant and seed exists: skip it
      for d in "$ROOT/$variant"/*/; do
        if [ -f "$d/metrics.json" ] && grep -qs "^seed: $seed$" "$d/.hydra/config.yaml"; then
          echo "skip $variant seed=$seed: done in $d"; continue 2
        fi
      done
    fi
    echo "=== $variant seed=$seed ($(date -u +%H:%M:%S))"
    # shellcheck disable=SC2086
    $PY train.py $(overrides "$variant") task_name="$variant" seed="$seed" \
      paths.log_dir="$ROOT" trainer.max_epochs="$EPOCHS" data.train.length="$TRAIN_LENGTH" \
      callbacks.progress_bar=null $EXTRA
  done
done
