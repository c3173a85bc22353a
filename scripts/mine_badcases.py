"""Mine a student's badcases from a pool of images, to look at and to up-weight in retraining.

Every image of the pool is scored (badness in [0, 1], higher is worse; see seg/mining/ranking.py):
labelled images by ``1 - (IoU + boundary F) / 2``; unlabelled ones by ``1 - IoU(student, teacher)``
with ``--teacher``, else by the student's mean binary entropy. Each image gets failure categories
(missing_body, background_fp, boundary, small_person, low_light, ok; seg/mining/categories.py).

Usage:
    python scripts/mine_badcases.py logs/attn_distill/<run> data=folder data.root=/data/pool
    python scripts/mine_badcases.py <run>/student.onnx data=images data.root=/data/unlabelled \\
        --teacher logs/teacher/<run>/teacher.pt --top 500
    python scripts/mine_badcases.py <run> --split train --min-badness 0.3   # the run's own data

Writes to ``--output`` (default ``<model dir>/badcases``): ``badcases.csv`` (worst first; ``id`` is
the pool's sample id), ``sheet_<category>.png`` (up to 12 worst images per primary category) and
``summary.json``; prints the count per category and the command that retrains with the badcases
weighted up (``data.badcases=<csv> data.badcase_weight=2``). Training matches rows by ``id``, so to
re-weight training samples mine the training data itself (for the synthetic default data,
``--split train``: any other split name is a stream of its own, with its own ids). An unlabelled
pool cannot be trained on: for one, the script prints the ``scripts/pseudo_label.py`` command that
labels it with the teacher and the ``train.py`` command for the labelled copy instead.

``--split`` defaults to ``all``: a pool is usually its own folder, mined whole.
"""

from __future__ import annotations

import sys
from pathlib import Path

from seg import cli
from seg.mining.workflow import mine_pool, report_lines


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("model", type=Path, help="run dir, student.pt, .ckpt or .onnx")
    parser.add_argument(
        "overrides", nargs="*", help="data overrides, e.g. data=folder data.root=/data/pool"
    )
    parser.add_argument("--split", default="all", help="split to mine (default: all)")
    parser.add_argument("--teacher", type=Path, help="teacher run dir / teacher.pt / .onnx")
    parser.add_argument("--top", type=int, help="keep the N worst images (default: all)")
    parser.add_argument("--min-badness", type=float, help="keep images with badness >= X")
    parser.add_argument("--output", type=Path, help="output dir (default: <model dir>/badcases)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--sheet-rows", type=int, default=12, help="rows per category sheet")
    parser.add_argument("--device", default="cpu", help="torch device for weights files")
    parser.add_argument("--threads", type=int, default=0, help="torch / ONNX Runtime threads")
    args = parser.parse_intermixed_args(argv)
    if args.top is not None and args.top <= 0:
        parser.error(f"--top must be > 0, got {args.top}.")
    if args.min_badness is not None and not 0.0 <= args.min_badness <= 1.0:
        parser.error(f"--min-badness must be in [0, 1], got {args.min_badness}.")
    summary, steps = mine_pool(
        args.model,
        args.overrides,
        split=args.split,
        teacher=args.teacher,
        top=args.top,
        min_badness=args.min_badness,
        output=args.output,
        batch_size=args.batch_size,
        sheet_rows=args.sheet_rows,
        device=args.device,
        threads=args.threads,
        command=cli.command_line("mine_badcases.py", argv),
    )
    print("\n".join(report_lines(summary, steps)))
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
