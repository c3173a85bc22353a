"""Export a trained student end to end: ONNX -> verification -> INT8 -> scores on the test split.

Used by the :class:`~seg.callbacks.OnnxExport` callback at the end of every training run and by
``scripts/export.py`` on demand. Writes next to each other::

    student.onnx       fp32, verified against PyTorch on validation frames
    student.int8.onnx  static INT8 (QDQ) calibrated on validation frames
    export.json        verification numbers, test IoU of PyTorch / fp32 ONNX / INT8, sizes
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from seg.export.onnx import export_onnx, update_metadata
from seg.export.quantize import quantize_int8
from seg.export.verify import OnnxModel, mask_counts, verify_export

log = logging.getLogger(__name__)


@dataclass
class ExportSettings:
    """What to export and how strictly to check it.

    Attributes:
        filename: Name of the fp32 graph; the INT8 one is ``<stem>.int8.onnx``.
        height: Graph input height (None: the training height).
        width: Graph input width (None: the training width).
        dynamic_batch: Symbolic batch axis instead of 1.
        include_edge: Also output the edge head's boundary probability.
        opset: ONNX opset (>= 17).
        exporter: ``dynamo`` or ``torchscript`` (see :func:`~seg.export.onnx.export_onnx`).
        verify_frames: Validation frames ONNX Runtime and PyTorch are compared on.
        atol: Largest allowed probability difference between the two.
        min_iou: Smallest allowed mask IoU between the two.
        quantize: Also write the INT8 model.
        calibration_frames: Validation frames the INT8 calibration sees.
        calibration_method: ``minmax``, ``entropy`` or ``percentile``.
        int8_min_agreement: Smallest allowed mask IoU between INT8 and fp32 on the test split;
            below it the INT8 model is reported as failed (the fp32 export stands).
    """

    filename: str = "student.onnx"
    height: int | None = None
    width: int | None = None
    dynamic_batch: bool = False
    include_edge: bool = False
    opset: int = 18
    exporter: str = "dynamo"
    verify_frames: int = 16
    atol: float = 1e-4
    min_iou: float = 0.999
    quantize: bool = True
    calibration_frames: int = 64
    calibration_method: str = "minmax"
    int8_min_agreement: float = 0.95

    @property
    def int8_filename(self) -> str:
        return self.filename.removesuffix(".onnx") + ".int8.onnx"


Chunks = Iterable[tuple[np.ndarray, np.ndarray]]


def frames_from(
    dataset: Dataset, count: int | None, start: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Samples ``start ..`` (``count`` of them; None: to the end) of a seg dataset as
    ``(images, masks)`` arrays: ``N x 3 x H x W`` float32 in ``[0, 1]``, ``N x 1 x H x W``."""
    stop = len(dataset) if count is None else min(start + count, len(dataset))
    if stop <= start:
        raise ValueError("No frames to export with: the dataset is empty.")
    samples = [dataset[i] for i in range(start, stop)]
    images = torch.stack([torch.as_tensor(s["image"]).float() for s in samples])
    masks = torch.stack(
        [torch.as_tensor(s["mask"]).float().reshape(images.shape[-2:]) for s in samples]
    )
    return images.numpy(), masks[:, None].numpy()


def frame_chunks(dataset: Dataset, count: int | None = None, chunk: int = 64) -> Chunks:
    """``(images, masks)`` chunks of the first ``count`` (None: all) samples, so a large split is
    scored without holding it in memory."""
    total = len(dataset) if count is None else min(count, len(dataset))
    for start in range(0, total, chunk):
        yield frames_from(dataset, min(chunk, total - start), start)


