"""Badcase mining: rank a pool of images by how badly a student does on them.

*Badness*, in ``[0, 1]`` and higher is worse, depends on what is known about an image:

* labelled (the sample has a ``mask``): ``badness = 1 - (iou + boundary_f) / 2`` with the per-image
  IoU of the thresholded prediction (1 when prediction and ground truth are both empty) and the
  per-image boundary F-score of :func:`seg.metrics.per_image_boundary_f`;
* unlabelled with a teacher: ``badness = disagreement = 1 - IoU(student mask, teacher mask)``;
* unlabelled without a teacher: ``badness = uncertainty``, the mean over pixels of the binary
  entropy of the student's probability in bits (0 when every pixel is 0 or 1, 1 when every pixel is
  0.5). Entropy was picked over "fraction of pixels in [0.3, 0.7]" because it also counts the many
  slightly unsure pixels along a blurry edge and has no cut-off of its own.

``uncertainty`` is reported for every image, ``disagreement`` whenever a teacher is given (also for
labelled images, where it does not enter the badness). Each image also gets failure categories
(:mod:`seg.mining.categories`) against its ground truth, else the teacher's mask, else only the
conditions.

Teacher and student may take different input sizes: each :class:`~seg.inference.Predictor` fits the
pool's frames to its own input and maps its probabilities back to the pool's size (:mod:`seg.resize`),
so all comparisons happen at the pool's resolution (normally the student's:
:func:`seg.eval.data.eval_dataset` builds the pool at the predictor's size).

:func:`write_badcases` writes ``badcases.csv`` (read back by training with
``data.badcases=<csv> data.badcase_weight=<k>``, which matches rows by the ``id`` column, the pool's
``sample_ids()``), one contact sheet per primary category and ``summary.json``.
"""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seg.data import SegDataset
from seg.errors import DataError, UserInputError
from seg.eval.scoring import ids_and_attributes
from seg.inference import Predictor, to_frames
from seg.metrics import mask_iou, per_image_boundary_f
from seg.mining.categories import CATEGORIES, FLAGS, Categories, Thresholds, categorize
from seg.vis import (
    PRED_COLOUR,
    contact_sheet,
    image_row,
    label_tile,
    overlay,
    stack_rows,
    write_rgb,
)

log = logging.getLogger(__name__)

BOUNDARY_F_BAND_PX = 3  # as the training metrics (seg.module boundary_px default)
SHEET_ROWS = 12
CSV_COLUMNS = (
    "rank",
    "id",
    "index",
    "badness",
    "iou",
    "boundary_f",
    "disagreement",
    "uncertainty",
    "primary",
    *FLAGS,
    "image",
)


@dataclass
class Badcase:
    """One mined image.

    Attributes:
        index: Index in the pool dataset.
        id: The pool's ``sample_ids()[index]`` (``str(index)`` when the pool has no ids).
        badness: See the module docstring; higher is worse.
        iou: Per-image IoU against the ground truth (None when unlabelled).
        boundary_f: Per-image boundary F-score against the ground truth (None when unlabelled).
        disagreement: ``1 - IoU(student, teacher)`` (None without a teacher).
        uncertainty: Mean binary entropy of the student's probabilities, in bits.
        categories: Failure categories and the primary one.
        labelled: Whether the sample had a ground-truth mask.
        attributes: The pool's ``attributes()[index]``.
        image: The image file when the pool knows it, else ``""``.
        rank: 1 for the worst image, after :func:`mine` ranked them.
    """

    index: int
    id: str
    badness: float
    iou: float | None
    boundary_f: float | None
    disagreement: float | None
    uncertainty: float
    categories: Categories
    labelled: bool
    attributes: dict[str, str]
    image: str = ""
    rank: int = 0

    @property
    def primary(self) -> str:
        return self.categories.primary


def binary_entropy_bits(prob: np.ndarray) -> float:
    """Mean binary entropy of probabilities, in bits (``0..1``)."""
    p = np.clip(prob.astype(np.float64), 1e-12, 1 - 1e-12)
    return float(np.mean(-(p * np.log2(p) + (1 - p) * np.log2(1 - p))))


def _threshold(model: Predictor | None) -> float:
    return 0.5 if model is None else float(model.threshold)


