"""Latency of the students (ONNX Runtime, fp32 and int8) against MediaPipe selfie segmentation.

For every model, at its own input size and at the peers' sizes (144x256, 256x256; ``student_hd``
also at 288x512), with each thread count: median and p90 latency of one single-image inference
over ``--iters`` runs after ``--warmup``, parameters and MACs (counted from the graphs, the same
way for ONNX and TFLite: :mod:`seg.bench.macs`) and the test IoU where known. Everything runs in
this one process, one model at a time, on the same seeded random image resized (area) to each size.

Models:

* ``--model NAME=PATH`` (repeatable): ``PATH`` is a ``student.onnx`` or a run folder holding one. A
  ``<stem>.int8.onnx`` next to it is benchmarked as precision ``int8``. Exported graphs have a
  static input size, so other sizes need a re-export: with a ``student.pt`` next to the graph the
  student is re-exported (and, when an int8 graph exists, quantized on validation frames) at each
  other size in a temporary folder; without one only the graph's own size is measured.
* Without ``--model``: untrained students of the model configs ``student_cpu``, ``student`` and
  ``student_hd`` (latency does not depend on the weights; their IoU is unknown).
* The peers ``mediapipe_landscape`` (144x256) and ``mediapipe_general`` (256x256) from
  ``--peers-dir`` (``make peers`` fetches them) run in LiteRT with XNNPACK (``ai_edge_litert``).

Test IoU comes from the graph's metadata (``test_iou_onnx``/``test_iou`` for fp32,
``test_iou_int8`` for int8) or, with ``--iou-frames N``, is measured on the first ``N`` frames of
the synthetic test split (the training config's): each frame is resized (area) to the model's
input, predicted, the probability resized back (bilinear) and thresholded at 0.5; IoU is the
intersection over the union summed over all pixels of the set.

Outputs: the table on stdout, ``--markdown`` (with the command, date, CPU, runtime versions and a
ratio column against ``mediapipe_landscape`` at 144x256 and the same thread count), ``--json`` (a
list of rows) and ``--plot`` (latency vs test IoU).

Usage:
    python scripts/benchmark.py [--model NAME=PATH ...] [--threads 1 2] [--iters 200]
        [--warmup 20] [--iou-frames 200] [--peers-dir data/peers/mediapipe]
        [--peer-res 144x256 256x256 | --no-peer-res] [--markdown docs/benchmarks.md]
        [--json docs/benchmarks.json] [--plot docs/img/latency_vs_iou.png]
    python scripts/benchmark.py --fast ...   # 5 iterations, 1 thread, no IoU (tests)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shlex
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PROJECT_ROOT", str(ROOT))

from seg.bench.latency import (  # noqa: E402
    Runner,
    ort_runner,
    tflite_runner,
    time_interleaved,
)
from seg.bench.macs import graph_cost  # noqa: E402
from seg.bench.peers import DEFAULT_DIR, PEERS, REFERENCE, find_peers, missing_reason  # noqa: E402
from seg.config import compose_train  # noqa: E402
from seg.utils import cpu_model  # noqa: E402
from seg.export.verify import mask_counts  # noqa: E402

PEER_SIZES = ((144, 256), (256, 256))
HD_SIZE = (288, 512)
DEFAULT_MODELS = ("student_cpu", "student", "student_hd")
TARGETS = {"fp32": 0.8, "int8": 0.5}  # max latency ratio vs mediapipe_landscape at 144x256
TARGET_SIZE = (144, 256)
ROW_KEYS = (
    "model",
    "precision",
    "height",
    "width",
    "threads",
    "median_ms",
    "p90_ms",
    "params",
    "macs",
    "test_iou",
)
IMAGE_SEED = 0
BASE_SIZE = (576, 1024)  # the random image every input is resized from


@dataclass
class Candidate:
    """One of our students: its files (if any) and how to rebuild it at other sizes."""

    name: str
    fp32: Path | None = None
    int8: Path | None = None
    weights: Path | None = None  # student.pt next to the graph
    config: str | None = None  # model config name of an untrained default student
    native: tuple[int, int] | None = None
    trained: bool = True
    metadata: dict[str, str] = field(default_factory=dict)
    int8_metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Graph:
    """One benchmarked graph: a model at one precision and one input size."""

    model: str
    precision: str
    height: int
    width: int
    path: Path
    kind: str  # "onnx" | "tflite"
    test_iou: float | None = None
    trained: bool = True


# ---------------------------------------------------------------------------------------------
# arguments


def parse_size(text: str) -> tuple[int, int]:
    """``"144x256"`` -> ``(144, 256)``."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 144x256, got '{text}'") from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got '{text}'")
    return h, w


