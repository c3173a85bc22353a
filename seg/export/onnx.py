"""ONNX export of a deployable student: normalisation and the final sigmoid inside the graph.

The exported graph's contract (also written into the file's ``metadata_props``):

* input ``image``: ``float32``, ``N x 3 x H x W`` (NCHW), RGB, values in ``[0, 1]`` (pixels / 255).
  The model normalises internally, so no mean/std pre-processing is needed.
* output ``foreground``: ``float32``, ``N x 1 x H x W``, the foreground (person) probability.
  Threshold it (``threshold`` in the metadata, 0.5 by default) for a hard mask.
* optional output ``edge`` (``include_edge=True``): boundary probability from the edge head.

Shapes are static by default (fastest in ONNX Runtime and what mobile runtimes expect);
``dynamic_batch=True`` makes ``N`` symbolic.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import onnx
import torch
from torch import Tensor, nn

from seg.errors import MissingFileError, UserInputError

log = logging.getLogger(__name__)

INPUT_NAME = "image"
OUTPUT_NAME = "foreground"
EDGE_NAME = "edge"
DEFAULT_OPSET = 18


class DeployableNet(nn.Module):
    """Wrap a seg network so that it maps ``[0, 1]`` RGB to a foreground probability.

    Args:
        net: Any seg model returning :class:`~seg.models.SegOutput` (student or teacher).
        include_edge: Also return the edge head's boundary probability.

    Raises:
        ValueError: When ``include_edge`` is set and ``net`` has no edge head.
    """

    def __init__(self, net: nn.Module, include_edge: bool = False) -> None:
        super().__init__()
        if include_edge and getattr(net, "edge_head", None) is None:
            raise UserInputError(
                "include_edge=True but the model has no edge head (build it with edge_head: true)."
            )
        self.net = net
        self.include_edge = include_edge

    def forward(self, image: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        out = self.net(image)
        foreground = torch.sigmoid(out.logits)
        if self.include_edge:
            return foreground, torch.sigmoid(out.edge_logits)
        return foreground


@contextmanager
def deployable(net: nn.Module, include_edge: bool = False) -> Iterator[DeployableNet]:
    """``net`` wrapped as a :class:`DeployableNet` on CPU in float32 eval mode, for export and for
    the PyTorch side of verification; ``net``'s device and training mode are restored on exit."""
    was_training = net.training
    device = next(net.parameters()).device
    try:
        yield DeployableNet(net, include_edge=include_edge).cpu().float().eval()
    finally:
        net.to(device).train(was_training)


