"""The post-processor: probabilities of a segmentation model -> the alpha a compositor uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from seg.errors import UserInputError
from seg.postprocess.guided_filter import guided_refine
from seg.postprocess.mask_ops import (
    dilate,
    erode,
    feather,
    feather_before_upsample,
    hard_threshold,
    remove_blobs,
    soft_threshold,
)
from seg.postprocess.settings import enabled_steps, normalize_settings
from seg.postprocess.smoothing import TemporalSmoother
from seg.resize import resize_image, resize_probs


def _plain(value: Any) -> Any:
    """A mapping (an OmegaConf ``DictConfig`` from Hydra too) as a plain dict."""
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else value


def _check_probs(probs: Any) -> np.ndarray:
    array = np.asarray(probs)
    if array.ndim == 3 and 1 in (array.shape[0], array.shape[2]):
        array = array.reshape(array.shape[:2] if array.shape[2] == 1 else array.shape[1:])
    if array.ndim != 2 or min(array.shape) < 1:
        raise UserInputError(f"probs must be an H x W probability map; got shape {array.shape}.")
    if array.dtype != np.bool_ and not np.issubdtype(array.dtype, np.floating):
        raise UserInputError(
            f"probs must be float probabilities in [0, 1]; got {array.dtype} (for a 0/1 mask "
            "pass mask.astype(np.float32))."
        )
    return array.astype(np.float32, copy=False)


def _check_frame(frame: Any) -> np.ndarray | None:
    if frame is None:
        return None
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3:
        raise UserInputError(
            "frame must be an H x W x 3 uint8 RGB array or None; got "
            f"{getattr(frame, 'dtype', type(frame).__name__)} {getattr(frame, 'shape', '')}."
        )
    if frame.shape[2] != 3:
        raise UserInputError(f"frame must have 3 channels (RGB); got shape {frame.shape}.")
    return frame


def _check_out(out: Any, hw: tuple[int, int]) -> np.ndarray | None:
    if out is None:
        return None
    if (
        not isinstance(out, np.ndarray)
        or out.shape != hw
        or out.dtype != np.float32
        or not out.flags.c_contiguous
        or not out.flags.writeable
    ):
        raise UserInputError(
            f"out must be a writable C-contiguous float32 {hw[0]} x {hw[1]} array (the output "
            f"size); got {getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}."
        )
    return out


class _Buffers:
    """Full-resolution work arrays reused from frame to frame: with several 720p float maps alive,
    each fresh one costs a pass of page faults, several times the step that fills it."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self._arrays[name] = np.empty(shape, dtype)
        return array


