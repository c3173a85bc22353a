"""Contact sheets of fixed validation frames, written every epoch and sent to the loggers."""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
import numpy as np
import torch

from seg.errors import ConfigError
from seg.vis import contact_sheet, write_rgb

log = logging.getLogger(__name__)


class PreviewContactSheet(L.Callback):
    """Write ``previews/epoch_XXX.png`` for a fixed set of validation frames after each validation.

    The frames are evenly spaced over the validation split and the same every epoch, so the sheets
    show how one set of hard cases evolves. Sheets also go to every logger with a ``log_image``
    method (W&B).

    Args:
        dirpath: Output folder.
        num_images: Frames per sheet.
        threshold: Probability threshold of the predicted mask.
    """

    def __init__(self, dirpath: str, num_images: int = 8, threshold: float = 0.5) -> None:
        super().__init__()
        if num_images <= 0:
            raise ConfigError(f"PreviewContactSheet: num_images must be > 0, got {num_images}.")
        self.dirpath = Path(dirpath)
        self.num_images = num_images
        self.threshold = threshold
        self.last_path: Path | None = None

    def _samples(self, trainer: L.Trainer) -> list[dict]:
        datamodule = trainer.datamodule
        dataset = (
            datamodule.dataset("val")
            if hasattr(datamodule, "dataset")
            else trainer.val_dataloaders.dataset
        )
        n = min(self.num_images, len(dataset))
        indices = np.linspace(0, len(dataset) - 1, n).round().astype(int)
        samples = [dataset[int(i)] for i in indices]
        # a clip (T x 3 x H x W): its middle frame
        return [
            {k: s[k][len(s[k]) // 2] for k in ("image", "mask")} if s["image"].dim() == 4 else s
            for s in samples
        ]

    @torch.no_grad()
    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        samples = self._samples(trainer)
        images = torch.stack([s["image"] for s in samples]).to(pl_module.device)
        was_training = pl_module.training
        pl_module.eval()
        probs = pl_module(images).probs[:, 0].float().cpu().numpy()
        pl_module.train(was_training)
        sheet = contact_sheet(
            (images.permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8),
            torch.stack([s["mask"][0] for s in samples]).numpy().astype(np.uint8),
            probs,
            self.threshold,
        )
        name = f"epoch_{trainer.current_epoch:03d}" if trainer.state.fn == "fit" else "final_val"
        self.last_path = write_rgb(self.dirpath / f"{name}.png", sheet)
        for logger in trainer.loggers:
            if hasattr(logger, "log_image"):
                logger.log_image(
                    key="val/previews", images=[sheet], caption=[name], step=trainer.global_step
                )
