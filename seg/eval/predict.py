"""A trained model ready to run on ``[0, 1]`` RGB frames: PyTorch weights or an exported graph.

:func:`load_predictor` takes whatever a run leaves behind — the run dir, ``student.pt`` /
``teacher.pt``, a Lightning ``.ckpt`` or an ``.onnx`` graph — and returns a :class:`Predictor` that
maps ``N x 3 x H x W`` float32 frames to ``N x 1 x H x W`` foreground probabilities, together with
what the reports need to know about it (input size, threshold, parameter count, metadata)::

    from seg.eval.predict import load_predictor
    predictor = load_predictor("logs/student/<run>")
    probs = predictor(images)  # N x 3 x H x W in [0, 1] -> N x 1 x H x W probabilities
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZE = (144, 256)
DEFAULT_THRESHOLD = 0.5
WEIGHT_NAMES = ("student.pt", "checkpoints/best.ckpt", "checkpoints/last.ckpt")
TORCH_SUFFIXES = (".pt", ".pth", ".ckpt")


@dataclass
class Predictor:
    """A trained model ready to run: PyTorch weights or an ONNX graph.

    Attributes:
        name: Short name for reports (``student``, ``teacher`` or the file / run name).
        kind: ``"torch"`` or ``"onnx"``.
        path: The weights or graph file.
        run_dir: The training run dir when known (it has ``.hydra/config.yaml``), else None.
        height: Input height the model was trained / exported at.
        width: Input width.
        threshold: Mask threshold (run config ``module.threshold`` or ONNX metadata; else 0.5).
        params: Parameter count (for an ONNX graph: its layers' stored weights as
            :func:`seg.bench.macs.onnx_cost` counts them for the benchmark, with batch norms folded
            into convolutions), or None when unknown.
        metadata: The file's metadata (ONNX ``metadata_props``, JSON values decoded, or the
            weights file's metadata).
    """

    name: str
    kind: str
    path: Path
    run_dir: Path | None
    height: int
    width: int
    threshold: float
    params: int | None
    metadata: dict[str, Any] = field(default_factory=dict)
    runner: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Foreground probabilities of a batch.

        Args:
            images: ``N x 3 x H x W`` float32 RGB in ``[0, 1]``.

        Returns:
            ``N x 1 x H x W`` float32 probabilities.
        """
        if self.runner is None:
            raise RuntimeError(f"Predictor {self.name} ({self.path}) has no model loaded.")
        images = np.ascontiguousarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(
                f"{self.path.name}: expected N x 3 x H x W frames, got {images.shape}."
            )
        return np.asarray(self.runner(images), dtype=np.float32)


def find_weights(source: str | Path) -> tuple[Path, Path | None]:
    """``(model file, run dir or None)`` for a run dir, a ``.pt``/``.ckpt`` or an ``.onnx`` file.

    A run dir resolves to ``student.pt``, else ``checkpoints/best.ckpt``, else
    ``checkpoints/last.ckpt``. A file's run dir is its folder (or the folder above
    ``checkpoints/``) when that holds ``.hydra/config.yaml``.

    Raises:
        FileNotFoundError: When nothing usable is there; the message names the path.
    """
    source = Path(source)
    if source.is_dir():
        for name in WEIGHT_NAMES:
            if (source / name).is_file():
                known = (source / ".hydra" / "config.yaml").is_file()
                return source / name, source if known else None
        raise FileNotFoundError(
            f"{source}: no student.pt or checkpoints/best.ckpt inside; pass a run dir written by "
            "train.py, a weights file (student.pt, teacher.pt, .ckpt) or an .onnx graph."
        )
    if not source.is_file():
        raise FileNotFoundError(
            f"{source}: no such run dir or weights file (expected a run dir, .pt, .ckpt or .onnx)."
        )
    run_dir = source.parent.parent if source.parent.name == "checkpoints" else source.parent
    return source, run_dir if (run_dir / ".hydra" / "config.yaml").is_file() else None


