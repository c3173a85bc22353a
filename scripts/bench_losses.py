"""Measure the extra cost of each auxiliary / distillation loss term and write docs/loss_benchmark.md.

For every size, at batch ``--batch``: the student step (forward, BCE, backward, AdamW: the
reference), the frozen teacher's forward (fp32, and bf16 autocast where it is fast) and the forward
+ backward of each loss term alone (PixelwiseKD, AttentionKD, AffinityKD, EdgeLoss, the temporal
consistency loss), as the median of ``--iters`` runs after ``--warmup``, with the peak extra
memory. What each region holds and how memory is counted: :mod:`seg.bench.loss_cost`.

Usage:
    python scripts/bench_losses.py [--sizes 144x256 288x512] [--batch 8] [--iters 20]
                                   [--warmup 3] [--device cpu|cuda] [--threads N]
                                   [--out docs/loss_benchmark.md]
    python scripts/bench_losses.py --quick --out /tmp/x.md   # tiny smoke run (used by a test)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import torch

from seg import cli
from seg.bench.loss_cost import Row, bench_size
from seg.bench.loss_cost_report import render
from seg.bench.options import parse_size
from seg.bench.report import write_report
from seg.errors import UserInputError
from seg.paths import CHECKOUT


def build_parser() -> argparse.ArgumentParser:
    """The command line (see the module docstring)."""
    parser = cli.parser(__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", nargs="+", default=["144x256", "288x512"], help="HxW sizes to time"
    )
    parser.add_argument("--batch", type=int, default=8, help="batch size")
    parser.add_argument("--iters", type=int, default=20, help="timed iterations per region")
    parser.add_argument("--warmup", type=int, default=3, help="untimed warm-up iterations")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="device")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument(
        "--out", default=str(CHECKOUT / "docs" / "loss_benchmark.md"), help="markdown report"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 64x96, batch 2, 1 iteration, no warm-up"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the loss benchmark and write its report; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.batch, args.iters, args.warmup = ["64x96"], 2, 1, 0
    try:
        sizes = [parse_size(s) for s in args.sizes]
    except UserInputError:
        parser.error(f"--sizes: expected HxW like 144x256, got {args.sizes}")
    if min(args.batch, args.iters) < 1 or args.warmup < 0:
        parser.error("--batch and --iters must be >= 1 and --warmup >= 0")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    rows: list[Row] = []
    for h, w in sizes:
        size_rows = bench_size(h, w, args.batch, args.iters, args.warmup, device)
        for r in size_rows:
            pct = "" if r.pct is None else f" ({r.pct:.1f} %)"
            print(f"{r.size} {r.term}: {r.ms:.2f} ms{pct}")
        rows += size_rows

    command = " ".join(["python scripts/bench_losses.py", *argv]).strip()
    write_report(args.out, render(rows, args.batch, args.iters, args.warmup, command, device))
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
