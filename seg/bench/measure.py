"""Measuring graphs: single-image latency rows (timed interleaved, with parameters and MACs) and
the foreground IoU of a graph on frames.

Every graph runs in its backend (:mod:`seg.inference.backends`: ONNX Runtime or LiteRT with an
explicit thread count) on the same seeded random image resized to its input
(:func:`seg.bench.frames.base_image`), preallocated in the runtime's layout, so every row times
the same work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from seg.bench.candidates import Graph
from seg.bench.frames import base_image
from seg.bench.macs import graph_cost
from seg.bench.peers import REFERENCE
from seg.timing import time_interleaved

TARGET_SIZE = (144, 256)  # the size latency ratios (and targets) are taken at
ROW_KEYS = (
    "model",
    "precision",
    "height",
    "width",
    "threads",
    "median_ms",
    "p90_ms",
    "params",
    "macs",
    "test_iou",
)
IOU_THRESHOLD = 0.5


def _print(text: str) -> None:
    print(text, flush=True)


def backend_for(graph: Graph, threads: int) -> Any:
    """The graph loaded in its runtime: :class:`~seg.inference.TfliteBackend` for ``tflite``,
    else :class:`~seg.inference.OnnxBackend`, with ``threads`` threads."""
    from seg.inference import OnnxBackend, TfliteBackend

    backend = TfliteBackend if graph.kind == "tflite" else OnnxBackend
    return backend(graph.path, threads)


def graph_timer(graph: Graph, threads: int, image: np.ndarray) -> Callable[[], np.ndarray]:
    """One single-image inference of ``graph`` per call, on ``image`` (``H x W x 3`` uint8)
    resized to the graph's input and preallocated in the runtime's layout."""
    from seg.inference import to_model_input

    return backend_for(graph, threads).timer(to_model_input([image], graph.height, graph.width))


def measure_iou(graph: Graph, images: np.ndarray, masks: np.ndarray) -> float:
    """Foreground IoU of ``graph`` over ``images``, pooled over all pixels of the set.

    Each frame is resized to the graph's input and the probability back to the frame
    (:func:`seg.inference.load_predictor`, :mod:`seg.resize`), then thresholded at 0.5.

    Args:
        graph: The graph (one thread).
        images: ``N x H x W x 3`` uint8 RGB frames.
        masks: ``N x H x W`` ground truth (foreground ``> 0``).

    Returns:
        Intersection over union of all pixels (1.0 when both are empty).
    """
    from seg.inference import load_predictor
    from seg.metrics import iou_from_counts, mask_counts

    probs = load_predictor(graph.path, threads=1)(np.asarray(images, dtype=np.uint8))
    return iou_from_counts(*mask_counts(probs > IOU_THRESHOLD, np.asarray(masks) > 0))


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """``ratio_vs_landscape``: median over ``mediapipe_landscape``'s at 144x256, same threads."""
    ref = {
        r["threads"]: r["median_ms"]
        for r in rows
        if r["model"] == REFERENCE and (r["height"], r["width"]) == TARGET_SIZE
    }
    for r in rows:
        base = ref.get(r["threads"]) if (r["height"], r["width"]) == TARGET_SIZE else None
        r["ratio_vs_landscape"] = round(r["median_ms"] / base, 4) if base else None


def time_graphs(
    graphs: Sequence[Graph],
    threads: Sequence[int],
    iters: int,
    warmup: int,
    rounds: int = 10,
    echo: Callable[[str], None] = _print,
) -> list[dict[str, Any]]:
    """Time every graph with every thread count; one row each (costs counted once per graph).

    For each thread count all graphs are loaded, then timed interleaved in ``rounds`` rounds
    (:func:`~seg.timing.time_interleaved`), so a noisy spell of the machine affects every
    model alike and the ratios between them stay fair.

    Returns:
        Rows with the :data:`ROW_KEYS` and ``ratio_vs_landscape`` (:func:`add_ratios`).
    """
    image = base_image()
    costs = {id(graph): graph_cost(graph.path) for graph in graphs}
    rows = []
    for n in threads:
        timers = [graph_timer(graph, n, image) for graph in graphs]
        timings = time_interleaved(timers, iters, warmup, rounds)
        del timers
        for graph, (median, p90) in zip(graphs, timings, strict=True):
            cost = costs[id(graph)]
            rows.append(
                {
                    "model": graph.model,
                    "precision": graph.precision,
                    "height": graph.height,
                    "width": graph.width,
                    "threads": int(n),
                    "median_ms": round(median, 4),
                    "p90_ms": round(p90, 4),
                    "params": cost.params,
                    "macs": cost.macs,
                    "test_iou": None if graph.test_iou is None else round(graph.test_iou, 5),
                }
            )
            echo(
                f"  {graph.model:<22} {graph.precision:<4} {graph.height}x{graph.width:<4} "
                f"threads={n}  median {median:8.3f} ms  p90 {p90:8.3f} ms"
            )
    add_ratios(rows)
    return rows
