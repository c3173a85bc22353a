"""The one output contract every segmentation model in seg follows.

Any teacher pairs with any student because both return a :class:`SegOutput`:

* ``logits``: ``B x 1 x H x W`` at the input resolution. seg is binary (person vs background) and
  uses a single sigmoid channel everywhere: ``sigmoid(logits)`` is the foreground probability. Per-pixel
  cross-entropy on one sigmoid channel is binary cross-entropy, so nothing is lost against a 2-way
  softmax, and export, distillation and post-processing all see one format.
* ``edge_logits``: ``B x 1 x H x W`` boundary logits from an edge head, or ``None``.
* ``features``: encoder feature maps keyed by their **stride** (2, 4, 8, 16, 32). Distillation pairs
  student and teacher tensors by stride, never by index or name.

Models take RGB images as float tensors in ``[0, 1]``, ``B x 3 x H x W``, and normalise inside
(see :class:`seg.models.normalize.InputNormalization`), so teacher and student may use different
normalisations and an exported graph needs no pre-processing beyond scaling pixels to ``[0, 1]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from seg.errors import ConfigError


@dataclass
class SegOutput:
    """What every seg model returns.

    Attributes:
        logits: ``B x 1 x H x W`` foreground logits at input resolution.
        edge_logits: ``B x 1 x H x W`` boundary logits, or ``None`` when the model has no edge head.
        features: Encoder feature maps keyed by stride (e.g. ``{4: B x C4 x H/4 x W/4, ...}``).
    """

    logits: Tensor
    edge_logits: Tensor | None = None
    features: dict[int, Tensor] = field(default_factory=dict)

    @property
    def probs(self) -> Tensor:
        """Foreground probability ``sigmoid(logits)``."""
        return torch.sigmoid(self.logits)

    def map(self, fn: Callable[[Tensor], Tensor]) -> SegOutput:
        """A copy with ``fn`` applied to every tensor, e.g. ``Tensor.detach`` (a teacher's output
        used as a target) or ``Tensor.float`` (outputs of a bfloat16-autocast forward)."""
        return SegOutput(
            logits=fn(self.logits),
            edge_logits=None if self.edge_logits is None else fn(self.edge_logits),
            features={s: fn(f) for s, f in self.features.items()},
        )


def check_input_shape(
    x: Tensor,
    *,
    model_name: str,
    multiple: int = 1,
    min_size: int = 32,
) -> None:
    """Raise a helpful error when ``x`` is not an image batch the model can take.

    Args:
        x: The input batch.
        model_name: Name used in the error message.
        multiple: Height and width must be divisible by this (1 = any size).
        min_size: Smallest allowed height and width.

    Raises:
        ValueError: When ``x`` is not ``B x 3 x H x W`` or its size does not fit, with the nearest
            sizes that work.
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ConfigError(
            f"{model_name} expects an RGB batch of shape B x 3 x H x W (float in [0, 1]); "
            f"got shape {tuple(x.shape)}."
        )
    h, w = int(x.shape[-2]), int(x.shape[-1])
    if h < min_size or w < min_size:
        raise ConfigError(f"{model_name} needs height and width >= {min_size}; got {h}x{w}.")
    if multiple > 1 and (h % multiple or w % multiple):

        def near(v: int) -> str:
            lo = max(multiple, v // multiple * multiple)
            hi = lo + multiple if lo < v else lo
            return f"{lo} or {hi}" if lo != hi else f"{lo}"

        raise ConfigError(
            f"{model_name} needs height and width divisible by {multiple}; got {h}x{w}. "
            f"Nearest sizes that work: height {near(h)}, width {near(w)}. "
            f"Or set pad_to_multiple: true to pad the input and crop the output."
        )
