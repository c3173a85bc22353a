"""Per-pixel task losses for binary (single sigmoid channel) segmentation.

Each loss takes ``(logits, target)`` with ``logits`` of shape ``B x 1 x H x W`` and ``target`` in
``[0, 1]`` of the same shape (hard masks or soft targets) and returns a scalar.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seg.errors import ConfigError


def _check_pair(logits: Tensor, target: Tensor, name: str) -> None:
    if logits.shape != target.shape:
        raise ConfigError(
            f"{name}: prediction and target shapes differ: {tuple(logits.shape)} vs "
            f"{tuple(target.shape)}. Both must be B x 1 x H x W at the same resolution."
        )


class BCELoss(nn.Module):
    """Per-pixel cross-entropy for one sigmoid channel (binary cross-entropy on logits).

    Args:
        pos_weight: Optional weight of foreground pixels (>1 favours recall of the person).
    """

    def __init__(self, pos_weight: float | None = None) -> None:
        super().__init__()
        self.pos_weight = pos_weight

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        _check_pair(logits, target, "BCELoss")
        pos_weight = (
            None
            if self.pos_weight is None
            else torch.tensor(self.pos_weight, dtype=logits.dtype, device=logits.device)
        )
        return F.binary_cross_entropy_with_logits(
            logits, target.to(logits.dtype), pos_weight=pos_weight
        )


class DiceLoss(nn.Module):
    """Soft Dice loss ``1 - 2|P∩T| / (|P| + |T|)``, computed per image and averaged.

    Per-image averaging keeps small people (few pixels) from being drowned by large close-ups.

    Args:
        smooth: Additive smoothing; keeps the loss defined for empty masks.
    """

    def __init__(self, smooth: float = 1.0) -> None:
        super().__init__()
        self.smooth = smooth

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        _check_pair(logits, target, "DiceLoss")
        probs = torch.sigmoid(logits).flatten(1)
        target = target.to(probs.dtype).flatten(1)
        inter = (probs * target).sum(1)
        denom = probs.sum(1) + target.sum(1)
        return (1.0 - (2.0 * inter + self.smooth) / (denom + self.smooth)).mean()


class FocalLoss(nn.Module):
    """Binary focal loss (Lin et al. 2017): down-weights easy pixels by ``(1 - p_t)^gamma``.

    Args:
        gamma: Focusing parameter; 0 gives plain BCE.
        alpha: Optional foreground weight in ``[0, 1]`` (background gets ``1 - alpha``).
    """

    def __init__(self, gamma: float = 2.0, alpha: float | None = None) -> None:
        super().__init__()
        if gamma < 0:
            raise ConfigError(f"FocalLoss: gamma must be >= 0, got {gamma}.")
        if alpha is not None and not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"FocalLoss: alpha must be in [0, 1], got {alpha}.")
        self.gamma = gamma
        self.alpha = alpha

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        _check_pair(logits, target, "FocalLoss")
        target = target.to(logits.dtype)
        bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        p = torch.sigmoid(logits)
        p_t = p * target + (1 - p) * (1 - target)
        loss = bce * (1 - p_t).pow(self.gamma)
        if self.alpha is not None:
            loss = loss * (self.alpha * target + (1 - self.alpha) * (1 - target))
        return loss.mean()
