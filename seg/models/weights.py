"""Standalone weights files: one network's weights plus the config that rebuilds it.

A run writes the trained student as ``student.pt`` (the teacher cache writes ``teacher.pt`` in the
same format): no optimizer state, no teacher weights, no Lightning needed to read it::

    from seg.models import load_model
    net = load_model("logs/attn_distill/<run>/student.pt")  # eval mode, on CPU
    out = net(images)  # images: B x 3 x H x W RGB in [0, 1] -> SegOutput

:func:`load_model` also reads a Lightning checkpoint (``checkpoints/best.ckpt``) written by
``train.py``, whose hyper-parameters carry the model config.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from torch import nn

from seg.errors import MissingFileError, ModelFileError

FORMAT = "seg.model/1"


_PRETRAINED_MODELS = ("seg.models.StudentNet", "seg.models.SmpTeacher")


def _without_pretrained(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with ``pretrained`` off: saved weights replace them, so never download (also
    for a saved config without the key, whose default would be ``auto``)."""
    config = copy.deepcopy(dict(config))
    if "pretrained" in config or str(config.get("_target_", "")).endswith(_PRETRAINED_MODELS):
        config["pretrained"] = False
    return config


def save_model(
    path: str | Path,
    net: nn.Module,
    model_config: Mapping[str, Any],
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``net``'s weights and the config that rebuilds it.

    Args:
        path: Output file (``.pt``); parent folders are created. Written atomically.
        net: The network.
        model_config: Its Hydra config (a plain dict with ``_target_``), resolved.
        metadata: Anything JSON-like to keep alongside (metrics, input size, run dir).

    Returns:
        The path written.
    """
    if "_target_" not in model_config:
        raise ModelFileError(
            f"save_model: model_config needs a '_target_', got keys {list(model_config)}."
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    payload = {
        "format": FORMAT,
        "model_config": dict(model_config),
        "state_dict": state,
        "metadata": dict(metadata or {}),
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def read_weights(
    path: str | Path,
) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
    """Read ``(model_config, state_dict, metadata)`` from a ``.pt`` of :func:`save_model` or a
    Lightning checkpoint of ``train.py``.

    Raises:
        MissingFileError: When ``path`` does not exist.
        ModelFileError: When the file is neither format or has no model config.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"Weights file not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means "not a weights file"
        raise ModelFileError(
            f"{path}: not a readable torch file ({type(err).__name__}: {err})."
        ) from err
    if isinstance(payload, dict) and payload.get("format") == FORMAT:
        return payload["model_config"], payload["state_dict"], payload.get("metadata", {})
    if isinstance(payload, dict) and "state_dict" in payload:  # Lightning checkpoint
        config = (payload.get("hyper_parameters") or {}).get("model_config")
        if not config:
            raise ModelFileError(
                f"{path}: a Lightning checkpoint without 'model_config' in its hyper-parameters, "
                "so the architecture is unknown. Use a checkpoint written by seg's train.py or a "
                "student.pt/teacher.pt file."
            )
        state = {
            k.removeprefix("net."): v
            for k, v in payload["state_dict"].items()
            if k.startswith("net.")
        }
        metadata = {"epoch": payload.get("epoch"), "global_step": payload.get("global_step")}
        return dict(config), state, metadata
    raise ModelFileError(
        f"{path}: not a seg weights file (expected format '{FORMAT}' or a Lightning checkpoint)."
    )


def build_model(model_config: Mapping[str, Any]) -> nn.Module:
    """Instantiate a network from its config, never downloading pretrained weights."""
    return instantiate(_without_pretrained(model_config), _convert_="all")


def load_state(net: nn.Module, state: Mapping[str, torch.Tensor], *, source: str) -> None:
    """``net.load_state_dict(state)`` with an error that lists the mismatching keys and shapes."""
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(state))
        if tuple(own[k].shape) != tuple(state[k].shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        for title, items in (("missing", missing), ("unexpected", unexpected), ("shape", shapes)):
            if items:
                parts.append(f"{len(items)} {title} (e.g. {', '.join(items[:3])})")
        raise ModelFileError(f"{source}: weights do not fit the model: " + "; ".join(parts) + ".")
    net.load_state_dict(state)


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a network from ``student.pt``/``teacher.pt`` (or a seg Lightning checkpoint).

    Args:
        path: The weights file.
        map_location: Device of the returned network.

    Returns:
        The network in eval mode. Its config is at ``net.seg_model_config`` and the file's metadata
        at ``net.seg_metadata``.
    """
    config, state, metadata = read_weights(path)
    net = build_model(config)
    load_state(net, state, source=str(path))
    net.seg_model_config = dict(config)
    net.seg_metadata = dict(metadata)
    return net.to(map_location).eval()
