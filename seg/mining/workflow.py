"""Mining a pool end to end (the library side of ``scripts/mine_badcases.py``): load the models,
build the pool at the student's size, rank it, write the files, and say what to run next."""

from __future__ import annotations

import csv
import os
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seg.errors import MissingFileError
from seg.eval.data import eval_dataset
from seg.inference import load_predictor
from seg.mining.categories import CATEGORIES, Thresholds
from seg.mining.ranking import mine, write_badcases

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
    return shlex.join(
        [
            "python",
            "train.py",
            "experiment=attn_distill",
            *overrides,
            f"data.badcases={csv_path}",
            f"data.badcase_weight={RETRAIN_WEIGHT}",
        ]
    )


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
    return [shlex.join([*label, "--output", labelled]), shlex.join(train)]


@dataclass(frozen=True)
class NextSteps:
    """What to do with mined badcases.

    Attributes:
        retrain: The retrain command (None for an unlabelled pool).
        commands: The commands of the next step (recorded in ``summary.json``).
        intro: The sentence printed before them.
        show_commands: Whether to print them (not for val/test badcases, which training never
            oversamples).
    """

    retrain: str | None
    commands: list[str]
    intro: str
    show_commands: bool


def next_steps(
    overrides: list[str], csv_path: Path, labelled: bool, split: str, teacher: Path | None
) -> NextSteps:
    """The retrain command for labelled badcases (a note instead for val/test ones), or the
    pseudo-label-then-train commands for an unlabelled pool."""
    if not labelled:
        intro = (
            "The pool is unlabelled, so it cannot be trained on as is; label it with the teacher "
            "(check review.png), then train on the labelled copy:"
        )
        return NextSteps(None, pseudo_label_commands(overrides, teacher), intro, True)
    retrain = retrain_command(overrides, csv_path)
    if split in ("val", "test"):
        intro = (
            f"Note: these are {split} samples. Training oversamples only train samples, so look "
            "at them (sheets, categories) to decide what data to collect; to up-weight badcases "
            "in training, mine --split train (or a labelled pool you add to training)."
        )
        return NextSteps(retrain, [retrain], intro, False)
    return NextSteps(retrain, [retrain], "Retrain with the badcases weighted up:", True)


def mine_pool(
    model: str | Path,
    overrides: Sequence[str] = (),
    *,
    split: str = "all",
    teacher: str | Path | None = None,
    top: int | None = None,
    min_badness: float | None = None,
    output: str | Path | None = None,
    batch_size: int = 16,
    sheet_rows: int = 12,
    device: str = "cpu",
    threads: int = 0,
    command: str | None = None,
) -> tuple[dict[str, Any], NextSteps]:
    """Mine ``model``'s badcases from a pool and write ``badcases.csv``, the sheets and
    ``summary.json`` (see :mod:`seg.mining.ranking`).

    Args:
        model: The student: run dir, ``student.pt``, ``.ckpt`` or ``.onnx``.
        overrides: Data overrides naming the pool (``data=folder data.root=...``).
        split: Split of the pool to mine (``all``: every sample of a real dataset).
        teacher: Optional teacher for unlabelled pools (and ``disagreement``).
        top: Keep the N worst images.
        min_badness: Keep images with badness at least this.
        output: Output folder (default :func:`default_output`).
        batch_size: Images per model call.
        sheet_rows: Rows per category sheet.
        device: Torch device for weights files.
        threads: Torch / ONNX Runtime threads (0: default).
        command: The command line, recorded in the summary.

    Returns:
        ``(summary, next steps)``; the summary also has ``pool_size`` and the badcases'
        ``worst`` (id, badness, primary) when any were kept.
    """
    overrides = list(overrides)
    student = load_predictor(model, device=device, threads=threads)
    reference = load_predictor(teacher, device=device, threads=threads) if teacher else None
    pool = eval_dataset(student, overrides, split=split)
    badcases = mine(
        student,
        pool,
        teacher=reference,
        top=top,
        min_badness=min_badness,
        batch_size=batch_size,
        thresholds=Thresholds(),
    )
    out_dir = Path(output) if output is not None else default_output(Path(model))
    labelled = any(b.labelled for b in badcases)
    teacher_path = Path(teacher) if teacher else None
    steps = next_steps(overrides, out_dir / "badcases.csv", labelled, split, teacher_path)
    summary = write_badcases(
        badcases,
        out_dir,
        pool,
        student,
        reference,
        sheet_rows=sheet_rows,
        thresholds=Thresholds(),
        command=command,
        info={
            "split": split,
            "overrides": overrides,
            "retrain_command": steps.retrain,
            "next_commands": steps.commands,
            "worst": None
            if not badcases
            else {k: getattr(badcases[0], k) for k in ("id", "badness", "primary")},
        },
    )
    return summary, steps


def report_lines(summary: dict[str, Any], steps: NextSteps) -> list[str]:
    """What the command line prints after mining: counts per category, the worst image, the
    files and the next step."""
    counts = summary["counts"]
    lines = [
        f"Mined {summary['mined']} of {summary['pool_size']} images ({summary['split']}); "
        "primary categories:"
    ]
    for category in CATEGORIES:
        flagged = counts["flags"].get(category)
        extra = f"  (flagged on {flagged})" if flagged is not None else ""
        lines.append(f"  {category:<14} {counts['primary'][category]:>6}{extra}")
    worst = summary.get("worst")
    if worst:
        lines.append(f"Worst: {worst['id']} badness {worst['badness']:.3f} ({worst['primary']})")
    lines.append(f"CSV:     {summary['files']['csv']}")
    lines += [f"Sheet:   {c:<14} {p}" for c, p in summary["files"]["sheets"].items()]
    lines += [f"Summary: {summary['files']['summary']}", steps.intro]
    lines += [f"  {line}" for line in (steps.commands if steps.show_commands else [])]
    return lines


def collect_selection(pool: Path, stems: Sequence[str], out: Path) -> Path:
    """A folder dataset (``images/``, ``masks/``, ``manifest.csv`` with every sample in the train
    split) of the chosen frames of a labelled folder ``pool``, hard-linked: the "annotated"
    selection of targeted collection, to add to training with ``data=mixed``.

    Raises:
        MissingFileError: When a stem has no image or mask in the pool.
    """
    if out.exists():
        shutil.rmtree(out)
    (out / "images").mkdir(parents=True)
    (out / "masks").mkdir()
    with (out / "manifest.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "split"])
        for stem in stems:
            image = next((pool / "images").glob(f"{stem}.*"), None)
            mask = pool / "masks" / f"{stem}.png"
            if image is None or not mask.is_file():
                raise MissingFileError(f"{pool}: no image or mask for the chosen sample {stem}.")
            os.link(image, out / "images" / image.name)
            os.link(mask, out / "masks" / mask.name)
            writer.writerow([f"images/{image.name}", "train"])
    return out
