"""``skipped_samples.csv``: every sample left out by ``data.on_bad_sample=skip``, with its reason."""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from seg.data.check import BadSample

log = logging.getLogger(__name__)

SKIP_REPORT = "skipped_samples.csv"


def write_skip_report(
    skipped: Mapping[str, Sequence[BadSample]], report_dir: str | Path | None
) -> Path | None:
    """Write ``<report_dir>/skipped_samples.csv`` (split, id, file, reason) and print the count.

    Returns:
        The file written, or None when nothing was skipped.
    """
    total = sum(len(v) for v in skipped.values())
    if total == 0:
        return None
    path = None
    if report_dir is not None:
        path = Path(report_dir) / SKIP_REPORT
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["split", "id", "file", "reason"])
            for split, bad in skipped.items():
                writer.writerows([split, b.id, b.path, b.reason] for b in bad)
    counts = ", ".join(f"{split} {len(bad)}" for split, bad in skipped.items() if bad)
    message = f"Skipped {total} bad sample(s) ({counts}; data.on_bad_sample=skip)"
    log.warning("%s; list: %s", message, path or "not written (no run dir)")
    print(f"{message}. List: {path}" if path else f"{message}.", flush=True)
    return path