def config_hash(config: Mapping[str, Any]) -> str:
    """Short SHA-256 of a (resolved, plain) config: identifies the training config in metadata."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def export_onnx(
    net: nn.Module,
    path: str | Path,
    height: int,
    width: int,
    *,
    dynamic_batch: bool = False,
    include_edge: bool = False,
    opset: int = DEFAULT_OPSET,
    metadata: Mapping[str, Any] | None = None,
    exporter: str = "dynamo",
) -> Path:
    """Export ``net`` (eval mode, on CPU, float32) as a deployable ONNX graph.

    Args:
        net: The seg network (its training mode and device are restored afterwards).
        path: Output ``.onnx`` file; parent folders are created.
        height: Input height of the graph.
        width: Input width of the graph.
        dynamic_batch: Make the batch axis symbolic instead of 1.
        include_edge: Add the ``edge`` output.
        opset: ONNX opset (>= 17).
        metadata: Extra ``metadata_props`` (values are stringified; dicts and lists as JSON).
        exporter: ``dynamo`` (``torch.export`` based, PyTorch's supported exporter, with the
            onnxscript graph optimiser) or ``torchscript`` (the legacy tracer: about 8x faster to
            export, deprecated by PyTorch; ``debug=smoke`` uses it). Either way the result is
            verified against PyTorch by :func:`~seg.export.verify.verify_export`.

    Returns:
        The path written.

    Raises:
        ValueError: For an opset below 17, an unknown exporter or a size the model rejects.
    """
    if exporter not in ("dynamo", "torchscript"):
        raise UserInputError(f"exporter must be 'dynamo' or 'torchscript'; got '{exporter}'.")
    if opset < 17:
        raise UserInputError(
            f"opset must be >= 17 (LayerNormalization, modern Resize); got {opset}."
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.rand(1, 3, int(height), int(width))
    outputs = [OUTPUT_NAME, EDGE_NAME] if include_edge else [OUTPUT_NAME]
    dynamic_shapes = ({0: torch.export.Dim("batch", min=1, max=1024)},) if dynamic_batch else None
    tmp = path.with_name(path.name + ".tmp")
    quiet = {name: logging.getLogger(name) for name in ("onnxscript", "onnx_ir", "torch.onnx")}
    levels = {name: logger.level for name, logger in quiet.items()}
    try:
        for logger in quiet.values():  # the exporter's optimiser logs every pass at INFO
            logger.setLevel(logging.WARNING)
        with deployable(net, include_edge) as wrapper, warnings.catch_warnings():
            with torch.no_grad():
                wrapper(example)  # fails early with the model's own input-shape message
            warnings.simplefilter("ignore")
            if exporter == "dynamo":
                program = torch.onnx.export(
                    wrapper,
                    (example,),
                    input_names=[INPUT_NAME],
                    output_names=outputs,
                    opset_version=opset,
                    dynamo=True,
                    dynamic_shapes=dynamic_shapes,
                    optimize=True,
                    verbose=False,
                )
                model = program.model_proto
            else:
                model = _torchscript_export(wrapper, example, outputs, opset, dynamic_batch)
    finally:
        for name, logger in quiet.items():
            logger.setLevel(levels[name])
    props = {
        "input_name": INPUT_NAME,
        "input_layout": "NCHW",
        "input_dtype": "float32",
        "input_height": int(height),
        "input_width": int(width),
        "input_color": "RGB",
        "input_range": "[0, 1]",
        "batch": "dynamic" if dynamic_batch else "1",
        "outputs": ",".join(outputs),
        "output": "foreground probability N x 1 x H x W (sigmoid applied)",
        "threshold": 0.5,
        "precision": "fp32",
        "opset": opset,
        "exporter": exporter,
        "producer": "seg",
    }
    props.update(dict(metadata or {}))
    set_metadata(model, props)
    onnx.save(model, str(tmp))
    tmp.replace(path)
    return path


def _torchscript_export(
    wrapper: nn.Module, example: Tensor, outputs: list[str], opset: int, dynamic_batch: bool
) -> onnx.ModelProto:
    """The legacy TorchScript-tracing exporter, into memory."""
    buffer = io.BytesIO()
    axes = {name: {0: "batch"} for name in [INPUT_NAME, *outputs]} if dynamic_batch else None
    torch.onnx.export(
        wrapper,
        (example,),
        buffer,
        input_names=[INPUT_NAME],
        output_names=outputs,
        opset_version=opset,
        dynamo=False,
        dynamic_axes=axes,
        do_constant_folding=True,
    )
    return onnx.load_from_string(buffer.getvalue())


def _to_text(value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def set_metadata(model: onnx.ModelProto, props: Mapping[str, Any]) -> None:
    """Set (or overwrite) ``metadata_props`` entries of an ONNX model in place."""
    existing = {p.key: p for p in model.metadata_props}
    for key, value in props.items():
        if value is None:
            continue
        if key in existing:
            existing[key].value = _to_text(value)
        else:
            entry = model.metadata_props.add()
            entry.key, entry.value = str(key), _to_text(value)


def update_metadata(path: str | Path, props: Mapping[str, Any]) -> None:
    """Rewrite an ``.onnx`` file with extra or changed ``metadata_props``."""
    model = onnx.load(str(path))
    set_metadata(model, props)
    onnx.save(model, str(path))


def read_metadata(path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an ``.onnx`` file as a dict of strings.

    Raises:
        FileNotFoundError: When ``path`` does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"ONNX file not found: {path}")
    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}
