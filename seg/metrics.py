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


# ---------------------------------------------------------------------------------------- video
# Temporal metrics of mask sequences (``T x H x W``, one clip or stream). dtSSD needs ground truth;
# TC, flicker and the flip rate are label-free, for any real video. Formulas: docs/video.md.

TC_FLOW_SIDE = 320  # TC estimates flow on frames scaled down to at most this many pixels per side


def _sequence(array: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 4 and array.shape[1] == 1:  # T x 1 x H x W
        array = array[:, 0]
    if array.ndim != 3:
        raise UserInputError(f"{name} must be a T x H x W sequence, got shape {array.shape}.")
    return array


def dtssd(probs: np.ndarray, truth: np.ndarray) -> float:
    """dtSSD of one clip, as in RVM's evaluation: per frame
    ``sqrt(mean(((p_t - p_{t-1}) - (g_t - g_{t-1}))**2)) * 100``, the first frame 0, averaged over
    all ``T`` frames of the clip. 0 for a prediction whose changes follow the ground truth's.

    Args:
        probs: ``T x H x W`` predicted probabilities (or alphas) in ``[0, 1]``.
        truth: ``T x H x W`` ground truth (hard masks or alphas).
    """
    p, g = _sequence(probs, "probs"), _sequence(truth, "truth")
    if p.shape != g.shape:
        raise UserInputError(f"dtssd: probs {p.shape} and truth {g.shape} differ in shape.")
    if len(p) < 2:
        return 0.0
    diff = np.diff(p, axis=0) - np.diff(g, axis=0)
    per_frame = np.sqrt(np.mean(np.square(diff, dtype=np.float64), axis=(1, 2))) * 100.0
    return float(per_frame.sum() / len(p))


def flicker(probs: np.ndarray) -> float:
    """Raw flicker of a sequence: ``mean |p_t - p_{t-1}|`` over frames ``t >= 1`` and pixels
    (label-free; true motion counts too, so compare models on the same footage)."""
    p = _sequence(probs, "probs")
    if len(p) < 2:
        return 0.0
    return float(np.abs(np.diff(p, axis=0)).mean(dtype=np.float64))


def flip_rate(probs: np.ndarray, threshold: float = 0.5) -> float:
    """Share of pixels whose thresholded mask changes between consecutive frames, averaged over
    frames ``t >= 1``."""
    m = _sequence(probs, "probs") >= threshold
    if len(m) < 2:
        return 0.0
    return float((m[1:] != m[:-1]).mean(dtype=np.float64))


def _grey(frame: np.ndarray) -> np.ndarray:
    import cv2

    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[2] == 3:
        frame = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if frame.dtype != np.uint8:  # a float frame or clip: its own range mapped onto 0..255
        lo, hi = float(frame.min()), float(frame.max())
        frame = ((frame - lo) * (255.0 / max(hi - lo, 1e-6))).astype(np.uint8)
    return np.ascontiguousarray(frame)


class FlowWarp:
    """Warps the previous frame's mask onto the current frame with dense optical flow (OpenCV's
    DIS, no weights), on frames scaled down to at most ``max_side`` pixels per side."""

    def __init__(self, max_side: int = TC_FLOW_SIDE) -> None:
        import cv2

        self.max_side = max_side
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def size(self, hw: tuple[int, int]) -> tuple[int, int]:
        """The working ``(height, width)`` for frames of ``hw``."""
        scale = min(1.0, self.max_side / max(hw))
        return max(8, round(hw[0] * scale)), max(8, round(hw[1] * scale))

    def __call__(
        self, grey: np.ndarray, previous_grey: np.ndarray, previous: np.ndarray
    ) -> np.ndarray:
        """``previous`` (float ``h x w`` at the working size) moved to the current frame: the flow
        from the current grey frame to the previous one says where each pixel came from."""
        import cv2

        flow = self.dis.calc(grey, previous_grey, None)
        h, w = grey.shape
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        return cv2.remap(
            previous.astype(np.float32),
            gx + flow[..., 0],
            gy + flow[..., 1],
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )


class TemporalStats:
    """Label-free temporal metrics of a stream, one frame at a time (for videos of any length).

    ``flicker`` and ``flip_rate`` as :func:`flicker` / :func:`flip_rate` at the stream's
    resolution; ``tc`` as :func:`temporal_consistency` (flow on frames scaled down to at most
    ``flow_side`` px per side). Every value is a mean over frames ``t >= 1`` (0 / 1 before that).

    Args:
        threshold: Mask threshold for the flip rate and TC.
        flow_side: Longest side of the frames the flow is computed on.
    """

    def __init__(self, threshold: float = 0.5, flow_side: int = TC_FLOW_SIDE) -> None:
        self.threshold = threshold
        self.warp = FlowWarp(flow_side)
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self.frames = 0
        self._sums = {"flicker": 0.0, "flip_rate": 0.0, "tc": 0.0}
        self._tc_frames = 0
        self._prev: np.ndarray | None = None
        self._prev_small: tuple[np.ndarray, np.ndarray] | None = None

    def update(self, probs: np.ndarray, frame: np.ndarray | None = None) -> None:
        """Add the next frame's probabilities (``H x W`` float in ``[0, 1]``) and, for TC, the
        frame itself (``H x W x 3`` uint8 RGB, any size)."""
        from seg.resize import resize_image, resize_mask

        p = np.asarray(probs, dtype=np.float32)
        if self._prev is not None and self._prev.shape == p.shape:
            self._sums["flicker"] += float(np.abs(p - self._prev).mean(dtype=np.float64))
            flips = (p >= self.threshold) != (self._prev >= self.threshold)
            self._sums["flip_rate"] += float(flips.mean(dtype=np.float64))
        self._prev = p
        self.frames += 1
        if frame is None:
            return
        h, w = self.warp.size(p.shape)
        grey = _grey(resize_image(np.asarray(frame), h, w))
        small = resize_mask(p, h, w) >= self.threshold
        if self._prev_small is not None:
            prev_grey, prev_small = self._prev_small
            warped = self.warp(grey, prev_grey, prev_small.astype(np.float32)) >= 0.5
            self._sums["tc"] += mask_iou(small, warped)
            self._tc_frames += 1
        self._prev_small = (grey, small)

    def result(self) -> dict[str, float]:
        """``{"flicker", "flip_rate", "tc"}`` so far (``tc`` is NaN without frames)."""
        pairs = max(self.frames - 1, 1)
        tc = self._sums["tc"] / self._tc_frames if self._tc_frames else float("nan")
        if self.frames == 1 and self._prev_small is not None:
            tc = 1.0
        return {
            "flicker": self._sums["flicker"] / pairs,
            "flip_rate": self._sums["flip_rate"] / pairs,
            "tc": tc,
        }


def temporal_consistency(
    probs: np.ndarray, frames: np.ndarray, threshold: float = 0.5, flow_side: int = TC_FLOW_SIDE
) -> float:
    """TC of one clip: the mean over frames ``t >= 1`` of the IoU between the mask at ``t`` and the
    mask at ``t - 1`` warped to ``t`` with dense optical flow of the frames (DIS); 1.0 for a mask
    that moves exactly with the image content. Label-free.

    Args:
        probs: ``T x H x W`` probabilities (thresholded at ``threshold``).
        frames: ``T x H x W x 3`` uint8 RGB frames (or ``T x H x W`` grey, any dtype).
        threshold: Mask threshold.
        flow_side: Longest side of the frames the flow is computed on.
    """
    p = _sequence(probs, "probs")
    if len(frames) != len(p):
        raise UserInputError(f"temporal_consistency: {len(p)} masks but {len(frames)} frames.")
    stats = TemporalStats(threshold, flow_side)
    for prob, frame in zip(p, frames, strict=True):
        stats.update(prob, frame)
    return 1.0 if len(p) < 2 else stats.result()["tc"]


class TemporalMetrics(Metric):
    """Temporal metrics of clips for validation and test: mean per clip of :func:`dtssd` and, with
    ``label_free``, :func:`temporal_consistency`, :func:`flicker` and :func:`flip_rate`.

    Args:
        threshold: Mask threshold for TC and the flip rate.
        label_free: Also compute TC (optical flow on the CPU: a few ms per frame), flicker and
            flip rate.
    """

    is_differentiable = False
    full_state_update = False

    def __init__(self, threshold: float = 0.5, label_free: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.threshold = threshold
        self.label_free = label_free
        self.names = ("dtssd", "tc", "flicker", "flip_rate") if label_free else ("dtssd",)
        for name in self.names:
            self.add_state(name, torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("clips", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, probs: Tensor, target: Tensor, frames: Tensor | None = None) -> None:
        """Add a batch of clips.

        Args:
            probs: ``B x T x 1 x H x W`` (or ``B x T x H x W``) probabilities.
            target: Ground truth of the same shape.
            frames: ``B x T x C x H x W`` images (any normalisation; used for TC's flow).
        """
        p = probs.detach().float().cpu().numpy()
        g = target.detach().float().cpu().numpy()
        if self.label_free and frames is None:
            raise UserInputError("TemporalMetrics(label_free=True) needs the clips' frames.")
        for i in range(p.shape[0]):
            self.dtssd += dtssd(p[i], g[i])
            if self.label_free:
                self.flicker += flicker(p[i])
                self.flip_rate += flip_rate(p[i], self.threshold)
                grey = _grey(frames[i].detach().float().mean(dim=1).cpu().numpy())  # T x H x W
                self.tc += temporal_consistency(p[i], grey, self.threshold)
            self.clips += 1

    def compute(self) -> dict[str, Tensor]:
        n = self.clips.clamp(min=1)
        return {name: (getattr(self, name) / n).float() for name in self.names}
