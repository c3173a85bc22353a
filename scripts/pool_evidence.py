"""Targeted collection vs random collection: does mining an unlabelled pool pick better data to
annotate than chance? (docs/closed_loop.md)

The loop step measured: a trained student and its teacher look at an unlabelled pool; the ``--add``
images where they disagree most (``scripts/mine_badcases.py --teacher``) are annotated and added
to the training set; the student is retrained. The control adds ``--add`` images drawn at random
from the same pool. With synthetic data, "annotating" is reading the exact masks the generator drew.

Per seed: the student run of that seed (``experiment=student``, found under ``--logs``), mining,
two retrains (``experiment=student``, same seed, ``data=mixed``: the original training frames plus
the added ones, drawn in proportion to their counts, i.e. plain concatenation). Frames are exported
once with ``scripts/prepare_dataset.py`` to ``--work`` (the same train/val/test frames as the
synthetic runs, so the test split is identical).

Usage:
    python scripts/pool_evidence.py --teacher checkpoints/teachers/<entry>/teacher.pt
    python scripts/pool_evidence.py --teacher T --seeds 42 --pool 3000 --add 300 --logs logs
    python scripts/pool_evidence.py --teacher T --seeds 1 --pool 40 --add 8 --logs /tmp/e \
        --runs /tmp/e --work /tmp/e/work debug=smoke data.height=64 data.width=96   # a dry run
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
from pathlib import Path

from seg import cli
from seg.eval.run_table import find_run
from seg.mining.workflow import collect_selection
from seg.paths import CHECKOUT

PY = sys.executable


def sh(*args: str) -> None:
    """Run one step of the experiment (a seg command line) in the checkout, echoing it."""
    print("+", " ".join(args), flush=True)
    subprocess.run(args, cwd=CHECKOUT, check=True, stdin=subprocess.DEVNULL)


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--teacher", required=True, type=Path, help="teacher.pt / run dir")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--pool", type=int, default=3000, help="unlabelled pool size")
    parser.add_argument("--add", type=int, default=300, help="images annotated and added")
    parser.add_argument("--logs", type=Path, default=CHECKOUT / "logs", help="student runs")
    parser.add_argument("--work", type=Path, default=CHECKOUT / "data/cache/pool_evidence")
    parser.add_argument("--runs", type=Path, default=CHECKOUT / "logs", help="new runs go here")
    parser.add_argument("overrides", nargs="*", help="extra train.py overrides (e.g. debug=smoke)")
    args: argparse.Namespace = parser.parse_args(argv)
    train = [PY, "train.py", "experiment=student", "callbacks.progress_bar=null"]
    prepare = [PY, "scripts/prepare_dataset.py", "data=synthetic", *args.overrides, "--output"]

    base, pool = args.work / "base", args.work / f"pool{args.pool}"
    if not (base / "manifest.csv").is_file():
        sh(*prepare, str(base))
    if not (pool / "manifest.csv").is_file():
        sh(*prepare, str(pool), f"data.test.length={args.pool}", "--splits", "pool")
    stems = sorted(p.stem for p in (pool / "masks").glob("*.png"))
    with (base / "manifest.csv").open() as f:
        n_train = sum(row["split"] == "train" for row in csv.DictReader(f))
    for seed in args.seeds:
        student = find_run(args.logs / "student", seed)
        if student is None:
            sh(*train, f"seed={seed}", "task_name=student", f"paths.log_dir={args.runs}",
               *args.overrides)  # fmt: skip
            student = find_run(args.runs / "student", seed)
        mined = args.runs / "badcases" / f"pool_s{seed}"
        if not (mined / "badcases.csv").is_file():
            sh(PY, "scripts/mine_badcases.py", str(student), "data=images",
               f"data.root={pool / 'images'}", "--teacher", str(args.teacher),
               "--top", str(args.add), "--output", str(mined))  # fmt: skip
        with (mined / "badcases.csv").open() as f:
            chosen = [row["id"].rsplit("/", 1)[-1] for row in csv.DictReader(f)]
        arms = {
            "pool_mined": chosen,
            "pool_random": sorted(random.Random(seed).sample(stems, args.add)),
        }
        for task, picked in arms.items():
            if find_run(args.runs / task, seed):
                print(f"skip {task} seed={seed}: done")
                continue
            added = collect_selection(pool, picked, args.work / f"{task}_s{seed}")
            sources = (
                f"[{{format: folder, root: {base}, name: base, weight: {n_train}}}, "
                f"{{format: folder, root: {added}, name: added, weight: {len(picked)}}}]"
            )
            sh(*train, f"seed={seed}", f"task_name={task}", f"paths.log_dir={args.runs}",
               "data=mixed", f"data.sources={sources}", *args.overrides)  # fmt: skip
    runs = [*sorted((args.logs / "student").glob("*/")), *sorted(args.runs.glob("pool_*/*/"))]
    sh(PY, "scripts/compare_runs.py", *map(str, runs), "--metrics", "test/iou",
       "test/boundary_f", "val/iou", "--skip-unfinished")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