def run_settings(run_dir: Path | None) -> dict[str, Any]:
    """``height``, ``width`` and ``threshold`` from a run's saved config, where it has them."""
    if run_dir is None:
        return {}
    from omegaconf import OmegaConf

    from seg.config import register_resolvers

    os.environ.setdefault("PROJECT_ROOT", str(ROOT))  # the saved config's ${oc.env:PROJECT_ROOT}
    register_resolvers()
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    out: dict[str, Any] = {}
    for key, dotted, cast in (
        ("height", "data.height", int),
        ("width", "data.width", int),
        ("threshold", "module.threshold", float),
    ):
        try:
            value = OmegaConf.select(cfg, dotted, throw_on_missing=False)
        except Exception:  # noqa: BLE001 - an interpolation that resolves only inside Hydra
            value = None
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


def _torch_predictor(path: Path, run_dir: Path | None, device: str, threads: int) -> Predictor:
    import torch

    from seg.models.weights import load_model

    if threads > 0:
        torch.set_num_threads(threads)
    net = load_model(path, map_location=device)
    meta = dict(getattr(net, "seg_metadata", {}) or {})
    settings = run_settings(run_dir)
    size = meta.get("input_size") or DEFAULT_SIZE
    height = settings.get("height", int(size[0]))
    width = settings.get("width", int(size[1]))
    threshold = float(settings.get("threshold", meta.get("threshold", DEFAULT_THRESHOLD)))

    @torch.no_grad()
    def run(images: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(images).to(device)
        return net(x).probs.float().cpu().numpy()

    return Predictor(
        name=_name(path, run_dir),
        kind="torch",
        path=path,
        run_dir=run_dir,
        height=height,
        width=width,
        threshold=threshold,
        params=sum(p.numel() for p in net.parameters()),
        metadata=meta,
        runner=run,
    )


def _onnx_predictor(path: Path, run_dir: Path | None, threads: int) -> Predictor:
    from seg.bench.macs import onnx_cost
    from seg.export.onnx import read_metadata
    from seg.export.verify import OnnxModel

    try:
        model = OnnxModel(path, threads=threads)
    except Exception as err:  # noqa: BLE001 - ONNX Runtime raises its own exception types
        raise ValueError(
            f"{path}: not a loadable ONNX graph ({type(err).__name__}: {err})."
        ) from err
    meta = {k: _decode(v) for k, v in read_metadata(path).items()}
    try:
        threshold = float(meta.get("threshold", DEFAULT_THRESHOLD))
    except (TypeError, ValueError):
        threshold = DEFAULT_THRESHOLD
    return Predictor(
        name=_name(path, run_dir),
        kind="onnx",
        path=path,
        run_dir=run_dir,
        height=model.height,
        width=model.width,
        threshold=threshold,
        params=onnx_cost(path).params,
        metadata=meta,
        runner=model,
    )


def load_predictor(path: str | Path, device: str = "cpu", threads: int = 0) -> Predictor:
    """Load a model for evaluation.

    Args:
        path: A run dir (``student.pt``, else ``checkpoints/best.ckpt``), a ``.pt``
            (``student.pt``/``teacher.pt``), a seg Lightning ``.ckpt`` or an ``.onnx`` graph.
        device: Torch device for weights files (ONNX graphs run on ONNX Runtime's CPU provider).
        threads: Torch intra-op threads / ONNX Runtime ``intra_op_num_threads``; 0 keeps the
            default.

    Returns:
        The :class:`Predictor`. Its input size is the ONNX graph's input; for weights, the run's
        ``data.height``/``data.width`` when the run config is known, else the weights metadata's
        ``input_size``, else 144 x 256.

    Raises:
        FileNotFoundError: When ``path`` does not exist or a run dir holds no weights.
        ValueError: When the file is not a seg weights file or ONNX graph.
    """
    weights, run_dir = find_weights(path)
    suffix = weights.suffix.lower()
    if suffix == ".onnx":
        return _onnx_predictor(weights, run_dir, threads)
    if suffix in TORCH_SUFFIXES:
        return _torch_predictor(weights, run_dir, device, threads)
    raise ValueError(
        f"{weights}: unknown model file type '{weights.suffix}'; expected a run dir, a .pt/.ckpt "
        "weights file or an .onnx graph."
    )
