"""Evaluate a trained model on a labelled split: per-image scores, results by attribute group,
the worst cases and a model card.

Writes into the output folder (default ``<model's dir>/eval-<split>``):

* ``per_image.csv``: index, id, iou, boundary_f, mae, fg_true, fg_pred, then every attribute column;
* ``summary.json``: model, data, overall metrics, the breakdown by attribute, latency;
* ``worst_cases.png``: the lowest-IoU images (image | ground truth | prediction | errors);
* ``model_card.md``: model, intended use and limitations, data, metrics, latency, results by
  attribute (worst / best group and the gap in IoU points).

Usage:
    python scripts/evaluate.py logs/student/<run>                      # the run's own test split
    python scripts/evaluate.py logs/student/<run>/student.onnx --split val
    python scripts/evaluate.py student.pt data=folder data.root=/data/portraits --split all
    python scripts/evaluate.py <run> data.test.length=100 --worst 8 --no-latency --output out/
    python scripts/evaluate.py <run> data=clips --postprocess smooth   # clips: + dtSSD, TC, flicker
    python scripts/evaluate.py <run> --video call.mp4 --postprocess smooth  # any video, label-free

On clips (``data=clips``) every frame is scored and each clip's stability too (``per_clip.csv``,
the card's "Stability on video"). ``--video`` runs the model over a video file or folder of frames
and reports the label-free flicker, flip rate and TC of its masks (``summary.json``).

Data: a ``data=<option>`` override composes ``configs/train.yaml`` with the overrides; otherwise a
run dir's saved config (merged with the ``key=value`` overrides) or, for a bare weights file, the
built-in synthetic data. Frames are always at the model's input size. ``--split all`` scores every
sample of a real dataset (a folder of photos, whatever ``data.split_ratio`` says).
"""

from __future__ import annotations

import sys
from pathlib import Path

from seg import cli
from seg.eval.evaluation import evaluate, summary_lines


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("source", type=Path, help="run dir, student.pt/teacher.pt, .ckpt or .onnx")
    parser.add_argument(
        "overrides", nargs="*", help="data overrides, e.g. data=folder data.root=/data/x"
    )
    parser.add_argument("--split", default="test", help="train, val, test or all (default: test)")
    parser.add_argument(
        "--output", type=Path, help="output folder (default: <model dir>/eval-<split>)"
    )
    parser.add_argument("--batch-size", type=int, default=16, help="frames per model call")
    parser.add_argument("--worst", type=int, default=12, help="rows of worst_cases.png (0: none)")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    parser.add_argument("--max-images", type=int, help="evaluate only the first N images")
    parser.add_argument(
        "--min-group", type=int, default=1, help="smallest attribute group compared (default 1)"
    )
    parser.add_argument("--postprocess", help="post-processing preset or file (default: none)")
    parser.add_argument(
        "--pp", action="append", default=[], metavar="KEY=VALUE", help="post-processing override"
    )
    parser.add_argument("--video", help="a video file or folder of frames: label-free metrics")
    args = parser.parse_intermixed_args(argv)
    if args.max_images is not None and args.max_images < 1:
        parser.error(f"--max-images must be >= 1, got {args.max_images}")
    post = None
    if args.postprocess or args.pp:
        from seg.postprocess import load_postprocess

        post = load_postprocess(args.postprocess or "none", args.pp)
    if args.video is not None:
        from seg.eval.video_eval import evaluate_video, video_lines

        found = evaluate_video(
            args.source,
            args.video,
            output=args.output,
            postprocess=post,
            max_frames=args.max_images,
        )
        print("\n".join(video_lines(found)))
        return 0
    summary = evaluate(
        args.source,
        args.overrides,
        split=args.split,
        output=args.output,
        batch_size=args.batch_size,
        worst=args.worst,
        latency=not args.no_latency,
        max_images=args.max_images,
        min_group=args.min_group,
        postprocess=post,
    )
    print("\n".join(summary_lines(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
