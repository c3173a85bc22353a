"""Turning an ``(image, mask)`` pair into the tensors every seg dataset yields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

Transform = Callable[..., dict[str, Any]]


def make_sample(
    image: np.ndarray,
    mask: np.ndarray | None,
    index: int,
    transform: Transform | None = None,
    previous: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Apply an albumentations transform and convert to tensors.

    Args:
        image: ``H x W x 3`` uint8 RGB.
        mask: ``H x W`` uint8 in ``{0, 1}`` (or float32 in ``[0, 1]``: soft targets); None for an
            unlabelled image (the sample then has no ``mask``).
        index: Sample index in its dataset (kept in the batch for previews and badcase mining).
        transform: An albumentations pipeline called as ``transform(image=..., mask=...)``, or None.
            With ``previous`` it is called as ``transform(image=..., mask=..., previous_image=...,
            previous_mask=...)`` and must transform the four alike (an albumentations ``Compose``
            with those two keys as additional ``image``/``mask`` targets) and return all four.
        previous: ``(image, mask)`` of the previous video frame (same formats), or None.

    Returns:
        ``{"image": 3 x H x W float32 in [0, 1], "mask": 1 x H x W float32 in {0, 1}, "index": int}``,
        plus ``previous_image`` (``3 x H x W``) and ``previous_mask`` (``1 x H x W``), same
        formats, when ``previous`` is given.

    Raises:
        ValueError: When the previous frame's shape differs from the frame's, or the transform does
            not return the previous frame.
    """
    if previous is not None:
        previous_image, previous_mask = previous
        if previous_image.shape != image.shape or previous_mask.shape != mask.shape:
            raise ValueError(
                f"make_sample: previous frame {previous_image.shape}/{previous_mask.shape} does "
                f"not match the frame {image.shape}/{mask.shape} (sample {index})."
            )
    if mask is None:
        if previous is not None:
            raise ValueError(f"make_sample: an unlabelled sample ({index}) cannot have a pair.")
        if transform is not None:
            image = transform(image=image)["image"]
        return {"image": _image_tensor(image), "index": index}
    if transform is not None:
        if previous is None:
            out = transform(image=image, mask=mask)
        else:
            out = transform(
                image=image, mask=mask, previous_image=previous_image, previous_mask=previous_mask
            )
            if "previous_image" not in out or "previous_mask" not in out:
                raise ValueError(
                    "make_sample: the transform did not return 'previous_image' and "
                    "'previous_mask'; register them as additional targets "
                    "(albumentations Compose.add_targets)."
                )
            previous_image, previous_mask = out["previous_image"], out["previous_mask"]
        image, mask = out["image"], out["mask"]
    sample = {"image": _image_tensor(image), "mask": _mask_tensor(mask), "index": index}
    if previous is not None:
        sample["previous_image"] = _image_tensor(previous_image)
        sample["previous_mask"] = _mask_tensor(previous_mask)
    return sample


def to_frames(images: Any) -> np.ndarray:
    """``N x 3 x H x W`` float images in ``[0, 1]`` (what seg datasets yield; array or tensor) ->
    ``N x H x W x 3`` ``uint8`` frames: the inverse of :func:`make_sample`'s image tensor (exact
    for images that came from ``uint8`` pixels)."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    images = np.asarray(images, dtype=np.float32)
    frames = (images.transpose(0, 2, 3, 1) * 255.0).round().clip(0, 255)
    return np.ascontiguousarray(frames).astype(np.uint8)


def _image_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)


def _mask_tensor(mask: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(mask)).unsqueeze(0).float()
