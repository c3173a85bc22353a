"""Export a trained student end to end: ONNX -> verification -> INT8 -> scores on the test split.

Used by the :class:`~seg.callbacks.OnnxExport` callback at the end of every training run and by
``scripts/export.py`` on demand. Writes next to each other::

    student.onnx       fp32, verified against PyTorch on validation frames
    student.int8.onnx  static INT8 (QDQ) calibrated on validation frames
    export.json        verification numbers, test IoU of PyTorch / fp32 ONNX / INT8, sizes

Frames reach the graphs through the inference API (:mod:`seg.inference`): fitted to the export size
with :mod:`seg.resize` for verification and calibration, and scored at their own size against their
own masks by a :class:`~seg.inference.Predictor` on each exported file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn
from torch.utils.data import Dataset

from seg.errors import DataError
from seg.export.onnx import export_onnx, update_metadata
from seg.export.quantize import quantize_int8
from seg.export.verify import verify_export
from seg.inference import Predictor, load_predictor, to_frames, to_model_input
from seg.metrics import iou_from_counts, mask_counts
from seg.timing import time_fn

log = logging.getLogger(__name__)

RUN_SCORES = ("test_iou", "test_boundary_f")  # the training run's own scores, kept in the report


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


def _frames_of(sample: Mapping[str, Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A sample's images (``3 x H x W`` float) and masks (``H x W``): one, or a clip's ``T``."""
    image = np.asarray(sample["image"], dtype=np.float32)
    mask = np.asarray(sample["mask"], dtype=np.float32)
    if image.ndim == 4:  # a clip, T x 3 x H x W (e.g. data=clips)
        return list(image), [m.reshape(image.shape[-2:]) for m in mask]
    return [image], [mask.reshape(image.shape[-2:])]


