"""Measure the real-data path — the check pass and per-sample loading — and write
docs/real_data_pipeline.md.

A folder dataset of ``--photos`` portrait photos is written to a temporary directory (synthetic
portraits rendered at ``--photo-size``, saved as JPEG quality 90 with PNG masks, like EG1800 or
AISegment at 800x600), then timed:

* ``scan``: listing and pairing the files (``PortraitDataset`` construction);
* ``check``: the check pass that decodes every image and mask before training, cold, with 1, 2 and
  4 threads, and again from its cache (an unchanged dataset on the next run);
* ``load``: one sample read, normalised and fitted to the training size, in one process with one
  thread (= one DataLoader worker); ``load + augment`` adds the ``augment=default`` pipeline.

Usage:
    python scripts/bench_real_data.py [--photos 1000] [--photo-size 800x600] [--size 144x256]
                                      [--threads 1 2 4] [--output docs/real_data_pipeline.md]
"""

from __future__ import annotations

import argparse
import sys

import cv2
import torch

from seg import cli
from seg.bench.data_throughput import real_data_report, real_data_throughput
from seg.bench.options import parse_size
from seg.bench.report import write_report
from seg.paths import CHECKOUT


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument(
        "--photo-size", type=cli.arg_type(parse_size), default=(800, 600), help="HxW of the photos"
    )
    parser.add_argument(
        "--size", type=cli.arg_type(parse_size), default=(144, 256), help="HxW training size"
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--load-samples", type=int, default=300, help="samples timed per load row")
    parser.add_argument("--output", default=str(CHECKOUT / "docs" / "real_data_pipeline.md"))
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    results = real_data_throughput(
        args.photos, args.photo_size, args.size, args.threads, args.load_samples
    )
    lines = real_data_report(results, cli.command_line("bench_real_data.py", argv))
    write_report(args.output, lines, args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
