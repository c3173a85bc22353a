"""Learning-rate schedules with linear warm-up, stepped every optimizer step.

Configs pass them as Hydra partials; the training module fills in ``total_steps`` from
``trainer.estimated_stepping_batches`` so a schedule always spans the whole run.
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from seg.errors import ConfigError


def _warmup_steps(total_steps: int, warmup_fraction: float) -> int:
    if total_steps <= 0:
        raise ConfigError(f"total_steps must be > 0, got {total_steps}.")
    if not 0.0 <= warmup_fraction < 1.0:
        raise ConfigError(f"warmup_fraction must be in [0, 1), got {warmup_fraction}.")
    return int(round(total_steps * warmup_fraction))


def warmup_cosine(
    optimizer: Optimizer,
    total_steps: int,
    warmup_fraction: float = 0.05,
    min_lr_ratio: float = 0.01,
) -> LambdaLR:
    """Linear warm-up from 0 to the base LR, then cosine decay to ``min_lr_ratio * base LR``.

    Args:
        optimizer: The optimizer whose LR is scheduled.
        total_steps: Optimizer steps in the whole run.
        warmup_fraction: Fraction of the steps spent warming up.
        min_lr_ratio: Final LR as a fraction of the base LR.
    """
    warmup = _warmup_steps(total_steps, warmup_fraction)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)


def warmup_poly(
    optimizer: Optimizer, total_steps: int, warmup_fraction: float = 0.05, power: float = 0.9
) -> LambdaLR:
    """Linear warm-up, then the polynomial decay ``(1 - progress) ** power`` common in segmentation.

    Args:
        optimizer: The optimizer whose LR is scheduled.
        total_steps: Optimizer steps in the whole run.
        warmup_fraction: Fraction of the steps spent warming up.
        power: Decay exponent.
    """
    warmup = _warmup_steps(total_steps, warmup_fraction)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return (1.0 - progress) ** power

    return LambdaLR(optimizer, factor)
