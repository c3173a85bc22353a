"""Contact sheets of fixed validation frames, written every epoch and sent to the loggers."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import lightning as L
import numpy as np
import torch

log = logging.getLogger(__name__)

GT_COLOUR = np.array([0, 200, 255], dtype=np.float32)  # RGB cyan-ish
PRED_COLOUR = np.array([255, 60, 200], dtype=np.float32)  # RGB magenta
FP_COLOUR = np.array([255, 40, 40], dtype=np.float32)  # false positive: red
FN_COLOUR = np.array([40, 120, 255], dtype=np.float32)  # false negative: blue


def overlay(
    image: np.ndarray, mask: np.ndarray, colour: np.ndarray, alpha: float = 0.5
) -> np.ndarray:
    """Tint ``mask`` pixels of an RGB uint8 image with ``colour`` and draw the mask contour."""
    out = image.astype(np.float32)
    m = mask.astype(bool)
    out[m] = (1 - alpha) * out[m] + alpha * colour
    out = np.ascontiguousarray(out.clip(0, 255).astype(np.uint8))
    contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, tuple(int(c) for c in colour), 1)
    return out


def error_map(image: np.ndarray, gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Darkened image with false positives in red and false negatives in blue."""
    out = (image.astype(np.float32) * 0.35).astype(np.float32)
    out[(pred == 1) & (gt == 0)] = FP_COLOUR
    out[(pred == 0) & (gt == 1)] = FN_COLOUR
    return out.astype(np.uint8)


def contact_sheet(
    images: np.ndarray, masks: np.ndarray, probs: np.ndarray, threshold: float = 0.5
) -> np.ndarray:
    """One row per frame: image | ground truth | prediction | errors (FP red, FN blue).

    Args:
        images: ``N x H x W x 3`` uint8 RGB.
        masks: ``N x H x W`` ground truth in ``{0, 1}``.
        probs: ``N x H x W`` foreground probabilities.
        threshold: Probability threshold of the predicted mask.

    Returns:
        An RGB uint8 image of ``N`` rows and 4 columns separated by 2-pixel gaps.
    """
    rows = []
    for image, gt, prob in zip(images, masks, probs, strict=True):
        pred = (prob >= threshold).astype(np.uint8)
        tiles = [
            image,
            overlay(image, gt, GT_COLOUR),
            overlay(image, pred, PRED_COLOUR),
            error_map(image, gt, pred),
        ]
        gap = np.full((image.shape[0], 2, 3), 255, np.uint8)
        rows.append(np.concatenate([t for tile in tiles for t in (tile, gap)][:-1], axis=1))
    hgap = np.full((2, rows[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([r for row in rows for r in (row, hgap)][:-1], axis=0)


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
            raise ValueError(f"PreviewContactSheet: num_images must be > 0, got {num_images}.")
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
        return [dataset[int(i)] for i in indices]

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
        self.dirpath.mkdir(parents=True, exist_ok=True)
        self.last_path = self.dirpath / f"{name}.png"
        cv2.imwrite(str(self.last_path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
        for logger in trainer.loggers:
            if hasattr(logger, "log_image"):
                logger.log_image(
                    key="val/previews", images=[sheet], caption=[name], step=trainer.global_step
                )