class PostProcessor:
    """Post-processing of segmentation probabilities for live video, step by step.

    The steps run in this order, each off unless enabled: temporal smoothing (stateful, across
    calls), threshold, dilate, erode, small-blob removal (all at the probabilities' resolution,
    cheap), then the upsample to the frame's size, the guided edge refinement (needs the frame;
    skipped without one) and the feather. The probabilities must cover the frame's field of view
    (a stretch); for ``fit``/``cover`` inference map them back first (:func:`seg.resize.unfit`).
    For speed pass them at the model's resolution: a 720p probability map makes every low-res step
    cost 25 times more. Use one processor per stream: it holds the temporal state and reusable
    full-resolution work buffers (not thread-safe).

    Args:
        threshold: ``{mode: none | hard | soft, level, low, high}`` (or just the mode, or None):
            ``hard``: ``p >= level``; ``soft``: smoothstep from ``low`` to ``high``.
        dilate_px: Grow the mask by this many pixels of the probabilities (elliptical kernel).
        erode_px: Shrink it by this many pixels (after the dilation).
        min_area: Remove foreground blobs smaller than this share of the frame (0: off).
        fill_holes: Also fill enclosed background holes smaller than ``min_area``.
        refine: ``{mode: none | guided, radius, eps}``: He et al.'s (fast) guided filter on the
            grey frame; ``radius`` in output pixels, ``eps`` on the guide's variance in [0, 1].
        feather_px: Gaussian sigma of the alpha's edge, in output pixels (0: off). When the
            mask is only upsampled to the frame (no guided refinement), the blur runs before the
            upsample with the same spread, 25x cheaper at 5x
            (:func:`~seg.postprocess.mask_ops.feather_before_upsample`); otherwise at output size.
        temporal: ``{mode: none | ema | uncertainty, weight, ratio, scene_cut}``: ``ema`` keeps
            ``weight`` of the new frame; ``uncertainty`` is MediaPipe's blend with
            ``combine_with_previous_ratio = ratio``; the history resets when consecutive frames
            differ by more than ``scene_cut`` (0: never on content).

    Raises:
        ConfigError: For an unknown group key or a bad value (the message names the key).
    """

    def __init__(
        self,
        threshold: Mapping[str, Any] | str | None = None,
        dilate_px: int = 0,
        erode_px: int = 0,
        min_area: float = 0.0,
        fill_holes: bool = False,
        refine: Mapping[str, Any] | str | None = None,
        feather_px: float = 0.0,
        temporal: Mapping[str, Any] | str | None = None,
    ) -> None:
        self._settings = normalize_settings(
            {
                "threshold": _plain(threshold),
                "dilate_px": dilate_px,
                "erode_px": erode_px,
                "min_area": min_area,
                "fill_holes": fill_holes,
                "refine": _plain(refine),
                "feather_px": feather_px,
                "temporal": _plain(temporal),
            }
        )
        t = self._settings["temporal"]
        self._smoother = TemporalSmoother(t["mode"], t["weight"], t["ratio"], t["scene_cut"])
        self._steps = enabled_steps(self._settings)
        self._buffers = _Buffers()

    # ------------------------------------------------------------------ description

    def settings(self) -> dict[str, Any]:
        """The full settings, JSON-serialisable: ``PostProcessor(**pp.settings()) == pp``."""
        return {k: dict(v) if isinstance(v, dict) else v for k, v in self._settings.items()}

    def enabled_steps(self) -> list[str]:
        """Names of the active steps in the order they run (e.g. ``['uncertainty',
        'soft_threshold', 'remove_blobs', 'guided_refine', 'feather']``)."""
        return list(self._steps)

    @property
    def is_identity(self) -> bool:
        """True when no step is enabled: a call returns ``probs`` (resized to the frame)."""
        return not self._steps

    @property
    def last_reset(self) -> bool:
        """Whether the latest call started without temporal history (first frame, size change,
        scene cut, :meth:`reset`)."""
        return self._smoother.last_reset

    def reset(self) -> None:
        """Forget the temporal state (a new video or stream)."""
        self._smoother.reset()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PostProcessor) and other._settings == self._settings

    __hash__ = None  # type: ignore[assignment]  # mutable state, equality by settings

    def __repr__(self) -> str:
        return f"PostProcessor(**{self._settings!r})"

    # ------------------------------------------------------------------ processing

    def __call__(
        self, probs: np.ndarray, frame: np.ndarray | None = None, out: np.ndarray | None = None
    ) -> np.ndarray:
        """The alpha of one frame.

        Args:
            probs: ``H x W`` float probabilities in ``[0, 1]``, any resolution.
            frame: The ``H' x W' x 3`` uint8 RGB frame they belong to, or None.
            out: Optional float32 array of the output size to write the alpha into (a video
                loop reusing one buffer saves the allocation of a fresh 720p map per frame).

        Returns:
            ``float32`` alpha in ``[0, 1]`` at the frame's size (the probabilities' without a
            frame): ``out`` when given, else a new array (``probs`` itself for the identity at
            the same size).

        Raises:
            UserInputError: For probabilities that are not an ``H x W`` float map, a frame that
                is not ``H x W x 3`` uint8, or an ``out`` of the wrong size or type.
        """
        p = _check_probs(probs)
        frame = _check_frame(frame)
        out_hw = p.shape if frame is None else frame.shape[:2]
        out = _check_out(out, out_hw)
        if self.is_identity:
            return resize_probs(p, *out_hw, out=out)
        s = self._settings
        grey = small_grey = None  # the grey frame (and at the map's size), once, for the
        # scene-cut detector (its thumbnail) and the guided filter (its guide)
        if frame is not None and (self._smoother.detects_cuts or s["refine"]["mode"] != "none"):
            grey = cv2.cvtColor(
                frame, cv2.COLOR_RGB2GRAY, dst=self._buffers.get("grey", out_hw, np.uint8)
            )
            small_grey = resize_image(grey, *p.shape)
        p = self._smoother(np.clip(p, 0.0, 1.0), small_grey)
        threshold = s["threshold"]
        if threshold["mode"] == "soft":
            p = soft_threshold(p, threshold["low"], threshold["high"])
        elif threshold["mode"] == "hard":
            p = hard_threshold(p, threshold["level"])
        if s["dilate_px"]:
            p = dilate(p, s["dilate_px"])
        if s["erode_px"]:
            p = erode(p, s["erode_px"])
        if s["min_area"] > 0:
            p = remove_blobs(p, s["min_area"], s["fill_holes"])
        return self._to_output(p, (grey, small_grey), out_hw, out)

    def _to_output(
        self,
        mask: np.ndarray,
        greys: tuple[np.ndarray | None, np.ndarray | None],
        out_hw: tuple[int, int],
        out: np.ndarray | None,
    ) -> np.ndarray:
        """Upsample (or refine on the frame) to ``out_hw``, then feather (into ``out``)."""
        sigma = self._settings["feather_px"]
        refine = self._settings["refine"]
        grey, small_grey = greys
        if refine["mode"] == "guided" and grey is not None:
            target = self._buffers.get("refined", out_hw) if sigma > 0 else out
            work = self._buffers.get("work", out_hw)
            radius, eps = refine["radius"], refine["eps"]
            alpha = guided_refine(mask, grey, radius, eps, target, work, small_grey)
        else:
            (h, w), (out_h, out_w) = mask.shape, out_hw
            if sigma > 0 and out_h >= h and out_w >= w and (out_h, out_w) != (h, w):
                # nothing runs between the upsample and the feather: blur before (1/scale^2 cost)
                mask = feather_before_upsample(mask, sigma * h / out_h, sigma * w / out_w)
                sigma = 0.0
            target = self._buffers.get("upsampled", out_hw) if sigma > 0 else out
            alpha = resize_probs(mask, out_h, out_w, out=target)
        return feather(alpha, sigma, out=out) if sigma > 0 else alpha
