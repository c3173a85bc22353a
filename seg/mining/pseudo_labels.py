"""Teacher pseudo-labels: turn a folder of unlabelled images into a ``data=folder`` dataset.

Every image under the input folder (recursive, by extension) is read exactly as training reads
images (:func:`seg.data.image_io.read_image`: PIL, RGB, no EXIF rotation, truncated files are
errors) and labelled by the teacher's :class:`~seg.inference.Predictor`, which fits it to its input
size and maps the probabilities back to the original size (:mod:`seg.resize`: area interpolation
when shrinking, bilinear when enlarging; ``--resize`` picks stretch, fit or cover).

**Confidence** of an image is the fraction of its pixels (at the original size) whose probability is
at least ``0.5 - band`` away from 0.5, i.e. ``p <= band`` or ``p >= 1 - band``: with the default
``band = 0.1``, the pixels the teacher puts below 0.1 or above 0.9. Images with ``confidence >=
min_confidence`` are kept; an image whose mask comes out empty (the teacher is sure there is no
person) is kept as a negative example and counted in the summary.

Output, the layout ``data=folder`` reads::

    DIR/images/<name>.<ext>   the original file, byte for byte
    DIR/masks/<name>.png      uint8 {0, 255} at the original size (probability > teacher threshold)
    DIR/manifest.csv          id,image,mask,width,height,split,confidence,source (paths relative
                              to DIR; split empty, so the seeded ratio split decides; source = the
                              original file relative to the input folder)
    DIR/rejected.csv          image,reason,confidence: unreadable files (confidence empty) and
                              images below min_confidence
    DIR/review.png            kept images, lowest confidence first: image | mask overlay
    DIR/summary.json          counts, thresholds, teacher

``<name>`` is the file stem; when stems repeat in different sub-folders, every such file is named
by its relative folder and stem joined with ``__`` (``a/b/x.jpg`` -> ``a__b__x``), and when they
repeat within one folder (``x.jpg``, ``x.png``) the extension is appended (``x__png``), so every
name is unique whatever the extension (the folder format matches images and masks by stem).
"""

from __future__ import annotations

import csv
import json
import logging
import shlex
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from seg.data.image_io import MaskSpec, read_image, read_mask
from seg.data.records import BadSampleError, Record
from seg.errors import MissingFileError, OutputExistsError, UserInputError
from seg.inference import Predictor
from seg.metrics import mask_iou
from seg.resize import resize_image, resize_mask
from seg.vis import PRED_COLOUR, image_row, label_tile, overlay, stack_rows, write_rgb

log = logging.getLogger(__name__)

DEFAULT_EXTENSIONS = ("jpg", "png", "webp")
EXTENSION_ALIASES = {"jpg": ("jpg", "jpeg"), "jpeg": ("jpg", "jpeg"), "tif": ("tif", "tiff")}
MIN_CONFIDENCE = 0.9
BAND = 0.1
REVIEW_ROWS = 16
REVIEW_ROW_HEIGHT = 160
MANIFEST_COLUMNS = ("id", "image", "mask", "width", "height", "split", "confidence", "source")
REJECTED_COLUMNS = ("image", "reason", "confidence")


@dataclass
class Labelled:
    """The outcome for one input image.

    Attributes:
        path: The input file.
        name: Output name (stem of ``images/<name>.<ext>`` and ``masks/<name>.png``).
        width: Original width in pixels (0 when unreadable).
        height: Original height (0 when unreadable).
        confidence: See the module docstring (None when unreadable).
        kept: Whether it made it into the dataset.
        reason: Why it was rejected (empty when kept).
        empty: Whether the kept mask has no foreground.
        reference_iou: IoU of the teacher's mask with a reference mask (``reference_masks``).
    """

    path: Path
    name: str
    width: int = 0
    height: int = 0
    confidence: float | None = None
    kept: bool = False
    reason: str = ""
    empty: bool = False
    reference_iou: float | None = None


def check_band(band: float) -> None:
    """Raise a clear error unless ``0 <= band <= 0.5``."""
    if not 0.0 <= band <= 0.5:
        raise UserInputError(f"--band must be in [0, 0.5], got {band}.")


