"""Throughput of the data pipeline per DataLoader worker: the synthetic generator, its on-disk
cache and augmentation (``scripts/bench_data.py``), and the real-data path — the check pass and
per-sample loading of a folder of photos (``scripts/bench_real_data.py``)."""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import torch
from hydra.utils import instantiate
from PIL import Image

from seg.config import compose_train
from seg.data.check import check_records
from seg.data.portrait_dataset import PortraitDataset
from seg.data.sample import make_sample
from seg.data.synthetic import SyntheticPortraitGenerator
from seg.data.synthetic_dataset import SyntheticPortraitDataset
from seg.utils import cpu_model


def per_second(fn: Callable[[int], object], count: int, warmup: int = 0) -> float:
    """Calls of ``fn(i)`` per second over ``i = 0 .. count - 1``, after ``warmup`` untimed ones."""
    for i in range(warmup):
        fn(i)
    start = time.perf_counter()
    for i in range(count):
        fn(i)
    return count / (time.perf_counter() - start)


def build_augment(name: str, height: int, width: int):
    """The ``augment=<name>`` training pipeline at ``height x width`` (None for ``none``)."""
    cfg = compose_train([f"augment={name}", f"data.height={height}", f"data.width={width}"])
    return instantiate(cfg.augment.train) if cfg.augment.train else None


def synthetic_throughput(height: int, width: int, frames: int, augment: str) -> dict[str, float]:
    """Frames per second of rendering alone, rendering + augmenting, reading the cache +
    augmenting, and filling the cache with one process, at ``height x width``."""
    transform = build_augment(augment, height, width)
    plain = SyntheticPortraitDataset("train", frames + 1, height, width, seed=123)
    augmented = SyntheticPortraitDataset(
        "train", frames + 1, height, width, seed=123, transform=transform
    )
    with tempfile.TemporaryDirectory() as tmp:
        cached = SyntheticPortraitDataset(
            "train", frames + 1, height, width, seed=123, cache_dir=tmp, workers=1,
            transform=transform,
        )  # fmt: skip
        start = time.perf_counter()
        cached.prepare()
        fill = (frames + 1) / (time.perf_counter() - start)
        return {
            "render": per_second(lambda i: make_sample(*plain.raw(i), i), frames, warmup=1),
            "render_augment": per_second(lambda i: augmented[i], frames, warmup=1),
            "cached_augment": per_second(lambda i: cached[i], frames, warmup=1),
            "cache_fill_1proc": fill,
        }


def machine_line() -> str:
    """``Machine: <CPU>, <cores> cores, Python, torch, OpenCV`` for the reports."""
    return (
        f"Machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"torch {torch.__version__}, OpenCV {cv2.__version__}, Pillow {Image.__version__}."
    )


def synthetic_report(rows: Sequence[dict[str, Any]], command: str, augment: str, frames: int):
    """The markdown lines of ``docs/data_pipeline.md``."""
    lines = [
        "# Data pipeline throughput",
        "",
        f"Command: `{command}` — augmentation `augment={augment}`, {frames} frames per cell, "
        "one process with one thread (= one DataLoader worker).",
        machine_line(),
        "",
        "| size (HxW) | render only (f/s) | render + augment (f/s) | cached + augment (f/s) "
        "| cache fill, 1 process (f/s) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['height']}x{r['width']} | {r['render']:.0f} | {r['render_augment']:.0f} | "
            f"{r['cached_augment']:.0f} | {r['cache_fill_1proc']:.0f} |"
        )
    return [
        *lines,
        "",
        "Training reads the cached path (`data.cache_dir`, on by default): the split is rendered "
        "once (in parallel over all cores) and memory-mapped by every later run with the same "
        "data settings.",
        "",
    ]


def _write(args: tuple[str, int, int, int, int]) -> None:
    root, start, stop, height, width = args
    cv2.setNumThreads(1)
    gen = SyntheticPortraitGenerator(height=height, width=width, seed=7)
    for i in range(start, stop):
        frame = gen.frame("bench", i)
        Image.fromarray(frame.image).save(f"{root}/images/p{i:05d}.jpg", quality=90)
        Image.fromarray(frame.mask * 255).save(f"{root}/masks/p{i:05d}.png")


