"""Model size and cost, for benchmarks and model cards."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class ModelSummary:
    """Parameter count and multiply-accumulates of one forward pass.

    Attributes:
        params: Number of parameters (trainable or not; buffers excluded).
        macs: Multiply-accumulates of one forward pass on a single ``3 x height x width`` image
            (convolutions, matmuls and attention as counted by ``FlopCounterMode``, halved).
        height: Input height the MACs were counted at.
        width: Input width.
    """

    params: int
    macs: int
    height: int
    width: int

    def __str__(self) -> str:
        return (
            f"{self.params / 1e6:.2f} M params, {self.macs / 1e9:.3f} GMACs "
            f"at {self.height}x{self.width}"
        )


@torch.no_grad()
def describe(model: nn.Module, height: int, width: int) -> ModelSummary:
    """Count parameters and MACs of ``model`` on one ``1 x 3 x height x width`` input.

    The model runs once in eval mode on the device of its first parameter (its training mode
    is restored afterwards).

    Args:
        model: A seg model (takes ``B x 3 x H x W`` in ``[0, 1]``).
        height: Input height.
        width: Input width.

    Returns:
        The :class:`ModelSummary`.
    """
    params = sum(p.numel() for p in model.parameters())
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with counter:
            model(torch.rand(1, 3, height, width, device=device))
    finally:
        model.train(was_training)
    return ModelSummary(
        params=params, macs=counter.get_total_flops() // 2, height=height, width=width
    )
