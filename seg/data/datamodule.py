"""One LightningDataModule for every dataset format.

The data config gives a dataset *factory* per split (a Hydra ``_partial_`` of any Dataset class that
takes ``transform=``) and, as top-level keys, the options given to every split's dataset; the module
adds the right transform to each split, renders or checks data once in ``prepare_data`` (rank 0 only
under DDP), and builds the loaders. Every split is a :class:`~seg.data.dataset.SegDataset` (another
torch Dataset is wrapped by :func:`~seg.data.dataset.as_seg_dataset`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import lightning as L
import numpy as np
import torch
from lightning.fabric.utilities.seed import pl_worker_init_function
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

from seg.data.badcases import badcase_flags
from seg.data.dataset import SegDataset, as_seg_dataset
from seg.data.sample import Transform
from seg.data.skip_report import write_skip_report
from seg.errors import ConfigError, DataError

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
DatasetFactory = Callable[..., Dataset]


def seed_worker(worker_id: int) -> None:
    """A loader worker's start: Lightning's per-worker seeding (with ``seed_everything(...,
    workers=True)``), then the dataset copy's augmentation seeded from the worker's torch seed,
    which differs per worker and rank and follows the run's seed."""
    if os.environ.get("PL_SEED_WORKERS") == "1":
        pl_worker_init_function(worker_id)
    info = torch.utils.data.get_worker_info()
    if info is not None and isinstance(info.dataset, SegDataset):
        info.dataset.seed_augmentation(torch.initial_seed())


