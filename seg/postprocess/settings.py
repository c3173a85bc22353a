"""The post-processing settings: their schema, validation and one-line summary.

Settings are a flat dict of five scalars plus three groups (nested dicts with a ``mode``)::

    threshold: {mode: none | hard | soft, level, low, high}
    dilate_px, erode_px: int, pixels of the probabilities
    min_area: float, share of the frame; fill_holes: bool
    refine:    {mode: none | guided, radius, eps}
    feather_px: float, sigma in output pixels
    temporal:  {mode: none | ema | uncertainty, weight, ratio, scene_cut}

:func:`normalize_settings` turns any partial form into the full, validated one (a group may be
given as its mode alone, ``threshold: soft``, or ``null`` for ``none``); every error is a
:class:`~seg.errors.ConfigError` naming the key and what it accepts.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from seg.errors import ConfigError
from seg.postprocess.guided_filter import REFINE_MODES
from seg.postprocess.smoothing import TEMPORAL_MODES

THRESHOLD_MODES = ("none", "hard", "soft")
GROUP_DEFAULTS: dict[str, dict[str, Any]] = {
    "threshold": {"mode": "none", "level": 0.5, "low": 0.3, "high": 0.7},
    "refine": {"mode": "none", "radius": 8.0, "eps": 3.0e-4},
    "temporal": {"mode": "none", "weight": 0.5, "ratio": 0.8, "scene_cut": 0.08},
}
GROUP_MODES = {"threshold": THRESHOLD_MODES, "refine": REFINE_MODES, "temporal": TEMPORAL_MODES}
FLAT_DEFAULTS: dict[str, Any] = {
    "dilate_px": 0,
    "erode_px": 0,
    "min_area": 0.0,
    "fill_holes": False,
    "feather_px": 0.0,
}
SETTING_KEYS = (
    "threshold",
    "dilate_px",
    "erode_px",
    "min_area",
    "fill_holes",
    "refine",
    "feather_px",
    "temporal",
)


def _number(
    key: str,
    value: Any,
    low: float,
    high: float,
    *,
    open_low: bool = False,
    open_high: bool = False,
    integer: bool = False,
) -> float | int:
    """``value`` as a float (or int) if it is a finite number in the interval, else ConfigError."""
    bounds = f"{'(' if open_low else '['}{low:g}, {'inf' if high == math.inf else f'{high:g}'}"
    bounds += ")" if open_high or high == math.inf else "]"
    kind = "an integer" if integer else "a number"
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or (integer and int(value) != value)
        or value < low
        or value > high
        or (open_low and value == low)
        or (open_high and value == high)
    ):
        raise ConfigError(f"postprocess {key}={value!r}: must be {kind} in {bounds}.")
    return int(value) if integer else float(value)


def _group(name: str, value: Any) -> dict[str, Any]:
    """The full dict of group ``name`` from ``None``, a mode string or a partial mapping."""
    if value is None:
        value = {"mode": "none"}
    elif isinstance(value, str):
        value = {"mode": value}
    elif not isinstance(value, Mapping):
        raise ConfigError(
            f"postprocess {name}={value!r}: must be a mode ({', '.join(GROUP_MODES[name])}), "
            f"null, or a mapping with keys {', '.join(GROUP_DEFAULTS[name])}."
        )
    unknown = [k for k in value if k not in GROUP_DEFAULTS[name]]
    if unknown:
        raise ConfigError(
            f"postprocess {name}.{unknown[0]}: unknown key; valid keys: "
            f"{', '.join(GROUP_DEFAULTS[name])}."
        )
    group = {**GROUP_DEFAULTS[name], **value}
    mode = "none" if group["mode"] is None else group["mode"]
    if mode not in GROUP_MODES[name]:
        hint = ""
        if name == "refine" and mode == "bilateral":
            hint = (
                " (a joint bilateral needs cv2.ximgproc, which opencv-python-headless lacks; "
                "guided is the edge-aware refinement)"
            )
        raise ConfigError(
            f"postprocess {name}.mode={mode!r}: must be one of {', '.join(GROUP_MODES[name])}"
            f"{hint}."
        )
    group["mode"] = mode
    return group


def _check_threshold(group: dict[str, Any]) -> None:
    group["level"] = _number("threshold.level", group["level"], 0.0, 1.0)
    group["low"] = _number("threshold.low", group["low"], 0.0, 1.0, open_high=True)
    group["high"] = _number("threshold.high", group["high"], 0.0, 1.0, open_low=True)
    if group["low"] >= group["high"]:
        raise ConfigError(
            f"postprocess threshold.low={group['low']:g} must be below "
            f"threshold.high={group['high']:g}."
        )


def _check_refine(group: dict[str, Any]) -> None:
    group["radius"] = _number("refine.radius", group["radius"], 0.0, math.inf, open_low=True)
    group["eps"] = _number("refine.eps", group["eps"], 0.0, math.inf, open_low=True)


def _check_temporal(group: dict[str, Any]) -> None:
    group["weight"] = _number("temporal.weight", group["weight"], 0.0, 1.0, open_low=True)
    group["ratio"] = _number("temporal.ratio", group["ratio"], 0.0, 1.0)
    group["scene_cut"] = _number("temporal.scene_cut", group["scene_cut"], 0.0, 1.0)


def normalize_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The full, validated settings dict of a partial one (missing keys take their defaults;
    keys starting with ``_``, such as Hydra's ``_target_``, are ignored).

    Raises:
        ConfigError: For an unknown key (naming it and the valid keys) or a bad value.
    """
    unknown = [k for k in settings if k not in SETTING_KEYS and not str(k).startswith("_")]
    if unknown:
        raise ConfigError(
            f"postprocess {unknown[0]}: unknown key; valid keys: {', '.join(SETTING_KEYS)} "
            "(groups take dotted keys, e.g. temporal.ratio)."
        )
    out: dict[str, Any] = {}
    for name, check in (
        ("threshold", _check_threshold),
        ("refine", _check_refine),
        ("temporal", _check_temporal),
    ):
        out[name] = _group(name, settings.get(name))
        check(out[name])
    out["dilate_px"] = _number("dilate_px", settings.get("dilate_px", 0), 0, 255, integer=True)
    out["erode_px"] = _number("erode_px", settings.get("erode_px", 0), 0, 255, integer=True)
    out["min_area"] = _number("min_area", settings.get("min_area", 0.0), 0, 1, open_high=True)
    out["feather_px"] = _number("feather_px", settings.get("feather_px", 0.0), 0, 64)
    fill = settings.get("fill_holes", False)
    if not isinstance(fill, bool):
        raise ConfigError(f"postprocess fill_holes={fill!r}: must be true or false.")
    if fill and out["min_area"] == 0:
        raise ConfigError(
            "postprocess fill_holes=true fills holes smaller than min_area, which is 0: set "
            "min_area > 0 (e.g. 0.002, 0.2 % of the frame) or fill_holes=false."
        )
    out["fill_holes"] = fill
    return {key: out[key] for key in SETTING_KEYS}


