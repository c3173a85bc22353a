"""One training run as explicit steps.

::

    validate config -> check data -> resolve teacher (load, reuse the cache, or train one: a nested
    run of this same pipeline) -> seed -> build module + trainer -> fit -> validate and test the best
    checkpoint -> export the best weights (ONNX + INT8, verified, scored) -> write the run outputs
    (metrics.json, student.pt) and print the summary

``train.py`` calls :func:`run` with the composed config. Every step is a function of this module
or of the layer below it (:mod:`seg.build`, :mod:`seg.distill`, :mod:`seg.export`), and nothing
below calls back up: the teacher cache is handed :func:`run` to train a missing teacher.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf
from torch import nn

from seg.build import build_datamodule, build_module, build_network, build_trainer
from seg.config import validate_run_config
from seg.distill import TeacherInfo, resolve_teacher
from seg.errors import ConfigError
from seg.export import config_hash, export_run, ship_postprocess
from seg.models.pretrained import pretrained_record
from seg.models.weights import save_model

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What one run produced.

    Attributes:
        metrics: Validation and test metrics of the best checkpoint plus ``export/*``, ``time/*``,
            ``trainer/*``, ``model/*`` and ``teacher/*`` entries (also in ``metrics.json``).
        module: The LightningModule holding the best weights.
        output_dir: The run dir.
        best_checkpoint: ``checkpoints/best.ckpt`` (None when none was saved).
        weights: ``student.pt`` / ``teacher.pt`` (None when ``export_weights`` is null).
        export: The export report (``export.json``), None when ``export.enabled`` is false.
    """

    metrics: dict[str, float]
    module: L.LightningModule
    output_dir: Path
    best_checkpoint: str | None = None
    weights: Path | None = None
    export: dict[str, Any] | None = field(default=None)


def route_lightning_logs_through_hydra() -> None:
    """Lightning adds its own console handler; Hydra already has one. Keep one line per message."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def check_input_size(cfg: DictConfig) -> None:
    """Run the student (and a teacher of online/offline mode) once on a ``data.height x
    data.width`` input, so a size the models cannot take stops the run before any training.

    Raises:
        ConfigError: Naming ``data.height``/``data.width`` and the models' own message.
    """
    import torch

    x = torch.zeros(1, 3, int(cfg.data.height), int(cfg.data.width))
    configs = [("model", cfg.model)]
    if cfg.teacher.get("mode", "none") != "none":
        configs.append(("teacher.model", cfg.teacher.model))
    for key, model_cfg in configs:
        if "pretrained" in model_cfg:  # the architecture only: no weights are fetched for this
            model_cfg = OmegaConf.merge(model_cfg, {"pretrained": False})
        net = build_network(model_cfg)
        try:
            with torch.no_grad():
                net.eval()(x)
        except ValueError as err:
            raise ConfigError(
                f"data.height={cfg.data.height} data.width={cfg.data.width} does not fit {key} "
                f"({model_cfg.get('_target_')}): {err}"
            ) from err


def check_data(datamodule: L.LightningDataModule) -> None:
    """The check pass (and synthetic rendering) on rank 0, before a teacher is trained: a bad file
    stops the run now. Lightning's own ``prepare_data`` call then finds the work done."""
    if int(os.environ.get("LOCAL_RANK", 0)) == 0:
        datamodule.prepare_data()


def get_teacher(cfg: DictConfig) -> tuple[nn.Module | None, TeacherInfo]:
    """The run's teacher: None without distillation, and for online mode without a checkpoint
    (the module builds a fresh one). A missing offline teacher is trained here by :func:`run`."""
    mode = cfg.teacher.get("mode", "none")
    if mode == "none" or (mode == "online" and not cfg.teacher.get("checkpoint")):
        return None, TeacherInfo()
    teacher, info = resolve_teacher(cfg, train=_train_teacher)
    if mode == "online":
        teacher.train().requires_grad_(True)  # it learns in this run
    return teacher, info


def _train_teacher(run_cfg: DictConfig) -> tuple[nn.Module, dict[str, float], bool]:
    """The teacher cache's training step: a nested run; returns its network, metrics and whether
    this process is global rank 0."""
    result = run(run_cfg)
    return result.module.net, result.metrics, result.module.trainer.is_global_zero


