"""Reading a badcase manifest back for training: which train samples to oversample."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from seg.data.dataset import DatasetAdapter, as_seg_dataset
from seg.data.records import DatasetError

log = logging.getLogger(__name__)


def read_badcase_ids(path: str | Path) -> list[str]:
    """The ``id`` column of a badcase CSV (``scripts/mine_badcases.py`` writes ``badcases.csv``).

    Raises:
        DatasetError: When the file is missing or has no ``id`` column.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(
            f"data.badcases={path}: no such file; pass the badcases.csv written by "
            "scripts/mine_badcases.py."
        )
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if "id" not in (reader.fieldnames or []):
            raise DatasetError(
                f"data.badcases={path}: needs an 'id' column (found {reader.fieldnames})."
            )
        return [row["id"].strip() for row in reader if (row.get("id") or "").strip()]


def badcase_flags(path: str | Path, dataset: Dataset) -> np.ndarray:
    """A boolean per train sample: is it in the badcase manifest?

    Manifest rows that match no train sample (e.g. mined from the val split, or from a pool not in
    this run's data) are counted and logged.

    Args:
        path: The badcase manifest.
        dataset: The train split (a :class:`~seg.data.dataset.SegDataset`; any other dataset is
            seen through :func:`~seg.data.dataset.as_seg_dataset`).

    Raises:
        DatasetError: When the dataset has no sample ids of its own (a plain torch Dataset), or no
            row matches any train sample.
    """
    dataset = as_seg_dataset(dataset)
    if isinstance(dataset, DatasetAdapter):
        raise DatasetError(
            f"data.badcases: the train dataset ({type(dataset.dataset).__name__}) has no sample "
            "ids to match the manifest against; subclass seg.data.SegDataset and implement "
            "sample_ids()."
        )
    wanted = set(read_badcase_ids(path))
    ids = dataset.sample_ids()
    flags = np.array([i in wanted for i in ids], dtype=bool)
    matched = int(flags.sum())
    if matched == 0:
        raise DatasetError(
            f"data.badcases={path}: none of its {len(wanted)} ids match a train sample (ids there "
            f"look like {sorted(wanted)[:2]}, train ids like {ids[:2]}). Mine the pool you train "
            "on, with the same data config (ids are <source name>/<path without suffix>)."
        )
    if matched < len(wanted):
        log.warning(
            "data.badcases=%s: %d of %d ids are not train samples of this run and are ignored "
            "(e.g. val/test samples or another dataset).",
            path,
            len(wanted) - matched,
            len(wanted),
        )
    return flags