def enabled_steps(settings: Mapping[str, Any]) -> list[str]:
    """The names of the active steps of full settings, in the order they run."""
    steps = []
    if settings["temporal"]["mode"] != "none":
        steps.append(settings["temporal"]["mode"])
    if settings["threshold"]["mode"] != "none":
        steps.append(f"{settings['threshold']['mode']}_threshold")
    steps += [name for name in ("dilate", "erode") if settings[f"{name}_px"] > 0]
    if settings["min_area"] > 0:
        steps += ["remove_blobs", *(["fill_holes"] if settings["fill_holes"] else [])]
    if settings["refine"]["mode"] != "none":
        steps.append(f"{settings['refine']['mode']}_refine")
    if settings["feather_px"] > 0:
        steps.append("feather")
    return steps


def describe_settings(settings: Mapping[str, Any]) -> str:
    """A one-line human summary, e.g. ``soft 0.3-0.7, blobs<0.2%, feather 1.5px, uncertainty
    0.8``, for logs and banners; ``none`` when nothing is enabled.

    Raises:
        ConfigError: When ``settings`` is not valid (see :func:`normalize_settings`).
    """
    s = normalize_settings(settings)
    parts = []
    threshold, refine, temporal = s["threshold"], s["refine"], s["temporal"]
    if threshold["mode"] == "soft":
        parts.append(f"soft {threshold['low']:g}-{threshold['high']:g}")
    elif threshold["mode"] == "hard":
        parts.append(f"hard {threshold['level']:g}")
    parts += [f"{name} {s[f'{name}_px']}px" for name in ("dilate", "erode") if s[f"{name}_px"]]
    if s["min_area"] > 0:
        parts.append(f"blobs<{100 * s['min_area']:g}%" + (" +holes" if s["fill_holes"] else ""))
    if refine["mode"] == "guided":
        parts.append(f"guided r{refine['radius']:g} eps{refine['eps']:g}")
    if s["feather_px"] > 0:
        parts.append(f"feather {s['feather_px']:g}px")
    if temporal["mode"] != "none":
        amount = temporal["weight"] if temporal["mode"] == "ema" else temporal["ratio"]
        cut = f" cut>{temporal['scene_cut']:g}" if temporal["scene_cut"] > 0 else ""
        parts.append(f"{temporal['mode']} {amount:g}{cut}")
    return ", ".join(parts) or "none"