class PortraitDataModule(L.LightningDataModule):
    """Train/val/test loaders for portrait segmentation.

    Args:
        train: Factory ``(transform=...) -> Dataset`` for the training split.
        val: Factory for the validation split (never augmented).
        test: Factory for the test split (never augmented).
        height: Training resolution height; every batch is checked against it.
        width: Training resolution width.
        batch_size: Training batch size per process.
        eval_batch_size: Validation/test batch size (default: ``batch_size``).
        num_workers: DataLoader worker processes.
        pin_memory: Pin host memory (useful on GPU).
        train_transform: Albumentations pipeline for training samples (see ``configs/augment``).
        eval_transform: Pipeline for validation and test samples (e.g. a resize for real data).
        badcases: A badcase manifest (CSV with an ``id`` column, as written by
            ``scripts/mine_badcases.py``) whose samples are drawn ``badcase_weight`` times as often
            in training.
        badcase_weight: Oversampling factor of the badcases (> 0).
        report_dir: Where :meth:`prepare_data` writes ``skipped_samples.csv`` (the run dir; None:
            nowhere, the skips are still logged and counted).
        **dataset_options: Every other key of the data config is given to every split's dataset
            (the synthetic configs' ``seed``, ``difficulty``, ``cache_dir``; the real-data configs'
            ``root``, ``resize``, ``on_bad_sample``, ...), so ``data.<key>=...`` is the one
            override that changes all splits.

    Raises:
        ConfigError: For a ``batch_size`` or ``badcase_weight`` that is not > 0, or a
            ``dataset_kwargs`` key (removed: its keys are top-level data keys now).
    """

    def __init__(
        self,
        train: DatasetFactory,
        val: DatasetFactory,
        test: DatasetFactory,
        height: int = 144,
        width: int = 256,
        batch_size: int = 16,
        eval_batch_size: int | None = None,
        num_workers: int = 2,
        pin_memory: bool = False,
        train_transform: Transform | None = None,
        eval_transform: Transform | None = None,
        badcases: str | None = None,
        badcase_weight: float = 2.0,
        report_dir: str | Path | None = None,
        **dataset_options: Any,
    ) -> None:
        super().__init__()
        if "dataset_kwargs" in dataset_options:
            moved = ", ".join(f"data.{k}" for k in dataset_options["dataset_kwargs"] or {})
            raise ConfigError(
                "data.dataset_kwargs was removed: its keys are top-level data keys now, given to "
                f"every split ({moved or 'data.seed, data.difficulty, data.cache_dir'}); e.g. "
                "data.seed=1 instead of data.dataset_kwargs.seed=1. Move them up one level in "
                "the data config."
            )
        if batch_size <= 0:
            raise ConfigError(f"data.batch_size must be > 0, got {batch_size}.")
        if badcase_weight <= 0:
            raise ConfigError(f"data.badcase_weight must be > 0, got {badcase_weight}.")
        self.badcases = badcases
        self.badcase_weight = float(badcase_weight)
        self.report_dir = Path(report_dir) if report_dir is not None else None
        self._prepared = False
        self.factories = {"train": train, "val": val, "test": test}
        self.height, self.width = int(height), int(width)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.transforms = {"train": train_transform, "val": eval_transform, "test": eval_transform}
        self.dataset_options = dict(dataset_options)
        # One OpenCV thread, set here in the parent before any DataLoader worker is forked: the
        # workers already use the cores, and an OpenCV thread pool created in the parent deadlocks
        # a forked worker that touches it (seen as a hang at the start of validation).
        cv2.setNumThreads(1)
        self.datasets: dict[str, SegDataset] = {}

    def build_split(self, split: str) -> SegDataset:
        """A new dataset of one split, not prepared: ``train``, ``val`` or ``test`` with their
        factories and transforms; any other name (e.g. ``all`` for every sample of a real dataset,
        or a synthetic stream of its own) with the test split's factory and transform and
        ``split=<name>``.

        Returns:
            The factory's dataset as a :class:`SegDataset` (see :func:`as_seg_dataset`).
        """
        if split in SPLITS:
            dataset = self.factories[split](
                transform=self.transforms[split], **self.dataset_options
            )
        else:
            dataset = self.factories["test"](
                split=split, transform=self.transforms["test"], **self.dataset_options
            )
        return as_seg_dataset(dataset, split)

    def prepare_data(self) -> None:
        """Render caches / run the check pass once per machine before any process reads the data;
        bad samples skipped by ``on_bad_sample=skip`` are listed in ``skipped_samples.csv``."""
        if self._prepared:
            return
        skipped = {}
        for split in SPLITS:
            dataset = self.build_split(split)
            dataset.prepare()
            skipped[split] = dataset.skipped_samples()
        write_skip_report(skipped, self.report_dir)
        self._prepared = True

    def setup(self, stage: str | None = None) -> None:
        """Build the three splits (once).

        Raises:
            ConfigError: When the train split is unlabelled, or smaller than ``batch_size``.
        """
        for split in SPLITS:
            if split not in self.datasets:
                self.datasets[split] = self.build_split(split)
                log.info("%s split: %d samples", split, len(self.datasets[split]))
        if not self.datasets["train"].labelled:
            raise ConfigError(
                "The data has no masks (data=images is an unlabelled pool): it cannot be trained "
                "on. Mine it (scripts/mine_badcases.py) or label it with the teacher "
                "(scripts/pseudo_label.py), then train on the labelled folder with data=folder."
            )
        if len(self.datasets["train"]) < self.batch_size:
            raise ConfigError(
                f"The train split has {len(self.datasets['train'])} samples, fewer than "
                f"data.batch_size={self.batch_size}; lower data.batch_size or add data."
            )

    def dataset(self, split: str) -> SegDataset:
        """The dataset of a split (after :meth:`setup`)."""
        if split not in self.datasets:
            self.setup()
        return self.datasets[split]

    def prepared_split(self, split: str) -> SegDataset:
        """Build and prepare one split alone (tools that need only val/test frames, e.g. export),
        without rendering or checking the others.

        Args:
            split: Any split name :meth:`build_split` takes.
        """
        if split not in self.datasets:
            dataset = self.build_split(split)
            dataset.prepare()
            self.datasets[split] = dataset
        return self.datasets[split]

    def train_weights(self) -> np.ndarray | None:
        """Per-sample draw weights of the train split: the sources' mixing weights times
        ``badcase_weight`` for badcases (None: uniform)."""
        dataset = self.dataset("train")
        weights = dataset.sample_weights()
        if self.badcases:
            weights = np.ones(len(dataset)) if weights is None else np.asarray(weights, float)
            flags = badcase_flags(self.badcases, dataset)
            before = weights[flags].sum() / weights.sum()
            weights = np.where(flags, weights * self.badcase_weight, weights)
            log.info(
                "Badcases: %d of %d train samples drawn %gx as often (%s): their share of draws "
                "%.1f%% -> %.1f%%.",
                int(flags.sum()),
                len(flags),
                self.badcase_weight,
                self.badcases,
                100 * before,
                100 * weights[flags].sum() / weights.sum(),
            )
        return weights

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        sampler = None
        if shuffle:
            weights = self.train_weights()
            if weights is not None:
                # Lightning wraps a custom sampler in a DistributedSamplerWrapper under DDP.
                sampler = WeightedRandomSampler(
                    torch.as_tensor(weights, dtype=torch.double), len(weights), replacement=True
                )
        dataset = self.dataset(split)
        rank = self.trainer.global_rank if self.trainer is not None else 0
        dataset.seed_augmentation(torch.initial_seed() + rank)  # num_workers=0: this process draws
        return DataLoader(
            dataset,
            batch_size=self.batch_size if split == "train" else self.eval_batch_size,
            shuffle=shuffle and sampler is None,
            sampler=sampler,
            drop_last=shuffle,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
            worker_init_fn=seed_worker,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def check_batch(self, batch: dict[str, Any]) -> None:
        """Raise a clear error when a batch does not have the configured shape.

        Raises:
            DataError: For images that are not ``B x 3 x height x width`` tensors, or a previous
                frame (``previous_image``/``previous_mask``) that does not match the frame.
        """
        image = batch["image"]
        expected = (self.height, self.width)
        if not isinstance(image, torch.Tensor) or tuple(image.shape[-2:]) != expected:
            raise DataError(
                f"Batch images are {tuple(image.shape)}, expected B x 3 x {expected[0]} x "
                f"{expected[1]} (data.height x data.width). Check the dataset and augment configs."
            )
        # Pairs of consecutive video frames (e.g. SyntheticPortraitDataset(pairs=True)): the
        # previous frame must line up with the frame, pixel for pixel.
        if "previous_mask" in batch and "previous_image" not in batch:
            raise DataError("Batch has 'previous_mask' but no 'previous_image'.")
        for key, like in (("previous_image", "image"), ("previous_mask", "mask")):
            if key not in batch:
                continue
            value, ref = batch[key], batch.get(like)
            if not isinstance(value, torch.Tensor):
                raise DataError(f"Batch '{key}' must be a tensor, got {type(value).__name__}.")
            if isinstance(ref, torch.Tensor) and value.shape != ref.shape:
                raise DataError(
                    f"Batch '{key}' is {tuple(value.shape)} but '{like}' is {tuple(ref.shape)}; "
                    "the previous frame must have the frame's shape (check the dataset's pairs)."
                )

    def on_before_batch_transfer(
        self, batch: dict[str, Any], dataloader_idx: int
    ) -> dict[str, Any]:
        self.check_batch(batch)
        return batch
