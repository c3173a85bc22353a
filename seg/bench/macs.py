"""Parameters and multiply-accumulates counted from exported graphs (ONNX and TFLite) alike.

Both counters read the graph, not the framework model, so students (ONNX, fp32 or int8 QDQ) and
the MediaPipe peers (TFLite) are measured the same way:

* MACs: convolutions (``out_elems * in_ch / groups * kh * kw``), transposed convolutions
  (``in_elems * out_ch / groups * kh * kw``: every input pixel is scattered into ``kh x kw``
  outputs of every output channel), fully connected layers and matrix products
  (``out_elems * K``). Element-wise ops, pooling, resizes and activations are not counted (as in
  ``torch.utils.flop_counter``, which :func:`seg.models.summary.describe` uses).
* Parameters: elements of the constant weight and bias tensors of those layers (and of
  normalisation scale/shift and PReLU slopes, when the graph keeps them), followed back through
  dequantisation (``DequantizeLinear``/``DEQUANTIZE``) and casts to the stored tensor, each counted
  once: a fp16 TFLite weight counts once, not again as its dequantised fp32 copy, and an int8
  weight counts as its int8 tensor.

A graph with batch normalisation folded into convolutions (ONNX export, TFLite) has one bias per
channel where PyTorch counts a BN weight and bias, so its parameter count can be smaller than
``sum(p.numel())`` of the PyTorch model by the number of BN channels that had a bias-free conv.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class GraphCost:
    """Parameters and MACs of one graph at its (static) input size.

    Attributes:
        params: Elements of the weight tensors (each stored tensor once).
        macs: Multiply-accumulates of one inference on one image.
        by_op: MACs per op type.
    """

    params: int
    macs: int
    by_op: dict[str, int]


def _prod(shape) -> int:
    return int(np.prod([int(d) for d in shape], dtype=np.int64)) if len(shape) else 1


# ---------------------------------------------------------------------------------------------
# ONNX

# op type -> indices of its inputs that are weights/biases (counted as parameters when constant)
ONNX_WEIGHT_INPUTS: dict[str, tuple[int, ...]] = {
    "Conv": (1, 2),
    "ConvTranspose": (1, 2),
    "Gemm": (0, 1, 2),
    "MatMul": (0, 1),
    "ConvInteger": (1,),
    "MatMulInteger": (0, 1),
    "QLinearConv": (3, 8),
    "QLinearMatMul": (0, 3),
    "BatchNormalization": (1, 2),
    "LayerNormalization": (1, 2),
    "InstanceNormalization": (1, 2),
    "PRelu": (1,),
}
# ops that only re-express a stored tensor (followed back to it when counting parameters)
ONNX_PASS_THROUGH = {"DequantizeLinear", "Cast", "Identity"}


def _onnx_shapes(model) -> dict[str, list[int | None]]:
    """Shapes of every tensor of ``model`` after ONNX shape inference (symbolic dims -> None)."""
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model)
    graph = inferred.graph
    shapes: dict[str, list[int | None]] = {}
    for info in [*graph.input, *graph.value_info, *graph.output]:
        tensor_type = info.type.tensor_type
        if not tensor_type.HasField("shape"):
            continue
        shapes[info.name] = [
            d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim
        ]
    for init in graph.initializer:
        shapes[init.name] = list(init.dims)
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    shapes[node.output[0]] = list(attr.t.dims)
    return shapes


def _elems(shapes: dict[str, list[int | None]], name: str, what: str) -> int:
    """Element count of tensor ``name``, a symbolic batch (first dim) read as 1."""
    shape = shapes.get(name)
    if shape is None:
        raise ValueError(f"ONNX MAC counter: shape of {what} tensor '{name}' is unknown")
    dims = [1 if (d is None and i == 0) else d for i, d in enumerate(shape)]
    if any(d is None for d in dims):
        raise ValueError(
            f"ONNX MAC counter: {what} tensor '{name}' has a symbolic shape {shape}; "
            "count a graph with a static input size."
        )
    return _prod(dims)


def onnx_cost(path_or_model) -> GraphCost:
    """Count parameters and MACs of an ONNX graph (fp32 or quantized QDQ / QOperator).

    Args:
        path_or_model: An ``.onnx`` path or a loaded ``onnx.ModelProto``.

    Returns:
        The :class:`GraphCost`.

    Raises:
        ValueError: When a counted layer's shapes cannot be inferred.
    """
    import onnx

    model = path_or_model
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(path_or_model))
    graph = model.graph
    shapes = _onnx_shapes(model)
    constants = {init.name for init in graph.initializer}
    constants |= {n.output[0] for n in graph.node if n.op_type == "Constant"}
    producer = {out: node for node in graph.node for out in node.output}

    def source(name: str) -> str | None:
        """The stored constant behind ``name`` (through dequantize/cast), or None."""
        seen = 0
        while name not in constants:
            node = producer.get(name)
            if node is None or node.op_type not in ONNX_PASS_THROUGH or seen > 8:
                return None
            name, seen = node.input[0], seen + 1
        return name

    macs: dict[str, int] = {}
    weights: dict[str, int] = {}
    for node in graph.node:
        op = node.op_type
        where = f"{op} node '{node.name or node.output[0]}'"
        count = 0
        if op in ("Conv", "ConvInteger", "QLinearConv"):
            w = node.input[3 if op == "QLinearConv" else 1]
            # weight [out, in/groups, kh, kw(, ...)]: each output element costs prod(w[1:])
            w_shape = shapes.get(w)
            if w_shape is None:
                raise ValueError(f"ONNX MAC counter: unknown weight shape of {where}")
            count = _elems(shapes, node.output[0], where) * _prod(w_shape[1:])
        elif op == "ConvTranspose":
            # weight [in, out/groups, kh, kw]: each input element feeds prod(w[1:]) outputs
            w_shape = shapes.get(node.input[1])
            if w_shape is None:
                raise ValueError(f"ONNX MAC counter: unknown weight shape of {where}")
            count = _elems(shapes, node.input[0], where) * _prod(w_shape[1:])
        elif op in ("Gemm", "MatMul", "MatMulInteger", "QLinearMatMul"):
            a = node.input[0]
            a_shape = shapes.get(a)
            if a_shape is None:
                raise ValueError(f"ONNX MAC counter: unknown input shape of {where}")
            if op == "Gemm":
                trans_a = next((at.i for at in node.attribute if at.name == "transA"), 0)
                k = a_shape[0] if trans_a else a_shape[-1]
            else:
                k = a_shape[-1]
            if k is None:
                raise ValueError(f"ONNX MAC counter: symbolic reduction size in {where}")
            count = _elems(shapes, node.output[0], where) * int(k)
        if count:
            macs[op] = macs.get(op, 0) + count
        for index in ONNX_WEIGHT_INPUTS.get(op, ()):
            if index < len(node.input) and node.input[index]:
                stored = source(node.input[index])
                if stored is not None and stored not in weights:
                    weights[stored] = _prod(shapes[stored])
    return GraphCost(params=sum(weights.values()), macs=sum(macs.values()), by_op=macs)


# ---------------------------------------------------------------------------------------------
# TFLite

# op name -> indices of its inputs that are weights/biases
TFLITE_WEIGHT_INPUTS: dict[str, tuple[int, ...]] = {
    "CONV_2D": (1, 2),
    "DEPTHWISE_CONV_2D": (1, 2),
    "FULLY_CONNECTED": (1, 2),
    "TRANSPOSE_CONV": (1, 3),
    "Convolution2DTransposeBias": (1, 2),
    "CONV_3D": (1, 2),
    "BATCH_MATMUL": (0, 1),
    "PRELU": (1,),
}
TFLITE_PASS_THROUGH = {"DEQUANTIZE", "CAST"}


def tflite_cost(path: str | Path) -> GraphCost:
    """Count parameters and MACs of a TFLite model from its op list and tensor shapes.

    Filters follow TFLite's layouts: ``CONV_2D`` ``[out, kh, kw, in]``, ``DEPTHWISE_CONV_2D``
    ``[1, kh, kw, out]``, ``FULLY_CONNECTED`` ``[units, in]``, ``TRANSPOSE_CONV`` and MediaPipe's
    custom ``Convolution2DTransposeBias`` ``[out, kh, kw, in]``.

    Args:
        path: The ``.tflite`` file.

    Returns:
        The :class:`GraphCost`.

    Raises:
        ImportError: Without ``ai_edge_litert``.
    """
    from seg.inference.backends import tflite_interpreter

    interpreter = tflite_interpreter(path, 1)
    ops = interpreter._get_ops_details()  # noqa: SLF001 - the only API listing ops and tensors
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    model_inputs = {d["index"] for d in interpreter.get_input_details()}
    producer = {int(out): op for op in ops for out in op["outputs"]}

    def shape(index: int) -> list[int]:
        return [int(d) for d in tensors[int(index)]["shape"]]

    def source(index: int) -> int | None:
        seen = 0
        index = int(index)
        while index in producer:
            op = producer[index]
            if op["op_name"] not in TFLITE_PASS_THROUGH or seen > 8:
                return None
            index, seen = int(op["inputs"][0]), seen + 1
        return None if index in model_inputs else index

    macs: dict[str, int] = {}
    weights: dict[int, int] = {}
    for op in ops:
        name = op["op_name"]
        inputs = [int(i) for i in op["inputs"]]
        out_elems = _prod(shape(op["outputs"][0])) if len(op["outputs"]) else 0
        count = 0
        if name == "CONV_2D":
            count = out_elems * _prod(shape(inputs[1])[1:])
        elif name == "CONV_3D":  # filter [kd, kh, kw, in, out]
            count = out_elems * _prod(shape(inputs[1])[:-1])
        elif name == "DEPTHWISE_CONV_2D":
            f = shape(inputs[1])
            count = out_elems * f[1] * f[2]
        elif name == "FULLY_CONNECTED":
            count = out_elems * shape(inputs[1])[-1]
        elif name == "BATCH_MATMUL":
            count = out_elems * shape(inputs[0])[-1]
        elif name in ("TRANSPOSE_CONV", "Convolution2DTransposeBias"):
            data = inputs[2] if name == "TRANSPOSE_CONV" else inputs[0]
            f = shape(inputs[1])  # [out, kh, kw, in]
            count = _prod(shape(data)) * f[0] * f[1] * f[2]
        if count:
            macs[name] = macs.get(name, 0) + count
        for i in TFLITE_WEIGHT_INPUTS.get(name, ()):
            if i < len(inputs) and inputs[i] >= 0:
                stored = source(inputs[i])
                if stored is not None and stored not in weights:
                    weights[stored] = _prod(shape(stored))
    return GraphCost(params=sum(weights.values()), macs=sum(macs.values()), by_op=macs)


def graph_cost(path: str | Path) -> GraphCost:
    """:func:`onnx_cost` or :func:`tflite_cost` by the file's suffix.

    Raises:
        ValueError: For a suffix other than ``.onnx`` or ``.tflite``.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".onnx":
        return onnx_cost(path)
    if suffix == ".tflite":
        return tflite_cost(path)
    raise ValueError(f"graph_cost: expected an .onnx or .tflite file, got {path}")
