"""Real portrait datasets: one or more sources (folder, list, supervisely, matting, images), mixed.

Every source is scanned into records (``seg.data.formats``), the records are split (explicit splits
from the layout / list files / manifest, the rest by a seeded ratio, ``seg.data.splits``), checked
once before training (``seg.data.check``), and read, resized to the training resolution
(``seg.resize``) and augmented per sample. Bad samples stop the run with their file and reason
(``on_bad_sample: error``), or are skipped, counted and listed (``on_bad_sample: skip``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seg.data import formats
from seg.data.check import BadSample, check_key, check_records
from seg.data.dataset import SegDataset
from seg.data.image_io import MaskSpec, load_pair, read_image
from seg.data.records import DatasetError, Record
from seg.data.sample import Transform, make_sample
from seg.data.splits import _rank, assign_splits
from seg.errors import ConfigError
from seg.resize import RESIZE_MODES, fit_frame

log = logging.getLogger(__name__)

BAD_SAMPLE_POLICIES = ("error", "skip")
_SOURCE_KEYS = ("format", "root", "name", "weight")
_MASK_KEYS = ("foreground_labels", "soft", "threshold", "classes")
MAX_LISTED = 20  # bad samples named in an error message (all of them go to the skip list)


def _spec(options: Mapping[str, Any], defaults: Mapping[str, Any]) -> MaskSpec:
    merged = {**defaults, **{k: options[k] for k in _MASK_KEYS if k in options}}
    labels = merged.get("foreground_labels")
    return MaskSpec(
        foreground_labels=tuple(int(v) for v in labels) if labels is not None else None,
        soft=bool(merged.get("soft", False)),
        threshold=float(merged.get("threshold", 0.5)),
        classes=tuple(merged.get("classes") or MaskSpec.classes),
    )


def _sources(
    fmt: str | None,
    root: str | Path | None,
    name: str | None,
    sources: Sequence[Mapping[str, Any]] | None,
    options: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The source list: ``sources`` as given, or the single ``format``/``root`` source."""
    if sources:
        if root is not None:
            raise DatasetError(
                "Set either data.root (one dataset) or data.sources (several), not both."
            )
        extra = {k: v for k, v in options.items() if v is not None}
        if extra:
            raise DatasetError(
                f"Options {sorted(extra)} belong inside each entry of data.sources when mixing."
            )
        return [dict(s) for s in sources]
    if root in (None, "", "???"):
        raise DatasetError(
            f"No dataset given: set data.root=<folder> (format {fmt or '?'}), or data.sources."
        )
    single: dict[str, Any] = {"format": fmt, "root": root, **options}
    if name:
        single["name"] = name
    return [single]