def frames_from(
    dataset: Dataset, count: int | None, start: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Frames of samples ``start ..`` (``count`` frames; None: to the end) of a seg dataset as
    ``(frames, masks)``: ``N x H x W x 3`` RGB ``uint8`` and ``N x H x W`` float32 targets. A clip
    sample (``T x 3 x H x W``, e.g. ``data=clips``) gives its frames in order.

    Raises:
        DataError: When the dataset has no samples there.
    """
    if start >= len(dataset) or count == 0:
        raise DataError("No frames to export with: the dataset split is empty.")
    images: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    for i in range(start, len(dataset)):
        more_images, more_masks = _frames_of(dataset[i])
        images += more_images
        masks += more_masks
        if count is not None and len(images) >= count:
            images, masks = images[:count], masks[:count]
            break
    return to_frames(np.stack(images)), np.stack(masks)


def frame_chunks(dataset: Dataset, count: int | None = None, chunk: int = 64) -> Chunks:
    """``(frames, masks)`` chunks of about ``chunk`` frames of the first ``count`` samples (None:
    all; a clip is one sample of all its frames), so a large split is scored without holding it in
    memory."""
    total = len(dataset) if count is None else min(count, len(dataset))
    images: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    for i in range(total):
        more_images, more_masks = _frames_of(dataset[i])
        images += more_images
        masks += more_masks
        if len(images) >= chunk or i == total - 1:
            yield to_frames(np.stack(images)), np.stack(masks)
            images, masks = [], []


def export_student(
    net: nn.Module,
    out_dir: str | Path,
    val_frames: np.ndarray,
    *,
    settings: ExportSettings | None = None,
    test_chunks: Chunks | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Export, verify and quantize ``net``; score the results on the test frames when given.

    Args:
        net: The trained student (any seg model).
        out_dir: Folder for the ``.onnx`` files and ``export.json``.
        val_frames: Validation frames ``N x H x W x 3`` RGB ``uint8`` (fitted to the export size
            when they differ, ``stretch``): verification and INT8 calibration use them.
        settings: Export settings (defaults: :class:`ExportSettings`).
        test_chunks: ``(frames, masks)`` chunks of the test split (:func:`frame_chunks`) to score
            the exported models on, at the frames' own size (optional).
        metadata: Extra ``metadata_props`` (config hash, model, the run's test IoU, ...); also
            recorded in the report.

    Returns:
        The report also written to ``export.json``.

    Raises:
        ExportVerificationError: When the fp32 graph does not match PyTorch.
    """
    settings = settings or ExportSettings()
    out_dir = Path(out_dir)
    height = int(settings.height or val_frames.shape[1])
    width = int(settings.width or val_frames.shape[2])
    val_images = to_model_input(val_frames, height, width)
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
    report.update({k: v for k, v in (metadata or {}).items() if k in RUN_SCORES})
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
        report.update(_score(path, int8, test_chunks, settings))
        update_metadata(path, {"test_iou_onnx": report["test_iou_onnx"]})
        if int8 is not None:
            update_metadata(int8, {"test_iou_int8": report["test_iou_int8"]})
    (out_dir / "export.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def export_run(
    net: nn.Module,
    out_dir: str | Path,
    val: Dataset,
    test: Dataset | None,
    *,
    settings: Mapping[str, Any] | None = None,
    test_frames: int | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The export step of a training run: :func:`export_student` with frames from the run's own
    validation split and scores on its test split (``test_frames`` of them; None: all).

    Args:
        net: The network with the best weights.
        out_dir: The run dir.
        val: The validation split (verification and calibration frames).
        test: The test split, or None to skip scoring.
        settings: :class:`ExportSettings` fields (the ``export`` config without ``enabled``).
        test_frames: Test frames to score on (None: the whole split).
        metadata: ``metadata_props`` of the files (config hash, model config, the run's
            ``test_iou`` / ``test_boundary_f``).
    """
    settings = ExportSettings(**dict(settings or {}))
    val_frames, _ = frames_from(val, max(settings.verify_frames, settings.calibration_frames))
    chunks = frame_chunks(test, test_frames) if test is not None else None
    report = export_student(
        net, out_dir, val_frames, settings=settings, test_chunks=chunks, metadata=metadata
    )
    log.info("ONNX: %s", report["onnx"])
    return report


def ship_postprocess(onnx_path: Path, postprocess: Mapping[str, Any]) -> Path:
    """Write the run's post-processing settings next to its graph, ``<stem>.postprocess.json``
    (``student.postprocess.json``: what ``scripts/video.py`` and the browser demo pick up), and
    into the graph's (and its INT8 copy's) metadata as ``postprocess``.

    Args:
        onnx_path: The exported ``.onnx``.
        postprocess: The ``postprocess`` config of the run (a preset's keys, ``_target_`` ignored).

    Returns:
        The sidecar's path.

    Raises:
        ConfigError: For settings :class:`seg.postprocess.PostProcessor` rejects.
    """
    from omegaconf import OmegaConf

    from seg.postprocess import PostProcessor

    raw = (
        OmegaConf.to_container(postprocess, resolve=True)
        if OmegaConf.is_config(postprocess)
        else dict(postprocess)
    )
    settings = PostProcessor(**{k: v for k, v in raw.items() if not k.startswith("_")}).settings()
    sidecar = onnx_path.with_name(f"{onnx_path.stem}.postprocess.json")
    tmp = sidecar.with_name(f".{sidecar.name}.tmp")
    tmp.write_text(json.dumps({"postprocess": settings}, indent=2) + "\n")
    tmp.replace(sidecar)
    for graph in (onnx_path, onnx_path.with_name(f"{onnx_path.stem}.int8.onnx")):
        if graph.is_file():
            update_metadata(graph, {"postprocess": settings})
    return sidecar


def _latency_ms(predictor: Predictor, iters: int = 30) -> float:
    """Median single-frame latency: a rough figure for the report (scripts/benchmark.py measures)."""
    return time_fn(predictor.backend.timer(), iters=iters, warmup=1)[0]


def _score(
    path: Path, int8: Path | None, chunks: Chunks, settings: ExportSettings
) -> dict[str, Any]:
    """Test IoU of the fp32 (and INT8) graph and their mask agreement, chunk by chunk."""
    fp32 = load_predictor(path, threads=1)
    q = load_predictor(int8, threads=1) if int8 is not None else None
    counts = np.zeros((3, 2), dtype=np.int64)  # rows: fp32 vs truth, int8 vs truth, int8 vs fp32
    frames = 0
    for images, masks in chunks:
        frames += len(images)
        truth = masks.reshape(len(masks), *masks.shape[-2:]) > 0.5
        a = fp32(images) > 0.5
        counts[0] += mask_counts(a, truth)
        if q is not None:
            b = q(images) > 0.5
            counts[1] += mask_counts(b, truth)
            counts[2] += mask_counts(b, a)
    if frames == 0:
        raise DataError("No test frames to score the exported model on.")
    ious = [iou_from_counts(*c) for c in counts]
    out: dict[str, Any] = {
        "test_frames": frames,
        "test_iou_onnx": round(ious[0], 5),
        "latency_ms_fp32_1thread": round(_latency_ms(fp32), 3),
    }
    if q is None:
        return out
    agreement = ious[2]
    out.update(
        test_iou_int8=round(ious[1], 5),
        int8_mask_agreement=round(agreement, 5),
        latency_ms_int8_1thread=round(_latency_ms(q), 3),
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
