"""Measure the real-data path — the check pass and per-sample loading — and write
docs/real_data_pipeline.md.

A folder dataset of ``--photos`` portrait photos is written to a temporary directory (synthetic
portraits rendered at ``--photo-size``, saved as JPEG quality 90 with PNG masks, like EG1800 or
AISegment at 800x600), then timed:

* ``scan``: listing and pairing the files (``PortraitDataset`` construction);
* ``check``: the check pass that decodes every image and mask before training, cold, with 1, 2 and
  4 threads, and again from its cache (an unchanged dataset on the next run);
* ``load``: one sample read, normalised and fitted to the training size, in one process with one
  thread (= one DataLoader worker); ``load + augment`` adds the ``augment=default`` pipeline.

Usage:
    python scripts/bench_real_data.py [--photos 1000] [--photo-size 800x600] [--size 144x256]
                                      [--threads 1 2 4] [--output docs/real_data_pipeline.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seg.utils import cpu_model  # noqa: E402
from seg.bench.report import write_report  # noqa: E402
from seg.data.check import check_records  # noqa: E402
from seg.data.portrait_dataset import PortraitDataset  # noqa: E402
from seg.data.synthetic import SyntheticPortraitGenerator  # noqa: E402


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


def per_second(fn, count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        fn(i)
    return count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--photo-size", default="800x600", help="HxW of the photos")
    parser.add_argument("--size", default="144x256", help="HxW training size")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--load-samples", type=int, default=300, help="samples timed per load row")
    parser.add_argument("--output", default=str(ROOT / "docs" / "real_data_pipeline.md"))
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)
    ph, pw = (int(v) for v in args.photo_size.lower().split("x"))
    th, tw = (int(v) for v in args.size.lower().split("x"))
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    os.environ.setdefault("PROJECT_ROOT", str(ROOT))

    from hydra.utils import instantiate

    from seg.config import compose_train

    augment = compose_train([f"data.height={th}", f"data.width={tw}"]).augment.train
    results: dict = {"photos": args.photos, "photo_size": [ph, pw], "size": [th, tw]}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "photos"
        start = time.perf_counter()
        write_photos(root, args.photos, ph, pw)
        print(f"wrote {args.photos} photos {pw}x{ph} in {time.perf_counter() - start:.1f} s")
        size_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        results["dataset_mb"] = round(size_mb, 1)

        start = time.perf_counter()
        ds = PortraitDataset("all", th, tw, format="folder", root=root)
        results["scan_s"] = round(time.perf_counter() - start, 3)
        records = ds._candidates
        spec = ds.specs[records[0].source]
        results["check"] = {}
        for threads in args.threads:
            start = time.perf_counter()
            bad = check_records(records, lambda r: spec, workers=threads)
            elapsed = time.perf_counter() - start
            assert not bad, bad[:3]
            results["check"][threads] = round(args.photos / elapsed, 1)
            print(f"check, {threads} thread(s): {args.photos / elapsed:.0f} samples/s")
        cache = Path(tmp) / "cache"
        check_records(records, lambda r: spec, cache_dir=cache)
        start = time.perf_counter()
        check_records(records, lambda r: spec, cache_dir=cache)
        results["check_cached_s"] = round(time.perf_counter() - start, 3)

        n = min(args.load_samples, len(ds))
        results["load"] = round(per_second(lambda i: ds[i], n), 1)
        ds.transform = instantiate(augment)
        results["load_augment"] = round(per_second(lambda i: ds[i], n), 1)
        print(f"load {results['load']:.0f}/s, load + augment {results['load_augment']:.0f}/s")

    cmd = "python scripts/bench_real_data.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    best = max(results["check"].values())
    lines = [
        "# Real-data pipeline: check pass and loading",
        "",
        f"Command: `{cmd.strip()}`. {args.photos} photos {pw}x{ph} (JPEG q90 + PNG masks, "
        f"{results['dataset_mb']} MB), training size {th}x{tw}.",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"torch {torch.__version__}, OpenCV {cv2.__version__}, Pillow {Image.__version__}.",
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
    write_report(args.output, lines, args.json, results)
    return results


if __name__ == "__main__":
    main()
