"""The labelled (or unlabelled) frames a model is evaluated on, at the model's input size."""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig

from seg.build import build_datamodule
from seg.config import data_config, select
from seg.data import SegDataset
from seg.inference import Predictor


def eval_config(predictor: Predictor, overrides: Sequence[str] = ()) -> DictConfig:
    """The config whose ``data`` section builds the evaluation data for ``predictor``: its run's
    data (or the overrides' ``data=<option>``, or the default data) at its input size, never
    augmented (:func:`seg.config.data_config`)."""
    return data_config(predictor.run_dir, predictor.height, predictor.width, overrides)


def data_description(cfg: DictConfig) -> dict[str, str | None]:
    """Short description of a config's data: its test dataset class, root and size, for reports."""

    def text(key: str) -> str | None:
        value = select(cfg, key)
        return None if value is None else str(value)

    return {
        "dataset": text("data.test._target_"),
        "root": text("data.root") or text("data.test.root"),
        "size": f"{cfg.data.height}x{cfg.data.width}",
    }


def eval_dataset(
    predictor: Predictor, overrides: Sequence[str] = (), split: str = "test"
) -> SegDataset:
    """The dataset to evaluate ``predictor`` on, at its input size and without augmentation (the
    train split too: mining it scores the frames training sees, not random augmented copies).

    Args:
        predictor: The model (its input size and run dir pick the data).
        overrides: Hydra-style ``key=value`` overrides, e.g. ``data=folder data.root=/data/x`` or
            ``data.test.length=64``; see :func:`eval_config`.
        split: ``train``, ``val``, ``test`` or any other name the dataset understands (``all``:
            every sample of a real dataset).

    Returns:
        ``datamodule.prepared_split(split)`` of :func:`seg.build.build_datamodule`.
    """
    return build_datamodule(eval_config(predictor, overrides)).prepared_split(split)
