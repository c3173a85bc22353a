"""Files of an evaluation: ``per_image.csv``, ``summary.json`` and ``worst_cases.png``."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seg.bench.macs import graph_cost
from seg.data import SegDataset
from seg.eval.scoring import ImageScore, attribute_columns
from seg.inference import Predictor, to_frames
from seg.vis import contact_sheet, label_strip, write_rgb

SCORE_COLUMNS = ("index", "id", "iou", "boundary_f", "mae", "fg_true", "fg_pred")


def write_per_image_csv(scores: Sequence[ImageScore], path: str | Path) -> Path:
    """One row per image, sorted by index: the score columns, then every attribute column.

    Args:
        scores: Per-image scores.
        path: Output ``.csv``; parent folders are created.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = attribute_columns(scores)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*SCORE_COLUMNS, *columns])
        for s in sorted(scores, key=lambda s: s.index):
            numbers = [f"{v:.6f}" for v in (s.iou, s.boundary_f, s.mae, s.fg_true, s.fg_pred)]
            writer.writerow([s.index, s.id, *numbers, *(s.attributes.get(c, "") for c in columns)])
    return path


def write_per_clip_csv(clips: Sequence[Any], path: str | Path) -> Path:
    """One row per clip (:class:`seg.eval.clip_scoring.ClipScore`): index, id, frames, iou,
    boundary_f, dtssd, tc, flicker, flip_rate, then every attribute column."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for c in clips for k in c.attributes))
    keys = ("iou", "boundary_f", "dtssd", "tc", "flicker", "flip_rate")
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "id", "frames", *keys, *columns])
        for c in clips:
            numbers = [f"{getattr(c, k):.6f}" for k in keys]
            writer.writerow(
                [c.index, c.id, c.frames, *numbers, *(c.attributes.get(k, "") for k in columns)]
            )
    return path


def model_info(predictor: Predictor) -> dict[str, Any]:
    """What the summary and the model card say about the model."""
    meta = predictor.metadata
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    return {
        **predictor.describe(),
        "run_dir": None if predictor.run_dir is None else str(predictor.run_dir),
        "params": model_params(predictor),
        "config_hash": meta.get("config_hash"),
        "architecture": meta.get("model") or (meta.get("model_config") or {}).get("_target_"),
        "task_name": meta.get("task_name"),
        "training_test_iou": meta.get("test_iou", metrics.get("test/iou")),
        "pretrained": meta.get("pretrained"),
    }


def model_params(predictor: Predictor) -> int | None:
    """Parameter count: the PyTorch model's, or for a graph its layers' stored weights as
    :func:`seg.bench.macs.graph_cost` counts them for the benchmark (batch norms folded)."""
    if predictor.params is not None or predictor.kind == "torch":
        return predictor.params
    return graph_cost(predictor.path).params


def write_summary(summary: dict[str, Any], path: str | Path) -> Path:
    """Write ``summary.json`` (sorted keys, indented)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    return path


def worst_cases(scores: Sequence[ImageScore], count: int) -> list[ImageScore]:
    """The ``count`` lowest-IoU scores, worst first (ties by index)."""
    return sorted(scores, key=lambda s: (s.iou, s.index))[: max(0, count)]


def worst_cases_sheet(
    predictor: Predictor,
    dataset: SegDataset,
    scores: Sequence[ImageScore],
    path: str | Path,
    count: int = 12,
) -> Path | None:
    """Contact sheet of the ``count`` worst images by IoU: image | ground truth | prediction |
    errors (false positives red, false negatives blue), each row under a strip with the sample
    id and its IoU. The model is re-run on those images only.

    Returns:
        The path written, or None when there is nothing to show (``count`` 0 or no scores).
    """
    chosen = worst_cases(scores, count)
    if not chosen:
        return None
    samples = [dataset[s.index] for s in chosen]
    rgb = to_frames(np.stack([np.asarray(s["image"], dtype=np.float32) for s in samples]))
    masks = np.stack([np.asarray(s["mask"], dtype=np.float32)[0] for s in samples])
    probs = predictor(rgb)
    rows = []
    for k, score in enumerate(chosen):
        row = contact_sheet(
            rgb[k : k + 1],
            (masks[k : k + 1] >= 0.5).astype(np.uint8),
            probs[k : k + 1],
            predictor.threshold,
        )
        text = f"#{k + 1} {score.id}  IoU {score.iou:.3f}  BF {score.boundary_f:.3f}"
        rows.append(np.concatenate([label_strip(text, row.shape[1]), row]))
    gap = np.full((4, rows[0].shape[1], 3), 255, np.uint8)
    return write_rgb(path, np.concatenate([part for row in rows for part in (row, gap)][:-1]))
