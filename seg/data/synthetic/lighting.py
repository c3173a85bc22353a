"""Light and camera: colour casts, side light, low light, backlight, shadows, defocus, noise.

A :class:`LightSpec` is sampled once per scene. :func:`light_and_composite` shades the person
(relief from its blurred silhouette, soft shading blobs, a rim light when backlit), casts its soft
shadow on the wall, composites it over the background and applies contrast, brightness,
vignetting, sensor noise and gamma. Lighting only changes colours, never coverage, so the mask
stays exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from seg.data.synthetic.canvas import ONE, SHIFT, Workspace
from seg.data.synthetic.geometry import Blob
from seg.data.synthetic.palette import Color
from seg.data.synthetic.sampling import choice

_LIGHTINGS = ("even", "side", "low_light", "backlit")
_CASTS: dict[str, Color] = {
    "neutral": (1.0, 1.0, 1.0),
    "warm": (1.1, 1.0, 0.84),
    "cool": (0.88, 0.98, 1.12),
    "green": (0.94, 1.06, 0.92),
}


@dataclass
class LightSpec:
    """Lighting and camera response of one scene.

    Attributes:
        kind: Lighting attribute: ``even``, ``side``, ``low_light`` or ``backlit``.
        cast: Colour-cast attribute: ``neutral``, ``warm``, ``cool`` or ``green``.
        direction: Key-light direction, -1 (from the left) to +1 (from the right).
        fg_level: Brightness gain of the person.
        bg_level: Brightness gain of the background.
        cast_gain: Per-channel RGB gains.
        contrast: Contrast gain about mid-grey.
        brightness: Brightness offset in levels.
        gamma_lut: 256-entry uint8 gamma look-up table.
        vignette: Vignetting strength (0: none).
        noise: Sensor-noise standard deviation in levels.
        shadow: ``(dx, dy, blur, strength)`` of the person's shadow on the wall (offsets and blur
            as fractions of the frame), or ``None``.
        relief: Strength of the silhouette shading.
        rim: Strength of the rim light (backlight).
    """

    kind: str
    cast: str
    direction: float
    fg_level: float
    bg_level: float
    cast_gain: tuple[float, float, float]
    contrast: float
    brightness: float
    gamma_lut: np.ndarray
    vignette: float
    noise: float
    shadow: tuple[float, float, float, float] | None
    relief: float
    rim: float


def sample_light(rng: np.random.Generator, difficulty: float) -> LightSpec:
    """Samples the light; low light and backlight become likelier with difficulty (up to 1).

    Args:
        rng: Random generator.
        difficulty: Scales the probability of low light and backlight (capped at 1).

    Returns:
        The light.
    """
    hard = min(1.0, difficulty)
    kind = choice(rng, _LIGHTINGS, (0.45, 0.3, 0.15 * hard, 0.12 * hard))
    cast = choice(rng, list(_CASTS), (0.55, 0.2, 0.17, 0.08))
    cast_gain = np.asarray(_CASTS[cast]) * rng.uniform(0.96, 1.04, size=3)
    direction = float(rng.uniform(-1, 1))
    fg = bg = 1.0
    noise = rng.uniform(1.0, 5.0)
    rim = 0.0
    if kind == "side":
        fg = rng.uniform(0.9, 1.1)
        direction = float(np.sign(direction) or 1.0) * rng.uniform(0.6, 1.0)
    elif kind == "low_light":
        level = rng.uniform(0.38, 0.62)
        fg, bg = level, level * rng.uniform(0.7, 1.0)
        cast_gain = cast_gain * np.array([1.08, 1.0, 0.85])
        noise = rng.uniform(6.0, 14.0)
    elif kind == "backlit":
        fg = rng.uniform(0.35, 0.65)
        bg = rng.uniform(1.05, 1.3)
        rim = rng.uniform(0.4, 1.0)
    gamma = rng.uniform(0.8, 1.25)
    lut = (255.0 * (np.arange(256) / 255.0) ** gamma).clip(0, 255).astype(np.uint8)
    shadow = None
    if kind != "backlit" and rng.random() < 0.55:
        shadow = (
            -direction * rng.uniform(0.02, 0.08),
            rng.uniform(-0.01, 0.05),
            rng.uniform(0.01, 0.04),
            rng.uniform(0.15, 0.45),
        )
    return LightSpec(
        kind=kind,
        cast=cast,
        direction=direction,
        fg_level=float(fg),
        bg_level=float(bg),
        cast_gain=(float(cast_gain[0]), float(cast_gain[1]), float(cast_gain[2])),
        contrast=rng.uniform(0.8, 1.2),
        brightness=rng.uniform(-18, 18),
        gamma_lut=lut,
        vignette=rng.uniform(0.0, 0.5) if rng.random() < 0.6 else 0.0,
        noise=noise,
        shadow=shadow,
        relief=rng.uniform(0.25, 0.5) if kind != "backlit" else 0.15,
        rim=rim,
    )


def sensor_noise(seed: int, height: int, width: int) -> np.ndarray:
    """Unit Gaussian sensor noise, 64 rows taller than the frame (a random crop per frame).

    Args:
        seed: Data seed.
        height: Output height in pixels.
        width: Output width in pixels.

    Returns:
        A ``(height + 64) x width x 3`` float32 array.
    """
    noise_rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
    return noise_rng.standard_normal((height + 64, width, 3), dtype=np.float32)


def vignette_radius2(height: int, width: int) -> np.ndarray:
    """Half the squared distance from the frame centre, with the frame spanning ``[-1, 1]^2``.

    Args:
        height: Output height in pixels.
        width: Output width in pixels.

    Returns:
        A ``height x width`` float32 array in ``[0, 1]``.
    """
    ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    return (xs**2 + ys**2) / 2.0


def _per_channel(
    plane: np.ndarray, gains: Sequence[float], out: np.ndarray | None = None
) -> np.ndarray:
    """Stacks ``plane * gain`` for three gains into an ``h x w x 3`` float32 image."""
    return cv2.merge([plane * np.float32(g) for g in gains], dst=out)


def _translate(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Shifts an image by a sub-pixel offset, replicating the border."""
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def defocus(img: np.ndarray, sigma: float) -> np.ndarray:
    """Webcam depth of field: a Gaussian blur of the background.

    Args:
        img: Background image.
        sigma: Blur in pixels; at most 0.3 leaves the image as it is.

    Returns:
        The blurred image (or ``img`` itself).
    """
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0.3 else img


