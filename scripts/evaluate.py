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

Data: a ``data=<option>`` override composes ``configs/train.yaml`` with the overrides; otherwise a
run dir's saved config (merged with the ``key=value`` overrides) or, for a bare weights file, the
built-in synthetic data. Frames are always at the model's input size.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seg.eval.card import measure_latency, write_model_card  # noqa: E402
from seg.eval.data import data_description, eval_config, is_data_choice  # noqa: E402
from seg.eval.predict import load_predictor  # noqa: E402
from seg.eval.report import (  # noqa: E402
    model_info,
    worst_cases_sheet,
    write_per_image_csv,
    write_summary,
)
from seg.eval.scoring import breakdown, score_dataset, summarize  # noqa: E402

log = logging.getLogger("evaluate")


def default_output(source: Path, run_dir: Path | None, weights: Path, split: str) -> Path:
    """``<run dir>/eval-<split>`` when the run is known, else ``<weights dir>/eval-<split>``."""
    base = run_dir if run_dir is not None else (source if source.is_dir() else weights.parent)
    return base / f"eval-{split}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="run dir, student.pt/teacher.pt, .ckpt or .onnx")
    parser.add_argument(
        "overrides", nargs="*", help="data overrides, e.g. data=folder data.root=/data/x"
    )
    parser.add_argument("--split", default="test", help="split to evaluate (default: test)")
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
    args = parser.parse_intermixed_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.max_images is not None and args.max_images < 1:
        parser.error(f"--max-images must be >= 1, got {args.max_images}")

    predictor = load_predictor(args.source)
    cfg = eval_config(predictor, args.overrides)
    from seg.train import build_datamodule

    dataset = build_datamodule(cfg).prepared_split(args.split)
    output = args.output or default_output(
        args.source, predictor.run_dir, predictor.path, args.split
    )
    log.info(
        "Evaluating %s (%s, %dx%d) on %s split (%d images)",
        predictor.path,
        predictor.kind,
        predictor.height,
        predictor.width,
        args.split,
        len(dataset),
    )
    start = time.perf_counter()
    scores, _ = score_dataset(
        predictor, dataset, batch_size=args.batch_size, max_images=args.max_images
    )
    if not scores:
        raise ValueError(f"The '{args.split}' split is empty; nothing to evaluate.")
    eval_s = time.perf_counter() - start
    overall = {**summarize(scores), "band_px": 3}
    groups = breakdown(scores, min_group=args.min_group)

    files = {
        "per_image": str(write_per_image_csv(scores, output / "per_image.csv")),
        "summary": str(output / "summary.json"),
        "model_card": str(output / "model_card.md"),
    }
    sheet = worst_cases_sheet(predictor, dataset, scores, output / "worst_cases.png", args.worst)
    if sheet is not None:
        files["worst_cases"] = str(sheet)
    latency = None if args.no_latency else measure_latency(predictor)
    summary = {
        "model": model_info(predictor),
        "data": {
            **data_description(cfg),
            "config": "run config"
            if predictor.run_dir is not None and not any(map(is_data_choice, args.overrides))
            else "configs/train.yaml",
            "overrides": list(args.overrides),
            "split": args.split,
            "n": len(scores),
            "split_size": len(dataset),
        },
        "overall": overall,
        "breakdown": groups,
        "latency": latency,
        "worst_count": min(args.worst, len(scores)),
        "eval_seconds": round(eval_s, 2),
        "files": files,
    }
    write_summary(summary, files["summary"])
    write_model_card(summary, files["model_card"])

    pooled = overall["iou_pooled"]
    print(
        f"\n{predictor.name} ({predictor.kind}) on {args.split} ({len(scores)} images): "
        f"mean IoU {overall['iou_mean']:.4f}, pooled IoU {pooled:.4f}, "
        f"boundary F {overall['boundary_f_mean']:.4f}, MAE {overall['mae_mean']:.4f}"
    )
    for column, result in groups.items():
        if result["gap"] is not None:
            worst = result["worst"]
            print(
                f"  {column}: worst {worst} ({result['groups'][worst]['iou_mean']:.4f}), "
                f"best {result['best']}, gap {result['gap']:.1f} IoU points"
            )
    if latency and latency.get("measured"):
        print(f"Latency: {latency['median_ms']:.2f} ms median, 1 thread, {latency['cpu']}")
    for name, path in files.items():
        print(f"{name}: {path}")
    return summary


if __name__ == "__main__":
    main()