def _floats(results: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for result in results:
        for key, value in result.items():
            value = float(value)
            out[key] = value if math.isfinite(value) else float("nan")
    return out


def fit(cfg: DictConfig, module: L.LightningModule, trainer: L.Trainer, datamodule) -> float:
    """``trainer.fit``; returns the seconds it took."""
    start = time.perf_counter()
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    return time.perf_counter() - start


def evaluate_best(
    cfg: DictConfig, module: L.LightningModule, trainer: L.Trainer, datamodule
) -> tuple[dict[str, float], str | None]:
    """Validate (and with ``test: true`` test) the best checkpoint, whose weights end up in
    ``module``; returns the metrics and the checkpoint path."""
    checkpoint = next((c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)), None)
    best = checkpoint.best_model_path if checkpoint and checkpoint.best_model_path else None
    if best is None:
        log.warning("No best checkpoint was saved; evaluating the weights at the end of training.")
    metrics = _floats(
        trainer.validate(module, datamodule=datamodule, ckpt_path=best, verbose=False)
    )
    if cfg.get("test", True):
        results = trainer.test(module, datamodule=datamodule, ckpt_path=best, verbose=False)
        metrics.update(_floats(results))
    return metrics, best


def export_step(
    cfg: DictConfig, module: L.LightningModule, datamodule, metrics: dict[str, float], run_hash: str
) -> dict[str, Any] | None:
    """Export the best weights (``cfg.export``) on global rank 0: the verified ONNX graph, its INT8
    copy and ``export.json``, scored on the test split when the run was tested, and the run's
    post-processing (``cfg.postprocess``) next to it (:func:`seg.export.ship_postprocess`)."""
    settings = OmegaConf.to_container(cfg.get("export") or {}, resolve=True)
    if not settings or not settings.pop("enabled", True) or not module.trainer.is_global_zero:
        return None
    test_frames = settings.pop("test_frames", None)
    scores = {
        name: round(metrics[key], 5)
        for name, key in (("test_iou", "test/iou"), ("test_boundary_f", "test/boundary_f"))
        if key in metrics
    }
    model_config = dict(module.hparams.get("model_config") or {})
    report = export_run(
        module.net,
        Path(cfg.paths.output_dir),
        datamodule.dataset("val"),
        datamodule.dataset("test") if cfg.get("test", True) else None,
        settings=settings,
        test_frames=test_frames,
        metadata={
            "config_hash": run_hash,
            "model": model_config.get("_target_"),
            "model_config": model_config,
            "pretrained": pretrained_record(module.net),
            **scores,
        },
    )
    if cfg.get("postprocess") is not None:  # the app and the browser demo run these settings
        report["postprocess"] = str(ship_postprocess(Path(report["onnx"]), cfg.postprocess))
    return report


def run_metrics(
    metrics: dict[str, float],
    trainer: L.Trainer,
    fit_time: float,
    export: dict[str, Any] | None,
    module: L.LightningModule,
    teacher_info: TeacherInfo,
) -> dict[str, float]:
    """The numbers of ``metrics.json``: the best checkpoint's, the export's, time and steps,
    whether ImageNet weights were used, and the offline teacher's own scores."""
    out = dict(metrics)
    keys = ("test_iou_onnx", "test_iou_int8", "int8_iou_drop", "int8_mask_agreement")
    out.update({f"export/{k}": float(export[k]) for k in keys if export and k in export})
    if export:
        out["export/max_abs_diff"] = float(export["verification"]["max_abs_diff"])
    out["time/fit_s"] = round(fit_time, 2)
    out["trainer/epochs"] = float(trainer.current_epoch)
    out["trainer/steps"] = float(trainer.global_step)
    pretrained = pretrained_record(module.net)
    if pretrained is not None:
        out["model/pretrained"] = float(pretrained["used"])
    if teacher_info.pretrained is not None:
        out["teacher/pretrained"] = float(teacher_info.pretrained["used"])
    for key in ("test/iou", "test/boundary_f", "val/iou"):
        value = teacher_info.metrics.get(key)
        if value is not None:  # the offline teacher's own scores, for comparison
            out[f"teacher/{key}"] = float(value)
    return out


