"""Files of an evaluation: ``per_image.csv``, ``summary.json`` and ``worst_cases.png``."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from torch.utils.data import Dataset

from seg.callbacks.previews import contact_sheet
from seg.eval.predict import Predictor
from seg.eval.scoring import ImageScore, attribute_columns

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


def model_info(predictor: Predictor) -> dict[str, Any]:
    """What the summary and the model card say about the model."""
    meta = predictor.metadata
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    return {
        "name": predictor.name,
        "kind": predictor.kind,
        "path": str(predictor.path),
        "run_dir": None if predictor.run_dir is None else str(predictor.run_dir),
        "input_size": [predictor.height, predictor.width],
        "threshold": predictor.threshold,
        "params": predictor.params,
        "config_hash": meta.get("config_hash"),
        "architecture": meta.get("model") or (meta.get("model_config") or {}).get("_target_"),
        "task_name": meta.get("task_name"),
        "training_test_iou": meta.get("test_iou", metrics.get("test/iou")),
    }


def write_summary(summary: dict[str, Any], path: str | Path) -> Path:
    """Write ``summary.json`` (sorted keys, indented)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    return path


def _label_strip(text: str, width: int) -> np.ndarray:
    """A white strip as wide as a sheet row with ``text`` in black."""
    scale = max(0.35, min(0.8, width / 1100))
    thickness = 1
    (_, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    strip = np.full((text_h + baseline + 6, width, 3), 255, np.uint8)
    cv2.putText(
        strip,
        text,
        (3, text_h + 3),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (0, 0, 0),
        thickness,
        cv2.LINE_AA,
    )
    return strip


def worst_cases(scores: Sequence[ImageScore], count: int) -> list[ImageScore]:
    """The ``count`` lowest-IoU scores, worst first (ties by index)."""
    return sorted(scores, key=lambda s: (s.iou, s.index))[: max(0, count)]


def worst_cases_sheet(
    predictor: Predictor,
    dataset: Dataset,
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
    images = np.stack([np.asarray(s["image"], dtype=np.float32) for s in samples])
    masks = np.stack([np.asarray(s["mask"], dtype=np.float32)[0] for s in samples])
    probs = predictor(images)[:, 0]
    rgb = (images.transpose(0, 2, 3, 1) * 255).round().clip(0, 255).astype(np.uint8)
    rows = []
    for k, score in enumerate(chosen):
        row = contact_sheet(
            rgb[k : k + 1],
            (masks[k : k + 1] >= 0.5).astype(np.uint8),
            probs[k : k + 1],
            predictor.threshold,
        )
        text = f"#{k + 1} {score.id}  IoU {score.iou:.3f}  BF {score.boundary_f:.3f}"
        rows.append(np.concatenate([_label_strip(text, row.shape[1]), row]))
    gap = np.full((4, rows[0].shape[1], 3), 255, np.uint8)
    sheet = np.concatenate([part for row in rows for part in (row, gap)][:-1])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise OSError(f"Could not write {path}; check the folder is writable.")
    return path
