"""The generator: argument checks, per-sample seeding, and frame and clip rendering.

A frame samples a scene (person, light, background), renders the person at ``supersample`` times
the output resolution onto a colour and a mask canvas, area-downsamples both (exact sub-pixel
coverage), and lights and composites the result. A clip keeps the scene and moves the person and
the camera. Samples whose foreground fraction falls outside ``[0.05, 0.8]`` are redrawn from the
same random stream.
"""

from __future__ import annotations

import math
import numbers
import threading
import zlib
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from seg.data.synthetic.accessories import sample_hand
from seg.data.synthetic.attributes import scene_attributes, with_border_cut
from seg.data.synthetic.background import render_background
from seg.data.synthetic.canvas import Painter, Workspace
from seg.data.synthetic.geometry import Blob
from seg.data.synthetic.lighting import (
    LightSpec,
    light_and_composite,
    sample_light,
    sensor_noise,
    vignette_radius2,
)
from seg.data.synthetic.motion import (
    Pose,
    camera_view,
    light_gains,
    motion_index,
    sample_motion,
    scripted_motion,
)
from seg.data.synthetic.person import draw_person, sample_person
from seg.data.synthetic.specs import PersonSpec

SPLITS: tuple[str, ...] = ("train", "val", "test")

_KIND_FRAME = 0
_KIND_CLIP = 1
_KIND_SCRIPTED = 16  # + the index of the kind in CLIP_MOTIONS
_MIN_FG = 0.05
_MIN_FG_LEAN_OUT = 0.015
_MAX_FG = 0.80
_MAX_ATTEMPTS = 30
_MAX_ASPECT = 4  # wider strips cannot hold a person covering 5% of the frame
_CLIP_MARGIN = 0.12  # background canvas margin (fraction of each side) for camera pan/zoom


@dataclass
class PortraitSample:
    """One rendered frame.

    Attributes:
        image: ``H x W x 3`` uint8 RGB image.
        mask: ``H x W`` uint8 hard mask in ``{0, 1}``, equal to ``alpha >= 0.5``.
        alpha: ``H x W`` float32 soft coverage in ``[0, 1]``.
        attributes: Categorical strings describing the sample (skin tone, hair, lighting, ...),
            meant to become manifest columns for per-group metrics.
    """

    image: np.ndarray
    mask: np.ndarray
    alpha: np.ndarray
    attributes: dict[str, str]


@dataclass
class PortraitClip:
    """A short sequence of frames of the same person and background.

    Attributes:
        images: ``T x H x W x 3`` uint8 RGB images.
        masks: ``T x H x W`` uint8 hard masks in ``{0, 1}``.
        alphas: ``T x H x W`` float32 soft coverage in ``[0, 1]``.
        attributes: Categorical strings describing the clip (as for :class:`PortraitSample`).
    """

    images: np.ndarray
    masks: np.ndarray
    alphas: np.ndarray
    attributes: dict[str, str]


@dataclass
class _Scene:
    """What stays fixed across the frames of a clip.

    Attributes:
        person: The foreground person.
        light: The light.
        background: uint8 background canvas (with a margin for clips).
        attributes: The scene's attributes (all but ``border_cut``).
    """

    person: PersonSpec
    light: LightSpec
    background: np.ndarray
    attributes: dict[str, str] = field(default_factory=dict)


