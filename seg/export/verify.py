"""Check an exported graph against the PyTorch model it came from."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from seg.errors import ExportError
from seg.export.onnx import deployable
from seg.inference import OnnxBackend
from seg.metrics import mask_iou


class ExportVerificationError(ExportError):
    """The ONNX graph does not reproduce the PyTorch model within tolerance."""


@dataclass(frozen=True)
class Verification:
    """ONNX vs PyTorch on the same frames.

    Attributes:
        frames: Number of frames compared.
        max_abs_diff: Largest absolute difference of foreground probabilities.
        mask_iou: IoU between the two thresholded masks over all frames.
        atol: The tolerance on ``max_abs_diff``.
        min_iou: The floor on ``mask_iou``.
    """

    frames: int
    max_abs_diff: float
    mask_iou: float
    atol: float
    min_iou: float

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= self.atol and self.mask_iou >= self.min_iou

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def __str__(self) -> str:
        return (
            f"max |onnx - torch| = {self.max_abs_diff:.2e} (limit {self.atol:.0e}), "
            f"mask IoU = {self.mask_iou:.5f} (floor {self.min_iou}) on {self.frames} frames"
        )


@torch.no_grad()
def verify_export(
    onnx_path: str | Path,
    net: nn.Module,
    frames: np.ndarray,
    *,
    atol: float = 1e-4,
    min_iou: float = 0.999,
    threshold: float = 0.5,
) -> Verification:
    """Run ONNX Runtime and PyTorch on the same frames and compare.

    Args:
        onnx_path: The exported fp32 graph.
        net: The PyTorch network it was exported from.
        frames: ``N x 3 x H x W`` float32 RGB in ``[0, 1]`` (validation frames).
        atol: Largest allowed absolute probability difference.
        min_iou: Smallest allowed IoU between the two thresholded masks.
        threshold: Mask threshold.

    Returns:
        The numbers (also when they pass).

    Raises:
        ExportVerificationError: With the numbers, when either limit is exceeded.
    """
    with deployable(net) as wrapper:
        reference = wrapper(torch.from_numpy(np.ascontiguousarray(frames, np.float32))).numpy()
    got = OnnxBackend(onnx_path).run(frames)
    result = Verification(
        frames=len(frames),
        max_abs_diff=float(np.abs(got - reference).max()),
        mask_iou=mask_iou(got > threshold, reference > threshold),
        atol=atol,
        min_iou=min_iou,
    )
    if not result.passed:
        raise ExportVerificationError(f"{onnx_path}: export verification failed: {result}.")
    return result
