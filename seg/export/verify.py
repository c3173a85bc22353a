"""Check an exported graph against PyTorch, and score ONNX models on labelled frames."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from seg.export.onnx import deployable


class ExportVerificationError(RuntimeError):
    """The ONNX graph does not reproduce the PyTorch model within tolerance."""


class OnnxModel:
    """An ONNX Runtime session on a seg graph: ``N x 3 x H x W`` ``[0, 1]`` RGB -> probabilities.

    A static batch-1 graph is run one frame at a time, so any ``N`` works either way.

    Args:
        path: The ``.onnx`` file.
        threads: ``intra_op_num_threads`` (0 = ONNX Runtime's default).
    """

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"ONNX file not found: {self.path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.static_batch = isinstance(inp.shape[0], int)
        self.height, self.width = int(inp.shape[2]), int(inp.shape[3])

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Foreground probabilities ``N x 1 x H x W`` of ``N x 3 x H x W`` float32 frames."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        if images.shape[-2:] != (self.height, self.width):
            raise ValueError(
                f"{self.path.name} takes {self.height}x{self.width} input; got "
                f"{images.shape[-2]}x{images.shape[-1]}. Export at that size (--height/--width)."
            )
        if self.static_batch:
            outs = [self.session.run(None, {self.input_name: im[None]})[0] for im in images]
            return np.concatenate(outs)
        return self.session.run(None, {self.input_name: images})[0]


def mask_counts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[intersection, union]`` pixel counts of two boolean masks, to sum over chunks."""
    return np.array([np.logical_and(a, b).sum(), np.logical_or(a, b).sum()], dtype=np.int64)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boolean masks over all their pixels (1.0 when both are empty)."""
    inter, union = mask_counts(a, b)
    return 1.0 if union == 0 else float(inter / union)


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
    session = OnnxModel(onnx_path)
    with deployable(net) as wrapper:
        reference = wrapper(torch.from_numpy(np.ascontiguousarray(frames, np.float32))).numpy()
    got = session(frames)
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


def dataset_iou(
    model: OnnxModel, images: np.ndarray, masks: np.ndarray, threshold: float = 0.5
) -> float:
    """Foreground IoU of an ONNX model over labelled frames (pixels summed over the set, like
    ``test/iou``).

    Args:
        model: The ONNX model.
        images: ``N x 3 x H x W`` float32 frames at the model's size.
        masks: ``N x H x W`` or ``N x 1 x H x W`` ground truth (foreground > 0.5).
        threshold: Probability threshold.
    """
    counts = np.zeros(2, dtype=np.int64)
    for start in range(0, len(images), 16):
        pred = model(images[start : start + 16])[:, 0] > threshold
        counts += mask_counts(pred, masks[start : start + 16].reshape(pred.shape) > 0.5)
    inter, union = counts
    return 1.0 if union == 0 else float(inter / union)
