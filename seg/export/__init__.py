"""Deployment: ONNX export with verification, INT8 quantization, scoring of exported models."""

from seg.export.onnx import (
    DeployableNet,
    config_hash,
    export_onnx,
    read_metadata,
    update_metadata,
)
from seg.export.quantize import quantize_int8
from seg.export.student import ExportSettings, export_student, frames_from
from seg.export.verify import ExportVerificationError, OnnxModel, dataset_iou, verify_export

__all__ = [
    "DeployableNet",
    "ExportSettings",
    "ExportVerificationError",
    "OnnxModel",
    "config_hash",
    "dataset_iou",
    "export_onnx",
    "export_student",
    "frames_from",
    "quantize_int8",
    "read_metadata",
    "update_metadata",
    "verify_export",
]
