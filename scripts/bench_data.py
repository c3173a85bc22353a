"""Measure the data pipeline's throughput per worker process and write docs/data_pipeline.md.

Three paths are timed in one process (= one DataLoader worker), each producing training tensors:

* ``render``: the synthetic generator alone (what an uncached dataset does per frame);
* ``render + augment``: generator, then the ``augment=<name>`` albumentations pipeline, then tensors;
* ``cached + augment``: frames read from the on-disk cache (the default), augmented, to tensors.

Usage:
    python scripts/bench_data.py [--frames 300] [--augment default] [--sizes 144x256 288x512]
                                 [--output docs/data_pipeline.md] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys

import cv2
import torch

from seg import cli
from seg.bench.data_throughput import synthetic_report, synthetic_throughput
from seg.bench.options import parse_size
from seg.bench.report import write_report
from seg.paths import CHECKOUT


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300, help="frames timed per path and size")
    parser.add_argument(
        "--augment", default="default", help="augment config to time (configs/augment)"
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=cli.arg_type(parse_size),
        default=[(144, 256), (288, 512)],
        help="HxW sizes",
    )
    parser.add_argument(
        "--output", default=str(CHECKOUT / "docs" / "data_pipeline.md"), help="markdown report"
    )
    parser.add_argument("--json", default=None, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    rows = []
    for height, width in args.sizes:
        res = synthetic_throughput(height, width, args.frames, args.augment)
        rows.append({"height": height, "width": width, **res})
        print(
            f"{height}x{width}: render {res['render']:.0f} f/s, render+augment "
            f"{res['render_augment']:.0f} f/s, cached+augment {res['cached_augment']:.0f} f/s "
            "(one process)"
        )
    command = cli.command_line("bench_data.py", argv)
    write_report(
        args.output, synthetic_report(rows, command, args.augment, args.frames), args.json, rows
    )
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