class SyntheticPortraitGenerator:
    """Procedural webcam portraits with exact soft and hard masks.

    Deterministic from ``(seed, split, index)``; train/val/test (or any split name) use disjoint
    seed streams. See :mod:`seg.data.synthetic` for what is drawn and
    :mod:`seg.data.synthetic.attributes` for the attribute values. Picklable
    (for DataLoader workers) and safe to share between threads (scratch buffers are per thread).

    Args:
        height: Output height in pixels (>= 32).
        width: Output width in pixels (>= 32); the aspect ratio must be at most 4:1 either way.
        seed: Non-negative data seed.
        supersample: Rendering scale for anti-aliasing (>= 1); the soft alpha takes
            ``supersample**2 + 1`` levels.
        difficulty: Non-negative scale on how often hard elements appear (flyaways, close colours,
            clutter, background people, low light, raised hands); 1.0 is the default, 0 is easy.

    Raises:
        ValueError: If an argument is out of range.
    """

    def __init__(
        self,
        height: int = 144,
        width: int = 256,
        seed: int = 0,
        supersample: int = 2,
        difficulty: float = 1.0,
    ) -> None:
        for name, value in (
            ("height", height),
            ("width", width),
            ("seed", seed),
            ("supersample", supersample),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if height < 32 or width < 32:
            raise ValueError(f"height and width must be >= 32, got {height}x{width}")
        if max(height, width) > _MAX_ASPECT * min(height, width):
            raise ValueError(
                f"aspect ratio must be at most {_MAX_ASPECT}:1 (a webcam frame), got {height}x{width}"
            )
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        if supersample < 1:
            raise ValueError(f"supersample must be >= 1, got {supersample}")
        if (
            isinstance(difficulty, bool)
            or not isinstance(difficulty, numbers.Real)
            or not math.isfinite(difficulty)
            or difficulty < 0
        ):
            raise ValueError(f"difficulty must be a finite number >= 0, got {difficulty!r}")
        self.height = int(height)
        self.width = int(width)
        self.seed = int(seed)
        self.supersample = int(supersample)
        self.difficulty = float(difficulty)
        self._noise = sensor_noise(self.seed, self.height, self.width)
        self._local = threading.local()
        self._radius2 = vignette_radius2(self.height, self.width)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_local"]  # per-thread scratch buffers are neither picklable nor worth sending
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    # ---------------------------------------------------------------- public API

    def frame(self, split: str, index: int) -> PortraitSample:
        """Renders one frame.

        Args:
            split: Split name ("train", "val", "test" or any other string).
            index: Non-negative sample index within the split.

        Returns:
            The frame with its exact soft and hard masks and categorical attributes.
        """
        rng = self._rng(split, index, _KIND_FRAME)
        for _ in range(_MAX_ATTEMPTS):
            scene = self._sample_scene(rng, margin=0.0)
            pose = Pose(
                hand_t=float(rng.uniform(0, 10)),
                mouth_open=float(rng.uniform(0, 1)) ** 3,
                blink=bool(rng.random() < 0.05),
            )
            image, alpha = self._render(scene, pose, rng, zoom=1.0, shift=(0.0, 0.0))
            mask = (alpha >= 0.5).astype(np.uint8)
            if _MIN_FG <= float(mask.mean()) <= _MAX_FG:
                return PortraitSample(image, mask, alpha, with_border_cut(scene.attributes, mask))
        raise RuntimeError(f"could not place a person in frame {split}/{index}")

    def clip(
        self, split: str, index: int, length: int = 8, motion: str | None = None
    ) -> PortraitClip:
        """Renders a short clip of one person and background with smooth motion.

        Without ``motion``, the person sways, nods, drifts, blinks, talks and moves raised hands;
        the camera pans, zooms and shakes slightly; everything is a smooth function of time (the
        training pairs). With ``motion`` (one of :data:`~seg.data.synthetic.motion.CLIP_MOTIONS`)
        the clip follows that script instead: sitting still, slow or fast head turns, hands waved
        next to the face, camera shake, a light change, strong sensor noise, or leaning out of the
        frame and back; its attributes then hold ``motion``. Sensor noise is new every frame.

        Args:
            split: Split name.
            index: Non-negative clip index within the split.
            length: Number of frames (>= 1).
            motion: A scripted motion kind, or None for the free motion above. ``(split, index,
                motion)`` seeds the clip, so each kind has its own stream of scenes.

        Returns:
            The clip with per-frame images, masks and alphas, and the clip's attributes.
        """
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
            raise ValueError(f"length must be an integer >= 1, got {length!r}")
        if motion is not None:
            return self._scripted_clip(split, index, int(length), motion)
        rng = self._rng(split, index, _KIND_CLIP)
        for _ in range(_MAX_ATTEMPTS):
            scene = self._sample_scene(rng, margin=_CLIP_MARGIN)
            images, alphas, masks = self._render_clip(scene, sample_motion(rng), rng, length)
            fractions = masks.reshape(length, -1).mean(axis=1)
            if fractions.min() >= _MIN_FG and fractions.max() <= _MAX_FG:
                attributes = with_border_cut(scene.attributes, masks[0])
                return PortraitClip(images, masks, alphas, attributes)
        raise RuntimeError(f"could not place a person in clip {split}/{index}")

    def _scripted_clip(self, split: str, index: int, length: int, kind: str) -> PortraitClip:
        """A clip following the scripted motion ``kind`` (see :meth:`clip`)."""
        rng = self._rng(split, index, _KIND_SCRIPTED + motion_index(kind))
        # leaning out of the frame may leave little of the person in view, never nothing
        min_fg = _MIN_FG_LEAN_OUT if kind == "lean_out" else _MIN_FG
        for _ in range(_MAX_ATTEMPTS):
            scene = _script_scene(self._sample_scene(rng, margin=_CLIP_MARGIN), kind, rng)
            motion = scripted_motion(rng, kind, length, self._nearer_edge(scene.person))
            gains = light_gains(rng, kind, length)
            images, alphas, masks = self._render_clip(scene, motion, rng, length, gains)
            fractions = masks.reshape(length, -1).mean(axis=1)
            if fractions.min() >= min_fg and fractions.max() <= _MAX_FG:
                attributes = {**with_border_cut(scene.attributes, masks[0]), "motion": kind}
                return PortraitClip(images, masks, alphas, attributes)
        raise RuntimeError(f"could not place a person in {kind} clip {split}/{index}")

    def _render_clip(
        self,
        scene: _Scene,
        motion,
        rng: np.random.Generator,
        length: int,
        gains: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Renders ``length`` frames of ``scene`` moving by ``motion(t)``, the light scaled by
        ``gains[t]`` when given: ``(images, alphas, masks)`` stacked over time."""
        images, alphas = [], []
        for t in range(length):
            pose, zoom, shift = motion(t)
            frame_scene = scene
            if gains is not None and gains[t] != 1.0:
                light = scene.light
                lit = replace(
                    light, fg_level=light.fg_level * gains[t], bg_level=light.bg_level * gains[t]
                )
                frame_scene = replace(scene, light=lit)
            image, alpha = self._render(frame_scene, pose, rng, zoom=zoom, shift=shift)
            images.append(image)
            alphas.append(alpha)
        alpha_stack = np.stack(alphas)
        return np.stack(images), alpha_stack, (alpha_stack >= 0.5).astype(np.uint8)

    def _nearer_edge(self, person: PersonSpec) -> tuple[float, float]:
        """``(side, distance in head units)`` of the side frame edge nearer the person's head."""
        side = -1.0 if person.x < 0.5 else 1.0
        gap = person.x if side < 0 else 1.0 - person.x  # fraction of the width
        unit = person.size * min(self.height, 1.3 * self.width) / self.width  # head unit / width
        return side, gap / max(unit, 1e-6)

    # ---------------------------------------------------------------- sampling

    def _rng(self, split: str, index: int, kind: int) -> np.random.Generator:
        """The random stream of one sample: ``(seed, crc32(split), index, kind)``."""
        if not isinstance(split, str) or not split:
            raise ValueError(f"split must be a non-empty string, got {split!r}")
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
            raise ValueError(f"index must be an integer >= 0, got {index!r}")
        key = zlib.crc32(split.encode("utf-8"))
        return np.random.default_rng(np.random.SeedSequence([self.seed, key, int(index), kind]))

    def _workspace(self) -> Workspace:
        """This thread's scratch buffers (the generator can be shared between threads)."""
        ws = getattr(self._local, "workspace", None)
        if ws is None:
            ws = self._local.workspace = Workspace()
        return ws

    def _sample_scene(self, rng: np.random.Generator, margin: float) -> _Scene:
        """Samples person and light and renders the background (with ``margin`` for clips)."""
        person = sample_person(rng, self.difficulty)
        light = sample_light(rng, self.difficulty)
        background, background_attributes = render_background(
            rng, person, light, self.height, self.width, margin, self.difficulty
        )
        attributes = scene_attributes(person, light, background_attributes)
        return _Scene(person=person, light=light, background=background, attributes=attributes)

    # ---------------------------------------------------------------- rendering

    def _render(
        self,
        scene: _Scene,
        pose: Pose,
        rng: np.random.Generator,
        zoom: float,
        shift: tuple[float, float],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Renders the person over the background and lights the result.

        Returns:
            ``(image uint8 H x W x 3, alpha float32 H x W)``.
        """
        h, w, s = self.height, self.width, self.supersample
        person = scene.person
        ref = min(h, 1.3 * w)
        cx, cy = w / 2, h / 2
        hx = cx + zoom * ((person.x + pose.dx * person.size * ref / w) * w - cx) + shift[0] * w
        hy = cy + zoom * ((person.y + pose.dy * person.size * ref / h) * h - cy) + shift[1] * h
        unit = person.size * ref * zoom

        ws = self._workspace()
        color = ws.zeros("color", (h * s, w * s, 3), np.uint8)
        mask = ws.zeros("mask", (h * s, w * s), np.uint8)
        blobs: list[Blob] = []
        draw_person(
            Painter(color, mask, s),
            person,
            pose,
            hx * s,
            hy * s,
            unit * s,
            float(s),
            blobs,
            light_x=scene.light.direction,
        )
        cv2.bitwise_and(color, color, dst=color, mask=mask)
        premult = ws.get("premult", (h, w, 3), np.float32)
        coverage = ws.get("coverage", (h * s, w * s), np.float32)
        np.copyto(coverage, mask)
        if s > 1:
            np.copyto(premult, cv2.resize(color, (w, h), interpolation=cv2.INTER_AREA))
            alpha = cv2.resize(coverage, (w, h), interpolation=cv2.INTER_AREA)
        else:
            np.copyto(premult, color)
            alpha = coverage.copy()
        np.clip(alpha, 0.0, 1.0, out=alpha)

        background = camera_view(
            scene.background, zoom, shift, ws.get("background", (h, w, 3), np.float32)
        )
        image = light_and_composite(
            scene.light,
            premult,
            alpha,
            background,
            blobs,
            unit,
            rng,
            supersample=s,
            noise=self._noise,
            radius2=self._radius2,
            workspace=ws,
        )
        return image, alpha


def _script_scene(scene: _Scene, kind: str, rng: np.random.Generator) -> _Scene:
    """The scene of a scripted clip: ``wave`` raises one or two waving hands next to the face,
    ``noise`` turns the sensor noise up (8-14 levels); other kinds keep the scene."""
    if kind == "wave":
        person = scene.person
        sides = [-1, 1] if rng.random() < 0.3 else [int(rng.choice([-1, 1]))]
        hands = []
        for side in sides:
            hand = sample_hand(rng, side, person.shoulder_w, may_hold=False)
            hands.append(
                replace(
                    hand,
                    pos=(side * rng.uniform(1.0, 1.7), rng.uniform(-0.6, 0.9)),
                    wave_amp=rng.uniform(0.35, 0.6),
                    wave_freq=rng.uniform(0.12, 0.3),
                )
            )
        attributes = {**scene.attributes, "hands": ("none", "one", "two")[len(hands)]}
        attributes["held_object"] = "none"
        return replace(scene, person=replace(person, hands=hands), attributes=attributes)
    if kind == "noise":
        return replace(scene, light=replace(scene.light, noise=float(rng.uniform(8.0, 14.0))))
    return scene
