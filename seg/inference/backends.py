"""Runtimes a trained model runs in: PyTorch, ONNX Runtime and LiteRT (TFLite), behind one interface.

Every backend maps a batch at the model's own input size, ``N x 3 x h x w`` float32 RGB in
``[0, 1]`` (NCHW), to ``N x 1 x h x w`` float32 foreground probabilities (:meth:`run`), whatever
layout the runtime wants; and gives a zero-argument callable that does one single-image inference
on a preallocated input in the runtime's own layout (:meth:`timer`), so latency benchmarks time the
same work in every runtime. Frames of other sizes are the :class:`~seg.inference.Predictor`'s job.

This is the one place that opens an ONNX Runtime session (:func:`ort_session`) or a LiteRT
interpreter (:func:`tflite_interpreter`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from seg.errors import MissingFileError, ModelFileError, SegError, UserInputError


class Backend(Protocol):
    """What a runtime offers the predictor and the benchmarks.

    Attributes:
        kind: ``"torch"``, ``"onnx"`` or ``"tflite"``.
        height: Input height the model takes.
        width: Input width.
        layout: The runtime's own input layout, ``"NCHW"`` or ``"NHWC"`` (what :meth:`timer` feeds).
    """

    kind: str
    height: int
    width: int
    layout: str

    def run(self, batch: np.ndarray) -> np.ndarray:
        """``N x 3 x h x w`` float32 in ``[0, 1]`` -> ``N x 1 x h x w`` probabilities."""
        ...

    def timer(self, example: np.ndarray | None = None) -> Callable[[], np.ndarray]:
        """One single-image inference per call, on ``example`` (``1 x 3 x h x w``; seeded random
        when None) stored in the runtime's layout beforehand."""
        ...


def _check_batch(batch: np.ndarray, height: int, width: int, what: str) -> np.ndarray:
    batch = np.ascontiguousarray(batch, dtype=np.float32)
    if batch.ndim != 4 or batch.shape[1] != 3 or batch.shape[-2:] != (height, width):
        raise UserInputError(
            f"{what} takes N x 3 x {height} x {width} float32 input; got {tuple(batch.shape)}. "
            "Frames of other sizes go through seg.inference.Predictor, which resizes them."
        )
    return batch


def _example(example: np.ndarray | None, height: int, width: int) -> np.ndarray:
    if example is None:
        return np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)
    return _check_batch(example[:1], height, width, "timer")


def _static_hw(shape: list[Any], path: Path) -> tuple[int | None, int, int]:
    """``(batch or None when symbolic, height, width)`` of a 4-d NCHW input shape."""
    if len(shape) != 4:
        raise ModelFileError(f"{path}: expected a 4-d image input, got shape {shape}.")
    dims = [d if isinstance(d, int) and d > 0 else None for d in shape]
    if dims[2] is None or dims[3] is None:
        raise ModelFileError(
            f"{path}: input shape {shape} has a symbolic height/width; export the model with a "
            "static input size (scripts/export.py --height H --width W)."
        )
    return dims[0], dims[2], dims[3]


def ort_session(path: str | Path, threads: int = 0, profile_prefix: str | None = None):
    """An ONNX Runtime CPU session: ``threads`` intra-op threads (0: ONNX Runtime's default), one
    inter-op thread, sequential execution, default (all) graph optimisations, quiet logs; with
    ``profile_prefix``, ONNX Runtime's profiler writes its trace there (``end_profiling()``).

    Raises:
        MissingFileError: When ``path`` does not exist.
        ModelFileError: When ONNX Runtime cannot load it.
    """
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"ONNX file not found: {path}")
    if threads < 0:
        raise UserInputError(f"threads must be >= 0, got {threads}.")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    if profile_prefix is not None:
        opts.enable_profiling = True
        opts.profile_file_prefix = profile_prefix
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - ONNX Runtime raises its own exception types
        raise ModelFileError(
            f"{path}: not a loadable ONNX graph ({type(err).__name__}: {err})."
        ) from err


