"""The weighted categorical draw every part of the generator uses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def choice(rng: np.random.Generator, options: Sequence[str], p: Sequence[float]) -> str:
    """Picks one option with (unnormalised) probabilities ``p``.

    Args:
        rng: Random generator (one uniform draw).
        options: The values to choose from.
        p: One non-negative weight per option.

    Returns:
        The chosen option.
    """
    u = rng.random() * sum(p)
    for option, weight in zip(options, p, strict=True):
        u -= weight
        if u < 0:
            return option
    return options[-1]