def resize_frames(
    images: np.ndarray, masks: np.ndarray | None, height: int, width: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Resize frames (area/bilinear) and masks (nearest) to ``height x width`` when they differ."""
    if images.shape[-2:] == (height, width):
        return images, masks
    x = torch.from_numpy(images)
    mode = "area" if height <= x.shape[-2] and width <= x.shape[-1] else "bilinear"
    resized = F.interpolate(x, size=(height, width), mode=mode).clamp(0, 1).numpy()
    if masks is not None:
        masks = F.interpolate(torch.from_numpy(masks), size=(height, width), mode="nearest").numpy()
    return np.ascontiguousarray(resized), masks


def _quick_latency_ms(model: OnnxModel, frame: np.ndarray, iters: int = 30) -> float:
    """Median single-frame latency: a rough figure for the report (scripts/benchmark.py measures)."""
    model(frame[None])
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        model(frame[None])
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def export_student(
    net: nn.Module,
    out_dir: str | Path,
    val_images: np.ndarray,
    *,
    settings: ExportSettings | None = None,
    test_chunks: Chunks | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Export, verify and quantize ``net``; score the results on the test frames when given.

    Args:
        net: The trained student (any seg model).
        out_dir: Folder for the ``.onnx`` files and ``export.json``.
        val_images: Validation frames ``N x 3 x H x W`` in ``[0, 1]`` (resized to the export size
            when they differ): verification and INT8 calibration use them.
        settings: Export settings (defaults: :class:`ExportSettings`).
        test_chunks: ``(images, masks)`` chunks of the test split (:func:`frame_chunks`) to score
            the exported models on, resized to the export size when they differ (optional).
        metadata: Extra ``metadata_props`` (config hash, model, the run's test IoU, ...).

    Returns:
        The report also written to ``export.json``.

    Raises:
        ExportVerificationError: When the fp32 graph does not match PyTorch.
    """
    settings = settings or ExportSettings()
    out_dir = Path(out_dir)
    height = int(settings.height or val_images.shape[-2])
    width = int(settings.width or val_images.shape[-1])
    val_images, _ = resize_frames(val_images, None, height, width)
    path = export_onnx(
        net,
        out_dir / settings.filename,
        height,
        width,
        dynamic_batch=settings.dynamic_batch,
        include_edge=settings.include_edge,
        opset=settings.opset,
        metadata=metadata,
        exporter=settings.exporter,
    )
    check = verify_export(
        path,
        net,
        val_images[: settings.verify_frames],
        atol=settings.atol,
        min_iou=settings.min_iou,
    )
    log.info("ONNX export verified: %s (%s)", path, check)
    update_metadata(path, {"verification": check.as_dict()})
    report: dict[str, Any] = {
        "onnx": str(path),
        "height": height,
        "width": width,
        "verification": check.as_dict(),
        "onnx_bytes": path.stat().st_size,
    }
    int8 = None
    if settings.quantize:
        int8 = quantize_int8(
            path,
            out_dir / settings.int8_filename,
            val_images[: settings.calibration_frames],
            method=settings.calibration_method,
        )
        report.update(int8=str(int8), int8_bytes=int8.stat().st_size)
    if test_chunks is not None and not settings.include_edge:
        sized = (resize_frames(images, masks, height, width) for images, masks in test_chunks)
        report.update(_score(path, int8, sized, settings))
        scores = {k: report[k] for k in ("test_iou_onnx", "test_iou_int8") if k in report}
        update_metadata(path, {"test_iou_onnx": scores.get("test_iou_onnx")})
        if int8 is not None:
            update_metadata(int8, {"test_iou_int8": scores.get("test_iou_int8")})
    (out_dir / "export.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def _score(
    path: Path, int8: Path | None, chunks: Chunks, settings: ExportSettings
) -> dict[str, Any]:
    """Test IoU of the fp32 (and INT8) graph and their mask agreement, chunk by chunk."""
    fp32 = OnnxModel(path, threads=1)
    q = OnnxModel(int8, threads=1) if int8 is not None else None
    counts = np.zeros((3, 2), dtype=np.int64)  # rows: fp32 vs truth, int8 vs truth, int8 vs fp32
    frames = 0
    first = None
    for images, masks in chunks:
        first = images[0] if first is None else first
        frames += len(images)
        truth = masks.reshape(len(masks), 1, *masks.shape[-2:]) > 0.5
        a = fp32(images) > 0.5
        counts[0] += mask_counts(a, truth)
        if q is not None:
            b = q(images) > 0.5
            counts[1] += mask_counts(b, truth)
            counts[2] += mask_counts(b, a)
    if first is None:
        raise ValueError("No test frames to score the exported model on.")
    ious = [1.0 if union == 0 else float(inter / union) for inter, union in counts]
    out: dict[str, Any] = {
        "test_frames": frames,
        "test_iou_onnx": round(ious[0], 5),
        "latency_ms_fp32_1thread": round(_quick_latency_ms(fp32, first), 3),
    }
    if q is None:
        return out
    agreement = ious[2]
    out.update(
        test_iou_int8=round(ious[1], 5),
        int8_mask_agreement=round(agreement, 5),
        latency_ms_int8_1thread=round(_quick_latency_ms(q, first), 3),
    )
    out["int8_iou_drop"] = round(out["test_iou_onnx"] - out["test_iou_int8"], 5)
    out["int8_speedup"] = round(out["latency_ms_fp32_1thread"] / out["latency_ms_int8_1thread"], 3)
    out["int8_passed"] = bool(agreement >= settings.int8_min_agreement)
    if not out["int8_passed"]:
        log.warning(
            "INT8 masks agree with fp32 at IoU %.4f only (floor %.2f): keep the fp32 model or "
            "calibrate on more frames (calibration_frames, calibration_method=percentile).",
            agreement,
            settings.int8_min_agreement,
        )
    return out
