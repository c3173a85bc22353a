"""Load a distillation teacher from a weights file and check it is the configured architecture."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from seg.errors import ModelFileError
from seg.models.weights import build_model, load_state, read_weights

# Keys that do not change the architecture or the meaning of the weights.
_IGNORED = {"pretrained", "encoder_kwargs", "min_size"}


def _arch(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in _IGNORED}


def _describe(config: Mapping[str, Any]) -> str:
    fields = ", ".join(f"{k}={v}" for k, v in sorted(_arch(config).items()) if k != "_target_")
    return f"{config.get('_target_', '?')}({fields})"


def check_same_architecture(
    found: Mapping[str, Any], expected: Mapping[str, Any], *, source: str
) -> None:
    """Raise when a weights file holds another architecture than the config asks for.

    Raises:
        ModelFileError: Naming both architectures and the keys that differ.
    """
    a, b = _arch(found), _arch(expected)
    if a == b:
        return
    keys = sorted(k for k in set(a) | set(b) if a.get(k, "<unset>") != b.get(k, "<unset>"))
    diffs = "; ".join(
        f"{k}: checkpoint {a.get(k, '<unset>')} vs config {b.get(k, '<unset>')}" for k in keys
    )
    raise ModelFileError(
        f"Teacher checkpoint {source} holds {_describe(found)}, but teacher.model is "
        f"{_describe(expected)} ({diffs}). Point teacher.checkpoint at weights of that "
        f"architecture, or set teacher.model to match the checkpoint."
    )


def load_teacher(
    checkpoint: str | Path, model_config: Mapping[str, Any]
) -> tuple[nn.Module, dict[str, Any]]:
    """Build ``model_config``, load ``checkpoint`` into it, and freeze it.

    Args:
        checkpoint: A ``teacher.pt``/``student.pt`` or a Lightning checkpoint written by train.py.
        model_config: The teacher's model config (``teacher.model``).

    Returns:
        ``(teacher, metadata)``: the network in eval mode with gradients off, and the file's
        metadata (its metrics when the file has them).

    Raises:
        MissingFileError: When the file does not exist (a run names ``teacher.checkpoint`` in
            :func:`seg.config.validate_run_config` before it gets here).
        ModelFileError: When it holds another architecture, naming both.
    """
    found, state, metadata = read_weights(checkpoint)
    check_same_architecture(found, model_config, source=str(checkpoint))
    teacher = build_model(model_config)
    load_state(teacher, state, source=f"Teacher checkpoint {checkpoint}")
    teacher.eval().requires_grad_(False)
    return teacher, metadata
