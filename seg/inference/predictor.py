"""A trained model ready to run on RGB frames of any size: the one inference API of seg.

:func:`load_predictor` takes whatever a run leaves behind — the run dir, ``student.pt`` /
``teacher.pt``, a Lightning ``.ckpt``, an ``.onnx`` graph (or a ``.tflite`` model) — and returns a
:class:`Predictor` that maps ``uint8`` RGB frames (``H x W x 3``, ``N x H x W x 3`` or a list of
frames of different sizes) to foreground probabilities at each frame's own size::

    from seg.inference import load_predictor
    predictor = load_predictor("logs/attn_distill/<run>")          # or student.onnx, teacher.pt
    probs = predictor(frame)               # 720 x 1280 x 3 uint8 -> 720 x 1280 float32 in [0, 1]
    masks = predictor.masks(frames)        # N x H x W x 3 -> N x H x W bool (the threshold)

Frames are fitted to the model's input with one of the resize policies of :mod:`seg.resize`
(``stretch`` by default, ``fit`` = letterbox, ``cover`` = centre crop) and the probabilities mapped
back with its inverse.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seg.config import load_run_config, run_config_path, select
from seg.errors import MissingFileError, ModelFileError, UserInputError
from seg.inference.backends import Backend, OnnxBackend, TfliteBackend, TorchBackend
from seg.resize import check_mode, fit_frame, unfit

DEFAULT_SIZE = (144, 256)
DEFAULT_THRESHOLD = 0.5
DEFAULT_RESIZE = "stretch"
WEIGHT_NAMES = ("student.pt", "checkpoints/best.ckpt", "checkpoints/last.ckpt")
TORCH_SUFFIXES = (".pt", ".pth", ".ckpt")
Frames = np.ndarray | Sequence[np.ndarray]


def _frame_list(frames: Frames) -> tuple[list[np.ndarray], str]:
    """The frames one by one and how the result comes back (``single``, ``batch`` or ``list``)."""
    if isinstance(frames, np.ndarray):
        if frames.ndim == 3:
            items, shape = [frames], "single"
        elif frames.ndim == 4:
            items, shape = list(frames), "batch"
        else:
            items, shape = [frames], "single"  # rejected below with the shape
    else:
        items, shape = list(frames), "list"
    for frame in items:
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise UserInputError(
                "Predictor takes RGB uint8 frames H x W x 3 (or N x H x W x 3, or a list of "
                f"them); got {frame.dtype} of shape {frame.shape}. For float N x 3 x h x w "
                "input already at the model's size, use Predictor.predict_batch."
            )
    return items, shape


def to_model_input(
    frames: Sequence[np.ndarray], height: int, width: int, resize: str = DEFAULT_RESIZE
) -> np.ndarray:
    """RGB ``uint8`` frames of any sizes -> ``N x 3 x height x width`` float32 in ``[0, 1]``, each
    fitted with the resize policy ``resize`` (calibration and verification frames use this too)."""
    fitted = [fit_frame(np.asarray(f), None, height, width, resize)[0] for f in frames]
    batch = np.stack(fitted).astype(np.float32) / 255.0
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


@dataclass
class Predictor:
    """A trained model and how to feed it.

    Attributes:
        backend: The runtime (:mod:`seg.inference.backends`).
        name: Short name for reports (``student``, ``teacher`` or the file / run name).
        path: The weights or graph file.
        run_dir: The training run dir when known (it has ``.hydra/config.yaml``), else None.
        threshold: Mask threshold (run config ``module.threshold`` or ONNX metadata; else 0.5).
        metadata: The file's metadata (ONNX ``metadata_props`` with JSON values decoded, or the
            weights file's metadata).
        resize: How frames of another size are fitted: ``stretch``, ``fit`` or ``cover``.
        batch_size: Frames per backend call.
        params: Parameter count of a PyTorch model (None for graphs; see
            :func:`seg.bench.macs.graph_cost`).
    """

    backend: Backend
    name: str
    path: Path
    run_dir: Path | None = None
    threshold: float = DEFAULT_THRESHOLD
    metadata: dict[str, Any] = field(default_factory=dict)
    resize: str = DEFAULT_RESIZE
    batch_size: int = 16
    params: int | None = None

    def __post_init__(self) -> None:
        check_mode(self.resize)
        if self.batch_size < 1:
            raise UserInputError(f"batch_size must be >= 1, got {self.batch_size}.")

    @property
    def kind(self) -> str:
        """``torch``, ``onnx`` or ``tflite``."""
        return self.backend.kind

    @property
    def height(self) -> int:
        """Input height of the model."""
        return self.backend.height

    @property
    def width(self) -> int:
        """Input width of the model."""
        return self.backend.width

    def describe(self) -> dict[str, Any]:
        """Name, kind, file, input size and threshold: how reports name the model."""
        return {
            "name": self.name,
            "kind": self.kind,
            "path": str(self.path),
            "input_size": [self.height, self.width],
            "threshold": self.threshold,
        }

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        """``N x 3 x h x w`` float32 in ``[0, 1]`` at the model's input size -> ``N x 1 x h x w``
        probabilities (no resizing), in chunks of ``batch_size``."""
        images = np.asarray(images, dtype=np.float32)
        parts = [
            self.backend.run(images[i : i + self.batch_size])
            for i in range(0, len(images), self.batch_size)
        ]
        if not parts:
            return np.zeros((0, 1, self.height, self.width), np.float32)
        return np.concatenate(parts)

    def __call__(self, frames: Frames) -> np.ndarray | list[np.ndarray]:
        """Foreground probabilities of RGB ``uint8`` frames, at each frame's own size.

        Args:
            frames: ``H x W x 3``, ``N x H x W x 3`` or a list of ``H_i x W_i x 3`` arrays.

        Returns:
            ``H x W``, ``N x H x W`` or a list of ``H_i x W_i`` float32 arrays in ``[0, 1]``.

        Raises:
            UserInputError: For anything but ``uint8`` RGB frames.
        """
        items, shape = _frame_list(frames)
        out: list[np.ndarray] = []
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            x = to_model_input(chunk, self.height, self.width, self.resize)
            probs = self.backend.run(x)[:, 0]
            out += [unfit(p, f.shape[:2], self.resize) for p, f in zip(probs, chunk, strict=True)]
        if shape == "single":
            return out[0]
        if shape == "batch":
            return np.stack(out) if out else np.zeros((0, 0, 0), np.float32)
        return out

    def masks(self, frames: Frames) -> np.ndarray | list[np.ndarray]:
        """Boolean person masks of ``frames`` (probability > ``threshold``), as :meth:`__call__`."""
        probs = self(frames)
        if isinstance(probs, list):
            return [p > self.threshold for p in probs]
        return probs > self.threshold


def find_weights(source: str | Path) -> tuple[Path, Path | None]:
    """``(model file, run dir or None)`` for a run dir or a model file.

    A run dir resolves to ``student.pt``, else ``checkpoints/best.ckpt``, else
    ``checkpoints/last.ckpt``. A file's run dir is its folder (or the folder above
    ``checkpoints/``) when that holds ``.hydra/config.yaml``.

    Raises:
        MissingFileError: When nothing usable is there; the message names the path.
    """
    source = Path(source)
    if source.is_dir():
        for name in WEIGHT_NAMES:
            if (source / name).is_file():
                known = run_config_path(source).is_file()
                return source / name, source if known else None
        raise MissingFileError(
            f"{source}: no student.pt or checkpoints/best.ckpt inside; pass a run dir written by "
            "train.py, a weights file (student.pt, teacher.pt, .ckpt) or an .onnx graph."
        )
    if not source.is_file():
        raise MissingFileError(
            f"{source}: no such run dir or model file (expected a run dir, .pt, .ckpt, .onnx or "
            ".tflite)."
        )
    run_dir = source.parent.parent if source.parent.name == "checkpoints" else source.parent
    return source, run_dir if run_config_path(run_dir).is_file() else None


def run_settings(run_dir: Path | None) -> dict[str, Any]:
    """``height``, ``width`` and ``threshold`` from a run's saved config, where it has them."""
    if run_dir is None:
        return {}
    cfg = load_run_config(run_dir)
    out: dict[str, Any] = {}
    for key, dotted, cast in (
        ("height", "data.height", int),
        ("width", "data.width", int),
        ("threshold", "module.threshold", float),
    ):
        value = select(cfg, dotted)
        if value is not None:
            out[key] = cast(value)
    return out


