"""Segmentation models: the output contract, the real-time student and smp teachers."""

from seg.models.contract import SegOutput, check_input_shape
from seg.models.decoders import MLPDecoder
from seg.models.encoders import TimmEncoder
from seg.models.normalize import IMAGENET_MEAN, IMAGENET_STD, InputNormalization, timm_mean_std
from seg.models.pretrained import (
    PretrainedStatus,
    build_backbone,
    create_backbone,
    resolve_pretrained,
)
from seg.models.refine import RefineModule
from seg.models.student import StudentNet
from seg.models.summary import ModelSummary, describe
from seg.models.teacher import SmpTeacher
from seg.models.weights import load_model, save_model

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "InputNormalization",
    "MLPDecoder",
    "ModelSummary",
    "PretrainedStatus",
    "RefineModule",
    "SegOutput",
    "SmpTeacher",
    "StudentNet",
    "TimmEncoder",
    "build_backbone",
    "check_input_shape",
    "create_backbone",
    "describe",
    "load_model",
    "resolve_pretrained",
    "save_model",
    "timm_mean_std",
]
