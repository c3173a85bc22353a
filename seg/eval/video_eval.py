"""Label-free stability of a model on any video (a real clip has no masks): flicker, flip rate
and temporal consistency (TC) of its masks, after optional post-processing; the video mode of
``scripts/evaluate.py``."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from seg.errors import DataError
from seg.eval.outputs import model_info
from seg.inference import DEFAULT_RESIZE, load_predictor
from seg.metrics import TemporalStats
from seg.video.sources import open_source

log = logging.getLogger(__name__)


def evaluate_video(
    source: str | Path,
    video: str | Path,
    *,
    output: str | Path | None = None,
    postprocess: Any = None,
    max_frames: int | None = None,
    resize: str = DEFAULT_RESIZE,
) -> dict[str, Any]:
    """Run a model over every frame of ``video`` in order and write ``summary.json`` with the
    label-free temporal metrics of its masks.

    Args:
        source: Run dir, ``student.pt``, ``.ckpt``, ``.onnx`` or ``.tflite``.
        video: A video file or a folder of frames.
        output: Output folder (default ``<model dir>/eval-video-<video name>``).
        postprocess: A :class:`seg.postprocess.PostProcessor` (reset first) or None.
        max_frames: Stop after this many frames.
        resize: How frames are fitted to the model's input.

    Returns:
        The summary: ``model``, ``video``, ``frames``, ``flicker``, ``flip_rate``, ``tc``,
        ``postprocess`` and ``seconds``. No ground truth, so no IoU or dtSSD.

    Raises:
        SegError: For a missing or unreadable model or video, or a video without frames.
    """
    predictor = load_predictor(source, resize=resize, batch_size=1)
    stats = TemporalStats(threshold=predictor.threshold)
    if postprocess is not None:
        postprocess.reset()
    start = time.perf_counter()
    with open_source(video) as frames:
        name, fps = frames.name, frames.fps
        while max_frames is None or stats.frames < max_frames:
            frame = frames.read()
            if frame is None:
                break
            probs = predictor(frame)
            if postprocess is not None:
                probs = postprocess(probs, frame)
            stats.update(probs, frame)
    if stats.frames == 0:
        raise DataError(f"{video}: no frame could be read; nothing to evaluate.")
    base = predictor.run_dir or (Path(source) if Path(source).is_dir() else predictor.path.parent)
    out = Path(output) if output is not None else base / f"eval-video-{Path(str(video)).stem}"
    summary = {
        "model": model_info(predictor),
        "video": {"name": name, "fps": fps},
        "frames": stats.frames,
        **stats.result(),
        "postprocess": postprocess.settings() if postprocess is not None else None,
        "seconds": round(time.perf_counter() - start, 2),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    summary["files"] = {"summary": str(out / "summary.json")}
    return summary


def video_lines(summary: dict[str, Any]) -> list[str]:
    """What the command line prints for a video."""
    return [
        f"\n{summary['model']['name']} on {summary['video']['name']} ({summary['frames']} frames, "
        "label-free): "
        f"flicker {summary['flicker']:.5f}, flip rate {summary['flip_rate']:.5f}, "
        f"TC {summary['tc']:.4f}",
        f"summary: {summary['files']['summary']}",
    ]
