"""Export the trained student to a verified ONNX graph (and INT8) at the end of every run."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn

from seg.export.onnx import update_metadata
from seg.export.student import ExportSettings, export_student, frame_chunks, frames_from

log = logging.getLogger(__name__)


class OnnxExport(L.Callback):
    """Write ``student.onnx`` (verified) and ``student.int8.onnx`` into the run dir.

    ``train.py`` validates the best checkpoint after fitting, then tests it. This callback exports
    at the end of that validation (so from the best weights, with validation frames for the check
    and the INT8 calibration), then, at the end of testing, scores the exported models on the test
    split and writes the run's test IoU into both files' metadata and ``export.json``. Validation
    inside ``fit`` does nothing. Only global rank 0 exports.

    Args:
        dirpath: Output folder (the run dir).
        config_hash: Hash of the run config for the metadata (``train.py`` fills it in).
        test_frames: Test frames to score the exported models on (None: the whole split).
        **settings: :class:`~seg.export.student.ExportSettings` fields (``filename``, ``height``,
            ``width``, ``dynamic_batch``, ``quantize``, ``calibration_frames``, ...).
    """

    def __init__(
        self,
        dirpath: str | Path,
        config_hash: str | None = None,
        test_frames: int | None = None,
        **settings: Any,
    ) -> None:
        self.dirpath = Path(dirpath)
        self.config_hash = config_hash
        self.test_frames = test_frames
        self.settings = ExportSettings(**settings)
        self.report: dict[str, Any] | None = None

    def _metadata(self, pl_module: L.LightningModule) -> dict[str, Any]:
        model_config = dict(pl_module.hparams.get("model_config") or {})
        return {
            "config_hash": self.config_hash,
            "model": model_config.get("_target_"),
            "model_config": model_config,
        }

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.state.fn != TrainerFn.VALIDATING or not trainer.is_global_zero:
            return
        datamodule = trainer.datamodule
        val_images, _ = frames_from(
            datamodule.dataset("val"),
            max(self.settings.verify_frames, self.settings.calibration_frames),
        )
        self.report = export_student(
            pl_module.net,
            self.dirpath,
            val_images,
            settings=self.settings,
            test_chunks=frame_chunks(datamodule.dataset("test"), self.test_frames),
            metadata=self._metadata(pl_module),
        )
        log.info("ONNX: %s", self.report["onnx"])

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.report is None or not trainer.is_global_zero:
            return
        iou = trainer.callback_metrics.get("test/iou")
        if iou is None:
            return
        props = {"test_iou": round(float(iou), 5)}
        boundary_f = trainer.callback_metrics.get("test/boundary_f")
        if boundary_f is not None:
            props["test_boundary_f"] = round(float(boundary_f), 5)
        for key in ("onnx", "int8"):
            if key in self.report:
                update_metadata(self.report[key], props)
        self.report.update(props)
        (self.dirpath / "export.json").write_text(
            json.dumps(self.report, indent=2, sort_keys=True) + "\n"
        )

    def metrics(self) -> dict[str, float]:
        """The export's numbers for ``metrics.json`` (``export/test_iou_onnx``, ...)."""
        keys = ("test_iou_onnx", "test_iou_int8", "int8_iou_drop", "int8_mask_agreement")
        out = {f"export/{k}": float(self.report[k]) for k in keys if k in (self.report or {})}
        if self.report:
            out["export/max_abs_diff"] = float(self.report["verification"]["max_abs_diff"])
        return out
