"""Timing of single-image inference: ONNX Runtime sessions and TFLite (LiteRT) interpreters.

Every runner owns a preallocated input and returns a zero-argument callable that does one full
inference (input copy in, run, output copy out), so :func:`time_fn` times the same work for both
runtimes. Runners are built with an explicit thread count, for like-for-like comparisons.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Runner:
    """One loaded model ready to run on a fixed input.

    Attributes:
        run: Does one inference on the preallocated input; returns the output array.
        predict: Runs the model on a given input (same layout and shape as ``example``).
        layout: ``"NCHW"`` (ONNX students) or ``"NHWC"`` (TFLite peers).
        height: Input height.
        width: Input width.
    """

    run: Callable[[], np.ndarray]
    predict: Callable[[np.ndarray], np.ndarray]
    layout: str
    height: int
    width: int


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in ``[0, 100]``) of a non-empty list."""
    if not values:
        raise ValueError("percentile of an empty list")
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def time_fn(fn: Callable[[], object], iters: int = 200, warmup: int = 20) -> tuple[float, float]:
    """Time ``fn()``: ``warmup`` untimed calls, then ``iters`` timed ones, one at a time.

    Args:
        fn: The zero-argument callable to time.
        iters: Number of timed calls (>= 1).
        warmup: Number of untimed calls first (>= 0).

    Returns:
        ``(median_ms, p90_ms)`` of the per-call wall-clock times (``time.perf_counter_ns``).

    Raises:
        ValueError: For ``iters < 1`` or ``warmup < 0``.
    """
    if iters < 1:
        raise ValueError(f"time_fn: iters must be >= 1, got {iters}")
    if warmup < 0:
        raise ValueError(f"time_fn: warmup must be >= 0, got {warmup}")
    for _ in range(warmup):
        fn()
    times = []
    clock = time.perf_counter_ns
    for _ in range(iters):
        start = clock()
        fn()
        times.append((clock() - start) / 1e6)
    return percentile(times, 50), percentile(times, 90)


def sample_times(fn: Callable[[], object], count: int) -> list[float]:
    """Wall-clock milliseconds of ``count`` consecutive calls of ``fn()``."""
    clock = time.perf_counter_ns
    times = []
    for _ in range(count):
        start = clock()
        fn()
        times.append((clock() - start) / 1e6)
    return times


