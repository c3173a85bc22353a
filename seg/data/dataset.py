"""The dataset contract: what seg asks of a dataset besides ``len`` and indexing.

Training, evaluation, mining, the teacher cache and the tools call these methods on the dataset of a
split. :class:`SegDataset` declares them with defaults that are right for a dataset knowing nothing
more than its samples, so a dataset implements only what it has:

=====================  ================================================  =========================
member                 what it is                                        default
=====================  ================================================  =========================
``split``              the split name (``train``, ``all``, ...)          ``""``
``labelled``           samples have a ``mask`` (False: unlabelled pool)  ``True``
``prepare()``          render caches / run the check pass, once          no-op
``sample_ids()``       a stable id per sample, in index order            ``"0"``, ``"1"``, ...
``attributes()``       categorical attributes per sample (reports)       ``{}`` per sample
``sample_weights()``   per-sample draw weights of training               None (uniform)
``fingerprint()``      hash of the files on disk (teacher cache key)     None (generated data)
``image_paths()``      the image file of each sample                     ``""`` per sample
``skipped_samples()``  bad samples left out by ``on_bad_sample=skip``    ``[]``
=====================  ================================================  =========================

The built-in datasets (:class:`~seg.data.synthetic_dataset.SyntheticPortraitDataset`,
:class:`~seg.data.portrait_dataset.PortraitDataset`) subclass :class:`SegDataset`. Any other torch
``Dataset`` (a user's own class given as a data factory) is wrapped by :func:`as_seg_dataset` in an
adapter with the defaults; subclass :class:`SegDataset` to give it ids, attributes or weights.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import TYPE_CHECKING, Any

import numpy as np
from torch.utils.data import Dataset

from seg.errors import DataError

if TYPE_CHECKING:
    from seg.data.check import BadSample


class SegDataset(Dataset):
    """Base class of seg datasets: a torch ``Dataset`` of sample dicts plus the contract methods.

    Samples are dicts as made by :func:`seg.data.sample.make_sample` (``image``, ``mask`` unless
    unlabelled, ``index``). Subclasses implement ``__len__`` and ``__getitem__`` and override the
    methods below they can answer better than the defaults.

    Attributes:
        split: The split this dataset holds (``train``, ``val``, ``test``, ``all`` or any other
            name); ``""`` when unknown.
        labelled: False for an unlabelled pool (samples have no ``mask``; it cannot be trained on
            or scored, only mined or pseudo-labelled).
    """

    split: str = ""
    labelled: bool = True

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__.")

    def __getitem__(self, index: int) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__.")

    def prepare(self) -> None:
        """Make the data ready to read, once, before any loader reads it (e.g. render a cache, run
        the check pass). Called on rank 0 only under DDP. Default: nothing to do."""

    def sample_ids(self) -> list[str]:
        """A stable, unique id per sample, in index order (badcase manifests and per-image reports
        use them). Default: the index as a string."""
        return [str(i) for i in range(len(self))]

    def attributes(self) -> list[dict[str, str]]:
        """Categorical attributes per sample, in index order (e.g. ``{"lighting": "dim"}``), for
        per-group metrics. Default: an empty dict per sample."""
        return [{} for _ in range(len(self))]

    def sample_weights(self) -> np.ndarray | None:
        """Per-sample draw weights of training (any positive scale). Default: None (uniform)."""
        return None

    def fingerprint(self) -> str | None:
        """A hash of the files the data is read from, which changes whenever they do (the teacher
        cache key uses it). Default: None, for generated data that has no files."""
        return None

    def image_paths(self) -> list[str]:
        """The image file of each sample, in index order. Default: ``""`` per sample (unknown)."""
        return [""] * len(self)

    def skipped_samples(self) -> list[BadSample]:
        """The bad samples :meth:`prepare` left out under ``on_bad_sample=skip`` (each with its id,
        file and reason), for ``skipped_samples.csv``. Default: none."""
        return []

    def seed_augmentation(self, seed: int) -> None:
        """Make this dataset's random augmentation a function of ``seed``.

        albumentations keeps its own random state, which global seeds (``seed_everything``) do
        not reach; the data module calls this after seeding and in every loader worker, so a run
        with the same ``seed`` sees the same augmented batches. Default: reseed ``self.transform``
        when it has albumentations' ``set_random_seed``.
        """
        transform = getattr(self, "transform", None)
        if transform is not None and hasattr(transform, "set_random_seed"):
            transform.set_random_seed(int(seed) % 2**32)


class DatasetAdapter(SegDataset):
    """A plain torch ``Dataset`` seen through the contract: ``len`` and indexing forwarded, every
    contract method at its default.

    Args:
        dataset: The wrapped dataset (kept as :attr:`dataset`).
        split: The split it holds (``""`` when unknown).
    """

    def __init__(self, dataset: Dataset, split: str = "") -> None:
        self.dataset = dataset
        self.split = split

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.dataset[index]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.dataset).__name__}, split={self.split!r})"


def as_seg_dataset(dataset: Dataset, split: str = "") -> SegDataset:
    """``dataset`` as a :class:`SegDataset`: itself when it is one, else wrapped in a
    :class:`DatasetAdapter` (the contract's defaults: index ids, no attributes, uniform weights).

    Args:
        dataset: Any map-style torch ``Dataset`` (with ``__len__``).
        split: The split name given to a wrapped dataset (ignored for a :class:`SegDataset`).

    Raises:
        DataError: When ``dataset`` has no length (e.g. an ``IterableDataset``).
    """
    if isinstance(dataset, SegDataset):
        return dataset
    if not isinstance(dataset, Sized):
        raise DataError(
            f"A data factory made a {type(dataset).__name__}, which has no length: data.train, "
            "data.val and data.test must build map-style datasets (__len__ and __getitem__), "
            "see docs/data_pipeline.md."
        )
    return DatasetAdapter(dataset, split)
