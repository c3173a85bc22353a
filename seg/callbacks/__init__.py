"""Lightning callbacks of seg."""

from seg.callbacks.previews import PreviewContactSheet

__all__ = ["PreviewContactSheet"]
