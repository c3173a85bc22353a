"""Get the teacher of a distillation run: from ``teacher.checkpoint``, or trained once and cached.

With no checkpoint, the teacher is trained with the settings of the teacher experiment
(``teacher.recipe``, by default ``experiment=teacher``) on *this run's* data and augmentation, and
cached under ``teacher.cache_dir/<recipe>-<model>-<key>/teacher.pt``. The key hashes everything that
changes the trained teacher (model — with ``pretrained: auto`` resolved to whether ImageNet weights
are really available —, data, augmentation, loss, optimizer, trainer settings, seed and the
synthetic generator's source), so the next run with the same teacher and data reuses it, and a
change to any of them trains a new one. Loader workers, batch size for evaluation and the data cache
folder do not change the teacher and are left out of the key. Badcase oversampling
(``data.badcases``) applies to the student only: the teacher run drops it, so each round of the
closed loop reuses the teacher; for real datasets the key covers the files on disk.

Training a missing teacher is a step of the pipeline, handed in by the caller
(:func:`resolve_teacher`'s ``train``): this module never imports the pipeline.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.utils import to_absolute_path
from omegaconf import DictConfig, OmegaConf, open_dict
from torch import nn

from seg.build import build_datamodule
from seg.config import compose_train
from seg.distill.checkpoint import load_teacher
from seg.errors import SegError
from seg.models.pretrained import pretrained_record, resolve_pretrained

log = logging.getLogger(__name__)

# Trains the teacher of a run config: returns (network, its metrics, whether this is global rank 0).
TrainTeacher = Callable[[DictConfig], tuple[nn.Module, dict[str, float], bool]]


@dataclass
class TeacherInfo:
    """Where a distillation run's teacher came from.

    Attributes:
        path: Its weights file (None without a teacher).
        metrics: Its own validation/test metrics when known.
        cached: Whether it was reused from the teacher cache.
        pretrained: Whether its encoder started from ImageNet weights (``PretrainedStatus``
            as a dict, from the weights file or the training run), when known.
    """

    path: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    cached: bool = False
    pretrained: dict[str, Any] | None = None


# CLI override groups of the distillation run that the teacher's run inherits: where and how long
# to train (trainer=gpu, trainer.devices=4, debug=smoke, ...). Everything else comes from the recipe.
INHERITED_OVERRIDES = ("trainer", "debug")
# Settings that do not change the trained teacher, left out of the cache key.
_DATA_IGNORED = ("num_workers", "pin_memory", "eval_batch_size", "cache_dir", "check_workers")
_TRAINER_IGNORED = (
    "enable_progress_bar",
    "enable_model_summary",
    "log_every_n_steps",
    "default_root_dir",
    "num_sanity_val_steps",
)


def _inherited_overrides() -> list[str]:
    if not HydraConfig.initialized():
        return []
    kept = []
    for override in HydraConfig.get().overrides.task:
        key = override.lstrip("+~").split("=", 1)[0]
        if key.split(".")[0].split("@")[0] in INHERITED_OVERRIDES:
            kept.append(override)
    return kept


def teacher_run_config(cfg: DictConfig) -> DictConfig:
    """The full config of the run that trains ``cfg``'s teacher when no checkpoint is given.

    It is ``experiment=<teacher.recipe>`` plus this run's trainer/debug overrides, with the model
    replaced by ``teacher.model`` and the data and augmentation replaced by this run's, so the teacher
    learns from the same data its student will.
    """
    recipe = cfg.teacher.get("recipe") or "teacher"
    run_cfg = compose_train([f"experiment={recipe}", *_inherited_overrides()])
    with open_dict(run_cfg):
        run_cfg.model = OmegaConf.create(OmegaConf.to_container(cfg.teacher.model, resolve=True))
        run_cfg.data = OmegaConf.create(OmegaConf.to_container(cfg.data, resolve=True))
        # Badcase oversampling targets the student: the teacher is trained once per dataset, not
        # again every round of the closed loop.
        run_cfg.data.pop("badcases", None)
        run_cfg.data.pop("badcase_weight", None)
        run_cfg.augment = OmegaConf.create(OmegaConf.to_container(cfg.augment, resolve=True))
        run_cfg.paths = OmegaConf.create(OmegaConf.to_container(cfg.paths, resolve=True))
        run_cfg.task_name = f"teacher_cache_{recipe}"
        run_cfg.export_weights = "teacher.pt"
        run_cfg.print_summary = False  # the distillation run prints the teacher's scores
        run_cfg.export.enabled = False  # the teacher is not deployed: no ONNX export
        run_cfg.logger = (
            {"csv": run_cfg.logger.csv} if run_cfg.logger and "csv" in run_cfg.logger else {}
        )
    return run_cfg


def _data_fingerprint(run_cfg: DictConfig) -> str | None:
    """For real datasets, a hash of the files on disk (a changed dataset under the same root must
    not reuse a teacher trained on the old one); None for generated data."""
    data = run_cfg.data
    root = None if "root" not in data or OmegaConf.is_missing(data, "root") else data.root
    if root is None and not data.get("sources"):
        return None
    return build_datamodule(run_cfg).build_split("all").fingerprint()


def teacher_cache_key(run_cfg: DictConfig) -> str:
    """A 12-hex-digit hash of everything in ``run_cfg`` that changes the trained teacher."""
    from seg.data.synthetic import source_fingerprint

    c: dict[str, Any] = OmegaConf.to_container(run_cfg, resolve=True)  # type: ignore[assignment]
    data = {k: v for k, v in c["data"].items() if k not in _DATA_IGNORED}
    model = dict(c["model"])
    if "pretrained" in model and "encoder" in model:  # auto: whether weights will really be used
        overlay = model.get("pretrained_cfg_overlay")
        status = resolve_pretrained(
            model["encoder"], model["pretrained"], pretrained_cfg_overlay=overlay
        )
        model["pretrained"] = status.used
    trainer = {k: v for k, v in c["trainer"].items() if k not in _TRAINER_IGNORED}
    payload = {
        "model": model,
        "data": data,
        "augment": c.get("augment"),
        "loss": c["loss"],
        "optim": c["optim"],
        "trainer": trainer,
        "seed": c.get("seed"),
        "module": c.get("module"),
        "generator": source_fingerprint(),
        "files": _data_fingerprint(run_cfg),
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def _entry_name(run_cfg: DictConfig, recipe: str, key: str) -> str:
    model = run_cfg.model
    name = "-".join(str(model.get(k)) for k in ("arch", "encoder") if model.get(k))
    return f"{recipe}-{name or 'model'}-{key}".replace("/", "_")


def resolve_teacher(
    cfg: DictConfig, train: TrainTeacher | None = None
) -> tuple[nn.Module, TeacherInfo]:
    """The frozen teacher of a distillation run, and where it came from.

    Args:
        cfg: The distillation run's config.
        train: Trains a teacher from its run config (:func:`teacher_run_config`) when there is no
            ``teacher.checkpoint`` and no cached teacher; the pipeline hands its own ``run``.

    Returns:
        ``(teacher, info)``: the network (eval mode, gradients off) and its :class:`TeacherInfo`.

    Raises:
        MissingFileError: When ``teacher.checkpoint`` does not exist.
        ModelFileError: When the checkpoint holds another architecture than ``teacher.model``.
        SegError: When a teacher must be trained but no ``train`` step was given.
    """
    tcfg = cfg.teacher
    model_config = OmegaConf.to_container(tcfg.model, resolve=True)
    if tcfg.get("checkpoint"):
        path = Path(to_absolute_path(str(tcfg.checkpoint)))
        teacher, meta = load_teacher(path, model_config)
        log.info("Teacher: %s loaded from teacher.checkpoint=%s", model_config["_target_"], path)
        return teacher, _info(path, meta, cached=False)

    recipe = tcfg.get("recipe") or "teacher"
    run_cfg = teacher_run_config(cfg)
    key = teacher_cache_key(run_cfg)
    entry = Path(to_absolute_path(str(tcfg.cache_dir))) / _entry_name(run_cfg, recipe, key)
    weights = entry / "teacher.pt"
    if weights.is_file():
        teacher, meta = load_teacher(weights, model_config)
        info = _info(weights, meta, cached=True)
        log.info(
            "Teacher cache hit: reusing %s (trained with experiment=%s; test IoU %s).",
            weights,
            recipe,
            f"{info.metrics['test/iou']:.4f}" if "test/iou" in info.metrics else "n/a",
        )
        return teacher, info
    if train is None:
        raise SegError(
            f"No teacher.checkpoint and no cached teacher at {weights}: train one with "
            f"`python train.py experiment={recipe}` and pass teacher.checkpoint=<its teacher.pt>."
        )
    log.info(
        "No teacher.checkpoint and no cached teacher for this teacher + data config: training one "
        "now with the settings of experiment=%s (%s epochs). It is cached at %s and reused by later "
        "runs with the same teacher and data.",
        recipe,
        run_cfg.trainer.get("max_epochs"),
        entry,
    )
    partial = entry.with_name(f"{entry.name}.partial-{os.getpid()}")
    with open_dict(run_cfg):
        run_cfg.paths.output_dir = str(partial)
    net, metrics, is_global_zero = train(run_cfg)
    teacher = net.eval().requires_grad_(False)
    if is_global_zero:
        if entry.exists():  # another run cached the same teacher meanwhile: keep the first one
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.rename(entry)
        log.info(
            "Teacher cached at %s (test IoU %.4f).", weights, metrics.get("test/iou", float("nan"))
        )
    return teacher, TeacherInfo(str(weights), metrics, False, pretrained_record(net))


def _info(path: Path, meta: dict[str, Any], cached: bool) -> TeacherInfo:
    return TeacherInfo(str(path), meta.get("metrics", {}) or {}, cached, meta.get("pretrained"))