def write_outputs(
    cfg: DictConfig, result: RunResult, teacher_info: TeacherInfo, run_hash: str
) -> RunResult:
    """``metrics.json`` and the weights file (``export_weights``) on global rank 0."""
    output_dir = result.output_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "metrics.json").write_text(
        json.dumps(result.metrics, indent=2, sort_keys=True) + "\n"
    )
    if cfg.get("export_weights"):
        module = result.module
        result.weights = save_model(
            output_dir / cfg.export_weights,
            module.net,
            module.hparams["model_config"],  # the resolved cfg.model given to build_module
            metadata={
                "metrics": result.metrics,
                "input_size": [int(cfg.data.height), int(cfg.data.width)],
                "threshold": float(cfg.module.threshold),
                "task_name": str(cfg.task_name),
                "pretrained": pretrained_record(module.net),
                "teacher": teacher_info.path,
                "config_hash": run_hash,
            },
        )
    return result


def print_summary(result: RunResult, fit_time: float) -> None:
    """The lines a run ends with: run dir, metrics next to the teacher's, weights, ONNX."""
    summary = summary_line(result.metrics)
    log.info("Best checkpoint: %s", result.best_checkpoint)
    log.info("Final metrics: %s", summary)
    log.info("Run dir: %s", result.output_dir.resolve())
    print(f"\nRun dir: {result.output_dir.resolve()}\n{summary}  (fit {fit_time:.0f} s)")
    if result.weights is not None:
        print(f"Weights: {result.weights}  (load with seg.models.load_model)")
    if result.export:
        print(f"ONNX: {result.export['onnx']}  ({export_line(result.export)})")


def summary_line(metrics: dict[str, float]) -> str:
    """``test/iou=0.8907 (teacher 0.9060), ...`` for the keys a run reports."""
    parts = []
    for key in ("test/iou", "test/boundary_f", "val/iou"):
        if key not in metrics:
            continue
        stage, name = key.split("/")
        teacher = metrics.get(f"teacher/{key}", metrics.get(f"{stage}/teacher_{name}"))
        extra = f" (teacher {teacher:.4f})" if teacher is not None else ""
        parts.append(f"{key}={metrics[key]:.4f}{extra}")
    # on clips (data=clips): the stability of the masks too
    parts += [f"{key}={metrics[key]:.4g}" for key in ("test/dtssd", "test/tc") if key in metrics]
    return ", ".join(parts)


def export_line(report: dict[str, Any]) -> str:
    """``verified, max diff 3.0e-06, test IoU 0.8907, INT8 0.8872``."""
    parts = [f"verified, max diff {report['verification']['max_abs_diff']:.1e}"]
    if "test_iou_onnx" in report:
        parts.append(f"test IoU {report['test_iou_onnx']:.4f}")
    if "test_iou_int8" in report:
        parts.append(f"INT8 {report['test_iou_int8']:.4f}")
    return ", ".join(parts)


def run(cfg: DictConfig) -> RunResult:
    """Run one training job described by a composed config (see the module docstring).

    Returns:
        The :class:`RunResult`; its metrics are also written to ``<run dir>/metrics.json``.

    Raises:
        SegError: For a config value or a data file the user can fix (before any training where
            it can be known then).
    """
    validate_run_config(cfg)
    route_lightning_logs_through_hydra()
    output_dir = Path(cfg.paths.output_dir)
    check_input_size(cfg)
    datamodule = build_datamodule(cfg, report_dir=output_dir)
    check_data(datamodule)
    teacher, teacher_info = get_teacher(cfg)  # may train and cache a teacher: before seeding
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)

    module = build_module(cfg, teacher)
    trainer = build_trainer(cfg)
    hparams = OmegaConf.to_container(cfg, resolve=True)
    run_hash = config_hash(hparams)
    for logger in trainer.loggers:
        logger.log_hyperparams(hparams)

    fit_time = fit(cfg, module, trainer, datamodule)
    metrics, best = evaluate_best(cfg, module, trainer, datamodule)
    export = export_step(cfg, module, datamodule, metrics, run_hash)
    result = RunResult(
        metrics=run_metrics(metrics, trainer, fit_time, export, module, teacher_info),
        module=module,
        output_dir=output_dir,
        best_checkpoint=best,
        export=export,
    )
    if trainer.is_global_zero:
        write_outputs(cfg, result, teacher_info, run_hash)
        if cfg.print_summary:
            print_summary(result, fit_time)
    return result
