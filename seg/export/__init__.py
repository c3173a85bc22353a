"""Deployment: ONNX export with verification, INT8 quantization, scoring of exported models."""

from seg.export.exporter import (
    ExportSettings,
    export_run,
    export_student,
    frame_chunks,
    frames_from,
    ship_postprocess,
)
from seg.export.onnx import (
    DeployableNet,
    config_hash,
    export_onnx,
    read_metadata,
    update_metadata,
)
from seg.export.quantize import quantize_int8
from seg.export.verify import ExportVerificationError, verify_export

__all__ = [
    "DeployableNet",
    "ExportSettings",
    "ExportVerificationError",
    "config_hash",
    "export_onnx",
    "export_run",
    "export_student",
    "frame_chunks",
    "frames_from",
    "quantize_int8",
    "read_metadata",
    "ship_postprocess",
    "update_metadata",
    "verify_export",
]