def write_photos(root: Path, count: int, height: int, width: int) -> None:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir(parents=True)
    chunks = [(str(root), s, min(s + 50, count), height, width) for s in range(0, count, 50)]
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(_write, chunks))


def real_data_throughput(
    photos: int,
    photo_size: tuple[int, int],
    size: tuple[int, int],
    threads: Sequence[int],
    load_samples: int,
) -> dict[str, Any]:
    """Write ``photos`` portrait photos of ``photo_size`` (JPEG q90 + PNG masks) to a temporary
    folder dataset and time the scan, the check pass (cold with each thread count, then cached)
    and loading one sample fitted to ``size`` (plain, and with ``augment=default``)."""
    (ph, pw), (th, tw) = photo_size, size
    augment = compose_train([f"data.height={th}", f"data.width={tw}"]).augment.train
    results: dict[str, Any] = {"photos": photos, "photo_size": [ph, pw], "size": [th, tw]}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "photos"
        start = time.perf_counter()
        write_photos(root, photos, ph, pw)
        print(f"wrote {photos} photos {pw}x{ph} in {time.perf_counter() - start:.1f} s")
        size_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        results["dataset_mb"] = round(size_mb, 1)
        start = time.perf_counter()
        ds = PortraitDataset("all", th, tw, format="folder", root=root)
        results["scan_s"] = round(time.perf_counter() - start, 3)
        records = ds.candidates()
        spec = ds.specs[records[0].source]
        results["check"] = {}
        for workers in threads:
            start = time.perf_counter()
            bad = check_records(records, lambda r: spec, workers=workers)
            elapsed = time.perf_counter() - start
            if bad:
                raise RuntimeError(f"the generated photos failed the check pass: {bad[:3]}")
            results["check"][workers] = round(photos / elapsed, 1)
            print(f"check, {workers} thread(s): {photos / elapsed:.0f} samples/s")
        cache = Path(tmp) / "cache"
        check_records(records, lambda r: spec, cache_dir=cache)
        start = time.perf_counter()
        check_records(records, lambda r: spec, cache_dir=cache)
        results["check_cached_s"] = round(time.perf_counter() - start, 3)

        n = min(load_samples, len(ds))
        results["load"] = round(per_second(lambda i: ds[i], n), 1)
        augmented = PortraitDataset(
            "all", th, tw, format="folder", root=root, transform=instantiate(augment)
        )
        results["load_augment"] = round(per_second(lambda i: augmented[i], n), 1)
        print(f"load {results['load']:.0f}/s, load + augment {results['load_augment']:.0f}/s")
    return results


def real_data_report(results: dict[str, Any], command: str) -> list[str]:
    """The markdown lines of ``docs/real_data_pipeline.md``."""
    (ph, pw), (th, tw) = results["photo_size"], results["size"]
    best = max(results["check"].values())
    lines = [
        "# Real-data pipeline: check pass and loading",
        "",
        f"Command: `{command}`. {results['photos']} photos {pw}x{ph} (JPEG q90 + PNG masks, "
        f"{results['dataset_mb']} MB), training size {th}x{tw}.",
        machine_line(),
        "",
        "| step | result |",
        "|---|---|",
        f"| scan (list + pair files) | {results['scan_s']:.2f} s |",
    ]
    for threads, rate in results["check"].items():
        lines.append(f"| check pass, cold, {threads} thread(s) | {rate:.0f} samples/s |")
    lines += [
        f"| check pass, cached (unchanged files) | {results['check_cached_s']:.2f} s for all |",
        f"| load + fit to {th}x{tw}, 1 worker | {results['load']:.0f} samples/s |",
        f"| load + fit + `augment=default`, 1 worker | {results['load_augment']:.0f} samples/s |",
        "",
        f"At {best:.0f} samples/s the check pass reads a 10,000-photo dataset in about "
        f"{10000 / best / 60:.1f} minutes, once; later runs on the same files reuse the result. "
        "Loading is per DataLoader worker: `data.num_workers` workers multiply it.",
        "",
    ]
    return lines
