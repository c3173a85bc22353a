"""Mine a student's badcases from a pool of images, to look at and to up-weight in retraining.

Every image of the pool is scored (badness in [0, 1], higher is worse; see seg/loop/mining.py):
labelled images by ``1 - (IoU + boundary F) / 2``; unlabelled ones by ``1 - IoU(student, teacher)``
with ``--teacher``, else by the student's mean binary entropy. Each image gets failure categories
(missing_body, background_fp, boundary, small_person, low_light, ok; seg/loop/categories.py).

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

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seg.eval.data import eval_dataset  # noqa: E402
from seg.eval.predict import load_predictor  # noqa: E402
from seg.loop.categories import CATEGORIES, Thresholds  # noqa: E402
from seg.loop.mining import mine, write_badcases  # noqa: E402

log = logging.getLogger("mine_badcases")
RETRAIN_WEIGHT = 2  # the data configs' default (docs/closed_loop.md measures 2 and 4)


def default_output(model: Path) -> Path:
    """``<model dir>/badcases``: the run dir itself, or the folder of a weights / graph file (the
    run dir for a file under ``checkpoints/``)."""
    if model.is_dir():
        return model / "badcases"
    parent = model.parent
    return (parent.parent if parent.name == "checkpoints" else parent) / "badcases"


def retrain_command(overrides: list[str], csv_path: Path) -> str:
    """The ``train.py`` command that up-weights the mined badcases."""
    parts = [
        "python",
        "train.py",
        "experiment=attn_distill",
        *overrides,
        f"data.badcases={csv_path}",
        f"data.badcase_weight={RETRAIN_WEIGHT}",
    ]
    return " ".join(shlex.quote(p) for p in parts)


def pseudo_label_commands(overrides: list[str], teacher: Path | None) -> list[str]:
    """For an unlabelled pool (which cannot be trained on): label it with the teacher, then train
    on the labelled copy."""
    roots = [o.split("=", 1)[1] for o in overrides if o.lstrip("+").startswith("data.root=")]
    root = roots[-1] if roots else "<pool dir>"
    labelled = f"{root.rstrip('/')}_pseudo"
    label = ["python", "scripts/pseudo_label.py", str(teacher or "<teacher.pt>"), root]
    train = [
        "python",
        "train.py",
        "experiment=attn_distill",
        "data=folder",
        f"data.root={labelled}",
    ]
    return [
        " ".join(shlex.quote(p) for p in [*label, "--output", labelled]),
        " ".join(shlex.quote(p) for p in train),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.top is not None and args.top <= 0:
        parser.error(f"--top must be > 0, got {args.top}.")
    if args.min_badness is not None and not 0.0 <= args.min_badness <= 1.0:
        parser.error(f"--min-badness must be in [0, 1], got {args.min_badness}.")

    student = load_predictor(args.model, device=args.device, threads=args.threads)
    teacher = (
        load_predictor(args.teacher, device=args.device, threads=args.threads)
        if args.teacher
        else None
    )
    pool = eval_dataset(student, args.overrides, split=args.split)
    log.info("Mining %d images of split '%s' with %s", len(pool), args.split, student.path)
    thresholds = Thresholds()
    badcases = mine(
        student,
        pool,
        teacher=teacher,
        top=args.top,
        min_badness=args.min_badness,
        batch_size=args.batch_size,
        thresholds=thresholds,
    )
    out_dir = args.output or default_output(args.model)
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(shlex.quote(a) for a in ["python", "scripts/mine_badcases.py", *given])
    csv_path = out_dir / "badcases.csv"
    labelled = any(b.labelled for b in badcases)
    retrain = retrain_command(args.overrides, csv_path) if labelled else None
    next_steps = [retrain] if labelled else pseudo_label_commands(args.overrides, args.teacher)
    summary = write_badcases(
        badcases,
        out_dir,
        pool,
        student,
        teacher,
        sheet_rows=args.sheet_rows,
        thresholds=thresholds,
        command=command,
        info={
            "split": args.split,
            "overrides": args.overrides,
            "retrain_command": retrain,
            "next_commands": next_steps,
        },
    )

    counts = summary["counts"]["primary"]
    print(f"Mined {len(badcases)} of {len(pool)} images ({args.split}); primary categories:")
    for category in CATEGORIES:
        flagged = summary["counts"]["flags"].get(category)
        extra = f"  (flagged on {flagged})" if flagged is not None else ""
        print(f"  {category:<14} {counts[category]:>6}{extra}")
    if badcases:
        worst = badcases[0]
        print(f"Worst: {worst.id} badness {worst.badness:.3f} ({worst.primary})")
    print(f"CSV:     {summary['files']['csv']}")
    for category, path in summary["files"]["sheets"].items():
        print(f"Sheet:   {category:<14} {path}")
    print(f"Summary: {summary['files']['summary']}")
    if labelled and args.split in ("val", "test"):
        print(
            f"Note: these are {args.split} samples. Training oversamples only train samples, so "
            "look at them (sheets, categories) to decide what data to collect; to up-weight "
            "badcases in training, mine --split train (or a labelled pool you add to training)."
        )
    elif labelled:
        print("Retrain with the badcases weighted up:")
    else:
        print(
            "The pool is unlabelled, so it cannot be trained on as is; label it with the teacher "
            "(check review.png), then train on the labelled copy:"
        )
    if not (labelled and args.split in ("val", "test")):
        for line in next_steps:
            print(f"  {line}")
    log.debug(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