def confidence(prob: np.ndarray, band: float = BAND) -> float:
    """Fraction of pixels with ``|p - 0.5| >= 0.5 - band`` (``p <= band`` or ``p >= 1 - band``)."""
    check_band(band)
    return float(np.mean(np.abs(prob.astype(np.float64) - 0.5) >= 0.5 - band - 1e-9))


def parse_extensions(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"jpg,png"`` -> ``(".jpg", ".jpeg", ".png")``: lower-case suffixes, ``jpg``/``jpeg`` alike."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [i.strip().lower().lstrip(".") for i in items if i.strip()]
    if not names:
        raise UserInputError(f"--ext: no extensions in {text!r}; give e.g. jpg,png,webp.")
    return tuple(sorted({f".{a}" for n in names for a in EXTENSION_ALIASES.get(n, (n,))}))


def find_images(
    root: str | Path,
    extensions: Sequence[str] = DEFAULT_EXTENSIONS,
    max_images: int | None = None,
    exclude: Path | None = None,
) -> list[Path]:
    """Image files under ``root`` (recursive, sorted, hidden files and folders skipped).

    Args:
        root: The folder.
        extensions: Extensions without dots (see :func:`parse_extensions`).
        max_images: Keep the first this many (sorted by path).
        exclude: A folder under ``root`` to skip (the output folder, when it is inside).

    Raises:
        FileNotFoundError: When ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise MissingFileError(f"{root}: no such folder of unlabelled images.")
    suffixes = parse_extensions(extensions)
    excluded = exclude.resolve() if exclude is not None else None
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or path.suffix.lower() not in suffixes:
            continue
        if excluded is not None and path.resolve().is_relative_to(excluded):
            continue
        if path.is_file():
            found.append(path)
    return found[:max_images] if max_images is not None else found


def output_names(paths: Sequence[Path], root: Path) -> list[str]:
    """Unique output names of ``paths`` (see the module docstring), in the same order."""
    rels = [p.relative_to(root) for p in paths]
    by_stem = Counter(r.stem for r in rels)
    names = []
    for rel in rels:
        name = rel.stem
        if by_stem[rel.stem] > 1:
            name = "__".join([*rel.parent.parts, rel.stem])
        names.append(name)
    repeated = Counter(names)
    names = [
        f"{n}__{r.suffix.lstrip('.').lower()}" if repeated[n] > 1 else n
        for n, r in zip(names, rels, strict=True)
    ]
    seen: set[str] = set()
    unique = []
    for name in names:  # a name made above may still equal a real stem elsewhere
        candidate, k = name, 2
        while candidate in seen:
            candidate, k = f"{name}__{k}", k + 1
        seen.add(candidate)
        unique.append(candidate)
    return unique


def _prepare_output(out_dir: Path, overwrite: bool) -> None:
    used = [out_dir / d for d in ("images", "masks") if (out_dir / d).is_dir()]
    if any(any(d.iterdir()) for d in used):
        if not overwrite:
            raise OutputExistsError(
                f"{out_dir}: already holds images/ or masks/ from an earlier run; choose another "
                "--output or pass --overwrite to replace them."
            )
        for d in used:
            shutil.rmtree(d)
    for d in ("images", "masks"):
        (out_dir / d).mkdir(parents=True, exist_ok=True)
    for name in ("review.png", "manifest.csv", "rejected.csv", "summary.json"):
        (out_dir / name).unlink(missing_ok=True)


def review_sheet(
    out_dir: Path, kept: Sequence[Labelled], rows: int = REVIEW_ROWS
) -> np.ndarray | None:
    """Image | mask overlay of the ``rows`` kept images of lowest confidence (read back from
    ``out_dir``), each resized to :data:`REVIEW_ROW_HEIGHT` pixels high; None when none was kept."""
    chosen = sorted(kept, key=lambda r: (r.confidence, r.name))[:rows]
    if not chosen:
        return None
    tiles = []
    for item in chosen:
        image = read_image(out_dir / "images" / f"{item.name}{item.path.suffix}")
        mask = cv2.imread(str(out_dir / "masks" / f"{item.name}.png"), cv2.IMREAD_GRAYSCALE)
        scale = REVIEW_ROW_HEIGHT / image.shape[0]
        size = (max(1, round(image.shape[1] * scale)), REVIEW_ROW_HEIGHT)
        small = resize_image(image, size[1], size[0])
        small_mask = resize_mask((mask > 127).astype(np.uint8), size[1], size[0])
        left = label_tile(small, f"{item.name} {item.confidence:.3f}")
        tiles.append(image_row([left, overlay(small, small_mask, PRED_COLOUR)]))
    return stack_rows(tiles)


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def _reference_iou(
    item: Labelled, images_dir: Path, reference_masks: str | Path, pred: np.ndarray
) -> float | None:
    """IoU of a pseudo-mask with the item's reference mask, None when it has none."""
    path = Path(reference_masks) / item.path.relative_to(images_dir).with_suffix(".png")
    if not path.is_file():
        return None
    gt = read_mask(Record(item.name, item.path, path), MaskSpec()).astype(bool)
    if gt.shape != pred.shape:
        raise UserInputError(
            f"{path}: reference mask {gt.shape} does not match its image {pred.shape}."
        )
    return mask_iou(gt, pred)


def _mean_iou(items: Sequence[Labelled]) -> dict[str, Any]:
    scores = [r.reference_iou for r in items if r.reference_iou is not None]
    return {"n": len(scores), "iou_mean": float(np.mean(scores)) if scores else None}


def pseudo_label(
    teacher: Predictor,
    images_dir: str | Path,
    out_dir: str | Path,
    *,
    min_confidence: float = MIN_CONFIDENCE,
    band: float = BAND,
    extensions: Sequence[str] = DEFAULT_EXTENSIONS,
    max_images: int | None = None,
    batch_size: int = 8,
    overwrite: bool = False,
    command: str | None = None,
    reference_masks: str | Path | None = None,
) -> dict[str, Any]:
    """Label every image under ``images_dir`` with ``teacher`` and write the folder dataset.

    Args:
        teacher: The labelling model.
        images_dir: Folder of unlabelled images (searched recursively).
        out_dir: Output folder (see the module docstring for its layout).
        min_confidence: Keep images whose confidence is at least this.
        band: Confidence band (see :func:`confidence`).
        extensions: Image extensions to read (``jpg`` also matches ``.jpeg``).
        max_images: Read at most this many images (the first by sorted path).
        batch_size: Images per teacher call.
        overwrite: Replace ``images/`` and ``masks/`` of an earlier run in ``out_dir``.
        command: The command line, recorded in ``summary.json``.
        reference_masks: A folder of ground-truth masks for some or all images
            (``<folder>/<image path relative to images_dir, .png>``): each such image's pseudo-mask
            is scored against it and ``summary.json`` reports the mean IoU of the kept and of the
            rejected images, to calibrate ``min_confidence`` on a labelled sample.

    Returns:
        The summary written to ``summary.json`` (``counts``: ``found``, ``kept``, ``rejected``,
        ``unreadable``, ``low_confidence``, ``empty_masks``; ``thresholds``; ``teacher``; ``files``).

    Raises:
        FileNotFoundError: When ``images_dir`` is not a folder.
        FileExistsError: When ``out_dir`` holds an earlier run and ``overwrite`` is False.
        ValueError: When no image with those extensions is found, or a setting is out of range.
    """
    if not 0.0 <= min_confidence <= 1.0:
        raise UserInputError(f"--min-confidence must be in [0, 1], got {min_confidence}.")
    check_band(band)
    images_dir, out_dir = Path(images_dir), Path(out_dir)
    paths = find_images(images_dir, extensions, max_images, exclude=out_dir)
    if not paths:
        raise UserInputError(
            f"{images_dir}: no images with extensions {', '.join(parse_extensions(extensions))} "
            "(searched recursively); check the folder or pass --ext."
        )
    _prepare_output(out_dir, overwrite)
    results = [Labelled(p, n) for p, n in zip(paths, output_names(paths, images_dir), strict=True)]
    threshold = float(teacher.threshold)
    for start in range(0, len(results), batch_size):
        chunk, pixels = [], []
        for item in results[start : start + batch_size]:
            try:
                image = read_image(item.path)
            except BadSampleError as err:
                item.reason = err.reason
                continue
            item.height, item.width = image.shape[:2]
            chunk.append(item)
            pixels.append(image)
        if not chunk:
            continue
        for item, prob in zip(chunk, teacher(pixels), strict=True):
            item.confidence = confidence(prob, band)
            if reference_masks is not None:
                item.reference_iou = _reference_iou(
                    item, images_dir, reference_masks, prob > threshold
                )
            if item.confidence < min_confidence:
                item.reason = f"low confidence {item.confidence:.4f} < {min_confidence}"
                continue
            mask = np.where(prob > threshold, 255, 0).astype(np.uint8)
            if not cv2.imwrite(str(out_dir / "masks" / f"{item.name}.png"), mask):
                raise OSError(f"{out_dir / 'masks'}: could not write {item.name}.png.")
            shutil.copyfile(item.path, out_dir / "images" / f"{item.name}{item.path.suffix}")
            item.kept, item.empty = True, not mask.any()
        done = min(start + batch_size, len(results))
        if done == len(results) or (start // batch_size) % 20 == 19:
            log.info("pseudo-labelled %d / %d images", done, len(results))

    kept = sorted((r for r in results if r.kept), key=lambda r: r.name)
    rejected = [r for r in results if not r.kept]
    _write_csv(
        out_dir / "manifest.csv",
        MANIFEST_COLUMNS,
        [
            (
                r.name,
                f"images/{r.name}{r.path.suffix}",
                f"masks/{r.name}.png",
                r.width,
                r.height,
                "",
                f"{r.confidence:.6f}",
                r.path.relative_to(images_dir).as_posix(),
            )
            for r in kept
        ],
    )
    _write_csv(
        out_dir / "rejected.csv",
        REJECTED_COLUMNS,
        [
            (str(r.path), r.reason, "" if r.confidence is None else f"{r.confidence:.6f}")
            for r in rejected
        ],
    )
    files = {
        "images": str(out_dir / "images"),
        "masks": str(out_dir / "masks"),
        "manifest": str(out_dir / "manifest.csv"),
        "rejected": str(out_dir / "rejected.csv"),
        "review": None,
        "summary": str(out_dir / "summary.json"),
    }
    sheet = review_sheet(out_dir, kept)
    if sheet is not None:
        files["review"] = str(write_rgb(out_dir / "review.png", sheet))
    unreadable = sum(r.confidence is None for r in rejected)
    quality = None
    if reference_masks is not None:
        quality = {
            "reference_masks": str(reference_masks),
            "kept": _mean_iou([r for r in kept]),
            "rejected": _mean_iou([r for r in rejected if r.confidence is not None]),
        }
    summary = {
        "input": str(images_dir),
        "output": str(out_dir),
        "counts": {
            "found": len(results),
            "kept": len(kept),
            "rejected": len(rejected),
            "unreadable": unreadable,
            "low_confidence": len(rejected) - unreadable,
            "empty_masks": sum(r.empty for r in kept),
        },
        "thresholds": {
            "min_confidence": min_confidence,
            "band": band,
            "confidence": f"fraction of pixels with p <= {band} or p >= {1 - band:g}",
            "mask_threshold": threshold,
        },
        "teacher": teacher.describe(),
        "extensions": list(parse_extensions(extensions)),
        "max_images": max_images,
        "quality": quality,
        "command": command,
        "files": files,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def report_lines(summary: dict[str, Any]) -> list[str]:
    """What the command line prints after labelling: counts, reference quality, files, and the
    command that trains on the labelled pool."""
    counts = summary["counts"]
    lines = [
        f"Kept {counts['kept']} of {counts['found']} images; rejected {counts['rejected']} "
        f"({counts['low_confidence']} below confidence "
        f"{summary['thresholds']['min_confidence']}, {counts['unreadable']} unreadable); "
        f"{counts['empty_masks']} kept masks are empty."
    ]
    quality = summary.get("quality")
    if quality:
        parts = [
            f"{name} {q['iou_mean']:.4f} (n={q['n']})" if q["n"] else f"{name} – (n=0)"
            for name, q in (("kept", quality["kept"]), ("rejected", quality["rejected"]))
        ]
        lines.append("Mean IoU against the reference masks: " + ", ".join(parts))
    for key in ("manifest", "rejected", "review", "summary"):
        if summary["files"][key]:
            lines.append(f"{key.capitalize() + ':':<10} {summary['files'][key]}")
    train = ["python", "train.py", "experiment=attn_distill", "data=folder"]
    lines += [
        "Train with the pseudo-labelled pool:",
        "  " + shlex.join([*train, f"data.root={summary['output']}"]),
    ]
    return lines
