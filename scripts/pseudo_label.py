"""Label a folder of unlabelled images with a teacher, keeping only the confident labels.

Every image under the folder (recursive) is labelled by the teacher at its input size; the mask is
resized back to the original size. An image is kept when the teacher is sure of most pixels:
confidence = fraction of pixels with probability <= band or >= 1 - band, kept when >= the minimum.
Unreadable files and unsure images are listed in ``rejected.csv`` with the reason, never dropped
silently. See seg/mining/pseudo_labels.py for the output layout (what ``data=folder`` reads).

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

import sys
from pathlib import Path

from seg import cli
from seg.inference import load_predictor
from seg.mining.pseudo_labels import (
    BAND,
    DEFAULT_EXTENSIONS,
    MIN_CONFIDENCE,
    pseudo_label,
    report_lines,
)
from seg.resize import RESIZE_MODES


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__)
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
    parser.add_argument(
        "--resize",
        choices=RESIZE_MODES,
        default="stretch",
        help="how photos are fitted to the teacher's input (default: stretch)",
    )
    parser.add_argument("--device", default="cpu", help="torch device for weights files")
    parser.add_argument("--threads", type=int, default=0, help="torch / ONNX Runtime threads")
    args = parser.parse_args(argv)
    if args.max_images is not None and args.max_images <= 0:
        parser.error(f"--max-images must be > 0, got {args.max_images}.")
    if args.batch_size <= 0:
        parser.error(f"--batch-size must be > 0, got {args.batch_size}.")

    teacher = load_predictor(
        args.teacher, device=args.device, threads=args.threads, resize=args.resize
    )
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
        command=cli.command_line("pseudo_label.py", argv),
    )
    print("\n".join(report_lines(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