def parse_model(text: str) -> tuple[str, Path]:
    """``"NAME=PATH"`` -> ``(NAME, PATH)``."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--model takes NAME=PATH, got '{text}'")
    return name, Path(path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model",
        type=parse_model,
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="student.onnx or a run folder (repeatable)",
    )
    parser.add_argument(
        "--untrained",
        nargs="*",
        metavar="CONFIG",
        help="also untrained students of these model configs (default: student_cpu student "
        "student_hd when no --model is given, none otherwise)",
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="smoke run: 5 iterations after 1 warm-up, 1 thread, no IoU",
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="thread counts (default 1 2; --fast: 1)",
    )
    parser.add_argument("--iters", type=int, default=None, help="timed runs (default 200)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up runs (default 20)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="interleaved rounds the timed runs are split into (default 10; --fast: 1)",
    )
    parser.add_argument(
        "--iou-frames",
        type=int,
        default=None,
        help="test frames to measure IoU on (default 200; --fast: 0 = off)",
    )
    parser.add_argument(
        "--peers-dir",
        type=Path,
        default=DEFAULT_DIR,
        help="folder of the MediaPipe .tflite files (make peers)",
    )
    parser.add_argument(
        "--peer-res",
        type=parse_size,
        nargs="+",
        default=list(PEER_SIZES),
        metavar="HxW",
        help="sizes our models also run at (default 144x256 256x256)",
    )
    parser.add_argument(
        "--no-peer-res", action="store_true", help="only each model's own size (no re-export)"
    )
    parser.add_argument(
        "--calibration-frames",
        type=int,
        default=None,
        help="validation frames for int8 re-quantization (default 64; --fast: 8)",
    )
    parser.add_argument(
        "--target-model",
        default="student_cpu",
        help="the model the latency targets apply to (default student_cpu)",
    )
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "benchmarks.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "latency_vs_iou.png")
    return parser


def resolve_args(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the defaults that depend on ``--fast`` and validate numbers."""
    args.threads = args.threads or ([1] if args.fast else [1, 2])
    args.iters = args.iters if args.iters is not None else (5 if args.fast else 200)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.fast else 20)
    args.rounds = args.rounds if args.rounds is not None else (1 if args.fast else 10)
    if args.rounds < 1:
        raise SystemExit(f"benchmark: --rounds must be >= 1, got {args.rounds}")
    if args.iou_frames is None:
        args.iou_frames = 0 if args.fast else 200
    if args.calibration_frames is None:
        args.calibration_frames = 8 if args.fast else 64
    if args.no_peer_res:
        args.peer_res = []
    if args.iters < 1 or args.warmup < 0 or args.iou_frames < 0 or args.calibration_frames < 1:
        raise SystemExit(
            "benchmark: --iters and --calibration-frames must be >= 1, "
            "--warmup and --iou-frames >= 0."
        )
    if any(t < 1 for t in args.threads):
        raise SystemExit(f"benchmark: --threads must be >= 1, got {args.threads}")
    return args


# ---------------------------------------------------------------------------------------------
# models


def _float_or_none(value: str | None) -> float | None:
    try:
        out = float(value) if value not in (None, "", "None", "null") else None
    except ValueError:
        return None
    return out if out is not None and math.isfinite(out) else None


