"""Procedural video-call portraits with exact masks, so seg trains offline with no download.

Every frame shows one person as seen from a webcam, drawn from random geometry:

* **Person (foreground, mask 1).** Head (ellipse with jaw and chin variation, ears, turned a little
  by a yaw offset of the facial features), neck, curved shoulders and torso, clothes (plain,
  stripes, checks, logo, open jacket, hoodie; round, V or shirt collar), hanging arms, and hair in
  seven styles (bald, buzz, short, long, bun, curly, ponytail) with a rough outline, bangs, front
  locks and *flyaways*: thin 1-2 px curves that leave the hair mass. Optional raised hands (open,
  waving, partly out of frame) with separate fingers, glasses, headphones (band over the head and
  ear cups) and held objects. **Held objects (mug, phone) are foreground**, as in common portrait
  matting/segmentation datasets: they are held by the person and move with them.
  Six skin-tone groups (``tone1`` light to ``tone6`` deep) are recorded for fairness breakdowns.
* **Background (mask 0).** Textures (blotchy noise, stripes, bricks, tiles, wood planks,
  gradients) or rooms (walls, corners, doors, windows, shelves with books, frames, plants, lamps,
  monitors, chair backs), far-away people (smaller, defocused, still background) and, sometimes,
  colours copied from the person's shirt or hair.
* **Camera and light.** Side key light, low light (dark, noisy, warm), backlight (a bright window
  behind a dark person with a rim light), colour casts, contrast/brightness, vignetting, a soft
  shadow of the person on the wall, webcam defocus of the background, sensor noise.

Why it is hard enough for a small student: flyaways, fingers, glasses temples, headphone bands
and mug handles are thin structures at the boundary; background people have the same shape prior
as the target but must be rejected; colour-matched walls and chairs, backlight and low light
remove the easy colour cue; partial occlusion by the frame border and hands breaks the
"one blob in the middle" prior.

Exactness. The foreground is painted at ``supersample`` times the output resolution onto a colour
canvas and a binary mask canvas with *the same* cv2 primitives and fixed-point sub-pixel
coordinates. The canvases are area-downsampled (``cv2.INTER_AREA``): the soft ``alpha`` is the
downsampled mask (exact sub-pixel coverage), ``mask = alpha >= 0.5``, and the image is
``foreground * alpha + background * (1 - alpha)`` where ``foreground * alpha`` is the area average
of the masked high-resolution colour (the coverage-weighted colour of the person inside each output
pixel). Lighting only changes colours, never coverage, so the mask stays exact.

Determinism. Each sample draws from ``np.random.default_rng(SeedSequence([seed, crc32(split),
index, kind]))``: no global RNG state, no Python ``hash()``, so splits are disjoint seed streams and
any process reproduces the same bytes (for the same numpy and OpenCV versions).

Attributes (all categorical strings, one manifest column each) are listed in
:mod:`seg.data.synthetic.attributes`.

Modules, from the bottom up: ``palette`` (colours), ``geometry`` (curves, local frames),
``canvas`` (fixed-point painter, scratch buffers), ``attributes`` (weighted choice, attribute
record), ``specs`` (a person's random choices), ``hair``, ``clothing``, ``accessories`` (arms,
hands, held objects, glasses, headphones), ``person``, ``motion`` (pose, camera), ``textures``,
``room``, ``lighting``, ``background`` and ``generator``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from seg.data.synthetic.generator import (
    SPLITS,
    PortraitClip,
    PortraitSample,
    SyntheticPortraitGenerator,
)

__all__ = [
    "SPLITS",
    "PortraitClip",
    "PortraitSample",
    "SyntheticPortraitGenerator",
    "source_fingerprint",
]


def source_fingerprint() -> str:
    """A short digest of the generator's source code, for cache keys.

    Any edit to any module of this package changes it, so cached renders are not reused across
    generator changes.

    Returns:
        The first 12 hex digits of the SHA-1 of the bytes of all ``.py`` files of this package,
        concatenated in sorted file-name order.
    """
    digest = hashlib.sha1()
    for path in sorted(Path(__file__).parent.glob("*.py"), key=lambda p: p.name):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
