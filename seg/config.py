"""OmegaConf resolvers used by seg's configs (registered by ``train.py`` before Hydra composes), and
composing ``configs/train.yaml`` outside ``train.py``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def register_resolvers() -> None:
    """Register ``${seg_precision:}`` (see :func:`seg.utils.auto_precision`). Idempotent."""
    if not OmegaConf.has_resolver("seg_precision"):

        def _precision() -> str:
            from seg.utils import auto_precision

            return auto_precision()

        OmegaConf.register_new_resolver("seg_precision", _precision)


def compose_train(
    overrides: Sequence[str] = (), config_dir: str | Path | None = None
) -> DictConfig:
    """``configs/train.yaml`` composed with ``overrides`` as ``train.py`` would, without a run.

    Inside ``train.py``'s ``@hydra.main`` (Hydra already initialised) it composes with that
    instance; elsewhere (scripts, tools) it initialises Hydra on ``config_dir`` (default: the
    repository's ``configs/``) for the call. Resolvers are registered first.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_resolvers()
    if GlobalHydra.instance().is_initialized():
        return compose("train", overrides=list(overrides))
    with initialize_config_dir(config_dir=str(config_dir or CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=list(overrides))
