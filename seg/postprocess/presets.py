"""Presets and loading: a post-processor from a preset name, a settings file or a dict.

The presets are the YAML files of ``configs/postprocess/`` (one source of truth: Hydra composes
them as the ``postprocess`` group of every run, and :func:`load_postprocess` reads the same files).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from seg.errors import ConfigError, MissingFileError
from seg.paths import config_dir
from seg.postprocess.processor import PostProcessor
from seg.postprocess.settings import GROUP_DEFAULTS, SETTING_KEYS, normalize_settings

PRESETS = ("none", "default", "smooth")
SETTINGS_SUFFIXES = (".json", ".yaml", ".yml")


def preset_dir() -> Path:
    """``configs/postprocess`` of the checkout (or of ``$SEG_CONFIG_DIR``)."""
    return config_dir() / "postprocess"


def _read(path: Path) -> Any:
    text = path.read_text()
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ConfigError(
            f"postprocess settings file {path}: not valid {path.suffix[1:]}: {error}"
        ) from error


def _unwrap(data: Any, origin: str) -> dict[str, Any]:
    """The settings dict inside ``data``: itself, or its ``postprocess`` entry (a sidecar such as
    ``export.json`` or a run's ``.hydra/config.yaml``)."""
    if isinstance(data, Mapping) and isinstance(data.get("postprocess"), Mapping):
        data = data["postprocess"]
    if not isinstance(data, Mapping):
        raise ConfigError(f"postprocess settings {origin}: expected a mapping, got {data!r:.80}.")
    return {str(k): v for k, v in data.items() if not str(k).startswith("_")}


def _resolve(spec: str | Path) -> Path:
    """The file of a preset name or a settings path."""
    path = Path(spec)
    if path.suffix.lower() in SETTINGS_SUFFIXES or len(path.parts) > 1:
        if not path.is_file():
            raise MissingFileError(f"postprocess settings file {path}: no such file.")
        return path
    preset = preset_dir() / f"{spec}.yaml"
    if not preset.is_file():
        extra = sorted(p.stem for p in preset_dir().glob("*.yaml") if p.stem not in PRESETS)
        names = [*PRESETS, *extra]
        raise ConfigError(
            f"postprocess preset {spec!r}: unknown; presets: {', '.join(names)} (or a path to a "
            ".json/.yaml settings file)."
        )
    return preset


def parse_override(override: str) -> tuple[list[str], Any]:
    """``'temporal.ratio=0.5'`` -> ``(['temporal', 'ratio'], 0.5)``; the value is a YAML scalar
    (``1e-3`` is read as a number, which plain YAML 1.1 leaves a string)."""
    key, sep, text = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"postprocess override {override!r}: must be key=value.")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as error:
        raise ConfigError(f"postprocess override {override!r}: bad value: {error}") from error
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    return key.strip().split("."), value


def apply_overrides(settings: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Full ``settings`` with ``key=value`` overrides applied (``group=mode`` sets a group's
    mode, ``group.key=value`` one of its parameters).

    Raises:
        ConfigError: For an unknown key (naming it and the valid keys) or a bad value.
    """
    out = normalize_settings(settings)
    for override in overrides:
        keys, value = parse_override(override)
        top = keys[0]
        if top not in SETTING_KEYS:
            raise ConfigError(
                f"postprocess override {override!r}: unknown key {top!r}; valid keys: "
                f"{', '.join(SETTING_KEYS)}."
            )
        if top in GROUP_DEFAULTS:
            group = dict(out[top])
            if len(keys) == 1 and not isinstance(value, Mapping):
                group["mode"] = value
            elif len(keys) == 1:
                group.update(value)
            else:
                group[".".join(keys[1:])] = value
            out[top] = group
        elif len(keys) > 1:
            raise ConfigError(
                f"postprocess override {override!r}: {top} is not a group; groups: "
                f"{', '.join(GROUP_DEFAULTS)}."
            )
        else:
            out[top] = value
    return normalize_settings(out)


def load_settings(
    spec: str | Path | Mapping[str, Any], overrides: Sequence[str] | None = None
) -> dict[str, Any]:
    """The full, validated settings of ``spec`` with ``overrides`` (as :func:`load_postprocess`)."""
    if isinstance(spec, Mapping):
        settings = _unwrap(spec, "dict")
    else:
        path = _resolve(spec)
        settings = _unwrap(_read(path), str(path))
    return apply_overrides(settings, list(overrides or ()))


def load_postprocess(
    spec: str | Path | Mapping[str, Any], overrides: Sequence[str] | None = None
) -> PostProcessor:
    """A :class:`PostProcessor` from a preset, a settings file or a dict.

    Args:
        spec: A preset name (:data:`PRESETS`, or any ``configs/postprocess/<name>.yaml``), a path
            to a ``.json``/``.yaml`` file holding settings or a sidecar with a ``postprocess``
            key (``export.json``, a run's ``.hydra/config.yaml``), or a settings dict. Keys that
            start with ``_`` (Hydra's ``_target_``) are ignored.
        overrides: ``key=value`` strings applied on top, values parsed as YAML scalars; dotted
            keys set a group's parameter (``temporal.ratio=0.5``), ``threshold=hard`` a group's
            mode, ``dilate_px=2`` a flat key.

    Returns:
        The post-processor, with a fresh temporal state.

    Raises:
        ConfigError: For an unknown preset or key (naming it and the valid ones) or a bad value.
        MissingFileError: When a settings path does not exist.
    """
    return PostProcessor(**load_settings(spec, overrides))
