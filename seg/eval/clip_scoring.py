"""Scores of a model on labelled clips: every frame like a single image, and every clip's
stability (dtSSD against the ground truth; TC, flicker and flip rate, label-free), optionally after
the stateful post-processing a video app runs (:mod:`seg.postprocess`, reset per clip).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seg.data import SegDataset
from seg.data.clip_dataset import SyntheticClipDataset
from seg.errors import DataError
from seg.eval.scoring import ImageScore, _numpy, ids_and_attributes, score_frames
from seg.inference import Predictor, to_frames
from seg.metrics import dtssd, flicker, flip_rate, temporal_consistency

TEMPORAL_KEYS = ("dtssd", "tc", "flicker", "flip_rate")


@dataclass
class ClipScore:
    """One clip's scores.

    Attributes:
        index: Clip index in the dataset.
        id: Clip id (``dataset.sample_ids()``).
        frames: Number of frames.
        iou: Mean per-frame IoU.
        boundary_f: Mean per-frame boundary F.
        dtssd: :func:`seg.metrics.dtssd` (x100; lower is steadier, 0 follows the truth exactly).
        tc: :func:`seg.metrics.temporal_consistency` (1.0: the mask moves with the image).
        flicker: :func:`seg.metrics.flicker`.
        flip_rate: :func:`seg.metrics.flip_rate`.
        attributes: The clip's attributes (``motion``, skin tone, lighting, ...).
    """

    index: int
    id: str
    frames: int
    iou: float
    boundary_f: float
    dtssd: float
    tc: float
    flicker: float
    flip_rate: float
    attributes: dict[str, str]


def is_clip_dataset(dataset: SegDataset) -> bool:
    """Whether the samples of ``dataset`` are clips (``image``: ``T x 3 x H x W``)."""
    return isinstance(dataset, SyntheticClipDataset)


def clip_probs(predictor: Predictor, frames: np.ndarray, postprocess: Any = None) -> np.ndarray:
    """``T x H x W`` probabilities of one clip's frames, in order, through ``postprocess``
    (reset first, so no state carries over from another clip) when given."""
    probs = predictor(frames)
    if postprocess is None:
        return probs
    postprocess.reset()
    return np.stack([postprocess(p, f) for p, f in zip(probs, frames, strict=True)])


def score_clips(
    predictor: Predictor,
    dataset: SegDataset,
    band_px: int = 3,
    postprocess: Any = None,
    max_clips: int | None = None,
) -> tuple[list[ImageScore], list[ClipScore]]:
    """Run ``predictor`` over every clip of ``dataset`` and score frames and clips.

    Args:
        predictor: The model (its ``threshold`` makes the masks).
        dataset: A clip dataset (:func:`is_clip_dataset`).
        band_px: Boundary F tolerance band in pixels.
        postprocess: A :class:`seg.postprocess.PostProcessor` run over each clip's frames in
            order, or None.
        max_clips: Score only the first N clips.

    Returns:
        ``(per-frame scores, per-clip scores)``; frame ids are ``<clip id>/<t>`` and frames
        carry their clip's attributes.

    Raises:
        DataError: For a clip without masks.
    """
    n = len(dataset) if max_clips is None else min(len(dataset), int(max_clips))
    ids, attrs = ids_and_attributes(dataset)
    frame_scores: list[ImageScore] = []
    clips: list[ClipScore] = []
    for i in range(n):
        sample = dataset[i]
        if sample.get("mask") is None:
            raise DataError(f"Clip {ids[i]} has no masks: clips must be labelled to be scored.")
        images = _numpy(sample["image"]).astype(np.float32)
        targets = (
            _numpy(sample["mask"]).astype(np.float32).reshape(len(images), 1, *images.shape[-2:])
        )
        frames = to_frames(images)
        probs = clip_probs(predictor, frames, postprocess)
        start = len(frame_scores)
        frame_ids = [f"{ids[i]}/{t:03d}" for t in range(len(frames))]
        scores = score_frames(
            probs[:, None],
            targets,
            predictor.threshold,
            band_px,
            list(range(len(frames))),
            frame_ids,
            [attrs[i]] * len(frames),
        )
        for t, score in enumerate(scores):
            score.index = start + t
        frame_scores += scores
        clips.append(
            ClipScore(
                index=i,
                id=ids[i],
                frames=len(frames),
                iou=float(np.mean([s.iou for s in scores])),
                boundary_f=float(np.mean([s.boundary_f for s in scores])),
                dtssd=dtssd(probs, targets[:, 0]),
                tc=temporal_consistency(probs, frames, predictor.threshold),
                flicker=flicker(probs),
                flip_rate=flip_rate(probs, predictor.threshold),
                attributes=attrs[i],
            )
        )
    return frame_scores, clips


def summarize_clips(clips: Sequence[ClipScore]) -> dict[str, Any]:
    """Means over clips: ``clips``, ``frames``, ``dtssd``, ``tc``, ``flicker``, ``flip_rate``
    (and ``<key>_std``), and the same means per ``motion`` under ``by_motion``."""
    if not clips:
        raise DataError("summarize_clips: no clips scored.")

    def means(group: Sequence[ClipScore]) -> dict[str, Any]:
        out: dict[str, Any] = {"clips": len(group), "frames": sum(c.frames for c in group)}
        for key in ("iou", "boundary_f", *TEMPORAL_KEYS):
            values = np.array([getattr(c, key) for c in group], dtype=np.float64)
            out[key] = float(values.mean())
            out[f"{key}_std"] = float(values.std())
        return out

    summary = means(clips)
    motions = sorted({c.attributes.get("motion", "(missing)") for c in clips})
    summary["by_motion"] = {
        m: means([c for c in clips if c.attributes.get("motion", "(missing)") == m])
        for m in motions
    }
    return summary


class ClipFrames:
    """The frames of a clip dataset as single samples (frame ``k`` is frame ``k % T`` of clip
    ``k // T``), for tools that show frames, e.g. the worst-cases sheet."""

    def __init__(self, dataset: SyntheticClipDataset) -> None:
        self.dataset = dataset
        self.frames = dataset.frames

    def __len__(self) -> int:
        return len(self.dataset) * self.frames

    def __getitem__(self, index: int) -> dict[str, Any]:
        clip, t = divmod(index, self.frames)
        sample = self.dataset[clip]
        return {"image": sample["image"][t], "mask": sample["mask"][t], "index": index}
