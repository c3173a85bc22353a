"""Timing of zero-argument callables: one at a time (:func:`time_fn`) or several interleaved
(:func:`time_interleaved`), as median and 90th percentile milliseconds.

What is timed comes from the inference backends (:mod:`seg.inference.backends`): every backend's
``timer(example)`` is a callable doing one single-image inference on a preallocated input, so the
same work is timed in every runtime::

    from seg.inference import OnnxBackend
    median_ms, p90_ms = time_fn(OnnxBackend("student.onnx", threads=1).timer(), iters, warmup)
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


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
