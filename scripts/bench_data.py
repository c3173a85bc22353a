"""Measure the data pipeline's throughput per worker process and write docs/data_pipeline.md.

Three paths are timed in one process (= one DataLoader worker), each producing training tensors:

* ``render``: the synthetic generator alone (what an uncached dataset does per frame);
* ``render + augment``: generator, then the ``augment=<name>`` albumentations pipeline, then tensors;
* ``cached + augment``: frames read from the on-disk cache (the default), augmented, to tensors.

Usage:
    python scripts/bench_data.py [--frames 300] [--augment default] [--sizes 144x256 288x512]
                                 [--output docs/data_pipeline.md] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seg.bench.report import write_report  # noqa: E402


def build_augment(name: str, height: int, width: int):
    from hydra.utils import instantiate

    from seg.config import compose_train

    cfg = compose_train([f"augment={name}", f"data.height={height}", f"data.width={width}"])
    return instantiate(cfg.augment.train) if cfg.augment.train else None


def rate(fn, frames: int) -> float:
    fn(0)  # warm-up
    start = time.perf_counter()
    for i in range(frames):
        fn(i)
    return frames / (time.perf_counter() - start)


def bench_size(height: int, width: int, frames: int, augment: str) -> dict[str, float]:
    from seg.data.sample import make_sample
    from seg.data.synthetic_dataset import SyntheticPortraitDataset

    transform = build_augment(augment, height, width)
    plain = SyntheticPortraitDataset("train", frames + 1, height, width, seed=123)
    augmented = SyntheticPortraitDataset(
        "train", frames + 1, height, width, seed=123, transform=transform
    )
    with tempfile.TemporaryDirectory() as tmp:
        cached = SyntheticPortraitDataset(
            "train",
            frames + 1,
            height,
            width,
            seed=123,
            cache_dir=tmp,
            workers=1,
            transform=transform,
        )
        start = time.perf_counter()
        cached.prepare()
        fill = (frames + 1) / (time.perf_counter() - start)
        result = {
            "render": rate(lambda i: make_sample(*plain.raw(i), i), frames),
            "render_augment": rate(lambda i: augmented[i], frames),
            "cached_augment": rate(lambda i: cached[i], frames),
            "cache_fill_1proc": fill,
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=300, help="frames timed per path and size")
    parser.add_argument(
        "--augment", default="default", help="augment config to time (configs/augment)"
    )
    parser.add_argument("--sizes", nargs="+", default=["144x256", "288x512"], help="HxW sizes")
    parser.add_argument(
        "--output", default=str(ROOT / "docs" / "data_pipeline.md"), help="markdown report"
    )
    parser.add_argument("--json", default=None, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    rows = []
    for size in args.sizes:
        try:
            height, width = (int(v) for v in size.lower().split("x"))
        except ValueError:
            parser.error(f"--sizes: expected HxW like 144x256, got {size!r}")
        res = bench_size(height, width, args.frames, args.augment)
        rows.append({"height": height, "width": width, **res})
        print(
            f"{height}x{width}: render {res['render']:.0f} f/s, render+augment {res['render_augment']:.0f} f/s, "
            f"cached+augment {res['cached_augment']:.0f} f/s (one process)"
        )

    cmd = "python scripts/bench_data.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [
        "# Data pipeline throughput",
        "",
        f"Command: `{cmd.strip()}` — augmentation `augment={args.augment}`, {args.frames} frames per cell, "
        "one process with one thread (= one DataLoader worker).",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}, OpenCV {cv2.__version__}.",
        "",
        "| size (HxW) | render only (f/s) | render + augment (f/s) | cached + augment (f/s) | cache fill, 1 process (f/s) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['height']}x{r['width']} | {r['render']:.0f} | {r['render_augment']:.0f} | "
            f"{r['cached_augment']:.0f} | {r['cache_fill_1proc']:.0f} |"
        )
    lines += [
        "",
        "Training reads the cached path (`data.dataset_kwargs.cache_dir`, on by default): the split is rendered once "
        "(in parallel over all cores) and memory-mapped by every later run with the same data settings.",
        "",
    ]
    write_report(args.output, lines, args.json, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