def time_interleaved(
    fns: list[Callable[[], object]], iters: int = 200, warmup: int = 20, rounds: int = 10
) -> list[tuple[float, float]]:
    """Time several callables under the same conditions: after ``warmup`` calls each, ``rounds``
    rounds each give every callable ``iters / rounds`` consecutive timed calls in turn, so a slow
    spell of the machine (other load, frequency changes) hits all of them alike instead of biasing
    whichever ran during it.

    Returns:
        ``(median_ms, p90_ms)`` per callable, in order.
    """
    if iters < 1 or warmup < 0 or rounds < 1:
        raise ValueError(
            f"need iters >= 1, warmup >= 0, rounds >= 1; got {iters}, {warmup}, {rounds}"
        )
    for fn in fns:
        for _ in range(warmup):
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    per_round = [iters // rounds + (1 if r < iters % rounds else 0) for r in range(rounds)]
    for count in per_round:
        for i, fn in enumerate(fns):
            samples[i].extend(sample_times(fn, count))
    return [(percentile(t, 50), percentile(t, 90)) for t in samples]


def _static_hw(shape: list, path: Path) -> tuple[int, int, int]:
    """``(batch, dim2, dim3)`` of a 4-d input shape, symbolic batch read as 1."""
    if len(shape) != 4:
        raise ValueError(f"{path}: expected a 4-d image input, got shape {shape}")
    dims = [d if isinstance(d, int) and d > 0 else None for d in shape]
    if dims[2] is None or dims[3] is None:
        raise ValueError(
            f"{path}: input shape {shape} has a symbolic height/width; export the model with a "
            "static input size to benchmark it."
        )
    return dims[0] or 1, dims[2], dims[3]


def ort_session(path: str | Path, threads: int):
    """An ONNX Runtime CPU session: ``threads`` intra-op threads, 1 inter-op, sequential.

    Graph optimisation stays at ONNX Runtime's default (all optimisations).

    Args:
        path: The ``.onnx`` file.
        threads: Intra-op thread count (>= 1).

    Returns:
        The ``onnxruntime.InferenceSession``.
    """
    import onnxruntime as ort

    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def ort_runner(path: str | Path, threads: int, image: np.ndarray | None = None) -> Runner:
    """A :class:`Runner` for an NCHW ``float32`` ONNX model (``1 x 3 x H x W`` input).

    Args:
        path: The ``.onnx`` file.
        threads: Intra-op thread count.
        image: The preallocated ``1 x 3 x H x W`` float32 input; random in ``[0, 1]`` if None.

    Returns:
        The runner; ``run()`` returns the first output.

    Raises:
        ValueError: When the input is not a static 4-d image or ``image`` has another shape.
    """
    path = Path(path)
    session = ort_session(path, threads)
    inp = session.get_inputs()[0]
    _, height, width = _static_hw(list(inp.shape), path)
    if image is None:
        image = np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)
    image = np.ascontiguousarray(image, dtype=np.float32)
    if image.shape != (1, 3, height, width):
        raise ValueError(f"{path}: input must be 1x3x{height}x{width}, got {image.shape}")
    name = inp.name
    output = session.get_outputs()[0].name
    feed = {name: image}

    def run() -> np.ndarray:
        return session.run([output], feed)[0]

    def predict(x: np.ndarray) -> np.ndarray:
        return session.run([output], {name: np.ascontiguousarray(x, dtype=np.float32)})[0]

    return Runner(run=run, predict=predict, layout="NCHW", height=height, width=width)


def tflite_interpreter(path: str | Path, threads: int | None = None):
    """A LiteRT ``Interpreter`` (default delegates, i.e. XNNPACK) with ``threads`` threads.

    Raises:
        ImportError: When ``ai_edge_litert`` is not installed (``make peers`` installs it).
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as err:
        raise ImportError(
            "ai_edge_litert is not installed; run `make peers` (or pip install ai-edge-litert)."
        ) from err
    return Interpreter(model_path=str(path), num_threads=threads)


def tflite_runner(path: str | Path, threads: int, image: np.ndarray | None = None) -> Runner:
    """A :class:`Runner` for an NHWC ``float32`` TFLite model (``1 x H x W x 3`` input).

    One call is ``set_tensor`` + ``invoke`` + ``get_tensor``.

    Args:
        path: The ``.tflite`` file.
        threads: Interpreter thread count (XNNPACK uses the same).
        image: The preallocated ``1 x H x W x 3`` float32 input; random in ``[0, 1]`` if None.

    Returns:
        The runner; ``run()`` returns the first output.

    Raises:
        ValueError: When the input is not a static 4-d image or ``image`` has another shape.
    """
    path = Path(path)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    interpreter = tflite_interpreter(path, threads)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    shape = [int(d) for d in inp["shape"]]
    if len(shape) != 4 or shape[3] != 3:
        raise ValueError(f"{path}: expected a 1 x H x W x 3 input, got {shape}")
    height, width = shape[1], shape[2]
    if image is None:
        image = np.random.default_rng(0).random((1, height, width, 3), dtype=np.float32)
    image = np.ascontiguousarray(image, dtype=np.float32)
    if image.shape != (1, height, width, 3):
        raise ValueError(f"{path}: input must be 1x{height}x{width}x3, got {image.shape}")
    in_index, out_index = inp["index"], out["index"]

    def predict(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(in_index, np.ascontiguousarray(x, dtype=np.float32))
        interpreter.invoke()
        return interpreter.get_tensor(out_index)

    def run() -> np.ndarray:
        return predict(image)

    return Runner(run=run, predict=predict, layout="NHWC", height=height, width=width)
