"""The LightningModule that trains a segmentation network on labels."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from seg.errors import ConfigError
from seg.losses.criterion import Criterion
from seg.losses.temporal import warp_with_validity
from seg.metrics import TemporalMetrics, segmentation_metrics
from seg.models.contract import SegOutput
from seg.utils import bf16_supported

log = logging.getLogger(__name__)


class SegModule(L.LightningModule):
    """Supervised training of one network (a student or a teacher) with a weighted loss set.

    Logs every loss term separately (``train/loss_bce``, ``train/loss_dice``, ...), the total
    (``train/loss``), the learning rate, IoU and MAE for every stage, and the boundary F-score for
    validation and test. Validation and test batches may be clips (``image``: ``B x T x 3 x H x
    W``, e.g. ``data=clips``): every frame is scored like a single frame, and each clip's temporal
    metrics are logged too: ``val/dtssd``; ``test/dtssd``, ``test/tc``, ``test/flicker`` and
    ``test/flip_rate`` (see :class:`~seg.metrics.TemporalMetrics`).

    Args:
        net: A model returning :class:`~seg.models.contract.SegOutput`.
        criterion: The loss wiring (see :class:`~seg.losses.criterion.Criterion`).
        optimizer: Partial ``optimizer(params=...)``.
        scheduler: Partial ``scheduler(optimizer=..., total_steps=...)`` stepped every optimizer step,
            or None for a constant LR.
        threshold: Probability threshold for IoU and boundary F.
        boundary_px: Tolerance band of the boundary F-score in pixels.
        channels_last: Train in channels-last memory format (faster convolutions on GPUs).
        model_config: The network's config (saved in checkpoints so they can be reloaded alone).
        teacher: A distillation teacher returning ``SegOutput``, or None.
        distill_mode: ``offline``: the teacher is frozen (eval mode, no gradients, run under
            ``no_grad``, kept out of checkpoints and out of DDP). ``online``: the teacher trains
            in the same run on ``teacher_criterion`` with its own learning rate, and the student
            distils from its detached outputs.
        teacher_criterion: The teacher's task loss in online mode (its terms read the teacher's
            output as ``student.*``).
        teacher_lr: Learning rate of the teacher's parameter group in online mode (None = the
            student's).
        teacher_autocast: Run the offline teacher's forward in bfloat16 autocast when the device
            supports it (about 2x faster on CPUs with AVX512-BF16/AMX; logits are cast back).
    """

    def __init__(
        self,
        net: nn.Module,
        criterion: Criterion,
        optimizer: Callable[..., Optimizer],
        scheduler: Callable[..., Any] | None = None,
        threshold: float = 0.5,
        boundary_px: int = 3,
        channels_last: bool = False,
        model_config: dict[str, Any] | None = None,
        teacher: nn.Module | None = None,
        distill_mode: str = "offline",
        teacher_criterion: Criterion | None = None,
        teacher_lr: float | None = None,
        teacher_autocast: bool = True,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            logger=False,
            ignore=["net", "criterion", "optimizer", "scheduler", "teacher", "teacher_criterion"],
        )
        if distill_mode not in ("offline", "online"):
            raise ConfigError(f"distill_mode must be 'offline' or 'online', got '{distill_mode}'.")
        if "teacher" in criterion.reads and teacher is None:
            raise ConfigError(
                "A loss term reads the teacher's output but no teacher was given: pick "
                "teacher=offline or teacher=online, or drop the kd_* loss terms."
            )
        if teacher is not None and distill_mode == "online" and teacher_criterion is None:
            raise ConfigError("Online distillation needs a teacher_criterion (the teacher's loss).")
        self.distill_mode = distill_mode
        self.teacher_lr = teacher_lr
        self.teacher_autocast = teacher_autocast
        self.teacher_criterion = teacher_criterion if distill_mode == "online" else None
        if teacher is None or distill_mode == "online":
            self.teacher = teacher
        else:
            # Frozen teacher: not registered as a submodule, so it stays out of state_dict
            # (checkpoints), out of DDP, out of the optimizer, and Lightning never calls train().
            teacher.eval().requires_grad_(False)
            object.__setattr__(self, "teacher", teacher)
        self.net = net
        self.criterion = criterion
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.channels_last = channels_last
        self.train_metrics = segmentation_metrics(
            "train/", band_px=boundary_px, threshold=threshold, boundary_f=False
        )
        self.val_metrics = segmentation_metrics("val/", band_px=boundary_px, threshold=threshold)
        self.test_metrics = segmentation_metrics("test/", band_px=boundary_px, threshold=threshold)
        # clips only: dtSSD on val (cheap); on test also the label-free TC (optical flow), flicker
        self.val_temporal = TemporalMetrics(threshold, label_free=False)
        self.test_temporal = TemporalMetrics(threshold, label_free=True)
        self._clip_stages: set[str] = set()
        if channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
            if self.teacher is not None:
                self.teacher.to(memory_format=torch.channels_last)
        if self.teacher_criterion is not None:
            self.teacher_metrics = nn.ModuleDict(
                {
                    stage: segmentation_metrics(
                        f"{stage}/teacher_", band_px=boundary_px, threshold=threshold
                    )
                    for stage in ("val", "test")
                }
            )
        reads_edges = any(t.pred == "student.edge_logits" for t in criterion.terms.values())
        if getattr(net, "edge_head", None) is not None and not reads_edges:
            log.warning(
                "The network has an edge head but no loss term reads edge_logits: the head stays "
                "untrained and DDP will stop on its unused parameters. Add an edge loss term or set "
                "model.edge_head=false."
            )

    def forward(self, image: Tensor) -> SegOutput:
        return self.net(self._layout(image))

    def _layout(self, image: Tensor) -> Tensor:
        return image.contiguous(memory_format=torch.channels_last) if self.channels_last else image

    def _teacher_forward(self, image: Tensor) -> SegOutput:
        """The teacher's output in float32: trained (online) or frozen under no_grad (offline)."""
        teacher = self.teacher
        autocast = torch.autocast(
            image.device.type,
            dtype=torch.bfloat16,
            enabled=self.teacher_autocast and bf16_supported(image.device),
        )
        if self.distill_mode == "online":
            with autocast:
                return teacher(self._layout(image)).map(Tensor.float)
        param = next(teacher.parameters(), None)
        if param is not None and param.device != image.device:
            teacher.to(image.device)  # the frozen teacher is not a submodule: move it here
        with torch.no_grad(), autocast:  # no_grad: nothing to detach
            return teacher(self._layout(image)).map(Tensor.float)

    def _sources(self, batch: dict[str, Any], out: SegOutput, train: bool) -> dict[str, Any]:
        """Everything the criterion's terms may read (see :mod:`seg.losses.criterion`)."""
        sources: dict[str, Any] = {"batch": batch, "student": out}
        if not train:
            return sources
        reads = self.criterion.reads
        if "perturbed" in reads or "warped" in reads:
            with torch.no_grad():
                perturbed, theta = self.criterion.perturbation(batch["image"])
            sources["perturbed"] = self(perturbed)
            sources["warped"] = {"logits": warp_with_validity(out.logits, theta)}
        if "previous" in reads:
            if "previous_image" not in batch:
                raise KeyError(
                    "A loss term reads 'previous' (consistency across video frames) but the batch "
                    "has no 'previous_image'; use a dataset with pairs of consecutive frames."
                )
            sources["previous"] = self(batch["previous_image"])
        return sources

    def _log_losses(
        self, losses: dict[str, Tensor], stage: str, batch_size: int, prefix: str = ""
    ) -> None:
        on_step = stage == "train"
        for name, value in losses.items():
            self.log(
                f"{stage}/{prefix}{name}",
                value,
                on_step=on_step,
                on_epoch=True,
                prog_bar=name == "loss" and not prefix,
                batch_size=batch_size,
                sync_dist=not on_step,
            )

    def _step(self, batch: dict[str, Any], stage: str) -> Tensor:
        train = stage == "train"
        out = self(batch["image"])
        sources = self._sources(batch, out, train)
        batch_size = batch["image"].shape[0]
        total = None
        if self.teacher is not None and (train or self.teacher_criterion is not None):
            teacher_out = self._teacher_forward(batch["image"])
            if self.teacher_criterion is not None:  # online: the teacher learns too
                teacher_losses = self.teacher_criterion({"batch": batch, "student": teacher_out})
                self._log_losses(teacher_losses, stage, batch_size, prefix="teacher_")
                total = teacher_losses["loss"]
                if not train:
                    self.teacher_metrics[stage].update(teacher_out.probs.detach(), batch["mask"])
                teacher_out = teacher_out.map(Tensor.detach)
            sources["teacher"] = teacher_out
        losses = self.criterion(sources, only_available=not train)
        self._log_losses(losses, stage, batch_size)
        metrics = getattr(self, f"{stage}_metrics")
        self._last_probs = out.probs.detach()
        metrics.update(self._last_probs, batch["mask"])
        loss = losses["loss"]
        return loss if total is None else loss + total

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        loss = self._step(batch, "train")
        self.log("train/lr", self.trainer.optimizers[0].param_groups[0]["lr"], on_step=True)
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def _eval_step(self, batch: dict[str, Any], stage: str) -> None:
        """A validation/test step on frames, or on clips: their frames flattened into one batch,
        then each clip's temporal metrics."""
        image = batch["image"]
        if image.dim() != 5:
            self._step(batch, stage)
            return
        clips, length = image.shape[:2]
        frames = {k: v.flatten(0, 1) for k, v in batch.items() if k in ("image", "mask")}
        if "index" in batch:
            frames["index"] = batch["index"].repeat_interleave(length)
        self._step(frames, stage)
        probs = self._last_probs.unflatten(0, (clips, length))
        getattr(self, f"{stage}_temporal").update(probs, batch["mask"], image)
        self._clip_stages.add(stage)

    def _log_metrics(self, stage: str) -> None:
        metrics = getattr(self, f"{stage}_metrics")
        values = metrics.compute()
        self.log_dict(values, prog_bar=stage == "val")
        metrics.reset()
        if stage in self._clip_stages:
            temporal = getattr(self, f"{stage}_temporal")
            self.log_dict({f"{stage}/{k}": v for k, v in temporal.compute().items()})
            temporal.reset()
            self._clip_stages.discard(stage)
        if self.teacher_criterion is not None and stage in self.teacher_metrics:
            self.log_dict(self.teacher_metrics[stage].compute())
            self.teacher_metrics[stage].reset()

    def on_train_epoch_end(self) -> None:
        self._log_metrics("train")

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")

    def configure_optimizers(self) -> dict[str, Any]:
        student = [
            p
            for n, p in self.named_parameters()
            if p.requires_grad and not n.startswith("teacher.")
        ]
        params: list[Any] = student
        if self.teacher_criterion is not None:
            teacher = [p for p in self.teacher.parameters() if p.requires_grad]
            params = [{"params": student}]
            params.append(
                {"params": teacher}
                if self.teacher_lr is None
                else {"params": teacher, "lr": self.teacher_lr}
            )
        optimizer = self.optimizer_factory(params=params)
        if self.scheduler_factory is None:
            return {"optimizer": optimizer}
        scheduler = self.scheduler_factory(
            optimizer=optimizer, total_steps=int(self.trainer.estimated_stepping_batches)
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1},
        }
