"""Builders: the objects of one run from a composed config (data, module, callbacks, loggers, trainer).

A leaf of the package: it instantiates what the config names (``_target_`` everywhere) and imports
nothing of seg above the building blocks, so the training pipeline (:mod:`seg.pipeline`), the
teacher cache, evaluation, export and the scripts all build runs the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn

from seg.errors import ConfigError


def instantiate_dict(cfg: DictConfig | None, what: str) -> list[Any]:
    """Instantiate every ``_target_`` entry of a dict config (callbacks, loggers); skip nulls.

    Raises:
        ConfigError: For an entry that is not a config with a ``_target_``.
    """
    objects = []
    for name, entry in (cfg or {}).items():
        if entry is None:
            continue
        if not isinstance(entry, DictConfig) or "_target_" not in entry:
            raise ConfigError(f"{what}.{name} must be a config with a _target_, got: {entry}")
        objects.append(instantiate(entry))
    return objects


def build_datamodule(
    cfg: DictConfig, report_dir: str | Path | None = None
) -> L.LightningDataModule:
    """The data module of ``cfg.data`` with the ``cfg.augment`` pipelines plugged in.

    Args:
        cfg: A composed run config (or any config with ``data`` and ``augment``).
        report_dir: Where the data module writes ``skipped_samples.csv`` (the run dir; None:
            nowhere, the skips are still logged and counted).
    """
    augment = cfg.get("augment") or {}
    train_tf = instantiate(augment["train"]) if augment.get("train") else None
    eval_tf = instantiate(augment["eval"]) if augment.get("eval") else None
    return instantiate(
        cfg.data, train_transform=train_tf, eval_transform=eval_tf, report_dir=report_dir
    )


def build_network(model_cfg: DictConfig) -> nn.Module:
    """A network (student or teacher) from its model config."""
    return instantiate(model_cfg, _convert_="all")


def build_module(cfg: DictConfig, teacher: nn.Module | None = None) -> L.LightningModule:
    """The LightningModule of ``cfg.module`` with its network, losses, optimizer and teacher.

    Args:
        cfg: The composed run config.
        teacher: The distillation teacher: the frozen one of offline mode (from
            :func:`seg.distill.resolve_teacher`), or the starting weights of online mode; in
            online mode None builds a fresh one from ``teacher.model``.
    """
    mode = cfg.teacher.get("mode", "none")
    extra: dict[str, Any] = {}
    if mode == "online":
        if teacher is None:
            teacher = build_network(cfg.teacher.model)
        extra.update(
            teacher_criterion=instantiate(cfg.teacher.loss), teacher_lr=cfg.teacher.get("lr")
        )
    if mode != "none":
        extra.update(
            teacher=teacher,
            distill_mode=mode,
            teacher_autocast=cfg.teacher.get("autocast", True),
        )
    return instantiate(
        cfg.module,
        net=instantiate(cfg.model),
        criterion=instantiate(cfg.loss),
        optimizer=instantiate(cfg.optim.optimizer),
        scheduler=instantiate(cfg.optim.scheduler) if cfg.optim.get("scheduler") else None,
        model_config=OmegaConf.to_container(cfg.model, resolve=True),
        _recursive_=False,  # model_config stays a plain dict (it has a _target_ of its own)
        _convert_="all",
        **extra,
    )


def build_trainer(cfg: DictConfig) -> L.Trainer:
    """The Lightning ``Trainer`` of ``cfg.trainer`` with ``cfg.callbacks`` and ``cfg.logger``."""
    callbacks = instantiate_dict(cfg.get("callbacks"), "callbacks")
    loggers = instantiate_dict(cfg.get("logger"), "logger")
    return instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
