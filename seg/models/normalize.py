"""Input normalisation inside the model: RGB in ``[0, 1]`` -> ``(x - mean) / std``."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from timm.models import get_pretrained_cfg
from torch import Tensor, nn

from seg.errors import ConfigError

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


class InputNormalization(nn.Module):
    """Per-channel ``(x - mean) / std`` with mean and std held as buffers.

    The buffers are not persistent: they come from the constructor (that is, the config), never
    from a checkpoint, so a checkpoint loads into a model whatever normalisation it was built with.
    They are constants in an exported ONNX graph.

    Args:
        mean: Per-channel mean of the ``[0, 1]`` RGB input (3 values).
        std: Per-channel standard deviation (3 positive values).

    Raises:
        ValueError: When ``mean`` or ``std`` does not hold 3 values or ``std`` is not positive.
    """

    def __init__(
        self,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        super().__init__()
        if len(mean) != 3 or len(std) != 3:
            raise ConfigError(
                f"mean and std need 3 values (R, G, B); got mean={list(mean)}, std={list(std)}."
            )
        if min(std) <= 0:
            raise ConfigError(f"std values must be positive; got {list(std)}.")
        for name, values in (("mean", mean), ("std", std)):
            tensor = torch.tensor([float(v) for v in values]).view(1, 3, 1, 1)
            self.register_buffer(name, tensor, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """Normalise a ``B x 3 x H x W`` batch."""
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"


def timm_mean_std(
    source: str | nn.Module,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and std a timm backbone was pre-trained with, ImageNet's when unknown.

    Args:
        source: A timm model name (``"tf_efficientnet_lite0"``, ``"resnet50.a1_in1k"``) or a timm
            model, whose ``pretrained_cfg`` is read.

    Returns:
        ``(mean, std)``, 3 values each. Some timm weights use ``(0.5, 0.5, 0.5)`` rather than
        ImageNet statistics; feeding them the wrong normalisation costs accuracy when fine-tuning.
    """
    if isinstance(source, str):
        cfg = get_pretrained_cfg(source)
        cfg = cfg.to_dict() if cfg is not None else {}
    else:
        cfg = getattr(source, "pretrained_cfg", None) or {}
    mean, std = cfg.get("mean"), cfg.get("std")
    if mean is None or std is None or len(mean) != 3 or len(std) != 3:
        return IMAGENET_MEAN, IMAGENET_STD
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)