def _sample_arrays(pool: SegDataset, indices: Sequence[int]) -> tuple[np.ndarray, list]:
    """Images ``N x 3 x H x W`` in ``[0, 1]`` and masks (``H x W`` or None per sample) of some
    pool samples."""
    samples = [pool[int(i)] for i in indices]
    images = np.stack([np.asarray(s["image"], dtype=np.float32) for s in samples])
    masks = [
        np.asarray(s["mask"], dtype=np.float32).reshape(images.shape[-2:]) if "mask" in s else None
        for s in samples
    ]
    return images, masks


def mine(
    student: Predictor,
    pool: SegDataset,
    teacher: Predictor | None = None,
    top: int | None = None,
    min_badness: float | None = None,
    batch_size: int = 16,
    thresholds: Thresholds | None = None,
) -> list[Badcase]:
    """Score every image of ``pool`` and rank them worst first.

    Args:
        student: The model under test.
        pool: Any seg dataset; samples without ``"mask"`` are unlabelled.
        teacher: Optional reference model for unlabelled images (and ``disagreement``).
        top: Keep at most this many (the worst).
        min_badness: Keep only images with ``badness >= min_badness``.
        batch_size: Images per model call.
        thresholds: Category thresholds (default: :mod:`seg.loop.categories` constants).

    Returns:
        The kept images, worst first (ties by index), with ``rank`` 1, 2, ...
    """
    if batch_size <= 0:
        raise UserInputError(f"mine: batch_size must be > 0, got {batch_size}.")
    if top is not None and top <= 0:
        raise UserInputError(f"mine: top must be > 0 (or None for all), got {top}.")
    n = len(pool)
    if n == 0:
        raise DataError(f"mine: the pool ({type(pool).__name__}) has no samples.")
    (ids, attrs), paths = ids_and_attributes(pool), [str(p) for p in pool.image_paths()]
    s_thr, t_thr = _threshold(student), _threshold(teacher)
    out: list[Badcase] = []
    for start in range(0, n, batch_size):
        indices = list(range(start, min(start + batch_size, n)))
        images, masks = _sample_arrays(pool, indices)
        frames = to_frames(images)
        s_probs = student(frames)
        t_probs = teacher(frames) if teacher is not None else None
        for j, index in enumerate(indices):
            prob, target = s_probs[j], masks[j]
            pred = prob > s_thr
            iou = bf = disagreement = None
            teacher_mask = None
            if t_probs is not None:
                teacher_mask = t_probs[j] > t_thr
                disagreement = 1.0 - mask_iou(pred, teacher_mask)
            uncertainty = binary_entropy_bits(prob)
            if target is not None:
                iou = mask_iou(pred, target > 0.5)
                bf = float(
                    per_image_boundary_f(
                        torch.from_numpy(prob)[None, None],
                        torch.from_numpy(target)[None, None],
                        BOUNDARY_F_BAND_PX,
                        s_thr,
                    )[0]
                )
                badness = 1.0 - (iou + bf) / 2.0
                reference = target
            else:
                badness = disagreement if disagreement is not None else uncertainty
                reference = teacher_mask
            out.append(
                Badcase(
                    index=index,
                    id=ids[index],
                    badness=float(badness),
                    iou=iou,
                    boundary_f=bf,
                    disagreement=disagreement,
                    uncertainty=uncertainty,
                    categories=categorize(images[j], prob, reference, s_thr, thresholds),
                    labelled=target is not None,
                    attributes=attrs[index],
                    image=paths[index],
                )
            )
        if len(out) == n or (start // batch_size) % 20 == 19:
            log.info("mined %d / %d images", len(out), n)
    out.sort(key=lambda b: (-b.badness, b.index))
    if min_badness is not None:
        out = [b for b in out if b.badness >= min_badness]
    if top is not None:
        out = out[:top]
    for rank, case in enumerate(out, start=1):
        case.rank = rank
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def attribute_columns(badcases: Sequence[Badcase]) -> list[str]:
    """Attribute names of the badcases, in order of first appearance."""
    names: dict[str, None] = {}
    for case in badcases:
        names.update(dict.fromkeys(case.attributes))
    return list(names)


def write_csv(badcases: Sequence[Badcase], path: str | Path) -> Path:
    """Write ``badcases.csv`` (:data:`CSV_COLUMNS` then the attribute columns, ``attr_<name>``
    where a name clashes with a fixed column), in list order."""
    path = Path(path)
    attrs = attribute_columns(badcases)
    header = [*CSV_COLUMNS, *(f"attr_{a}" if a in CSV_COLUMNS else a for a in attrs)]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for b in badcases:
            row = [
                b.rank,
                b.id,
                b.index,
                b.badness,
                b.iou,
                b.boundary_f,
                b.disagreement,
                b.uncertainty,
                b.primary,
                *(b.categories.flags[name] for name in FLAGS),
                b.image,
                *(b.attributes.get(a) for a in attrs),
            ]
            writer.writerow([_cell(v) for v in row])
    return path


def badcase_sheet(
    badcases: Sequence[Badcase],
    pool: SegDataset,
    student: Predictor,
    teacher: Predictor | None = None,
) -> np.ndarray:
    """Contact sheet rows for some badcases, in order, predictions re-run on the pool's images.

    Labelled rows: image | ground truth | prediction | errors (:func:`contact_sheet`); unlabelled
    rows with a teacher: the same with the teacher's mask as the reference; without one: image |
    prediction. The first tile of a row is labelled ``#rank id badness primary``.
    """
    images, masks = _sample_arrays(pool, [b.index for b in badcases])
    frames = to_frames(images)
    probs = student(frames)
    t_probs = teacher(frames) if teacher is not None else None
    thr = _threshold(student)
    rows = []
    for j, case in enumerate(badcases):
        rgb = frames[j]
        if masks[j] is not None:
            reference = masks[j] > 0.5
        elif t_probs is not None:
            reference = t_probs[j] > _threshold(teacher)
        else:
            reference = None
        if reference is not None:
            rows.append(
                contact_sheet(rgb[None], reference[None].astype(np.uint8), probs[j][None], thr)
            )
        else:
            rows.append(
                image_row([rgb, overlay(rgb, (probs[j] > thr).astype(np.uint8), PRED_COLOUR)])
            )
        rows[-1] = label_tile(rows[-1], f"#{case.rank} {case.id} {case.badness:.2f} {case.primary}")
    return stack_rows(rows)


def write_badcases(
    badcases: Sequence[Badcase],
    out_dir: str | Path,
    pool: SegDataset,
    student: Predictor,
    teacher: Predictor | None = None,
    *,
    sheet_rows: int = SHEET_ROWS,
    thresholds: Thresholds | None = None,
    command: str | None = None,
    info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``badcases.csv``, ``sheet_<category>.png`` per primary category and ``summary.json``.

    Args:
        badcases: The output of :func:`mine` (worst first).
        out_dir: Output folder (created).
        pool: The pool they were mined from (the sheets re-read their images).
        student: The mined model (the sheets re-run it on at most ``sheet_rows`` images per
            category).
        teacher: The teacher used for mining, if any.
        sheet_rows: Rows per contact sheet (the worst images of the category).
        thresholds: The category thresholds used for mining (recorded in the summary).
        command: The command line that produced the files (recorded in the summary).
        info: More entries for ``summary.json`` (e.g. the data overrides).

    Returns:
        The summary written to ``summary.json``: ``counts`` (``primary``: images per primary
        category, ``flags``: images per flag), ``files`` (``csv``, ``sheets``, ``summary``), ...
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(badcases, out_dir / "badcases.csv")
    primary = Counter(b.primary for b in badcases)
    sheets: dict[str, str] = {}
    for category in CATEGORIES:
        cases = [b for b in badcases if b.primary == category][:sheet_rows]
        stale = out_dir / f"sheet_{category}.png"
        stale.unlink(missing_ok=True)  # a sheet from an earlier run of this folder would mislead
        if not cases:
            continue
        write_rgb(stale, badcase_sheet(cases, pool, student, teacher))
        sheets[category] = str(stale)
    t = thresholds or Thresholds()
    summary: dict[str, Any] = {
        "pool_size": len(pool),
        "mined": len(badcases),
        "labelled": sum(b.labelled for b in badcases),
        "badness": {
            "labelled": "1 - (iou + boundary_f) / 2",
            "unlabelled": (
                "disagreement = 1 - IoU(student, teacher)"
                if teacher is not None
                else "uncertainty = mean binary entropy of the student's probability (bits)"
            ),
        },
        "counts": {
            "primary": {c: primary.get(c, 0) for c in CATEGORIES},
            "flags": {f: sum(bool(b.categories.flags[f]) for b in badcases) for f in FLAGS},
        },
        "thresholds": {
            **t.as_dict(),
            "mask_threshold": _threshold(student),
            "boundary_f_band_px": BOUNDARY_F_BAND_PX,
        },
        "student": student.describe(),
        "teacher": None if teacher is None else teacher.describe(),
        "command": command,
        **dict(info or {}),
        "files": {
            "csv": str(csv_path),
            "sheets": sheets,
            "summary": str(out_dir / "summary.json"),
        },
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
