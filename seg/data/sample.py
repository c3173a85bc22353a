"""Turning an ``(image, mask)`` pair into the tensors every seg dataset yields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

Transform = Callable[..., dict[str, Any]]


def make_sample(
    image: np.ndarray, mask: np.ndarray, index: int, transform: Transform | None = None
) -> dict[str, Any]:
    """Apply an albumentations transform and convert to tensors.

    Args:
        image: ``H x W x 3`` uint8 RGB.
        mask: ``H x W`` uint8 in ``{0, 1}``.
        index: Sample index in its dataset (kept in the batch for previews and badcase mining).
        transform: An albumentations pipeline called as ``transform(image=..., mask=...)``, or None.

    Returns:
        ``{"image": 3 x H x W float32 in [0, 1], "mask": 1 x H x W float32 in {0, 1}, "index": int}``.
    """
    if transform is not None:
        out = transform(image=image, mask=mask)
        image, mask = out["image"], out["mask"]
    image_t = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
    mask_t = torch.from_numpy(np.ascontiguousarray(mask)).unsqueeze(0).float()
    return {"image": image_t, "mask": mask_t, "index": index}
