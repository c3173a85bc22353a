"""Distillation losses: ``loss(student_tensor, teacher_tensor) -> scalar``.

* :class:`PixelwiseKD`: the teacher's per-pixel probabilities as soft labels (Hinton et al.), with
  temperature; for one sigmoid channel this is the Bernoulli KL divergence per pixel.
* :class:`AttentionKD`: attention transfer (Zagoruyko & Komodakis 2017): spatial attention maps
  ``sum_c |F_c|^p`` reduce features from 3-D to 2-D, so student and teacher widths may differ.
* :class:`AffinityKD`: pair-wise (structured) distillation (Liu et al. 2019): cosine affinities
  between all positions of a feature map pooled to a small grid, so memory stays bounded.

None of them is zero-weighted or scaled by a config inside: weights live in the loss wiring.
The teacher tensor is detached here too, so a loss never sends gradients into the teacher.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seg.errors import ConfigError


def _resize_like(x: Tensor, ref: Tensor) -> Tensor:
    if x.shape[-2:] == ref.shape[-2:]:
        return x
    return F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)


class PixelwiseKD(nn.Module):
    """Per-pixel KL divergence from the teacher's softened probabilities to the student's.

    For one sigmoid channel, with ``p = sigmoid(logits / T)``:
    ``KL = p_t log(p_t / p_s) + (1 - p_t) log((1 - p_t) / (1 - p_s))``, averaged over pixels and
    multiplied by ``T^2`` so gradient magnitudes do not shrink with the temperature. It equals BCE
    against the soft targets minus their entropy, so it is exactly 0 when the logits agree.

    Args:
        temperature: Softening temperature ``T > 0``.
    """

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ConfigError(f"PixelwiseKD: temperature must be > 0, got {temperature}.")
        self.temperature = temperature

    def forward(self, student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
        if student_logits.shape[1] != teacher_logits.shape[1]:
            raise ConfigError(
                f"PixelwiseKD: student and teacher have {student_logits.shape[1]} and "
                f"{teacher_logits.shape[1]} channels; both must give the same logits."
            )
        t = self.temperature
        teacher_logits = _resize_like(teacher_logits.detach(), student_logits) / t
        student_logits = student_logits / t
        p_t = torch.sigmoid(teacher_logits)
        # KL = BCE(student, p_t) - BCE(teacher, p_t): the fused BCE kernel carries the gradient
        # (sigmoid(z_s) - p_t); the teacher's entropy is a constant that makes identical logits 0.
        cross = F.binary_cross_entropy_with_logits(student_logits, p_t)
        entropy = F.binary_cross_entropy_with_logits(teacher_logits, p_t)
        return (cross - entropy) * t * t


def spatial_attention(features: Tensor, p: float = 2.0) -> Tensor:
    """Spatial attention ``sum_c |F_c|^p`` of a ``B x C x H x W`` map: ``B x 1 x H x W``."""
    return features.abs().pow(p).sum(1, keepdim=True)


class AttentionKD(nn.Module):
    """Attention transfer between feature maps of any widths.

    The student's attention map is resized to the teacher's spatial size when they differ. The loss
    is the mean over images of the squared L2 distance between the normalised maps.

    Args:
        p: Exponent of the attention map (2 in the paper).
    """

    def __init__(self, p: float = 2.0) -> None:
        super().__init__()
        if p <= 0:
            raise ConfigError(f"AttentionKD: p must be > 0, got {p}.")
        self.p = p

    def forward(self, student_features: Tensor, teacher_features: Tensor) -> Tensor:
        t = spatial_attention(teacher_features.detach(), self.p)
        s = _resize_like(spatial_attention(student_features, self.p), t)
        s = F.normalize(s.flatten(1), dim=1)
        t = F.normalize(t.flatten(1), dim=1)
        return (s - t).pow(2).sum(1).mean()


def affinity_matrix(features: Tensor, grid: tuple[int, int]) -> Tensor:
    """Cosine affinities between all positions of ``features`` pooled to ``grid``: ``B x N x N``.

    A map already smaller than the grid along a side keeps its size there (pooling up would only
    repeat positions and multiply the cost), so ``N = min(grid_h, H) * min(grid_w, W)``.
    """
    size = (min(grid[0], features.shape[-2]), min(grid[1], features.shape[-1]))
    if tuple(features.shape[-2:]) != size:
        features = F.adaptive_avg_pool2d(features, size)
    pooled = features.flatten(2)  # B x C x N
    pooled = F.normalize(pooled, dim=1)
    return pooled.transpose(1, 2) @ pooled


class AffinityKD(nn.Module):
    """Pair-wise distillation of position-to-position cosine affinities on a pooled grid.

    Both feature maps are average-pooled to ``grid`` (so the ``N x N`` matrices have
    ``N = grid_h * grid_w`` and memory never depends on the feature resolution; a map smaller than
    the grid along a side sets that side instead, for both maps), each position's
    channel vector is L2-normalised, and the mean squared difference of the affinity matrices is the
    loss. Channel-agnostic: widths may differ.

    Args:
        grid: Pooled grid ``(height, width)`` or one int for a square grid.
    """

    def __init__(self, grid: int | tuple[int, int] | list[int] = (9, 16)) -> None:
        super().__init__()
        grid = (grid, grid) if isinstance(grid, int) else tuple(grid)
        if len(grid) != 2 or min(grid) <= 0:
            raise ConfigError(f"AffinityKD: grid must be two positive ints, got {grid}.")
        self.grid = (int(grid[0]), int(grid[1]))

    def forward(self, student_features: Tensor, teacher_features: Tensor) -> Tensor:
        # one grid for both, no finer than the smaller map (see affinity_matrix)
        grid = (
            min(self.grid[0], student_features.shape[-2], teacher_features.shape[-2]),
            min(self.grid[1], student_features.shape[-1], teacher_features.shape[-1]),
        )
        s = affinity_matrix(student_features, grid)
        t = affinity_matrix(teacher_features.detach(), grid)
        return (s - t).pow(2).mean()