class PortraitDataset(SegDataset):
    """One split of a real dataset made of one or more sources (a :class:`SegDataset`).

    Args:
        split: ``train``, ``val``, ``test``, or ``all`` (every sample, e.g. a pool to mine).
        height: Output height; every frame is resized to it (see ``resize``).
        width: Output width.
        transform: Albumentations pipeline applied after resizing.
        format: Format of a single-source dataset (with ``root``); None when ``sources`` is given.
        root: Root folder of a single-source dataset.
        name: Name of a single-source dataset (default: the root folder's name).
        sources: Several sources, mixed: one mapping per source: ``format`` (folder | list | supervisely | matting |
            images), ``root``, optional ``name`` (default: the root folder's name; ids are
            ``<name>/...``), ``weight`` (share of training draws, default 1), mask settings
            (``foreground_labels``, ``soft``, ``threshold``, ``classes``) overriding the dataset's,
            and the format's own options (e.g. ``list_files``, ``image_dir``, ``matte_dir``).
        resize: ``fit`` (letterbox, default), ``cover`` (fill and centre-crop) or ``stretch``.
        on_bad_sample: ``error`` stops with the file and reason; ``skip`` leaves bad samples out,
            logs each one and lists them in :meth:`skipped_samples`.
        split_ratio: Train/val/test proportions for samples without an explicit split.
        split_seed: Seed of the ratio split.
        foreground_labels: Class indices that are foreground in class-index masks.
        soft: Soft targets from mattes (else thresholded).
        threshold: Matte threshold for hard masks.
        classes: Foreground classes of Supervisely annotations.
        length: Use at most this many samples of the split (a seeded subset; None: all).
        labelled: False for unlabelled pools (samples have no ``mask``; masks are not read).
        cache_dir: Where check results are cached (None: not cached).
        check_workers: Threads of the check pass.
        **format_options: The single source's format options (``image_dir``, ``mask_dir``,
            ``matte_dir``, ``list_file``, ``list_files``, ``splits``, ``manifest``, ...).

    Attributes:
        records: The usable :class:`~seg.data.records.Record` of every sample, in index order
            (after the check pass).
        specs: The mask settings of each source, by source name.
        skipped: The bad samples left out (``on_bad_sample=skip``), once prepared; the same list
            as :meth:`skipped_samples`.

    Raises:
        ConfigError: For an unknown ``on_bad_sample`` or ``resize``.
        DatasetError: For a missing root, an unreadable layout, duplicate source names, an empty
            split, or (``on_bad_sample=error``) bad samples.
    """

    def __init__(
        self,
        split: str,
        height: int,
        width: int,
        transform: Transform | None = None,
        format: str | None = None,
        root: str | Path | None = None,
        name: str | None = None,
        sources: Sequence[Mapping[str, Any]] | None = None,
        resize: str = "fit",
        on_bad_sample: str = "error",
        split_ratio: Sequence[float] = (0.8, 0.1, 0.1),
        split_seed: int = 0,
        foreground_labels: Sequence[int] | None = None,
        soft: bool = False,
        threshold: float = 0.5,
        classes: Sequence[str] | None = None,
        length: int | None = None,
        labelled: bool = True,
        cache_dir: str | Path | None = None,
        check_workers: int | None = None,
        **format_options: Any,
    ) -> None:
        if on_bad_sample not in BAD_SAMPLE_POLICIES:
            raise ConfigError(
                f"data.on_bad_sample must be one of {BAD_SAMPLE_POLICIES}, got {on_bad_sample!r}."
            )
        if resize not in RESIZE_MODES:
            raise ConfigError(f"data.resize must be one of {RESIZE_MODES}, got {resize!r}.")
        sources = _sources(format, root, name, sources, format_options)
        self.split = split
        self.height, self.width = int(height), int(width)
        self.transform = transform
        self.resize = resize
        self.on_bad_sample = on_bad_sample
        self.labelled = bool(labelled)
        self.cache_dir = cache_dir
        self.check_workers = check_workers
        defaults = {
            "foreground_labels": foreground_labels,
            "soft": soft,
            "threshold": threshold,
            "classes": classes,
        }
        self.specs: dict[str, MaskSpec] = {}
        self.weights: dict[str, float] = {}
        records: list[Record] = []
        for source in sources:
            records += self._scan(dict(source), defaults)
        self._scanned = sorted(records, key=lambda r: r.id)
        by_split = assign_splits(records, tuple(split_ratio), int(split_seed))
        if split == "all":
            chosen = self._scanned
        elif split in by_split:
            chosen = by_split[split]
        else:
            raise ConfigError(f"Unknown split {split!r}: use train, val, test or all.")
        if length is not None and len(chosen) > length:
            chosen = sorted(_rank(chosen, int(split_seed))[: int(length)], key=lambda r: r.id)
        if not chosen:
            roots = ", ".join(f"{s.get('format')}:{s.get('root')}" for s in sources)
            raise DatasetError(
                f"The {split} split is empty ({len(records)} samples in all, sources {roots}). "
                "Check data.root, data.split_ratio and the split columns/folders."
            )
        if not self.labelled:
            chosen = [dataclasses.replace(r, mask=None, mask_format="mask") for r in chosen]
        self._candidates = chosen
        self._records: list[Record] | None = None
        self.skipped: list[BadSample] = []

    def _scan(self, source: dict[str, Any], defaults: Mapping[str, Any]) -> list[Record]:
        if not source.get("format") or not source.get("root"):
            raise DatasetError(
                f"Every data source needs 'format' and 'root'; got {source}. For a single dataset "
                "set data.root=<folder>."
            )
        root = Path(str(source["root"])).expanduser()
        name = str(source.get("name") or root.resolve().name)
        if name in self.specs:
            raise DatasetError(
                f"Two data sources are named {name!r}; give each source a distinct 'name'."
            )
        weight = float(source.get("weight", 1.0))
        if weight <= 0:
            raise DatasetError(f"Source {name!r}: weight must be > 0, got {weight}.")
        self.specs[name] = _spec(source, defaults)
        self.weights[name] = weight
        options = {k: v for k, v in source.items() if k not in (*_SOURCE_KEYS, *_MASK_KEYS)}
        try:
            found = formats.scan(str(source["format"]), root, name, **options)
        except TypeError as e:  # an option the format does not have
            raise DatasetError(f"Source {name!r} ({source['format']}): {e}.") from None
        if not found:
            raise DatasetError(
                f"Source {name!r}: no images found under {root} (format {source['format']}); "
                "check data.root and the layout in data/README.md."
            )
        return found

    def fingerprint(self) -> str:
        """Hash of every file of the dataset, whatever the split or ``length`` (paths, sizes,
        modification times) and the mask settings: it changes whenever the data on disk does
        (the teacher cache key uses it)."""
        return check_key(self._scanned, lambda r: self.specs[r.source])

    def candidates(self) -> list[Record]:
        """The records of this split before the check pass (what :meth:`prepare` checks)."""
        return list(self._candidates)

    # The check pass -------------------------------------------------------------------------

    def prepare(self) -> None:
        """Check every sample once (cached); raise or skip bad ones per ``on_bad_sample``."""
        self._check()

    def _check(self) -> list[Record]:
        if self._records is not None:
            return self._records
        candidates = self._candidates
        unlabelled = [
            BadSample(r.id, str(r.image), "no mask (the list line has only an image path)")
            for r in candidates
            if self.labelled and not r.labelled
        ]
        to_check = [r for r in candidates if not (self.labelled and not r.labelled)]
        bad = unlabelled + check_records(
            to_check,
            lambda r: self.specs[r.source],
            self.check_workers,
            self.cache_dir,
            label=f"{self.split} split",
        )
        if bad and self.on_bad_sample == "error":
            listed = "\n".join(f"  {b.path}: {b.reason}" for b in bad[:MAX_LISTED])
            more = f"\n  ... and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
            raise DatasetError(
                f"{len(bad)} bad sample(s) in the {self.split} split:\n{listed}{more}\n"
                "Fix or remove them, or run with data.on_bad_sample=skip to leave them out "
                "(each is then logged and listed in <run dir>/skipped_samples.csv)."
            )
        bad_ids = {b.id for b in bad}
        for b in bad:
            log.warning("Skipping %s (%s split): %s", b.path, self.split, b.reason)
        self.skipped = bad
        self._records = [r for r in candidates if r.id not in bad_ids]
        if bad:
            log.warning(
                "Skipped %d of %d samples of the %s split (data.on_bad_sample=skip).",
                len(bad),
                len(candidates),
                self.split,
            )
        if not self._records:
            raise DatasetError(f"Every sample of the {self.split} split is bad; nothing to use.")
        return self._records

    # Dataset API --------------------------------------------------------------------------------

    @property
    def records(self) -> list[Record]:
        """The usable records of this split (after the check pass)."""
        return self._check()

    def sample_ids(self) -> list[str]:
        """Stable ids in index order (``<source>/<path without suffix>``)."""
        return [r.id for r in self.records]

    def attributes(self) -> list[dict[str, str]]:
        """Attribute columns per sample (from manifests), plus ``source`` when mixing sources."""
        mixed = len(self.specs) > 1
        return [{**r.attributes, **({"source": r.source} if mixed else {})} for r in self.records]

    def image_paths(self) -> list[str]:
        """The image file of every sample, in index order."""
        return [str(r.image) for r in self.records]

    def skipped_samples(self) -> list[BadSample]:
        """The bad samples :meth:`prepare` left out (``on_bad_sample=skip``; empty before it)."""
        return list(self.skipped)

    def sample_weights(self) -> np.ndarray | None:
        """Per-sample draw weights giving each source its ``weight`` share of the draws
        (None: one source, uniform)."""
        if len(self.specs) == 1:
            return None
        records = self.records
        counts: dict[str, int] = {}
        for r in records:
            counts[r.source] = counts.get(r.source, 0) + 1
        return np.array([self.weights[r.source] / counts[r.source] for r in records])

    def raw(self, index: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The resized, unaugmented ``(image, mask)`` of a sample."""
        record = self.records[index]
        if self.labelled:
            image, mask = load_pair(record, self.specs[record.source])
        else:
            image, mask = read_image(record.image), None
        return fit_frame(image, mask, self.height, self.width, self.resize)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"Sample {index} out of range (0..{len(self) - 1}).")
        image, mask = self.raw(index)
        return make_sample(image, mask, index, self.transform)