def _decode(value: str) -> Any:
    """An ONNX metadata value: JSON where it parses (numbers, dicts, lists), else the string."""
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value


def _name(path: Path, run_dir: Path | None) -> str:
    stem = path.name.split(".")[0]
    if stem in ("student", "teacher"):
        return stem
    if path.parent.name == "checkpoints" and run_dir is not None:
        return f"{run_dir.parent.name}/{run_dir.name}/{path.stem}"
    return path.stem


def _torch(path: Path, run_dir: Path | None, device: str, threads: int, **options: Any):
    from seg.models.weights import load_model

    net = load_model(path, map_location=device)
    meta = dict(getattr(net, "seg_metadata", {}) or {})
    settings = run_settings(run_dir)
    size = meta.get("input_size") or DEFAULT_SIZE
    height = settings.get("height", int(size[0]))
    width = settings.get("width", int(size[1]))
    threshold = float(settings.get("threshold", meta.get("threshold", DEFAULT_THRESHOLD)))
    backend = TorchBackend(net, height, width, device=device, threads=threads)
    params = sum(p.numel() for p in net.parameters())
    return Predictor(
        backend, _name(path, run_dir), path, run_dir, threshold, meta, params=params, **options
    )


def _graph(path: Path, run_dir: Path | None, threads: int, **options: Any) -> Predictor:
    if path.suffix.lower() == ".tflite":
        return Predictor(
            TfliteBackend(path, threads), _name(path, run_dir), path, run_dir, **options
        )
    backend = OnnxBackend(path, threads=threads)
    props = backend.session.get_modelmeta().custom_metadata_map  # the graph's metadata_props
    meta = {k: _decode(v) for k, v in props.items()}
    try:
        threshold = float(meta.get("threshold", DEFAULT_THRESHOLD))
    except (TypeError, ValueError):
        threshold = DEFAULT_THRESHOLD
    return Predictor(backend, _name(path, run_dir), path, run_dir, threshold, meta, **options)


