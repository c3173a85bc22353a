"""Edge (boundary) loss for the student's edge head: weighted BCE against a band around the mask edge.

The target is derived from the segmentation mask itself (:func:`edge_target`, a morphological
gradient), so the training wiring only passes the batch mask and no edge annotation is needed.

Why class-balanced BCE: edge pixels are a few percent of an image (a band of 2-4 px around one
person in a 144x256 frame is about 2-5 % of the pixels). With plain BCE a head that predicts
"background everywhere" already reaches a low loss and gets little gradient to find the edge; the
HED weighting (Xie & Tu 2015) gives both classes the same total weight per image, which removes that
trivial optimum. A focal loss would address the same imbalance, but it adds a second
hyper-parameter, its down-weighting of easy pixels makes the loss scale drift during training, and
at a few thousand pixels per image a per-image class weight is cheaper (one reduction) and
numerically as stable as plain BCE.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seg.errors import ConfigError
from seg.metrics import dilate, erode


@torch.no_grad()
def edge_target(mask: Tensor, band_px: int) -> Tensor:
    """Boundary band of a binary mask by morphological gradient ``dilate(mask) - erode(mask)``.

    The structuring element is a square of side ``2 * band_px + 1`` (see :func:`seg.metrics.dilate`),
    so the band is ``band_px`` pixels on each side of the edge (``2 * band_px`` pixels wide). As in
    :mod:`seg.metrics`, dilation ignores pixels outside the image and erosion treats them as
    foreground, so the image border is not an edge: a person cut by the frame has no band along it.

    Args:
        mask: ``B x 1 x H x W`` mask in ``{0, 1}``; soft values are binarised at 0.5.
        band_px: Radius of the structuring element, ``>= 1``.

    Returns:
        ``B x 1 x H x W`` float tensor in ``{0, 1}`` (the mask's float dtype, float32 otherwise) on
        the mask's device, with no gradient.

    Raises:
        ValueError: When ``band_px < 1``.
    """
    if int(band_px) != band_px or band_px < 1:
        raise ConfigError(f"edge_target: band_px must be an int >= 1, got {band_px}.")
    dtype = mask.dtype if mask.is_floating_point() else torch.float32
    binary = (mask >= 0.5).to(dtype)
    return dilate(binary, int(band_px)) - erode(binary, int(band_px))


class EdgeLoss(nn.Module):
    """BCE-with-logits between edge logits and the edge band of the segmentation mask.

    With ``balanced=True`` (HED weighting, computed per image): with ``beta = |Y-| / |Y|`` the
    fraction of non-edge pixels, edge pixels get weight ``beta`` and non-edge pixels ``1 - beta``.
    Each image's loss is the **weighted mean** ``sum(w * bce) / sum(w)``, which equals the average
    of the mean BCE over edge pixels and the mean BCE over non-edge pixels. So when every pixel has
    the same BCE ``c`` the loss is ``c``, as with plain BCE (e.g. ``log 2`` for all-zero logits):
    the scale is comparable and loss weights tuned for BCE carry over. An image with no edge pixels
    (or only edge pixels) has one class only and falls back to plain mean BCE, so it never gives
    NaN. The batch loss is the mean over images.

    With ``balanced=False`` it is plain mean BCE, optionally with a fixed ``pos_weight`` on edge
    pixels (as in :func:`torch.nn.functional.binary_cross_entropy_with_logits`).

    Args:
        band_px: Radius of the edge band, see :func:`edge_target`.
        balanced: Use per-image class-balanced weights.
        pos_weight: Fixed weight ``> 0`` of edge pixels; only with ``balanced=False``.

    Raises:
        ValueError: For ``band_px < 1``, ``pos_weight <= 0`` or ``pos_weight`` with ``balanced``.
    """

    def __init__(
        self, band_px: int = 2, balanced: bool = True, pos_weight: float | None = None
    ) -> None:
        super().__init__()
        if int(band_px) != band_px or band_px < 1:
            raise ConfigError(f"EdgeLoss: band_px must be an int >= 1, got {band_px}.")
        if pos_weight is not None and pos_weight <= 0:
            raise ConfigError(f"EdgeLoss: pos_weight must be > 0, got {pos_weight}.")
        if balanced and pos_weight is not None:
            raise ConfigError(
                f"EdgeLoss: pos_weight={pos_weight} is only used with balanced=False; balanced "
                f"weighting computes the edge weight per image."
            )
        self.band_px = int(band_px)
        self.balanced = balanced
        self.pos_weight = pos_weight

    def forward(self, edge_logits: Tensor, mask: Tensor) -> Tensor:
        """Loss of ``B x 1 x H x W`` edge logits against the edge band of a same-size mask.

        Raises:
            ValueError: When the shapes differ (the mask is not resized here).
        """
        if edge_logits.shape != mask.shape:
            raise ConfigError(
                f"EdgeLoss: edge_logits shape {tuple(edge_logits.shape)} and mask shape "
                f"{tuple(mask.shape)} differ; both must be B x 1 x H x W at the same resolution."
            )
        target = edge_target(mask.detach(), self.band_px).to(edge_logits.dtype)
        if not self.balanced:
            pos_weight = (
                None
                if self.pos_weight is None
                else torch.tensor(self.pos_weight, dtype=edge_logits.dtype, device=target.device)
            )
            return F.binary_cross_entropy_with_logits(edge_logits, target, pos_weight=pos_weight)
        bce = F.binary_cross_entropy_with_logits(edge_logits, target, reduction="none").flatten(1)
        target = target.flatten(1)
        pos_frac = target.mean(1, keepdim=True)  # 1 - beta
        weights = target * (1.0 - pos_frac) + (1.0 - target) * pos_frac
        one_class = (pos_frac == 0) | (pos_frac == 1)
        weights = torch.where(one_class, torch.ones_like(weights), weights)
        per_image = (weights * bce).sum(1) / weights.sum(1)
        return per_image.mean()