def light_and_composite(
    light: LightSpec,
    premult: np.ndarray,
    alpha: np.ndarray,
    background: np.ndarray,
    blobs: list[Blob],
    unit: float,
    rng: np.random.Generator,
    *,
    supersample: int,
    noise: np.ndarray,
    radius2: np.ndarray,
    workspace: Workspace,
) -> np.ndarray:
    """Shades the person, casts its shadow, composites and applies camera effects.

    Args:
        light: The scene's light.
        premult: ``H x W x 3`` float32 coverage-weighted person colour (overwritten).
        alpha: ``H x W`` float32 person coverage.
        background: ``H x W x 3`` float32 background as the camera sees it (overwritten).
        blobs: Soft shading ellipses of the person, in supersampled canvas pixels.
        unit: Head half-height in output pixels.
        rng: Random generator (picks the sensor-noise rows and sign).
        supersample: Canvas pixels per output pixel (the scale of ``blobs``).
        noise: ``(H + 64) x W x 3`` float32 unit Gaussian noise, from :func:`sensor_noise`.
        radius2: ``H x W`` float32 squared radius, from :func:`vignette_radius2`.
        workspace: This thread's scratch buffers.

    Returns:
        The ``H x W x 3`` uint8 RGB image.
    """
    h, w = alpha.shape
    s = supersample
    sh, sw = max(8, h // 4), max(8, w // 4)
    small_alpha = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA)
    small_unit = unit * sw / w

    # Per-pixel planes: contrast and vignetting scale everything, the offset keeps mid-grey.
    ws = workspace
    vignette = None
    if light.vignette > 0:
        vignette = np.multiply(radius2, -light.vignette, out=ws.get("vignette", (h, w), np.float32))
        vignette += 1.0
    bg_factor = np.subtract(1.0, alpha, out=ws.get("bg_factor", (h, w), np.float32))
    bg_factor *= light.bg_level * light.contrast
    if light.shadow is not None:
        dx, dy, blur, strength = light.shadow
        m = np.array([[1.05, 0.0, dx * sw - 0.025 * sw], [0.0, 1.05, dy * sh - 0.05 * sh]])
        cast = cv2.warpAffine(small_alpha, m, (sw, sh), borderMode=cv2.BORDER_REPLICATE)
        cast = cv2.GaussianBlur(cast, (0, 0), max(0.5, blur * sw))
        bg_factor *= 1.0 - strength * cv2.resize(cast, (w, h), interpolation=cv2.INTER_LINEAR)

    relief = cv2.GaussianBlur(small_alpha, (0, 0), max(0.6, 0.45 * small_unit))
    d = max(1.0, 0.25 * small_unit)
    ahead = _translate(relief, light.direction * d, -0.3 * d)
    behind = _translate(relief, -light.direction * d, 0.3 * d)
    shade = 1.0 - light.relief * (1.0 - relief) + 0.6 * light.relief * (ahead - behind)
    shade += light.rim * np.clip(1.0 - relief, 0, 1) ** 2 * 2.5
    blob_map = np.zeros((sh, sw), np.float32)
    k = sw / (w * s) * ONE
    for bx, by, ax, ay, angle, delta in blobs:
        cv2.ellipse(
            blob_map,
            (round(bx * k), round(by * k)),
            (max(1, round(ax * k)), max(1, round(ay * k))),
            angle,
            0,
            360,
            delta,
            -1,
            cv2.LINE_AA,
            SHIFT,
        )
    shade += cv2.GaussianBlur(blob_map, (0, 0), max(0.5, 0.2 * small_unit))
    shade *= light.fg_level * light.contrast
    fg_factor = cv2.resize(
        shade, (w, h), ws.get("fg_factor", (h, w), np.float32), interpolation=cv2.INTER_LINEAR
    )
    offset = 128.0 * (1.0 - light.contrast) + light.brightness
    if vignette is not None:
        fg_factor *= vignette
        bg_factor *= vignette

    # In place, with same-shape 3-channel operands: numpy broadcasting over a trailing axis
    # of 3 and fresh full-size temporaries dominate the cost otherwise.
    planes = _per_channel(fg_factor, light.cast_gain, ws.get("planes", (h, w, 3), np.float32))
    image = cv2.multiply(premult, planes, dst=premult)
    _per_channel(bg_factor, light.cast_gain, out=planes)
    cv2.multiply(background, planes, dst=background)
    cv2.add(image, background, dst=image)
    oy = int(rng.integers(0, noise.shape[0] - h + 1))
    sigma = light.noise if rng.random() < 0.5 else -light.noise
    if vignette is not None:
        _per_channel(offset * vignette, (1.0, 1.0, 1.0), out=planes)
        cv2.scaleAdd(noise[oy : oy + h], sigma, planes, dst=planes)
        cv2.add(image, planes, dst=image)
    else:
        cv2.scaleAdd(noise[oy : oy + h], sigma, image, dst=image)
        image += offset
    np.clip(image, 0, 255, out=image)
    quantized = ws.get("quantized", (h, w, 3), np.uint8)
    np.copyto(quantized, image, casting="unsafe")
    return cv2.LUT(quantized, light.gamma_lut)