def load_predictor(
    path: str | Path,
    device: str = "cpu",
    threads: int = 0,
    resize: str = DEFAULT_RESIZE,
    batch_size: int = 16,
) -> Predictor:
    """Load a trained model for inference.

    Args:
        path: A run dir (``student.pt``, else ``checkpoints/best.ckpt``), a ``.pt``
            (``student.pt``/``teacher.pt``), a seg Lightning ``.ckpt``, an ``.onnx`` graph or a
            ``.tflite`` model.
        device: Torch device for weights files (graphs run on the CPU).
        threads: Torch intra-op threads / ONNX Runtime ``intra_op_num_threads`` / LiteRT
            threads; 0 keeps the runtime's default.
        resize: How frames of another size are fitted: ``stretch``, ``fit`` or ``cover``.
        batch_size: Frames per model call.

    Returns:
        The :class:`Predictor`. Its input size is the graph's input; for weights, the run's
        ``data.height``/``data.width`` when the run config is known, else the weights metadata's
        ``input_size``, else 144 x 256.

    Raises:
        MissingFileError: When ``path`` does not exist or a run dir holds no weights.
        ModelFileError: When the file is not a seg weights file or graph.
    """
    weights, run_dir = find_weights(path)
    options = {"resize": resize, "batch_size": batch_size}
    suffix = weights.suffix.lower()
    if suffix in (".onnx", ".tflite"):
        return _graph(weights, run_dir, threads, **options)
    if suffix in TORCH_SUFFIXES:
        return _torch(weights, run_dir, device, threads, **options)
    raise ModelFileError(
        f"{weights}: unknown model file type '{weights.suffix}'; expected a run dir, a .pt/.ckpt "
        "weights file, an .onnx graph or a .tflite model."
    )