def candidate_from_path(name: str, path: Path) -> Candidate:
    """A :class:`Candidate` for ``--model NAME=PATH``.

    Raises:
        SystemExit: When ``PATH`` is neither an ``.onnx`` file nor a folder with ``student.onnx``.
    """
    from seg.export.onnx import read_metadata

    if path.is_dir():
        fp32 = path / "student.onnx"
        if not fp32.is_file():
            raise SystemExit(
                f"benchmark: --model {name}={path}: the folder has no student.onnx (expected "
                f"{fp32}; export the run with scripts/export.py first)."
            )
    elif path.is_file():
        if path.suffix != ".onnx":
            raise SystemExit(
                f"benchmark: --model {name}={path}: expected a .onnx file or a "
                "run folder holding student.onnx."
            )
        fp32 = path
    else:
        raise SystemExit(
            f"benchmark: --model {name}={path}: no such file or folder (expected a "
            "student.onnx or a run folder holding one)."
        )
    meta = read_metadata(fp32)
    int8 = fp32.with_name(fp32.name.removesuffix(".onnx") + ".int8.onnx")
    weights = fp32.with_name("student.pt")
    try:
        native = (int(meta["input_height"]), int(meta["input_width"]))
    except (KeyError, ValueError):
        native = None  # read from the session's input shape later
    return Candidate(
        name=name,
        fp32=fp32,
        int8=int8 if int8.is_file() else None,
        weights=weights if weights.is_file() else None,
        native=native,
        metadata=meta,
        int8_metadata=read_metadata(int8) if int8.is_file() else {},
    )


def build_default(config: str):
    """An untrained student of model config ``config`` (eval mode)."""
    from hydra.utils import instantiate

    cfg = compose_train([f"model={config}"])
    net = instantiate(cfg.model, _convert_="all").eval()
    like_trained(net)
    return net


def like_trained(net, seed: int = 0) -> None:
    """Give an untrained network non-trivial biases and batch-norm statistics, in place.

    Freshly initialised biases and BN shifts are all zero, and the ONNX exporter drops all-zero
    biases, so an untrained export would have fewer tensors (and parameters) than a trained one.
    Small seeded random values make its graph the one a trained student exports to.
    """
    import torch
    from torch import nn

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine:
                module.weight.copy_(1 + 0.1 * torch.randn(module.weight.shape, generator=gen))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=gen))
                if module.running_mean is not None:
                    module.running_mean.copy_(0.1 * torch.randn(module.num_features, generator=gen))
                    module.running_var.copy_(
                        1 + 0.1 * torch.rand(module.num_features, generator=gen)
                    )
            elif getattr(module, "bias", None) is not None and isinstance(
                module.bias, torch.Tensor
            ):
                module.bias.copy_(0.01 * torch.randn(module.bias.shape, generator=gen))