class OnnxBackend:
    """An exported seg graph in ONNX Runtime (CPU provider).

    A static batch-1 graph runs one frame at a time, so any ``N`` works either way.

    Args:
        path: The ``.onnx`` file.
        threads: Intra-op threads (0: ONNX Runtime's default).
    """

    kind = "onnx"
    layout = "NCHW"

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        self.path = Path(path)
        self.session = ort_session(self.path, threads)
        inp = self.session.get_inputs()[0]
        batch, self.height, self.width = _static_hw(list(inp.shape), self.path)
        self.static_batch = batch is not None
        self.input_name = inp.name
        self.output_name = self.session.get_outputs()[0].name

    def run(self, batch: np.ndarray) -> np.ndarray:
        batch = _check_batch(batch, self.height, self.width, self.path.name)
        out = [self.output_name]
        if self.static_batch:
            parts = [self.session.run(out, {self.input_name: x[None]})[0] for x in batch]
            return np.concatenate(parts).astype(np.float32, copy=False)
        return self.session.run(out, {self.input_name: batch})[0].astype(np.float32, copy=False)

    def timer(self, example: np.ndarray | None = None) -> Callable[[], np.ndarray]:
        feed = {self.input_name: _example(example, self.height, self.width)}
        session, out = self.session, [self.output_name]
        return lambda: session.run(out, feed)[0]


def tflite_interpreter(path: str | Path, threads: int | None = None):
    """A LiteRT ``Interpreter`` (default delegates, i.e. XNNPACK) with ``threads`` threads.

    Raises:
        SegError: When ``ai_edge_litert`` is not installed (``make peers`` installs it).
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as err:
        raise SegError(
            "ai_edge_litert is not installed; run `make peers` (or pip install ai-edge-litert) "
            "to run .tflite models."
        ) from err
    if not Path(path).is_file():
        raise MissingFileError(f"TFLite file not found: {path}")
    return Interpreter(model_path=str(path), num_threads=threads)


class TfliteBackend:
    """A ``.tflite`` segmentation model in LiteRT with XNNPACK: ``1 x h x w x 3`` float32 RGB in
    ``[0, 1]`` (NHWC) -> ``1 x h x w x 1`` probabilities (MediaPipe's selfie segmenters).

    Args:
        path: The ``.tflite`` file.
        threads: Interpreter threads (XNNPACK uses the same; 0: LiteRT's default).
    """

    kind = "tflite"
    layout = "NHWC"

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        self.path = Path(path)
        self.interpreter = tflite_interpreter(self.path, threads or None)
        self.interpreter.allocate_tensors()
        inp = self.interpreter.get_input_details()[0]
        shape = [int(d) for d in inp["shape"]]
        if len(shape) != 4 or shape[3] != 3:
            raise ModelFileError(f"{self.path}: expected a 1 x H x W x 3 input, got {shape}.")
        self.height, self.width = shape[1], shape[2]
        self._in = inp["index"]
        self._out = self.interpreter.get_output_details()[0]["index"]

    def _invoke(self, x: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self._in, x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._out)

    def run(self, batch: np.ndarray) -> np.ndarray:
        batch = _check_batch(batch, self.height, self.width, self.path.name)
        nhwc = np.ascontiguousarray(batch.transpose(0, 2, 3, 1))
        out = [self._invoke(x[None]).reshape(1, 1, self.height, self.width) for x in nhwc]
        return np.concatenate(out).astype(np.float32, copy=False)

    def timer(self, example: np.ndarray | None = None) -> Callable[[], np.ndarray]:
        x = _example(example, self.height, self.width)
        nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        return lambda: self._invoke(nhwc)


class TorchBackend:
    """A seg network (any model returning :class:`~seg.models.SegOutput`) in PyTorch.

    Args:
        net: The network (put in eval mode).
        height: Input height it was trained at.
        width: Input width.
        device: Torch device to run on.
        threads: Torch intra-op threads (0: keep the current setting).
    """

    kind = "torch"
    layout = "NCHW"

    def __init__(
        self, net: Any, height: int, width: int, device: str = "cpu", threads: int = 0
    ) -> None:
        import torch

        if threads > 0:
            torch.set_num_threads(threads)
        self.device = device
        self.net = net.to(device).eval()
        self.height, self.width = int(height), int(width)

    def run(self, batch: np.ndarray) -> np.ndarray:
        import torch

        batch = _check_batch(batch, self.height, self.width, "the model")
        with torch.no_grad():
            x = torch.from_numpy(batch).to(self.device)
            return self.net(x).probs.float().cpu().numpy()

    def timer(self, example: np.ndarray | None = None) -> Callable[[], np.ndarray]:
        x = _example(example, self.height, self.width)
        return lambda: self.run(x)
