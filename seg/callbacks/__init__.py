"""Lightning callbacks of seg."""

from seg.callbacks.onnx_export import OnnxExport
from seg.callbacks.previews import PreviewContactSheet

__all__ = ["OnnxExport", "PreviewContactSheet"]
