"""Static INT8 post-training quantization of an exported student with ONNX Runtime (QDQ format)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from seg.errors import UserInputError
from seg.export.onnx import INPUT_NAME, set_metadata

log = logging.getLogger(__name__)


class FrameReader(CalibrationDataReader):
    """Feeds calibration frames one at a time (batch 1 fits static and dynamic-batch graphs).

    Args:
        frames: ``N x 3 x H x W`` float32 RGB in ``[0, 1]``.
        input_name: The graph's input name.
    """

    def __init__(self, frames: np.ndarray, input_name: str = INPUT_NAME) -> None:
        self.frames = np.ascontiguousarray(frames, dtype=np.float32)
        self.input_name = input_name
        self._iter: Iterator[np.ndarray] = iter(self.frames)

    def get_next(self) -> dict[str, np.ndarray] | None:
        frame = next(self._iter, None)
        return None if frame is None else {self.input_name: frame[None]}

    def rewind(self) -> None:
        self._iter = iter(self.frames)


def quantize_int8(
    fp32_path: str | Path,
    out_path: str | Path,
    calibration: np.ndarray,
    *,
    per_channel: bool = True,
    method: str = "minmax",
) -> Path:
    """Quantize an fp32 ONNX graph to INT8 (QDQ: uint8 activations, int8 weights).

    The graph is first pre-processed (``quant_pre_process``: shape inference and ONNX Runtime's
    basic fusions, so Conv+BatchNorm+ReLU quantize as one unit), then calibrated on ``calibration``
    frames. The result keeps the fp32 graph's input/output contract and ``metadata_props``, with
    ``precision`` set to ``int8`` and the calibration described.

    Args:
        fp32_path: The exported fp32 ``.onnx``.
        out_path: Output ``.onnx`` (e.g. ``student.int8.onnx``).
        calibration: ``N x 3 x H x W`` float32 RGB frames in ``[0, 1]`` at the graph's input size,
            from the validation split (never the test split the result is scored on).
        per_channel: Per-output-channel weight scales (better accuracy for depthwise convs).
        method: Calibration: ``minmax``, ``entropy`` or ``percentile``.

    Returns:
        ``out_path``.

    Raises:
        ValueError: For an empty or badly shaped calibration array or an unknown method.
    """
    methods = {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }
    if method not in methods:
        raise UserInputError(
            f"Unknown calibration method '{method}'; pick one of {sorted(methods)}."
        )
    if calibration.ndim != 4 or calibration.shape[1] != 3 or len(calibration) == 0:
        raise UserInputError(
            f"Calibration frames must be N x 3 x H x W with N >= 1; got {calibration.shape}."
        )
    fp32_path, out_path = Path(fp32_path), Path(out_path)
    source = onnx.load(str(fp32_path))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        quantized = Path(tmp) / "quantized.onnx"
        quantize_static(
            str(prepared),
            str(quantized),
            FrameReader(calibration),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            calibrate_method=methods[method],
        )
        model = onnx.load(str(quantized))
    props = {p.key: p.value for p in source.metadata_props}
    props.update(
        precision="int8",
        quantization=f"static QDQ, u8 activations / s8 weights, per_channel={per_channel}",
        calibration=f"{method} on {len(calibration)} validation frames",
    )
    set_metadata(model, props)
    onnx.save(model, str(out_path))
    log.info("INT8 model: %s (calibrated on %d frames)", out_path, len(calibration))
    return out_path
