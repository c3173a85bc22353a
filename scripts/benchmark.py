"""Latency of the students (ONNX Runtime, fp32 and int8) against MediaPipe selfie segmentation.

Median and p90 single-image latency, parameters, MACs and test IoU of every model at its own size
and the peers' sizes, per thread count; what is measured and how: :mod:`seg.bench.latency_suite`.

Outputs: the table on stdout, ``--markdown`` (with the command, date, CPU, runtime versions and a
ratio column against ``mediapipe_landscape`` at 144x256 and the same thread count), ``--json`` (a
list of rows) and ``--plot`` (latency vs test IoU).

Usage:
    python scripts/benchmark.py [--model NAME=PATH ...] [--threads 1 2] [--iters 200]
        [--warmup 20] [--iou-frames 200] [--peers-dir data/peers/mediapipe]
        [--peer-res 144x256 256x256 | --no-peer-res] [--markdown docs/benchmarks.md]
        [--json docs/benchmarks.json] [--plot docs/img/latency_vs_iou.png]
    python scripts/benchmark.py --fast ...   # 5 iterations, 1 thread, no IoU (tests)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from seg import cli
from seg.bench import latency_report as report
from seg.bench.latency_suite import run_latency_benchmark
from seg.bench.options import PEER_SIZES, LatencyOptions, parse_model, parse_size
from seg.bench.peers import DEFAULT_DIR
from seg.paths import CHECKOUT


def build_parser() -> argparse.ArgumentParser:
    """The command line (see the module docstring)."""
    parser = cli.parser(__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add(
        "--model",
        dest="models",
        type=cli.arg_type(parse_model),
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="student.onnx or a run folder (repeatable)",
    )
    add(
        "--untrained",
        nargs="*",
        metavar="CONFIG",
        help="also untrained students of these model configs (default: student_cpu student "
        "student_hd when no --model is given, none otherwise)",
    )
    add(
        "--fast",
        action="store_true",
        help="smoke run: 5 iterations after 1 warm-up, 1 thread, no IoU",
    )
    add(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="thread counts (default 1 2; --fast: 1)",
    )
    add("--iters", type=int, default=None, help="timed runs (default 200)")
    add("--warmup", type=int, default=None, help="warm-up runs (default 20)")
    add(
        "--rounds",
        type=int,
        default=None,
        help="interleaved rounds the timed runs are split into (default 10; --fast: 1)",
    )
    add(
        "--iou-frames",
        type=int,
        default=None,
        help="test frames to measure IoU on (default 200; --fast: 0 = off)",
    )
    add(
        "--peers-dir",
        type=Path,
        default=DEFAULT_DIR,
        help="folder of the MediaPipe .tflite files (make peers)",
    )
    add(
        "--peer-res",
        type=cli.arg_type(parse_size),
        nargs="+",
        default=list(PEER_SIZES),
        metavar="HxW",
        help="sizes our models also run at (default 144x256 256x256)",
    )
    add("--no-peer-res", action="store_true", help="only each model's own size (no re-export)")
    add(
        "--calibration-frames",
        type=int,
        default=None,
        help="validation frames for int8 re-quantization (default 64; --fast: 8)",
    )
    add(
        "--target-model",
        default="student_cpu",
        help="the model the latency targets apply to (default student_cpu)",
    )
    add("--markdown", type=Path, default=CHECKOUT / "docs" / "benchmarks.md")
    add("--json", type=Path, default=CHECKOUT / "docs" / "benchmarks.json")
    add("--plot", type=Path, default=CHECKOUT / "docs" / "img" / "latency_vs_iou.png")
    return parser


def options_from(args: argparse.Namespace) -> LatencyOptions:
    """The parsed command line as :class:`~seg.bench.options.LatencyOptions` (same names)."""
    return LatencyOptions(**{f.name: getattr(args, f.name) for f in fields(LatencyOptions)})


def main(argv: list[str]) -> int:
    """Run the benchmark and write its outputs; returns the process exit code."""
    args = build_parser().parse_args(argv)
    result = run_latency_benchmark(options_from(args))
    options, rows = result.options, result.rows
    for note in result.notes:
        print(f"note: {note}")
    print("\n".join(report.table(rows, options.target_model)))
    lines = report.markdown_lines(rows, options, argv, result.notes, result.load)
    report.write_markdown(args.markdown, lines)
    report.write_json(args.json, rows)
    report.write_plot(args.plot, rows)
    print(f"wrote {args.markdown}, {args.json}, {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
