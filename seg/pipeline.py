"""Compose -> instantiate -> fit -> validate/test the best checkpoint -> write run outputs."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf
from torch import nn

from seg.callbacks.onnx_export import OnnxExport
from seg.export.onnx import config_hash
from seg.models.weights import save_model

log = logging.getLogger(__name__)


def route_lightning_logs_through_hydra() -> None:
    """Lightning adds its own console handler; Hydra already has one. Keep one line per message."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def instantiate_dict(cfg: DictConfig | None, what: str) -> list[Any]:
    """Instantiate every ``_target_`` entry of a dict config (callbacks, loggers); skip nulls."""
    objects = []
    for name, entry in (cfg or {}).items():
        if entry is None:
            continue
        if not isinstance(entry, DictConfig) or "_target_" not in entry:
            raise ValueError(f"{what}.{name} must be a config with a _target_, got: {entry}")
        objects.append(instantiate(entry))
    return objects


def build_datamodule(cfg: DictConfig) -> L.LightningDataModule:
    """The data module of ``cfg.data`` with the ``cfg.augment`` pipelines plugged in."""
    augment = cfg.get("augment") or {}
    train_tf = instantiate(augment["train"]) if augment.get("train") else None
    eval_tf = instantiate(augment["eval"]) if augment.get("eval") else None
    return instantiate(cfg.data, train_transform=train_tf, eval_transform=eval_tf)


def build_module(cfg: DictConfig, teacher: nn.Module | None = None) -> L.LightningModule:
    """The LightningModule of ``cfg.module`` with its network, losses, optimizer and teacher.

    Args:
        cfg: The composed run config.
        teacher: The distillation teacher (see :func:`seg.distill.resolve_teacher` for offline
            mode); in online mode None builds a fresh one from ``teacher.model``.
    """
    mode = cfg.teacher.get("mode", "none")
    extra: dict[str, Any] = {}
    if mode == "online":
        if teacher is None:
            teacher = instantiate(cfg.teacher.model)
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


def get_teacher(cfg: DictConfig) -> tuple[nn.Module | None, dict[str, Any]]:
    """The run's teacher: None without distillation; for online mode, only a given checkpoint."""
    mode = cfg.teacher.get("mode", "none")
    if mode not in ("none", "offline", "online"):
        raise ValueError(f"teacher.mode must be none, offline or online; got '{mode}'.")
    if mode == "none" or (mode == "online" and not cfg.teacher.get("checkpoint")):
        return None, {}
    from seg.distill import resolve_teacher

    teacher, info = resolve_teacher(cfg)
    if mode == "online":
        teacher.train().requires_grad_(True)  # it learns in this run
    return teacher, info


def _floats(results: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for result in results:
        for key, value in result.items():
            value = float(value)
            out[key] = value if math.isfinite(value) else float("nan")
    return out


def run(cfg: DictConfig) -> tuple[dict[str, float], L.LightningModule]:
    """Run one training job described by a composed config.

    Returns:
        The final metrics (validation and test of the best checkpoint, also written to
        ``<run dir>/metrics.json``) and the module holding the best weights.
    """
    route_lightning_logs_through_hydra()
    output_dir = Path(cfg.paths.output_dir)
    datamodule = build_datamodule(cfg)
    datamodule.report_dir = output_dir
    if int(os.environ.get("LOCAL_RANK", 0)) == 0:
        # The check pass (and synthetic rendering) first: a bad file stops the run now, not after
        # a teacher was trained. Lightning's own prepare_data call then finds the work done.
        datamodule.prepare_data()
    teacher, teacher_info = get_teacher(cfg)  # may train and cache a teacher: before seeding
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)

    module = build_module(cfg, teacher)
    callbacks = instantiate_dict(cfg.get("callbacks"), "callbacks")
    hparams = OmegaConf.to_container(cfg, resolve=True)
    run_hash = config_hash(hparams)
    exporters = [c for c in callbacks if isinstance(c, OnnxExport)]
    for exporter in exporters:
        exporter.config_hash = run_hash
    loggers = instantiate_dict(cfg.get("logger"), "logger")
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)

    for logger in trainer.loggers:
        logger.log_hyperparams(hparams)

    start = time.perf_counter()
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    fit_time = time.perf_counter() - start

    checkpoint = next((c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)), None)
    best = checkpoint.best_model_path if checkpoint and checkpoint.best_model_path else None
    if best is None:
        log.warning("No best checkpoint was saved; evaluating the weights at the end of training.")
    metrics = _floats(
        trainer.validate(module, datamodule=datamodule, ckpt_path=best, verbose=False)
    )
    if cfg.get("test", True):
        metrics.update(
            _floats(trainer.test(module, datamodule=datamodule, ckpt_path=best, verbose=False))
        )
    for exporter in exporters:
        metrics.update(exporter.metrics())
    metrics["time/fit_s"] = round(fit_time, 2)
    metrics["trainer/epochs"] = float(trainer.current_epoch)
    metrics["trainer/steps"] = float(trainer.global_step)
    for key in ("test/iou", "test/boundary_f", "val/iou"):
        value = (teacher_info.get("metrics") or {}).get(key)
        if value is not None:  # the offline teacher's own scores, for comparison
            metrics[f"teacher/{key}"] = float(value)

    if trainer.is_global_zero:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "metrics.json").write_text(
            json.dumps(metrics, indent=2, sort_keys=True) + "\n"
        )
        weights = None
        if cfg.get("export_weights"):
            weights = save_model(
                output_dir / cfg.export_weights,
                module.net,
                module.hparams["model_config"],  # the resolved cfg.model given to build_module
                metadata={
                    "metrics": metrics,
                    "input_size": [int(cfg.data.height), int(cfg.data.width)],
                    "task_name": str(cfg.task_name),
                    "teacher": teacher_info.get("path"),
                    "config_hash": run_hash,
                },
            )
        log.info("Best checkpoint: %s", best)
        summary = _summary(metrics)
        log.info("Final metrics: %s", summary)
        log.info("Run dir: %s", output_dir.resolve())
        # print_summary is off for the teacher-cache run inside a distillation run
        if cfg.get("print_summary", True):
            print(f"\nRun dir: {output_dir.resolve()}\n{summary}  (fit {fit_time:.0f} s)")
            if weights is not None:
                print(f"Weights: {weights}  (load with seg.models.load_model)")
            for exporter in exporters:
                if exporter.report:
                    print(f"ONNX: {exporter.report['onnx']}  ({_export_line(exporter.report)})")
    return metrics, module


def _summary(metrics: dict[str, float]) -> str:
    parts = []
    for key in ("test/iou", "test/boundary_f", "val/iou"):
        if key not in metrics:
            continue
        stage, name = key.split("/")
        teacher = metrics.get(f"teacher/{key}", metrics.get(f"{stage}/teacher_{name}"))
        extra = f" (teacher {teacher:.4f})" if teacher is not None else ""
        parts.append(f"{key}={metrics[key]:.4f}{extra}")
    return ", ".join(parts)


def _export_line(report: dict[str, Any]) -> str:
    parts = [f"verified, max diff {report['verification']['max_abs_diff']:.1e}"]
    if "test_iou_onnx" in report:
        parts.append(f"test IoU {report['test_iou_onnx']:.4f}")
    if "test_iou_int8" in report:
        parts.append(f"INT8 {report['test_iou_int8']:.4f}")
    return ", ".join(parts)


def train(cfg: DictConfig) -> dict[str, float]:
    """Run one training job (see :func:`run`) and return its final metrics."""
    return run(cfg)[0]
