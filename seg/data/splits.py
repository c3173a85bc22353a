"""Train/val/test assignment: explicit splits win, the rest by a seeded, stable ratio split.

Records without a split get a split from a hash of ``(seed, id)`` compared with the cumulative
ratio, so the split depends on neither file order nor the other files: a sample keeps its split
when the dataset grows (the closed loop adds data every round; a test sample must never drift into
training). Proportions are therefore close to, not exactly, the ratio on small sets. When
the explicit splits leave ``val`` or ``test`` empty (e.g. a dataset with train/test lists only),
that split is carved from ``train`` by its ratio, and the carve is logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from seg.data.formats.manifest import SPLIT_NAMES
from seg.data.records import DatasetError, Record

log = logging.getLogger(__name__)


def _rank(records: Sequence[Record], seed: int) -> list[Record]:
    def key(r: Record) -> str:
        return hashlib.sha1(f"{seed}:{r.id}".encode()).hexdigest()

    return sorted(records, key=key)


def _unit(record: Record, seed: int) -> float:
    """A uniform number in [0, 1) fixed by the seed and the record's id."""
    return int(hashlib.sha1(f"{seed}:{record.id}".encode()).hexdigest()[:12], 16) / 16**12


def assign_splits(
    records: Sequence[Record], ratio: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> dict[str, list[Record]]:
    """``{"train": [...], "val": [...], "test": [...]}`` (each sorted by id).

    Args:
        records: All records of the dataset.
        ratio: Train/val/test proportions for records without an explicit split.
        seed: Seed of the ratio split (independent of the training seed).

    Raises:
        DatasetError: For a bad ratio.
    """
    if len(ratio) != 3 or any(r < 0 for r in ratio) or sum(ratio) <= 0 or ratio[0] <= 0:
        raise DatasetError(
            f"data.split_ratio must be three non-negative train/val/test proportions with train "
            f"> 0, got {list(ratio)}."
        )
    out: dict[str, list[Record]] = {s: [r for r in records if r.split == s] for s in SPLIT_NAMES}
    total = float(sum(ratio))
    cut_train, cut_val = ratio[0] / total, (ratio[0] + ratio[1]) / total
    for record in records:
        if record.split is None:
            u = _unit(record, seed)
            out["train" if u < cut_train else "val" if u < cut_val else "test"].append(record)
    for i, split in ((1, "val"), (2, "test")):
        if not out[split] and ratio[i] > 0 and len(out["train"]) > 1:
            ranked = _rank(out["train"], seed + i)
            take = max(1, round(len(ranked) * ratio[i] / sum(ratio)))
            out[split], out["train"] = ranked[:take], ranked[take:]
            log.info(
                "No %s samples in the data: took %d of the train samples (ratio %.2f, seed %d).",
                split,
                take,
                ratio[i] / sum(ratio),
                seed + i,
            )
    return {s: sorted(rs, key=lambda r: r.id) for s, rs in out.items()}
