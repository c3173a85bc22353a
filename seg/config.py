"""OmegaConf resolvers used by seg's configs; registered by ``train.py`` before Hydra composes."""

from __future__ import annotations

from omegaconf import OmegaConf


def register_resolvers() -> None:
    """Register ``${seg_precision:}`` (see :func:`seg.utils.auto_precision`). Idempotent."""
    if not OmegaConf.has_resolver("seg_precision"):

        def _precision() -> str:
            from seg.utils import auto_precision

            return auto_precision()

        OmegaConf.register_new_resolver("seg_precision", _precision)
