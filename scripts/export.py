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

import json
import sys
from pathlib import Path

from seg import cli
from seg.export.exporter import ExportSettings
from seg.export.on_demand import export_model_file


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__)
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
    settings = ExportSettings(
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
    report = export_model_file(
        args.source,
        args.overrides,
        settings=settings,
        output=args.output,
        test_frames=args.test_frames,
    )
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
