"""Compare finished runs: a markdown table of their metrics, grouped with mean ± std over seeds.

Each run dir must hold ``metrics.json`` and ``.hydra/config.yaml`` (every ``train.py`` run does).
Runs are grouped by ``task_name`` (or ``--group-by`` any dotted config key); a group with several runs
(e.g. seeds) shows mean ± sample std.

Runs evaluated with ``scripts/evaluate.py`` (``<run>/eval-test/summary.json``) also offer the model
card's numbers as metrics: ``eval/iou_mean``, ``eval/boundary_f_mean``, ``group/<attribute>/<group>``
(that group's mean IoU), ``group/<attribute>/worst`` (the worst group's mean IoU) and
``group/<attribute>/gap`` (best minus worst group, IoU points).

Usage:
    python scripts/compare_runs.py logs/teacher/* logs/student/* [--metrics test/iou test/boundary_f]
                                   [--group-by task_name] [--output table.md] [--skip-unfinished]
    python scripts/compare_runs.py logs/student/* logs/badcase_retrain_w4/* \
        --metrics test/iou group/lighting/low_light group/hands/worst group/hands/gap
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seg import cli
from seg.eval.run_table import DEFAULT_METRICS, load_runs, table


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run directories")
    parser.add_argument(
        "--metrics", nargs="+", default=list(DEFAULT_METRICS), help="metrics.json keys"
    )
    parser.add_argument(
        "--group-by", default="task_name", help="dotted config key to group runs by"
    )
    parser.add_argument("--output", type=Path, default=None, help="also write the table here")
    parser.add_argument(
        "--skip-unfinished",
        action="store_true",
        help="leave out run dirs without metrics.json (interrupted runs), counted on stderr",
    )
    args = parser.parse_args(argv)
    runs, skipped = load_runs(args.runs, args.skip_unfinished)
    if skipped:
        print(
            f"skipped {len(skipped)} unfinished run dir(s): {', '.join(map(str, skipped))}",
            file=sys.stderr,
        )
    text = table(runs, args.metrics, args.group_by)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
