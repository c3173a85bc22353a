"""What the latency benchmark measures: our students (:class:`Candidate`) and the graphs built from
them, one per model, precision and input size (:class:`Graph`).

A candidate is either a ``--model NAME=PATH`` (an exported ``student.onnx``, with its
``student.int8.onnx`` and ``student.pt`` when they sit next to it) or an untrained student of a
model config (latency, parameters and MACs do not depend on the weights).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seg.bench.options import DEFAULT_MODELS, HD_SIZE, PEER_SIZES
from seg.errors import MissingFileError, UserInputError


@dataclass
class Candidate:
    """One of our students: its files (if any) and how to rebuild it at other sizes.

    Attributes:
        name: Row name in the benchmark.
        fp32: The exported fp32 graph (None for an untrained default student).
        int8: The ``<stem>.int8.onnx`` next to it, if any.
        weights: ``student.pt`` next to the graph, if any (needed to re-export at other sizes).
        config: Model config name of an untrained default student.
        native: The graph's own input size (None: read from the graph when needed).
        trained: False for untrained default students (their IoU is unknown).
        metadata: The fp32 graph's ``metadata_props``.
        int8_metadata: The int8 graph's ``metadata_props``.
    """

    name: str
    fp32: Path | None = None
    int8: Path | None = None
    weights: Path | None = None
    config: str | None = None
    native: tuple[int, int] | None = None
    trained: bool = True
    metadata: dict[str, str] = field(default_factory=dict)
    int8_metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Graph:
    """One benchmarked graph: a model at one precision and one input size.

    Attributes:
        model: Row name.
        precision: ``fp32`` or ``int8``.
        height: Input height.
        width: Input width.
        path: The ``.onnx`` or ``.tflite`` file.
        kind: ``onnx`` or ``tflite``.
        test_iou: Test IoU when known (metadata or measured), else None.
        trained: False for untrained students (IoU is not measured on them).
    """

    model: str
    precision: str
    height: int
    width: int
    path: Path
    kind: str
    test_iou: float | None = None
    trained: bool = True


def float_or_none(value: str | None) -> float | None:
    """A metadata value as a finite float, else None (missing, ``None``/``null``, not a number)."""
    try:
        out = float(value) if value not in (None, "", "None", "null") else None
    except ValueError:
        return None
    return out if out is not None and math.isfinite(out) else None


def candidate_from_path(name: str, path: Path) -> Candidate:
    """A :class:`Candidate` for ``--model NAME=PATH``.

    Args:
        name: The row name.
        path: A ``student.onnx`` (or any ``.onnx``) or a run folder holding ``student.onnx``.

    Raises:
        MissingFileError: When ``path`` does not exist or the folder has no ``student.onnx``.
        UserInputError: When ``path`` is a file but not an ``.onnx`` graph.
    """
    from seg.export.onnx import read_metadata

    path = Path(path)
    if path.is_dir():
        fp32 = path / "student.onnx"
        if not fp32.is_file():
            raise MissingFileError(
                f"--model {name}={path}: the folder has no student.onnx (expected {fp32}; export "
                "the run with scripts/export.py first)."
            )
    elif path.is_file():
        if path.suffix != ".onnx":
            raise UserInputError(
                f"--model {name}={path}: expected a .onnx file or a run folder holding "
                "student.onnx."
            )
        fp32 = path
    else:
        raise MissingFileError(
            f"--model {name}={path}: no such file or folder (expected a student.onnx or a run "
            "folder holding one)."
        )
    meta = read_metadata(fp32)
    int8 = fp32.with_name(fp32.name.removesuffix(".onnx") + ".int8.onnx")
    weights = fp32.with_name("student.pt")
    try:
        native = (int(meta["input_height"]), int(meta["input_width"]))
    except (KeyError, ValueError):
        native = None  # read from the graph's input shape later
    return Candidate(
        name=name,
        fp32=fp32,
        int8=int8 if int8.is_file() else None,
        weights=weights if weights.is_file() else None,
        native=native,
        metadata=meta,
        int8_metadata=read_metadata(int8) if int8.is_file() else {},
    )


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


def like_trained(net: Any, seed: int = 0) -> None:
    """Give an untrained network non-trivial biases and batch-norm statistics, in place.

    Freshly initialised biases and BN shifts are all zero, and the ONNX exporter drops all-zero
    biases, so an untrained export would have fewer tensors (and parameters) than a trained one.
    Small seeded random values make its graph the one a trained student exports to.

    Args:
        net: A ``torch.nn.Module``.
        seed: Seed of the values.
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


def build_default(config: str) -> Any:
    """An untrained student of model config ``config`` (eval mode, :func:`like_trained`)."""
    from seg.build import build_network
    from seg.config import compose_train

    net = build_network(compose_train([f"model={config}"]).model).eval()
    like_trained(net)
    return net
