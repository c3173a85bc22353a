"""Label a folder of unlabelled images with a teacher, keeping only the confident labels.

Every image under the folder (recursive) is labelled by the teacher at its input size; the mask is
resized back to the original size. An image is kept when the teacher is sure of most pixels:
confidence = fraction of pixels with probability <= band or >= 1 - band, kept when >= the minimum.
Unreadable files and unsure images are listed in ``rejected.csv`` with the reason, never dropped
silently. See seg/loop/pseudo_label.py for the output layout (what ``data=folder`` reads).

Usage:
    python scripts/pseudo_label.py logs/teacher/<run>/teacher.pt /data/unlabelled --output pool/
    python scripts/pseudo_label.py <teacher> /data/frames --output pool/ --min-confidence 0.95 \\
        --band 0.05 --ext jpg,png --max-images 2000
    python train.py experiment=attn_distill data=folder data.root=pool/   # then train on it
    # calibrate --min-confidence on a labelled sample: IoU of kept vs rejected pseudo-masks
    python scripts/pseudo_label.py <teacher> /data/sample/images --reference-masks /data/sample/masks \
        --output /tmp/calib

Check ``<output>/review.png`` (kept images, least confident first) before training on the labels.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seg.eval.predict import load_predictor  # noqa: E402
from seg.loop.pseudo_label import (  # noqa: E402
    BAND,
    DEFAULT_EXTENSIONS,
    MIN_CONFIDENCE,
    pseudo_label,
)

log = logging.getLogger("pseudo_label")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("teacher", type=Path, help="teacher run dir, teacher.pt, .ckpt or .onnx")
    parser.add_argument("images", type=Path, help="folder of unlabelled images (recursive)")
    parser.add_argument("--output", type=Path, required=True, help="output dataset folder")
    parser.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE)
    parser.add_argument(
        "--band", type=float, default=BAND, help="sure pixels: p <= band or p >= 1 - band"
    )
    parser.add_argument(
        "--ext", default=",".join(DEFAULT_EXTENSIONS), help="image extensions (jpg also = jpeg)"
    )
    parser.add_argument("--max-images", type=int, help="label at most N images (sorted by path)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier output")
    parser.add_argument(
        "--reference-masks",
        type=Path,
        help="ground-truth masks for (some of) the images, <dir>/<relative path>.png: reports the "
        "mean IoU of kept vs rejected pseudo-masks, to calibrate --min-confidence",
    )
    parser.add_argument("--device", default="cpu", help="torch device for weights files")
    parser.add_argument("--threads", type=int, default=0, help="torch / ONNX Runtime threads")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.max_images is not None and args.max_images <= 0:
        parser.error(f"--max-images must be > 0, got {args.max_images}.")
    if args.batch_size <= 0:
        parser.error(f"--batch-size must be > 0, got {args.batch_size}.")

    teacher = load_predictor(args.teacher, device=args.device, threads=args.threads)
    given = sys.argv[1:] if argv is None else argv
    summary = pseudo_label(
        teacher,
        args.images,
        args.output,
        min_confidence=args.min_confidence,
        band=args.band,
        extensions=args.ext.split(","),
        max_images=args.max_images,
        batch_size=args.batch_size,
        overwrite=args.overwrite,
        reference_masks=args.reference_masks,
        command=" ".join(shlex.quote(a) for a in ["python", "scripts/pseudo_label.py", *given]),
    )
    counts = summary["counts"]
    print(
        f"Kept {counts['kept']} of {counts['found']} images; rejected {counts['rejected']} "
        f"({counts['low_confidence']} below confidence {args.min_confidence}, "
        f"{counts['unreadable']} unreadable); {counts['empty_masks']} kept masks are empty."
    )
    quality = summary.get("quality")
    if quality:
        parts = [
            f"{name} {q['iou_mean']:.4f} (n={q['n']})" if q["n"] else f"{name} – (n=0)"
            for name, q in (("kept", quality["kept"]), ("rejected", quality["rejected"]))
        ]
        print("Mean IoU against the reference masks: " + ", ".join(parts))
    for key in ("manifest", "rejected", "review", "summary"):
        if summary["files"][key]:
            print(f"{key.capitalize() + ':':<10} {summary['files'][key]}")
    print("Train with the pseudo-labelled pool:")
    print(
        "  "
        + " ".join(
            shlex.quote(p)
            for p in [
                "python",
                "train.py",
                "experiment=attn_distill",
                "data=folder",
                f"data.root={args.output}",
            ]
        )
    )
    return summary


if __name__ == "__main__":
    main()
