"""Losses: small modules ``loss(prediction, target) -> scalar`` plus one wiring container.

The wiring (which model output feeds which loss, with which weight) lives only in
:class:`seg.losses.criterion.Criterion` and its config; the loss modules know nothing of configs.
"""

from seg.losses.criterion import Criterion, FeatureKDTerm, LossTerm
from seg.losses.distill import AffinityKD, AttentionKD, PixelwiseKD
from seg.losses.edge import EdgeLoss, edge_target
from seg.losses.segmentation import BCELoss, DiceLoss, FocalLoss
from seg.losses.temporal import (
    ConsistencyPerturbation,
    TemporalConsistencyLoss,
    affine_warp,
    warp_with_validity,
)

__all__ = [
    "AffinityKD",
    "AttentionKD",
    "BCELoss",
    "ConsistencyPerturbation",
    "Criterion",
    "DiceLoss",
    "EdgeLoss",
    "FeatureKDTerm",
    "FocalLoss",
    "LossTerm",
    "PixelwiseKD",
    "TemporalConsistencyLoss",
    "affine_warp",
    "edge_target",
    "warp_with_validity",
]
