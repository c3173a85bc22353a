"""The check pass: read every sample once, before training, so a bad file is not found hours in.

Each record's image and mask are fully decoded (truncated files fail), the mask values normalised
and the sizes compared, in parallel threads (decoders release the GIL). Results are cached under
``<cache_dir>/checks/<key>.json``; the key covers every file's path, size and modification time and
the mask settings, so an unchanged dataset is checked once, and any change is checked again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from seg.data.image_io import MaskSpec, load_pair
from seg.data.records import BadSampleError, Record

log = logging.getLogger(__name__)

CHECK_VERSION = 1  # bump when the checks change, to invalidate cached results


@dataclass(frozen=True)
class BadSample:
    """A sample that failed the check."""

    id: str
    path: str
    reason: str


def check_record(record: Record, spec: MaskSpec) -> BadSample | None:
    """None when the sample reads cleanly, else what is wrong with it."""
    try:
        load_pair(record, spec)
    except BadSampleError as e:
        return BadSample(record.id, e.path, e.reason)
    return None


def _stat(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def check_key(records: Sequence[Record], spec_of: Callable[[Record], MaskSpec]) -> str:
    """Hash of every file's identity (path, size, mtime) and the mask settings of each record."""
    digest = hashlib.sha256(f"v{CHECK_VERSION}".encode())
    for r in records:
        spec = json.dumps(asdict(spec_of(r)), sort_keys=True, default=list)
        line = f"{r.id}|{r.image}|{_stat(r.image)}|{r.mask}|{_stat(r.mask)}|{r.mask_format}|{spec}"
        digest.update(line.encode())
    return digest.hexdigest()[:20]


def check_records(
    records: Sequence[Record],
    spec_of: Callable[[Record], MaskSpec],
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    label: str = "data",
) -> list[BadSample]:
    """Check every record (or reuse a cached result for the same files and settings).

    Args:
        records: The samples to check.
        spec_of: The mask settings of a record (sources may differ).
        workers: Threads (default: 2 per CPU core).
        cache_dir: Where results are cached (None: not cached).
        label: Name for the log line (e.g. ``train split``).

    Returns:
        The bad samples, in record order.
    """
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / "checks" / f"{check_key(records, spec_of)}.json"
        if cache.is_file():
            return [BadSample(**b) for b in json.loads(cache.read_text())["bad"]]
    start = time.perf_counter()
    workers = workers or 2 * (os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda r: check_record(r, spec_of(r)), records))
    bad = [b for b in results if b is not None]
    log.info(
        "Checked %d samples of the %s in %.1f s: %d bad.",
        len(records),
        label,
        time.perf_counter() - start,
        len(bad),
    )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"count": len(records), "bad": [asdict(b) for b in bad]}))
        tmp.replace(cache)
    return bad
