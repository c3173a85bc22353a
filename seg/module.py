"""The LightningModule that trains a segmentation network on labels."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from seg.losses.criterion import Criterion
from seg.metrics import segmentation_metrics
from seg.models.contract import SegOutput

log = logging.getLogger(__name__)


class SegModule(L.LightningModule):
    """Supervised training of one network (a student or a teacher) with a weighted loss set.

    Logs every loss term separately (``train/loss_bce``, ``train/loss_dice``, ...), the total
    (``train/loss``), the learning rate, IoU and MAE for every stage, and the boundary F-score for
    validation and test.

    Args:
        net: A model returning :class:`~seg.models.contract.SegOutput`.
        criterion: The loss wiring (see :class:`~seg.losses.criterion.Criterion`).
        optimizer: Partial ``optimizer(params=...)``.
        scheduler: Partial ``scheduler(optimizer=..., total_steps=...)`` stepped every optimizer step,
            or None for a constant LR.
        threshold: Probability threshold for IoU and boundary F.
        boundary_px: Tolerance band of the boundary F-score in pixels.
        channels_last: Train in channels-last memory format (faster convolutions on GPUs).
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
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            logger=False, ignore=["net", "criterion", "optimizer", "scheduler"]
        )
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
        if channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        reads_edges = any(term.pred == "edge_logits" for term in criterion.terms.values())
        if getattr(net, "edge_head", None) is not None and not reads_edges:
            log.warning(
                "The network has an edge head but no loss term reads edge_logits: the head stays "
                "untrained and DDP will stop on its unused parameters. Add an edge loss term or set "
                "model.edge_head=false."
            )

    def forward(self, image: Tensor) -> SegOutput:
        if self.channels_last:
            image = image.contiguous(memory_format=torch.channels_last)
        return self.net(image)

    def _step(self, batch: dict[str, Any], stage: str) -> Tensor:
        out = self(batch["image"])
        losses = self.criterion(out, batch)
        batch_size = batch["image"].shape[0]
        on_step = stage == "train"
        for name, value in losses.items():
            self.log(
                f"{stage}/{name}",
                value,
                on_step=on_step,
                on_epoch=True,
                prog_bar=name == "loss",
                batch_size=batch_size,
                sync_dist=not on_step,
            )
        metrics = getattr(self, f"{stage}_metrics")
        metrics.update(out.probs.detach(), batch["mask"])
        return losses["loss"]

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        loss = self._step(batch, "train")
        self.log("train/lr", self.trainer.optimizers[0].param_groups[0]["lr"], on_step=True)
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._step(batch, "test")

    def _log_metrics(self, stage: str) -> None:
        metrics = getattr(self, f"{stage}_metrics")
        values = metrics.compute()
        self.log_dict(values, prog_bar=stage == "val")
        metrics.reset()

    def on_train_epoch_end(self) -> None:
        self._log_metrics("train")

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")

    def configure_optimizers(self) -> dict[str, Any]:
        params = [p for p in self.parameters() if p.requires_grad]
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
