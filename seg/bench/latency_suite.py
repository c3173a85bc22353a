"""Latency of the students (ONNX Runtime, fp32 and int8) against MediaPipe selfie segmentation.

For every model, at its own input size and at the peers' sizes (144x256, 256x256; ``student_hd``
also at 288x512), with each thread count: median and p90 latency of one single-image inference
over ``iters`` runs after ``warmup``, parameters and MACs (counted from the graphs, the same way
for ONNX and TFLite: :mod:`seg.bench.macs`) and the test IoU where known. Everything runs in this
one process, one model at a time, on the same seeded random image resized (area) to each size.

Models:

* ``--model NAME=PATH`` (repeatable): ``PATH`` is a ``student.onnx`` or a run folder holding one. A
  ``<stem>.int8.onnx`` next to it is benchmarked as precision ``int8``. Exported graphs have a
  static input size, so other sizes need a re-export: with a ``student.pt`` next to the graph the
  student is re-exported (and, when an int8 graph exists, quantized on validation frames) at each
  other size in a temporary folder; without one only the graph's own size is measured.
* Without ``--model``: untrained students of the model configs ``student_cpu``, ``student`` and
  ``student_hd`` (latency does not depend on the weights; their IoU is unknown).
* The peers ``mediapipe_landscape`` (144x256) and ``mediapipe_general`` (256x256) from
  ``--peers-dir`` (``make peers`` fetches them) run in LiteRT with XNNPACK (``ai_edge_litert``).

Test IoU comes from the graph's metadata (``test_iou_onnx``/``test_iou`` for fp32,
``test_iou_int8`` for int8) or, with ``--iou-frames N``, is measured on the first ``N`` frames of
the test split of the training config's data: each frame is resized to the model's input,
predicted, the probability resized back (:mod:`seg.resize`, via :func:`seg.inference.load_predictor`)
and thresholded at 0.5; IoU is the intersection over the union summed over all pixels of the set.

Outputs (:mod:`seg.bench.latency_report`): the table, a markdown report (with the command, date,
CPU, runtime versions and a ratio column against ``mediapipe_landscape`` at 144x256 and the same
thread count), a JSON list of rows and a plot of latency vs test IoU.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seg.bench.candidates import Graph, candidate_from_path, default_candidates
from seg.bench.frames import load_frames
from seg.bench.graphs import Exporter, collect_graphs, peer_graphs
from seg.bench.latency_report import load_average
from seg.bench.measure import measure_iou, time_graphs
from seg.bench.options import LatencyOptions, resolve
from seg.bench.peers import find_peers, missing_reason

Echo = Callable[[str], None]


def _print(text: str) -> None:
    print(text, flush=True)


@dataclass
class LatencyResult:
    """What a latency benchmark found.

    Attributes:
        rows: One dict per graph and thread count (:func:`seg.bench.measure.time_graphs`).
        notes: Lines for the report (untrained models, missing peers, skipped sizes, IoU source).
        load: Load average at the start.
        options: The resolved options the run used.
    """

    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    load: str = "unknown"
    options: LatencyOptions = field(default_factory=LatencyOptions)


def measure_ious(graphs: list[Graph], frames: int, notes: list[str], echo: Echo = _print) -> None:
    """Set ``test_iou`` of every trained graph, measured on the first ``frames`` test frames."""
    images, masks = load_frames("test", frames)
    notes.append(
        f"Test IoU measured on the first {len(images)} synthetic test frames "
        f"({images.shape[1]}x{images.shape[2]}), resized to each model's input."
    )
    for g in graphs:
        if g.trained:
            echo(f"  IoU of {g.model} {g.precision} {g.height}x{g.width} ...")
            g.test_iou = measure_iou(g, images, masks)


def run_latency_benchmark(options: LatencyOptions, echo: Echo = _print) -> LatencyResult:
    """Benchmark the models ``options`` names (see the module docstring).

    Args:
        options: What to run; defaults are filled in by :func:`seg.bench.options.resolve`.
        echo: Where progress lines go (default: stdout, flushed).

    Returns:
        The rows, the notes and the load average at the start.

    Raises:
        UserInputError: For an option out of range or a ``--model`` path that is not a graph.
        MissingFileError: For a ``--model`` path that does not exist or holds no graph.
    """
    options = resolve(options)
    notes: list[str] = []
    load = load_average()
    candidates = [candidate_from_path(n, p) for n, p in options.models]
    candidates += default_candidates(options.untrained)
    names = [c.config for c in candidates if not c.trained]
    if names:
        notes.append(
            f"Untrained students built from model configs {', '.join(names)}: their test IoU is "
            "unknown (latency, params and MACs do not depend on the weights)."
        )
    peers = {}
    reason = missing_reason(options.peers_dir)
    if reason:
        notes.append(reason)
        echo(reason)
    else:
        peers = find_peers(options.peers_dir)

    with tempfile.TemporaryDirectory(prefix="seg-bench-") as tmp:
        exporter = Exporter(Path(tmp), options.calibration_frames, echo)
        graphs = collect_graphs(candidates, options.peer_res, exporter, notes)
        graphs += peer_graphs(peers)
        if not options.iou_frames and any(g.test_iou is not None for g in graphs):
            notes.append(
                "Test IoU of our models is read from the graphs' metadata (fp32: test_iou_onnx, "
                "else test_iou; int8: test_iou_int8), at their own size only; pass --iou-frames N "
                "to measure every model here."
            )
        if options.iou_frames:
            measure_ious(graphs, options.iou_frames, notes, echo)
        echo(
            f"Timing {len(graphs)} graphs x threads {options.threads} "
            f"({options.iters} runs after {options.warmup} warm-up) ..."
        )
        rows = time_graphs(
            graphs, options.threads, options.iters, options.warmup, options.rounds, echo
        )
    return LatencyResult(rows=rows, notes=notes, load=load, options=options)
