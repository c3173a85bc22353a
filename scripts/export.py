"""Export a trained student to a verified ONNX graph (and INT8) on demand.

The graph takes ``image``: float32 ``N x 3 x H x W`` RGB in ``[0, 1]`` (NCHW; normalisation is
inside) and returns ``foreground``: ``N x 1 x H x W`` probabilities. Every export is checked against
PyTorch on validation frames (max abs difference <= 1e-4, mask IoU >= 0.999) or fails with the
numbers; the INT8 model is calibrated on validation frames and scored on the test split.

Usage:
    python scripts/export.py logs/attn_distill/<run>                 # -> <run>/student.onnx
    python scripts/export.py path/to/student.pt --height 288 --width 512 --output hd.onnx
    python scripts/export.py <run> --dynamic-batch --no-int8
    python scripts/export.py student.pt data=folder data.root=/data/portraits   # frames from there

Frames come from the run's own data config (``<run>/.hydra/config.yaml``); for a bare weights file,
from the built-in synthetic validation and test splits.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from omegaconf import DictConfig, OmegaConf  # noqa: E402

from seg.eval.predict import find_weights  # noqa: E402
from seg.export.onnx import config_hash  # noqa: E402
from seg.export.student import (  # noqa: E402
    ExportSettings,
    export_student,
    frame_chunks,
    frames_from,
)
from seg.models.weights import load_model  # noqa: E402

log = logging.getLogger("export")


def run_config(run_dir: Path | None, height: int, width: int, overrides: list[str]) -> DictConfig:
    """The run's config, or the default synthetic data config at ``height x width``; then the
    ``key=value`` overrides (e.g. ``data.val.length=64``)."""
    from seg.config import compose_train, register_resolvers

    os.environ.setdefault("PROJECT_ROOT", str(ROOT))  # the saved config's ${oc.env:PROJECT_ROOT}
    register_resolvers()
    if run_dir is not None:
        cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
        return OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides))
    defaults = [f"data.height={height}", f"data.width={width}", "data.num_workers=0"]
    return compose_train([*defaults, *overrides])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="run dir, student.pt or a train.py .ckpt")
    parser.add_argument(
        "overrides", nargs="*", help="config overrides for the frames, e.g. data.val.length=64"
    )
    parser.add_argument("--height", type=int, help="graph input height (default: training size)")
    parser.add_argument("--width", type=int, help="graph input width (default: training size)")
    parser.add_argument("--dynamic-batch", action="store_true", help="symbolic batch axis")
    parser.add_argument("--include-edge", action="store_true", help="also output the edge map")
    parser.add_argument("--output", type=Path, help="fp32 .onnx path (default: next to weights)")
    parser.add_argument("--no-int8", action="store_true", help="skip INT8 quantization")
    parser.add_argument("--calibration-frames", type=int, default=64)
    parser.add_argument("--calibration-method", default="minmax")
    parser.add_argument("--test-frames", type=int, help="test frames to score (default: all)")
    parser.add_argument("--opset", type=int, default=18)
    parser.add_argument(
        "--exporter", choices=["dynamo", "torchscript"], default="dynamo", help="torch.onnx path"
    )
    args = parser.parse_intermixed_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    weights, run_dir = find_weights(args.source)
    net = load_model(weights)
    meta = getattr(net, "seg_metadata", {}) or {}
    trained = meta.get("input_size") or [144, 256]
    cfg = run_config(run_dir, int(trained[0]), int(trained[1]), args.overrides)
    from seg.train import build_datamodule

    datamodule = build_datamodule(cfg)
    settings = ExportSettings(
        filename=(args.output.name if args.output else "student.onnx"),
        height=args.height,
        width=args.width,
        dynamic_batch=args.dynamic_batch,
        include_edge=args.include_edge,
        opset=args.opset,
        exporter=args.exporter,
        quantize=not args.no_int8,
        calibration_frames=args.calibration_frames,
        calibration_method=args.calibration_method,
    )
    val_images, _ = frames_from(
        datamodule.prepared_split("val"), max(settings.verify_frames, settings.calibration_frames)
    )
    metrics = (meta.get("metrics") or {}) if isinstance(meta, dict) else {}
    if run_dir is not None and (run_dir / "metrics.json").is_file():
        metrics = json.loads((run_dir / "metrics.json").read_text())
    metadata = {
        "config_hash": meta.get("config_hash")
        # runs from before config hashes were stored: the saved config as written (it holds
        # ${hydra:...} interpolations that only resolve inside a Hydra run)
        or (config_hash(OmegaConf.to_container(cfg, resolve=False)) if run_dir else None),
        "model": net.seg_model_config.get("_target_"),
        "model_config": net.seg_model_config,
        "weights": str(weights),
        "test_iou": metrics.get("test/iou"),
        "test_boundary_f": metrics.get("test/boundary_f"),
    }
    if metadata["test_iou"] is not None and (args.height or args.width):
        metadata["test_iou_note"] = f"test/iou was measured at the training size {trained}"
    out_dir = args.output.parent if args.output else weights.parent
    if weights.parent.name == "checkpoints" and not args.output:
        out_dir = weights.parent.parent
    report = export_student(
        net,
        out_dir,
        val_images,
        settings=settings,
        test_chunks=frame_chunks(datamodule.prepared_split("test"), args.test_frames),
        metadata=metadata,
    )
    print(json.dumps(report, indent=2, sort_keys=True))
    return report


if __name__ == "__main__":
    main()
