"""Losses: small modules ``loss(prediction, target) -> scalar`` plus one wiring container.

The wiring (which model output feeds which loss, with which weight) lives only in
:class:`seg.losses.criterion.Criterion` and its config; the loss modules know nothing of configs.
"""

from seg.losses.criterion import Criterion, LossTerm
from seg.losses.distill import AffinityKD, AttentionKD, PixelwiseKD
from seg.losses.segmentation import BCELoss, DiceLoss, FocalLoss

__all__ = [
    "AffinityKD",
    "AttentionKD",
    "BCELoss",
    "Criterion",
    "DiceLoss",
    "FocalLoss",
    "LossTerm",
    "PixelwiseKD",
]