def load_frames(split: str, count: int, attr: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` frames of a synthetic split as the training config renders it.

    Reads the rendered cache (``data/cache``) when it exists; otherwise renders just these frames.

    Returns:
        ``(images, masks)``: ``N x H x W x 3`` uint8 RGB and ``N x H x W`` uint8 in ``{0, 1}``.
    """
    from omegaconf import OmegaConf

    from seg.data.synthetic_dataset import SyntheticPortraitDataset

    cfg = compose_train()
    data = OmegaConf.to_container(cfg.data, resolve=True)
    spec, kwargs = data[attr], dict(data.get("dataset_kwargs") or {})
    length = int(spec["length"])
    dataset_args = dict(
        split=split,
        length=length,
        height=int(spec["height"]),
        width=int(spec["width"]),
        seed=int(kwargs.get("seed", 0)),
        difficulty=float(kwargs.get("difficulty", 1.0)),
    )
    dataset = SyntheticPortraitDataset(**dataset_args, cache_dir=kwargs.get("cache_dir"))
    if dataset.cache_path is None or not (dataset.cache_path / "done").exists():
        dataset = SyntheticPortraitDataset(**dataset_args, cache_dir=None)  # render only `count`
    count = min(count, length)
    pairs = [dataset.raw(i) for i in range(count)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def resize_batch(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """``N x H x W x 3`` uint8 -> ``N x 3 x height x width`` float32 in ``[0, 1]`` (area)."""
    import cv2

    out = [cv2.resize(im, (width, height), interpolation=cv2.INTER_AREA) for im in images]
    return np.ascontiguousarray(np.stack(out).transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


class Exporter:
    """Re-exports (and re-quantizes) students at other sizes into a temporary folder."""

    def __init__(self, folder: Path, calibration_frames: int, notes: list[str]) -> None:
        self.folder = folder
        self.calibration_frames = calibration_frames
        self.notes = notes
        self._nets: dict[str, Any] = {}
        self._calibration: np.ndarray | None = None

    def net(self, cand: Candidate):
        if cand.name not in self._nets:
            if cand.config is not None:
                self._nets[cand.name] = build_default(cand.config)
            else:
                from seg.models import load_model

                self._nets[cand.name] = load_model(cand.weights)
        return self._nets[cand.name]

    def fp32(self, cand: Candidate, height: int, width: int) -> Path:
        from seg.export.onnx import export_onnx

        path = self.folder / cand.name / f"{height}x{width}" / "student.onnx"
        if not path.is_file():
            print(f"  exporting {cand.name} at {height}x{width} ...", flush=True)
            source = str(cand.weights) if cand.weights else f"untrained model={cand.config}"
            export_onnx(self.net(cand), path, height, width, metadata={"benchmark_export": source})
        return path

    def int8(self, cand: Candidate, fp32: Path, height: int, width: int) -> Path:
        from seg.export.quantize import quantize_int8

        path = fp32.with_name("student.int8.onnx")
        if not path.is_file():
            print(f"  quantizing {cand.name} at {height}x{width} ...", flush=True)
            if self._calibration is None:
                self._calibration = load_frames("val", self.calibration_frames, attr="val")[0]
            quantize_int8(fp32, path, resize_batch(self._calibration, height, width))
        return path


def default_candidates(configs: Sequence[str] | None = None) -> list[Candidate]:
    """Untrained students of model configs (default: ``DEFAULT_MODELS``) at their training sizes."""
    return [
        Candidate(
            name=c, config=c, trained=False, native=HD_SIZE if c == "student_hd" else PEER_SIZES[0]
        )
        for c in (DEFAULT_MODELS if configs is None else configs)
    ]


def sizes_for(cand: Candidate, peer_res: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The native size first, then the peer sizes (and 288x512 for the HD student)."""
    sizes = [cand.native] if cand.native is not None else []
    sizes += list(peer_res)
    if cand.config == "student_hd" and peer_res:
        sizes.append(HD_SIZE)
    return list(dict.fromkeys(sizes))


def collect_graphs(
    candidates: list[Candidate],
    peer_res: Sequence[tuple[int, int]],
    exporter: Exporter,
    notes: list[str],
) -> list[Graph]:
    """Every (model, precision, size) graph to benchmark, exporting where needed."""
    graphs: list[Graph] = []
    for cand in candidates:
        if cand.fp32 is not None and cand.native is None:
            probe = ort_runner(cand.fp32, 1)
            cand.native = probe.height, probe.width
        for height, width in sizes_for(cand, peer_res):
            native = (height, width) == cand.native and cand.fp32 is not None
            if native:
                fp32, int8 = cand.fp32, cand.int8
                iou32 = _float_or_none(
                    cand.metadata.get("test_iou_onnx") or cand.metadata.get("test_iou")
                )
                iou8 = _float_or_none(cand.int8_metadata.get("test_iou_int8"))
            elif cand.config is not None or cand.weights is not None:
                fp32 = exporter.fp32(cand, height, width)
                want_int8 = cand.config is not None or cand.int8 is not None
                int8 = exporter.int8(cand, fp32, height, width) if want_int8 else None
                iou32 = iou8 = None
            else:
                notes.append(
                    f"{cand.name} skipped at {height}x{width}: its graph is static "
                    f"({cand.native[0]}x{cand.native[1]}) and there is no student.pt next to "
                    f"{cand.fp32} to re-export it."
                )
                continue
            graphs.append(
                Graph(cand.name, "fp32", height, width, fp32, "onnx", iou32, cand.trained)
            )
            if int8 is not None:
                graphs.append(
                    Graph(cand.name, "int8", height, width, int8, "onnx", iou8, cand.trained)
                )
    return graphs


# ---------------------------------------------------------------------------------------------
# measuring


def base_image() -> np.ndarray:
    """The seeded random RGB image (uint8) every benchmark input is resized from."""
    rng = np.random.default_rng(IMAGE_SEED)
    return rng.integers(0, 256, size=(*BASE_SIZE, 3), dtype=np.uint8)


def make_runner(graph: Graph, threads: int, image: np.ndarray | None = None) -> Runner:
    """A runner on ``graph`` whose preallocated input is ``image`` (uint8 HxWx3) resized."""
    x = None
    if image is not None:
        x = resize_batch(image[None], graph.height, graph.width)
        if graph.kind == "tflite":
            x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    if graph.kind == "tflite":
        return tflite_runner(graph.path, threads, x)
    return ort_runner(graph.path, threads, x)


def measure_iou(graph: Graph, images: np.ndarray, masks: np.ndarray) -> float:
    """Foreground IoU over ``images`` at the graph's input size (see the module docstring)."""
    import cv2

    runner = make_runner(graph, 1)
    frame_h, frame_w = images.shape[1:3]
    counts = np.zeros(2, dtype=np.int64)
    for image, mask in zip(images, masks, strict=True):
        x = resize_batch(image[None], runner.height, runner.width)
        if runner.layout == "NHWC":
            x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        prob = np.asarray(runner.predict(x), dtype=np.float32).reshape(runner.height, runner.width)
        prob = cv2.resize(prob, (frame_w, frame_h), interpolation=cv2.INTER_LINEAR)
        counts += mask_counts(prob > 0.5, mask > 0)
    inter, union = counts
    return 1.0 if union == 0 else float(inter / union)


def benchmark(
    graphs: list[Graph], threads: Sequence[int], iters: int, warmup: int, rounds: int = 10
) -> list[dict[str, Any]]:
    """Time every graph with every thread count; one row each (costs counted once per graph).

    For each thread count all graphs are loaded, then timed interleaved in ``rounds`` rounds
    (:func:`~seg.bench.latency.time_interleaved`), so a noisy spell of the machine affects every
    model alike and the ratios between them stay fair.
    """
    image = base_image()
    costs = {id(graph): graph_cost(graph.path) for graph in graphs}
    rows = []
    for n in threads:
        runners = [make_runner(graph, n, image) for graph in graphs]
        timings = time_interleaved([r.run for r in runners], iters, warmup, rounds)
        del runners
        for graph, (median, p90) in zip(graphs, timings, strict=True):
            cost = costs[id(graph)]
            row = {
                "model": graph.model,
                "precision": graph.precision,
                "height": graph.height,
                "width": graph.width,
                "threads": int(n),
                "median_ms": round(median, 4),
                "p90_ms": round(p90, 4),
                "params": cost.params,
                "macs": cost.macs,
                "test_iou": None if graph.test_iou is None else round(graph.test_iou, 5),
            }
            rows.append(row)
            print(
                f"  {graph.model:<22} {graph.precision:<4} {graph.height}x{graph.width:<4} "
                f"threads={n}  median {median:8.3f} ms  p90 {p90:8.3f} ms",
                flush=True,
            )
    add_ratios(rows)
    return rows


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """``ratio_vs_landscape``: median over ``mediapipe_landscape``'s at 144x256, same threads."""
    ref = {
        r["threads"]: r["median_ms"]
        for r in rows
        if r["model"] == REFERENCE and (r["height"], r["width"]) == TARGET_SIZE
    }
    for r in rows:
        base = ref.get(r["threads"]) if (r["height"], r["width"]) == TARGET_SIZE else None
        r["ratio_vs_landscape"] = round(r["median_ms"] / base, 4) if base else None


# ---------------------------------------------------------------------------------------------
# reporting


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in ("onnxruntime", "ai-edge-litert", "onnx", "torch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def verdict(row: dict[str, Any], target_model: str) -> str:
    limit = TARGETS.get(row["precision"])
    if row["model"] != target_model or row["ratio_vs_landscape"] is None or limit is None:
        return "-"
    ok = row["ratio_vs_landscape"] <= limit
    return f"{'pass' if ok else 'FAIL'} (<= {limit}x)"


def sort_key(row: dict[str, Any]) -> tuple:
    peer = row["model"].startswith("mediapipe")
    return (
        row["height"] * row["width"],
        row["height"],
        row["threads"],
        not peer,
        row["model"],
        row["precision"],
    )


def table(rows: list[dict[str, Any]], target_model: str) -> list[str]:
    """The results as markdown table lines."""
    lines = [
        "| model | precision | input | threads | median ms | p90 ms | params | MMACs | test IoU "
        "| x landscape | target |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in sorted(rows, key=sort_key):
        iou = "-" if r["test_iou"] is None else f"{r['test_iou']:.4f}"
        ratio = "-" if r["ratio_vs_landscape"] is None else f"{r['ratio_vs_landscape']:.2f}"
        lines.append(
            f"| {r['model']} | {r['precision']} | {r['height']}x{r['width']} | {r['threads']} "
            f"| {r['median_ms']:.3f} | {r['p90_ms']:.3f} | {r['params']:,} "
            f"| {r['macs'] / 1e6:.1f} | {iou} | {ratio} | {verdict(r, target_model)} |"
        )
    return lines


def write_markdown(
    path: Path,
    rows: list[dict[str, Any]],
    args: argparse.Namespace,
    argv: Sequence[str],
    notes: list[str],
    load: str,
) -> None:
    vers = versions()
    cmd = shlex.join(["python", "scripts/benchmark.py", *argv])
    lines = [
        "# Latency benchmark: students vs MediaPipe selfie segmentation",
        "",
        f"- Command: `{cmd}`",
        f"- Date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- CPU: {cpu_model()} ({os.cpu_count()} logical cores visible), load average at start "
        f"{load}",
        f"- onnxruntime {vers['onnxruntime']}, ai-edge-litert {vers['ai-edge-litert']}, "
        f"onnx {vers['onnx']}, torch {vers['torch']}, Python {platform.python_version()}",
        f"- Threads: {', '.join(map(str, args.threads))}; {args.iters} timed runs after "
        f"{args.warmup} warm-up runs per row (median and 90th percentile of single-image "
        "latency, batch 1)",
        "",
        f"Method: one process; for each thread count every model is loaded, then all are timed "
        f"interleaved in {args.rounds} rounds (each round gives every model its share of the "
        "timed runs in turn), so a noisy spell of the machine hits all models alike. ONNX Runtime (CPU provider, default graph "
        "optimisation, `intra_op_num_threads` = threads, 1 inter-op thread, sequential) times "
        "`session.run` on a preallocated input; LiteRT (`ai_edge_litert` Interpreter, default "
        "XNNPACK delegate, `num_threads` = threads) times set_tensor + invoke + get_tensor. "
        "All inputs are the same seeded random image resized (area) to each size. "
        "Params and MACs are counted from the graphs the same way for ONNX and TFLite "
        "(`seg.bench.macs`: convolutions, transposed convolutions and matmuls; parameters are "
        "the stored weight tensors, each once; batch norm is folded into the convolutions, so a "
        "student's graph has fewer parameters than its PyTorch model by its BN channels).",
        "",
        "MediaPipe rows (`mediapipe_landscape` 144x256, `mediapipe_general` 256x256) are "
        "labelled fp32: their weights are stored as fp16 and dequantized, so XNNPACK computes "
        "in fp32. `x landscape` is the median latency over `mediapipe_landscape`'s at 144x256 "
        f"with the same thread count. Targets ({args.target_model} at 144x256): fp32 <= 0.8x, "
        "int8 <= 0.5x.",
        "",
    ]
    if notes:
        lines += ["Notes:", "", *[f"- {n}" for n in notes], ""]
    lines += table(rows, args.target_model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def write_plot(path: Path, rows: list[dict[str, Any]]) -> None:
    """Median latency (fewest threads) against test IoU, one point per graph."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fewest = min(r["threads"] for r in rows)
    points = [r for r in rows if r["threads"] == fewest]
    known = [r for r in points if r["test_iou"] is not None]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for r in known:
        peer = r["model"].startswith("mediapipe")
        ax.scatter(
            r["median_ms"],
            r["test_iou"],
            marker="s" if peer else "o",
            color="tab:red" if peer else ("tab:blue" if r["precision"] == "fp32" else "tab:green"),
        )
        ax.annotate(
            f"{r['model']} {r['precision']} {r['height']}x{r['width']}",
            (r["median_ms"], r["test_iou"]),
            fontsize=7,
            xytext=(4, 3),
            textcoords="offset points",
        )
    if not known:
        ax.text(
            0.5,
            0.5,
            "test IoU unknown for every model\n(untrained students; pass "
            "--iou-frames N or trained models)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_xlabel(f"median latency, ms ({fewest} thread{'s' if fewest > 1 else ''})")
    ax.set_ylabel("test IoU (synthetic)")
    ax.set_title("Latency vs test IoU (squares: MediaPipe; blue fp32, green int8)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = resolve_args(build_parser().parse_args(argv))
    notes: list[str] = []
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"

    candidates = [candidate_from_path(n, p) for n, p in args.model]
    untrained = args.untrained if args.untrained is not None else ([] if args.model else None)
    candidates += default_candidates(untrained)
    names = [c.config for c in candidates if not c.trained]
    if names:
        notes.append(
            f"Untrained students built from model configs {', '.join(names)}: their test IoU is "
            "unknown (latency, params and MACs do not depend on the weights)."
        )
    peers = {}
    reason = missing_reason(args.peers_dir)
    if reason:
        notes.append(reason)
        print(reason, flush=True)
    else:
        peers = find_peers(args.peers_dir)

    with tempfile.TemporaryDirectory(prefix="seg-bench-") as tmp:
        exporter = Exporter(Path(tmp), args.calibration_frames, notes)
        graphs = collect_graphs(candidates, args.peer_res, exporter, notes)
        for peer in PEERS:
            if peer.name in peers:
                graphs.append(
                    Graph(peer.name, "fp32", peer.height, peer.width, peers[peer.name], "tflite")
                )
        if not args.iou_frames and any(g.test_iou is not None for g in graphs):
            notes.append(
                "Test IoU of our models is read from the graphs' metadata (fp32: test_iou_onnx, "
                "else test_iou; int8: test_iou_int8), at their own size only; pass --iou-frames N "
                "to measure every model here."
            )
        if args.iou_frames:
            images, masks = load_frames("test", args.iou_frames)
            notes.append(
                f"Test IoU measured on the first {len(images)} synthetic test frames "
                f"({images.shape[1]}x{images.shape[2]}), resized to each model's input."
            )
            for g in graphs:
                if g.trained:
                    print(f"  IoU of {g.model} {g.precision} {g.height}x{g.width} ...", flush=True)
                    g.test_iou = measure_iou(g, images, masks)
        print(
            f"Timing {len(graphs)} graphs x threads {args.threads} "
            f"({args.iters} runs after {args.warmup} warm-up) ...",
            flush=True,
        )
        rows = benchmark(graphs, args.threads, args.iters, args.warmup, args.rounds)

    for note in notes:
        print(f"note: {note}")
    print("\n".join(table(rows, args.target_model)))
    write_markdown(args.markdown, rows, args, argv, notes, load)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2) + "\n")
    write_plot(args.plot, rows)
    print(f"wrote {args.markdown}, {args.json}, {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
