"""Per-image scores of a model on a labelled dataset, the overall summary and the breakdown by
categorical attribute (skin tone, lighting, ...): the numbers behind the evaluation report and the
model card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from seg.data import SegDataset
from seg.errors import DataError, UserInputError
from seg.inference import Predictor, to_frames
from seg.metrics import iou_from_counts, per_image_boundary_f, per_image_counts

MISSING = "(missing)"  # group of samples without a value for an attribute column


@dataclass
class ImageScore:
    """One image's scores.

    Attributes:
        index: Index in the dataset.
        id: Stable sample id (``dataset.sample_ids()``; ``str(index)`` without it).
        iou: Foreground IoU of the thresholded prediction against the ground truth (target
            thresholded at 0.5); 1.0 when both are empty.
        boundary_f: Boundary F-score (:func:`seg.metrics.per_image_boundary_f`).
        mae: Mean absolute difference between probability and (soft) target.
        fg_true: Fraction of ground-truth foreground pixels.
        fg_pred: Fraction of predicted foreground pixels.
        attributes: Categorical attributes of the sample (``dataset.attributes()``).
        intersection: Foreground pixels in both masks (None when unknown, e.g. hand-made scores).
        union: Foreground pixels in either mask.
    """

    index: int
    id: str
    iou: float
    boundary_f: float
    mae: float
    fg_true: float
    fg_pred: float
    attributes: dict[str, str]
    intersection: int | None = None
    union: int | None = None


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def ids_and_attributes(dataset: SegDataset) -> tuple[list[str], list[dict[str, str]]]:
    """Every sample's id and attributes, in index order (:meth:`SegDataset.sample_ids` and
    :meth:`SegDataset.attributes`, values as strings).

    Raises:
        DataError: When the dataset does not give one id and one attribute dict per sample.
    """
    n = len(dataset)
    ids = [str(i) for i in dataset.sample_ids()]
    attrs = [{str(k): str(v) for k, v in a.items()} for a in dataset.attributes()]
    if len(ids) != n or len(attrs) != n:
        raise DataError(
            f"{type(dataset).__name__} gave {len(ids)} sample ids and {len(attrs)} attribute rows "
            f"for {n} samples; sample_ids() and attributes() must have one entry per sample."
        )
    return ids, attrs


def _unlabelled(dataset: SegDataset, index: int, sample_id: str) -> DataError:
    split = dataset.split
    where = f"the '{split}' split" if split else "the evaluated split"
    return DataError(
        f"Sample {sample_id} (index {index}) of {where} has no mask: the split is unlabelled, so "
        "it cannot be scored. Evaluate a labelled split (e.g. --split test), or use "
        "mine_badcases for unlabelled pools."
    )


def score_dataset(
    predictor: Predictor,
    dataset: SegDataset,
    batch_size: int = 16,
    band_px: int = 3,
    keep_probs: bool = False,
    max_images: int | None = None,
    postprocess: Any = None,
) -> tuple[list[ImageScore], np.ndarray | None]:
    """Run ``predictor`` over ``dataset`` in chunks and score every image.

    Args:
        predictor: The model; its ``threshold`` makes the predicted masks. Frames are scored at
            the dataset's size (the predictor fits them to its input and maps the probabilities
            back; :func:`seg.eval.data.eval_dataset` builds the data at the model's size).
        dataset: A seg dataset (``ds[i]`` has ``image`` and ``mask``).
        batch_size: Frames per model call (only one chunk of frames is in memory at a time).
        band_px: Boundary F tolerance band in pixels.
        keep_probs: Also return every probability map (``N x H x W`` float32).
        max_images: Score only the first ``max_images`` samples.
        postprocess: A :class:`seg.postprocess.PostProcessor` applied to every probability map
            (reset before each frame), or None: the raw probabilities.

    Returns:
        ``(scores in index order, probabilities or None)``.

    Raises:
        ValueError: When a sample has no ``mask`` (an unlabelled split) or ``batch_size < 1``.
    """
    if batch_size < 1:
        raise UserInputError(f"batch_size must be >= 1, got {batch_size}.")
    n = len(dataset) if max_images is None else min(len(dataset), int(max_images))
    ids, attrs = ids_and_attributes(dataset)
    scores: list[ImageScore] = []
    kept: np.ndarray | None = None
    for start in range(0, n, batch_size):
        indices = range(start, min(n, start + batch_size))
        samples = [dataset[i] for i in indices]
        for i, sample in zip(indices, samples, strict=True):
            if "mask" not in sample or sample["mask"] is None:
                raise _unlabelled(dataset, i, ids[i])
        images = np.stack([_numpy(s["image"]).astype(np.float32) for s in samples])
        targets = np.stack(
            [_numpy(s["mask"]).astype(np.float32).reshape(-1, *images.shape[-2:]) for s in samples]
        )[:, :1]
        frames = to_frames(images)
        probs = predictor(frames)
        if postprocess is not None:  # single frames: no temporal state carries over
            probs = np.stack(
                [
                    postprocess.reset() or postprocess(p, f)
                    for p, f in zip(probs, frames, strict=True)
                ]
            )
        probs = probs[:, None]
        if keep_probs:
            if kept is None:
                kept = np.zeros((n, *probs.shape[-2:]), dtype=np.float32)
            kept[indices.start : indices.stop] = probs[:, 0]
        scores += score_frames(
            probs, targets, predictor.threshold, band_px, list(indices), ids, attrs
        )
    return scores, kept


def score_frames(
    probs: np.ndarray,
    targets: np.ndarray,
    threshold: float,
    band_px: int,
    indices: Sequence[int],
    ids: Sequence[str],
    attrs: Sequence[dict[str, str]],
) -> list[ImageScore]:
    """Scores of ``N x 1 x H x W`` probabilities against targets of the same shape: the ``j``-th
    map is sample ``indices[j]``, whose id and attributes are ``ids[indices[j]]`` and
    ``attrs[indices[j]]``."""
    pred = probs > threshold
    gt = targets >= 0.5
    inter, union = per_image_counts(pred, gt)
    bf = per_image_boundary_f(
        torch.from_numpy(probs), torch.from_numpy(targets), band_px, threshold
    ).numpy()
    n = len(probs)
    mae = np.abs(probs - targets).reshape(n, -1).mean(1)
    fg_true = gt.reshape(n, -1).mean(1)
    fg_pred = pred.reshape(n, -1).mean(1)
    return [
        ImageScore(
            index=i,
            id=ids[i],
            iou=iou_from_counts(inter[j], union[j]),
            boundary_f=float(bf[j]),
            mae=float(mae[j]),
            fg_true=float(fg_true[j]),
            fg_pred=float(fg_pred[j]),
            attributes=attrs[i],
            intersection=int(inter[j]),
            union=int(union[j]),
        )
        for j, i in enumerate(indices)
    ]


def summarize(scores: Sequence[ImageScore]) -> dict[str, Any]:
    """Overall numbers of a set of scores.

    Returns:
        ``n``; ``iou_mean`` (mean per-image IoU), ``iou_median``, ``iou_std``, ``iou_min``;
        ``iou_pooled`` (dataset-level IoU: summed intersections over summed unions, like
        ``test/iou`` in training; None when the scores carry no pixel counts);
        ``boundary_f_mean``; ``mae_mean``.

    Raises:
        ValueError: For no scores.
    """
    if not scores:
        raise DataError("summarize: no scores (the evaluated split is empty).")
    iou = np.array([s.iou for s in scores], dtype=np.float64)
    pooled = None
    if all(s.intersection is not None and s.union is not None for s in scores):
        inter = sum(s.intersection for s in scores)
        union = sum(s.union for s in scores)
        pooled = iou_from_counts(inter, union)
    return {
        "n": len(scores),
        "iou_mean": float(iou.mean()),
        "iou_pooled": None if pooled is None else float(pooled),
        "iou_median": float(np.median(iou)),
        "iou_std": float(iou.std()),
        "iou_min": float(iou.min()),
        "boundary_f_mean": float(np.mean([s.boundary_f for s in scores])),
        "mae_mean": float(np.mean([s.mae for s in scores])),
    }


def attribute_columns(scores: Sequence[ImageScore]) -> list[str]:
    """Every attribute column of the scores, in first-seen order."""
    columns: dict[str, None] = {}
    for score in scores:
        columns.update(dict.fromkeys(score.attributes))
    return list(columns)


def breakdown(scores: Sequence[ImageScore], min_group: int = 1) -> dict[str, dict[str, Any]]:
    """Scores per group of every attribute column (the fairness view of the model card).

    Args:
        scores: Per-image scores with ``attributes``.
        min_group: Groups with fewer images are reported but flagged ``small`` and left out of
            the worst / best comparison.

    Returns:
        ``{column: {"groups": {group: {n, iou_mean, iou_std, boundary_f_mean, mae_mean, small}},
        "worst": group, "best": group, "gap": (best - worst) mean IoU in points (x 100),
        "ratio": worst / best mean IoU, "excluded": [small groups], "min_group": min_group}}``.
        Groups are sorted by name; samples without a value form the group ``(missing)``. With
        fewer than two eligible groups, ``worst``/``best`` are the one group (or None) and
        ``gap``/``ratio`` are None.
    """
    out: dict[str, dict[str, Any]] = {}
    for column in attribute_columns(scores):
        members: dict[str, list[ImageScore]] = {}
        for score in scores:
            members.setdefault(score.attributes.get(column, MISSING), []).append(score)
        groups: dict[str, dict[str, Any]] = {}
        for name in sorted(members):
            group = members[name]
            iou = np.array([s.iou for s in group], dtype=np.float64)
            groups[name] = {
                "n": len(group),
                "iou_mean": float(iou.mean()),
                "iou_std": float(iou.std()),
                "boundary_f_mean": float(np.mean([s.boundary_f for s in group])),
                "mae_mean": float(np.mean([s.mae for s in group])),
                "small": len(group) < min_group,
            }
        eligible = [name for name, g in groups.items() if not g["small"]]
        ranked = sorted(eligible, key=lambda name: (groups[name]["iou_mean"], name))
        worst = ranked[0] if ranked else None
        best = ranked[-1] if ranked else None
        gap = ratio = None
        if len(ranked) >= 2:
            low, high = groups[worst]["iou_mean"], groups[best]["iou_mean"]
            gap = 100.0 * (high - low)
            ratio = low / high if high > 0 else None
        out[column] = {
            "groups": groups,
            "worst": worst,
            "best": best,
            "gap": gap,
            "ratio": ratio,
            "excluded": [name for name, g in groups.items() if g["small"]],
            "min_group": min_group,
        }
    return out
