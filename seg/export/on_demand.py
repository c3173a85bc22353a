"""Export a finished run or a weights file on demand (the library side of ``scripts/export.py``).

The frames for verification, calibration and scoring come from the run's own data config
(``<run>/.hydra/config.yaml``) or, for a bare weights file, from the built-in synthetic splits at
the size it was trained at; overrides (``data=folder data.root=...``, ``data.val.length=64``)
choose others, as for evaluation (:func:`seg.config.data_config`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from seg.build import build_datamodule
from seg.config import data_config
from seg.export.exporter import ExportSettings, export_student, frame_chunks, frames_from
from seg.export.onnx import config_hash
from seg.inference import find_weights
from seg.models.weights import load_model


def export_model_file(
    source: str | Path,
    overrides: Sequence[str] = (),
    *,
    settings: ExportSettings | None = None,
    output: str | Path | None = None,
    test_frames: int | None = None,
) -> dict[str, Any]:
    """Export the weights of a run dir, ``student.pt`` or ``.ckpt``: verified ONNX, INT8, scores.

    Args:
        source: Run dir, weights file or Lightning checkpoint.
        overrides: Config overrides for the frames (e.g. ``data.val.length=64``).
        settings: Export settings; ``filename`` is taken from ``output`` when given.
        output: The fp32 ``.onnx`` path (default: ``student.onnx`` in the run dir or next to the
            weights).
        test_frames: Test frames to score (None: the whole split).

    Returns:
        The export report (also ``export.json`` next to the graph).
    """
    weights, run_dir = find_weights(source)
    net = load_model(weights)
    meta = getattr(net, "seg_metadata", {}) or {}
    trained = meta.get("input_size") or [144, 256]
    cfg = data_config(run_dir, int(trained[0]), int(trained[1]), overrides)
    datamodule = build_datamodule(cfg)
    settings = settings or ExportSettings()
    if output is not None:
        settings = dataclasses.replace(settings, filename=Path(output).name)
    val_frames, _ = frames_from(
        datamodule.prepared_split("val"), max(settings.verify_frames, settings.calibration_frames)
    )
    metrics = meta.get("metrics") or {}
    if run_dir is not None and (run_dir / "metrics.json").is_file():
        metrics = json.loads((run_dir / "metrics.json").read_text())
    metadata = {
        "config_hash": meta.get("config_hash")
        # runs from before config hashes were stored: the saved config as written (it holds
        # ${hydra:...} interpolations that only resolve inside a Hydra run)
        or (config_hash(OmegaConf.to_container(cfg, resolve=False)) if run_dir else None),
        "model": net.seg_model_config.get("_target_"),
        "model_config": net.seg_model_config,
        "pretrained": meta.get("pretrained"),
        "weights": str(weights),
        "test_iou": metrics.get("test/iou"),
        "test_boundary_f": metrics.get("test/boundary_f"),
    }
    if metadata["test_iou"] is not None and (settings.height or settings.width):
        metadata["test_iou_note"] = f"test/iou was measured at the training size {trained}"
    if output is not None:
        out_dir = Path(output).parent
    else:
        out_dir = weights.parent.parent if weights.parent.name == "checkpoints" else weights.parent
    return export_student(
        net,
        out_dir,
        val_frames,
        settings=settings,
        test_chunks=frame_chunks(datamodule.prepared_split("test"), test_frames),
        metadata=metadata,
    )
