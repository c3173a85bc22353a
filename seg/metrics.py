"""Segmentation metrics: foreground IoU, boundary F-score and MAE — in torch for training, and in
NumPy for scoring masks outside it (evaluation, mining, export checks, benchmarks).

IoU and MAE come from torchmetrics. The boundary F-score (a band of ``k`` pixels around the ground
truth edge, as in the DAVIS / BSDS boundary measure) is a small :class:`torchmetrics.Metric` built on
max-pooling, so it runs on any device and syncs across DDP processes like the others.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import MeanAbsoluteError, Metric, MetricCollection
from torchmetrics.classification import BinaryJaccardIndex

from seg.errors import UserInputError


def dilate(mask: Tensor, radius: int) -> Tensor:
    """Binary dilation of a ``B x 1 x H x W`` float mask with a square of side ``2 * radius + 1``."""
    if radius <= 0:
        return mask
    return F.max_pool2d(mask, kernel_size=2 * radius + 1, stride=1, padding=radius)


def erode(mask: Tensor, radius: int) -> Tensor:
    """Binary erosion of a ``B x 1 x H x W`` float mask (the dual of :func:`dilate`)."""
    return 1.0 - dilate(1.0 - mask, radius)


def boundary(mask: Tensor) -> Tensor:
    """One-pixel inner boundary of a binary ``B x 1 x H x W`` mask (mask minus its erosion).

    Pixels on the image border are not boundary unless the mask changes there: erosion pads with
    foreground so a person cut by the frame has no edge along the frame.
    """
    padded = F.pad(1.0 - mask, (1, 1, 1, 1), value=0.0)
    eroded = 1.0 - F.max_pool2d(padded, kernel_size=3, stride=1)
    return mask - eroded


class BoundaryFScore(Metric):
    """Per-image boundary F-score averaged over images.

    Precision is the fraction of predicted boundary pixels within ``band_px`` pixels of the ground
    truth boundary; recall the fraction of ground-truth boundary pixels within ``band_px`` of the
    predicted one. An image with no boundary in either mask scores 1, with a boundary in only one 0.

    Args:
        band_px: Tolerance band in pixels.
        threshold: Probability threshold that turns predictions into masks.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, band_px: int = 3, threshold: float = 0.5, **kwargs) -> None:
        super().__init__(**kwargs)
        if band_px < 0:
            raise UserInputError(f"BoundaryFScore: band_px must be >= 0, got {band_px}.")
        self.band_px = band_px
        self.threshold = threshold
        self.add_state(
            "f_sum", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum"
        )
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Add a batch.

        Args:
            preds: ``B x 1 x H x W`` foreground probabilities.
            target: ``B x 1 x H x W`` ground truth in ``{0, 1}`` (soft targets are thresholded at 0.5).
        """
        self.f_sum += (
            per_image_boundary_f(preds, target, self.band_px, self.threshold).double().sum()
        )
        self.count += preds.shape[0]

    def compute(self) -> Tensor:
        return (self.f_sum / self.count.clamp(min=1)).float()


def per_image_boundary_f(
    preds: Tensor, target: Tensor, band_px: int, threshold: float = 0.5
) -> Tensor:
    """Boundary F-score of each image in a batch; see :class:`BoundaryFScore`."""
    pred_mask = (preds >= threshold).float()
    gt_mask = (target >= 0.5).float()
    pb, gb = boundary(pred_mask), boundary(gt_mask)
    n_pred = pb.flatten(1).sum(1)
    n_gt = gb.flatten(1).sum(1)
    hit_pred = (pb * dilate(gb, band_px)).flatten(1).sum(1)
    hit_gt = (gb * dilate(pb, band_px)).flatten(1).sum(1)
    precision = hit_pred / n_pred.clamp(min=1)
    recall = hit_gt / n_gt.clamp(min=1)
    f = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    both_empty = (n_pred == 0) & (n_gt == 0)
    return torch.where(both_empty, torch.ones_like(f), f)


def segmentation_metrics(
    prefix: str, band_px: int = 3, threshold: float = 0.5, boundary_f: bool = True
) -> MetricCollection:
    """The metric set of a stage: ``{prefix}iou``, ``{prefix}boundary_f`` and ``{prefix}mae``.

    Args:
        prefix: Key prefix such as ``"val/"``.
        band_px: Boundary F tolerance band.
        threshold: Probability threshold for IoU and boundary F.
        boundary_f: Include the boundary F-score (left out of training steps, where it costs a
            noticeable share of a small student's step and val/test report it anyway).

    Returns:
        A collection updated with ``(probs, target)``: probabilities and ``{0, 1}`` masks,
        both ``B x 1 x H x W``.
    """
    metrics = {"iou": BinaryJaccardIndex(threshold=threshold), "mae": MeanAbsoluteError()}
    if boundary_f:
        metrics["boundary_f"] = BoundaryFScore(band_px=band_px, threshold=threshold)
    return MetricCollection(metrics, prefix=prefix)


def mask_counts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[intersection, union]`` pixel counts of two boolean masks over all their pixels, to sum
    over chunks of a dataset (the pooled IoU of ``test/iou``)."""
    return np.array([np.logical_and(a, b).sum(), np.logical_or(a, b).sum()], dtype=np.int64)


def iou_from_counts(intersection: float, union: float) -> float:
    """``intersection / union``; 1.0 when both masks are empty."""
    return 1.0 if union == 0 else float(intersection / union)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boolean masks over all their pixels (1.0 when both are empty)."""
    return iou_from_counts(*mask_counts(a, b))


def per_image_counts(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image ``(intersections, unions)`` of ``N x ...`` boolean masks."""
    n = len(pred)
    inter = np.logical_and(pred, truth).reshape(n, -1).sum(1)
    union = np.logical_or(pred, truth).reshape(n, -1).sum(1)
    return inter, union
