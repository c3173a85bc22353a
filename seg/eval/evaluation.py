"""One evaluation, end to end: load a model, build its data, score it, write the report files.

``scripts/evaluate.py`` is the command line of :func:`evaluate`; the files it writes are described
there and in :mod:`seg.eval.outputs` and :mod:`seg.eval.card`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seg.build import build_datamodule
from seg.config import is_data_choice
from seg.errors import DataError
from seg.eval.card import measure_latency, write_model_card
from seg.eval.clip_scoring import ClipFrames, is_clip_dataset, score_clips, summarize_clips
from seg.eval.data import data_description, eval_config
from seg.eval.outputs import (
    model_info,
    worst_cases_sheet,
    write_per_clip_csv,
    write_per_image_csv,
    write_summary,
)
from seg.eval.scoring import breakdown, score_dataset, summarize
from seg.inference import DEFAULT_RESIZE, Predictor, load_predictor

log = logging.getLogger(__name__)
BAND_PX = 3  # boundary F tolerance, as the training metrics (module.boundary_px)


def default_output(source: Path, predictor: Predictor, split: str) -> Path:
    """``<run dir>/eval-<split>`` when the run is known, else ``<model dir>/eval-<split>``."""
    if predictor.run_dir is not None:
        base = predictor.run_dir
    else:
        base = source if source.is_dir() else predictor.path.parent
    return base / f"eval-{split}"


def evaluate(
    source: str | Path,
    overrides: Sequence[str] = (),
    *,
    split: str = "test",
    output: str | Path | None = None,
    batch_size: int = 16,
    worst: int = 12,
    latency: bool = True,
    max_images: int | None = None,
    min_group: int = 1,
    resize: str = DEFAULT_RESIZE,
    postprocess: Any = None,
    threads: int = 0,
) -> dict[str, Any]:
    """Score a model on a labelled split and write ``per_image.csv``, ``summary.json``,
    ``worst_cases.png`` and ``model_card.md``. On clips (``data=clips``) every frame is scored and
    every clip's stability too (``per_clip.csv``; ``temporal`` in the summary: dtSSD, TC, flicker,
    flip rate, overall and per motion).

    Args:
        source: Run dir, ``student.pt``/``teacher.pt``, ``.ckpt`` or ``.onnx``.
        overrides: Data overrides (``data=folder data.root=...``, ``data.test.length=64``).
        split: ``train``, ``val``, ``test`` or ``all`` (every sample of a real dataset).
        output: Output folder (default: :func:`default_output`).
        batch_size: Frames per model call.
        worst: Rows of ``worst_cases.png`` (0: no sheet).
        latency: Measure the ONNX graph's single-frame latency for the card.
        max_images: Score only the first N images.
        min_group: Smallest attribute group compared in the breakdown.
        resize: How the predictor fits frames of another size (the data is built at its size).
        postprocess: A :class:`seg.postprocess.PostProcessor` applied to the probabilities before
            scoring (run over each clip in order, reset per clip; reset per frame on single
            frames), or None for the raw probabilities.
        threads: Runtime threads of the model (0: the runtime's default).

    Returns:
        The summary written to ``summary.json``.

    Raises:
        SegError: For a missing or unreadable model, bad data or an empty split.
    """
    source = Path(source)
    predictor = load_predictor(source, resize=resize, batch_size=batch_size, threads=threads)
    cfg = eval_config(predictor, overrides)
    dataset = build_datamodule(cfg).prepared_split(split)
    out = Path(output) if output is not None else default_output(source, predictor, split)
    log.info(
        "Evaluating %s (%s, %dx%d) on %s split (%d images)",
        predictor.path,
        predictor.kind,
        predictor.height,
        predictor.width,
        split,
        len(dataset),
    )
    start = time.perf_counter()
    clips = None
    if is_clip_dataset(dataset):
        scores, clips = score_clips(
            predictor, dataset, BAND_PX, postprocess=postprocess, max_clips=max_images
        )
    else:
        scores, _ = score_dataset(
            predictor, dataset, batch_size, BAND_PX, max_images=max_images, postprocess=postprocess
        )
    if not scores:
        raise DataError(f"The '{split}' split is empty; nothing to evaluate.")
    eval_s = time.perf_counter() - start
    files = {
        "per_image": str(write_per_image_csv(scores, out / "per_image.csv")),
        "summary": str(out / "summary.json"),
        "model_card": str(out / "model_card.md"),
    }
    if clips is not None:
        files["per_clip"] = str(write_per_clip_csv(clips, out / "per_clip.csv"))
    frames = ClipFrames(dataset) if clips is not None else dataset
    sheet = worst_cases_sheet(predictor, frames, scores, out / "worst_cases.png", worst)
    if sheet is not None:
        files["worst_cases"] = str(sheet)
    run_config = predictor.run_dir is not None and not any(map(is_data_choice, overrides))
    summary = {
        "model": model_info(predictor),
        "data": {
            **data_description(cfg),
            "config": "run config" if run_config else "configs/train.yaml",
            "overrides": list(overrides),
            "split": split,
            "n": len(scores),
            "split_size": len(dataset),
        },
        "overall": {**summarize(scores), "band_px": BAND_PX},
        "temporal": summarize_clips(clips) if clips is not None else None,
        "postprocess": postprocess.settings() if postprocess is not None else None,
        "breakdown": breakdown(scores, min_group=min_group),
        "latency": measure_latency(predictor) if latency else None,
        "worst_count": min(worst, len(scores)),
        "eval_seconds": round(eval_s, 2),
        "files": files,
    }
    write_summary(summary, files["summary"])
    write_model_card(summary, files["model_card"])
    return summary


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """What the command line prints: overall numbers, the groups with a gap, latency, files."""
    model, data, overall = summary["model"], summary["data"], summary["overall"]
    lines = [
        f"\n{model['name']} ({model['kind']}) on {data['split']} ({data['n']} images): "
        f"mean IoU {overall['iou_mean']:.4f}, pooled IoU {overall['iou_pooled']:.4f}, "
        f"boundary F {overall['boundary_f_mean']:.4f}, MAE {overall['mae_mean']:.4f}"
    ]
    for column, result in summary["breakdown"].items():
        if result["gap"] is not None:
            worst = result["worst"]
            lines.append(
                f"  {column}: worst {worst} ({result['groups'][worst]['iou_mean']:.4f}), "
                f"best {result['best']}, gap {result['gap']:.1f} IoU points"
            )
    temporal = summary.get("temporal")
    if temporal:
        lines.append(
            f"  stability over {temporal['clips']} clips: dtSSD {temporal['dtssd']:.3f}, "
            f"TC {temporal['tc']:.4f}, flicker {temporal['flicker']:.5f}, "
            f"flip rate {temporal['flip_rate']:.5f}"
        )
    latency = summary.get("latency")
    if latency and latency.get("measured"):
        lines.append(f"Latency: {latency['median_ms']:.2f} ms median, 1 thread, {latency['cpu']}")
    lines += [f"{name}: {path}" for name, path in summary["files"].items()]
    return lines
