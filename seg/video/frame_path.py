"""The per-frame path of the app, every stage timed: resize -> model -> post-process -> composite.

A :class:`Segmenter` is one model with its post-processing: the frame is fitted to the model's
input (:func:`seg.resize.fit_frame`, the predictor's resize mode), run through
``Predictor.predict_batch`` (no full-size upsampling there) and the low-resolution probabilities go
straight to the post-processor, which scales them to the frame once (``stretch``; ``fit``/``cover``
first map them back onto the frame's own aspect with :func:`seg.resize.unfit`, still small).
:class:`FramePath` runs one or two segmenters (``--compare``) on a frame, composites each over the
background and lays out the view (``composite``, ``mask`` or ``side-by-side``). Stage times go to
a :class:`StageTimes` (``time.perf_counter``, milliseconds).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seg.errors import UserInputError
from seg.inference import Predictor, to_model_input
from seg.resize import fit_frame, placement, unfit
from seg.video.composite import Background, Compositor, mask_tile
from seg.vis import image_row, label_tile

STAGES = ("decode", "resize", "model", "postprocess", "composite", "encode", "metrics")
PATH_STAGES = ("resize", "model", "postprocess", "composite")  # what fps counts
VIEWS = ("composite", "mask", "side-by-side")


class StageTimes:
    """Milliseconds per stage, one entry per frame (:data:`STAGES`; more than one call of a
    stage for a frame, e.g. two models, is added up by :meth:`add` into the frame's entry)."""

    def __init__(self, stages: Sequence[str] = STAGES) -> None:
        self.ms: dict[str, list[float]] = {s: [] for s in stages}
        self._frame: dict[str, float] = {}

    def add(self, stage: str, ms: float) -> None:
        """Add ``ms`` to ``stage`` of the current frame."""
        self._frame[stage] = self._frame.get(stage, 0.0) + ms

    def end_frame(self) -> None:
        """Close the current frame's entries."""
        for stage, ms in self._frame.items():
            self.ms.setdefault(stage, []).append(ms)
        self._frame = {}

    def clear(self) -> None:
        """Forget everything (after a warm-up)."""
        self.ms = {s: [] for s in self.ms}
        self._frame = {}

    def path_ms(self) -> np.ndarray:
        """Per frame, the sum of the :data:`PATH_STAGES` present (ms)."""
        parts = [np.asarray(self.ms[s]) for s in PATH_STAGES if self.ms.get(s)]
        if not parts:
            return np.zeros(0)
        n = min(len(p) for p in parts)
        return np.sum([p[:n] for p in parts], axis=0)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{stage: {"mean", "p90"}}`` in ms for every stage with entries."""
        out = {}
        for stage, values in self.ms.items():
            if values:
                arr = np.asarray(values, dtype=np.float64)
                out[stage] = {
                    "mean": round(float(arr.mean()), 4),
                    "p90": round(float(np.percentile(arr, 90)), 4),
                }
        return out


@dataclass
class Segmenter:
    """One model and its post-processing.

    Attributes:
        predictor: The model (:func:`seg.inference.load_predictor`).
        postprocess: ``pp(probs, frame) -> alpha`` at the frame's size (:mod:`seg.postprocess`).
        label: How views and reports name the model.
        stats: Optional per-model temporal statistics (``update(alpha, frame)``), fed by the app.
        source: Where the post-processing settings came from (for the user).
    """

    predictor: Predictor
    postprocess: Any
    label: str
    stats: Any = None
    source: str = ""
    small: np.ndarray | None = field(default=None, repr=False)

    @property
    def mode(self) -> str:
        return self.predictor.resize

    def reset(self) -> None:
        """Start a new stream (the post-processor's temporal state)."""
        reset = getattr(self.postprocess, "reset", None)
        if reset is not None:
            reset()

    def model_input(self, frame: np.ndarray) -> np.ndarray:
        """``1 x 3 x h x w`` float32 of ``frame`` fitted to the model (keeps the ``uint8`` fitted
        frame in :attr:`small` for the blur)."""
        p = self.predictor
        self.small = fit_frame(frame, None, p.height, p.width, self.mode)[0]
        return to_model_input([self.small], p.height, p.width, self.mode)

    def whole_frame_small(self, frame_hw: tuple[int, int]) -> np.ndarray | None:
        """The fitted frame of the last :meth:`model_input` when it shows the whole frame
        (``stretch``; ``fit`` without its padding), else None (``cover`` cut some off)."""
        if self.small is None or self.mode == "cover":
            return None
        if self.mode == "stretch":
            return self.small
        where = placement(frame_hw, self.predictor.height, self.predictor.width, self.mode)
        return self.small[
            where.top : where.top + where.height, where.left : where.left + where.width
        ]

    def low_res_probs(self, out: np.ndarray, frame_hw: tuple[int, int]) -> np.ndarray:
        """The model's ``h x w`` probabilities in the frame's own geometry, still small: as they
        are for ``stretch``; mapped back (:func:`seg.resize.unfit`) onto the scaled frame's size
        for ``fit``/``cover``."""
        probs = out[0, 0]
        if self.mode == "stretch":
            return probs
        where = placement(frame_hw, self.predictor.height, self.predictor.width, self.mode)
        return unfit(probs, (where.height, where.width), self.mode)


class FramePath:
    """Resize, model, post-process and composite one frame, with every stage timed.

    Args:
        segmenters: One model, or two for ``--compare`` (their tiles side by side).
        background: What goes behind the person.
        view: ``composite``, ``mask`` or ``side-by-side`` (input | mask | composite).
        light_wrap: Let background light bleed over the person's edge.
    """

    def __init__(
        self,
        segmenters: Sequence[Segmenter],
        background: Background,
        view: str = "composite",
        light_wrap: bool = False,
    ) -> None:
        if view not in VIEWS:
            raise UserInputError(f"--view must be one of {', '.join(VIEWS)}; got {view!r}.")
        if not 1 <= len(segmenters) <= 2:
            raise UserInputError("one model, or two with --compare")
        self.segmenters = list(segmenters)
        self.background = background
        self.view = view
        self.compositors = [Compositor(light_wrap) for _ in self.segmenters]

    def reset(self) -> None:
        """Start a new stream."""
        for seg in self.segmenters:
            seg.reset()
        self.background.reset()

    def __call__(self, frame: np.ndarray, times: StageTimes) -> tuple[np.ndarray, list[np.ndarray]]:
        """The output frame of ``frame`` and each model's alpha (``H x W`` float32)."""
        clock = time.perf_counter
        hw = frame.shape[:2]
        alphas = []
        for seg in self.segmenters:
            t0 = clock()
            x = seg.model_input(frame)
            t1 = clock()
            out = seg.predictor.predict_batch(x)
            t2 = clock()
            alpha = seg.postprocess(seg.low_res_probs(out, hw), frame)
            t3 = clock()
            times.add("resize", (t1 - t0) * 1e3)
            times.add("model", (t2 - t1) * 1e3)
            times.add("postprocess", (t3 - t2) * 1e3)
            alphas.append(alpha)
        t3 = clock()
        if self.view == "mask":
            tiles = [mask_tile(a) for a in alphas]
        else:
            background = self.background.render(frame, self.segmenters[0].whole_frame_small(hw))
            tiles = [c(frame, a, background) for c, a in zip(self.compositors, alphas, strict=True)]
        result = self.layout(frame, alphas, tiles)
        times.add("composite", (clock() - t3) * 1e3)
        return result, alphas

    def layout(
        self, frame: np.ndarray, alphas: list[np.ndarray], tiles: list[np.ndarray]
    ) -> np.ndarray:
        """The view: a model's tile (composite or mask), two models' tiles side by side and
        labelled, or per model one row ``input | mask | composite`` (two rows with --compare)."""
        labels = [s.label for s in self.segmenters]
        if self.view != "side-by-side":
            if len(tiles) == 1:
                return tiles[0]
            return image_row([label_tile(t, n) for t, n in zip(tiles, labels, strict=True)], 0)
        rows = [
            image_row(
                [label_tile(frame, "input"), label_tile(mask_tile(a), "mask"), label_tile(t, n)],
                0,
            )
            for a, t, n in zip(alphas, tiles, labels, strict=True)
        ]
        return rows[0] if len(rows) == 1 else np.concatenate(rows, axis=0)
