"""Production post-processing of segmentation probabilities into the alpha of a video call.

Composable steps, each off unless enabled, in this order: temporal smoothing (EMA or MediaPipe's
uncertainty blend, reset on scene cuts), threshold (hard or smoothstep), dilate / erode, small-blob
removal (and hole filling) at the probabilities' resolution; then the upsample to the frame, the
edge refinement guided by the frame (fast guided filter) and the feather::

    from seg.postprocess import load_postprocess

    pp = load_postprocess("smooth", ["temporal.ratio=0.7"])
    for frame in video:                      # H x W x 3 uint8 RGB
        alpha = pp(probs_of(frame), frame)   # float32 in [0, 1] at the frame's size
    pp.reset()                               # before the next video

Presets (``configs/postprocess/``): ``none``, ``default`` (soft threshold, blob removal, light
feather; ~1 ms per 720p frame from 144 x 256 probabilities on one core) and ``smooth`` (``default``
+ temporal smoothing + guided refinement).

Modules: ``mask_ops`` (per-frame operations), ``smoothing`` (temporal state), ``guided_filter``,
``settings`` (schema, validation, summary), ``processor`` (:class:`PostProcessor`) and ``presets``
(:func:`load_postprocess`).
"""

from __future__ import annotations

from seg.postprocess.presets import PRESETS, load_postprocess, load_settings, preset_dir
from seg.postprocess.processor import PostProcessor
from seg.postprocess.settings import SETTING_KEYS, describe_settings, normalize_settings

__all__ = [
    "PRESETS",
    "SETTING_KEYS",
    "PostProcessor",
    "describe_settings",
    "load_postprocess",
    "load_settings",
    "normalize_settings",
    "preset_dir",
]
