"""The labelled (or unlabelled) frames a model is evaluated on, at the model's input size."""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig, open_dict

from seg.build import build_datamodule
from seg.config import compose_train, load_run_config, select
from seg.data import SegDataset
from seg.inference import Predictor


def is_data_choice(override: str) -> bool:
    """``data=<option>`` (also ``+data=`` / ``++data=``) picks another data config."""
    return override.lstrip("+").split("=", 1)[0] == "data"


def eval_config(predictor: Predictor, overrides: Sequence[str] = ()) -> DictConfig:
    """The config whose ``data`` section builds the evaluation data.

    With a ``data=<option>`` override: ``configs/train.yaml`` composed with the overrides. Else,
    with a known run dir: the run's saved config merged with the ``key=value`` overrides. Else the
    default (synthetic) data composed with the overrides. Either way ``data.height``/``data.width``
    are the predictor's input size, ``data.num_workers`` is 0, and no split is augmented (the
    train split gets the eval transform: mining it scores the frames training sees, not random
    augmented copies).
    """
    overrides = list(overrides)
    size = [
        f"data.height={predictor.height}",
        f"data.width={predictor.width}",
        "data.num_workers=0",
    ]
    if predictor.run_dir is not None and not any(is_data_choice(o) for o in overrides):
        cfg = load_run_config(predictor.run_dir, overrides)
        with open_dict(cfg):
            cfg.data.height = predictor.height
            cfg.data.width = predictor.width
            cfg.data.num_workers = 0
    else:
        cfg = compose_train([*overrides, *size])
    with open_dict(cfg):  # scored frames are never augmented, the train split's neither
        augment = cfg.get("augment") or {}
        cfg.augment = {"train": augment.get("eval"), "eval": augment.get("eval")}
    return cfg


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
