"""Synthetic evaluation clips with exact per-frame masks: the stability test of a student.

Each sample is one clip of ``frames`` consecutive frames of one person and background following a
scripted motion (:data:`~seg.data.synthetic.motion.CLIP_MOTIONS`: sitting still, slow and fast
head turns, hands waved next to the face, camera shake, a light change, strong sensor noise, leaning
out of the frame and back), in turn: clip ``i`` has motion ``motions[i % len(motions)]``. Sensor
noise is new every frame. Clips are deterministic from ``(seed, split, index, motion)`` and their
seed streams are disjoint from the single frames' and the training pairs', so evaluating on clips
never scores anything trained on.

A batch of clips is ``B x T x 3 x H x W`` (``mask``: ``B x T x 1 x H x W``); the module scores
every frame like a single-frame split (IoU, boundary F, MAE) and each clip's temporal metrics
(``dtssd``, and on test ``tc``, ``flicker``, ``flip_rate``; see :mod:`seg.metrics`). Select with
``data=clips`` (val and test on clips, training unchanged).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from seg.data.sample import Transform, make_sample
from seg.data.synthetic.motion import CLIP_MOTIONS
from seg.data.synthetic_dataset import SyntheticPortraitDataset
from seg.errors import ConfigError


class SyntheticClipDataset(SyntheticPortraitDataset):
    """Scripted synthetic clips of one split (a :class:`~seg.data.dataset.SegDataset`).

    Args:
        split: ``val``, ``test`` or any other name (its own stream of clips).
        length: Number of clips.
        frames: Frames per clip (>= 2).
        height: Frame height in pixels.
        width: Frame width in pixels.
        seed: Base seed of the generator.
        difficulty: Generator difficulty.
        supersample: Anti-aliasing factor of the renderer.
        cache_dir: Folder for rendered clips (``.npy``, memory-mapped); None renders on the fly.
        workers: Processes used to fill the cache.
        transform: Applied to every frame alone (``image``/``mask``): it must be deterministic
            (an evaluation transform), or the frames of a clip would differ by more than motion.
        motions: The motion kinds to cycle through (default: all of them).
        pairs: Ignored (accepted because ``data.pairs`` is given to every split): clips already
            are consecutive frames.

    Raises:
        ConfigError: For ``frames`` below 2 or an unknown motion.
    """

    def __init__(
        self,
        split: str,
        length: int,
        frames: int = 32,
        height: int = 144,
        width: int = 256,
        seed: int = 0,
        difficulty: float = 1.0,
        supersample: int = 2,
        cache_dir: str | os.PathLike | None = None,
        workers: int | None = None,
        transform: Transform | None = None,
        motions: Sequence[str] | None = None,
        pairs: bool = False,
    ) -> None:
        del pairs
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 2:
            raise ConfigError(
                f"SyntheticClipDataset: frames must be an integer >= 2, got {frames!r} ({split}); "
                f"set data.{split}.frames."
            )
        motions = tuple(motions) if motions else CLIP_MOTIONS
        unknown = [m for m in motions if m not in CLIP_MOTIONS]
        if unknown:
            raise ConfigError(
                f"SyntheticClipDataset: unknown motion(s) {unknown} in data.{split}.motions; "
                f"choose from {list(CLIP_MOTIONS)}."
            )
        self.frames = int(frames)
        self.motions = motions
        super().__init__(
            split,
            length,
            height=height,
            width=width,
            seed=seed,
            difficulty=difficulty,
            supersample=supersample,
            cache_dir=cache_dir,
            workers=workers,
            transform=transform,
        )

    def _key_fields(self) -> dict[str, Any]:
        return {"clip_frames": self.frames, "motions": list(self.motions)}

    def _kind_prefix(self) -> str:
        return "clips-"

    def _render_what(self) -> Any:
        return (self.frames, self.motions)

    def _sample_frames(self) -> tuple[int, ...]:
        return (self.frames,)

    def motion(self, index: int) -> str:
        """The motion kind of clip ``index``."""
        return self.motions[index % len(self.motions)]

    def sample_ids(self) -> list[str]:
        """``<split>/clip<index>-<motion>`` per clip, in index order."""
        return [f"{self.split}/clip{i:04d}-{self.motion(i)}" for i in range(self.length)]

    def attributes(self) -> list[dict[str, str]]:
        """Attributes of every clip (those of a frame, plus ``motion``)."""
        if self.cache_path is not None:
            return super().attributes()
        return [self._clip(i).attributes for i in range(self.length)]

    def _clip(self, index: int):
        return self.generator.clip(self.split, index, self.frames, motion=self.motion(index))

    def raw_clip(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The untransformed ``(images T x H x W x 3 uint8, masks T x H x W uint8)`` of a clip."""
        return self._raw_frames(index, self.frames, self.motion(index))

    def raw(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The first frame of a clip (for tools that show one frame per sample)."""
        images, masks = self.raw_clip(index)
        return images[0], masks[0]

    def __getitem__(self, index: int) -> dict[str, Any]:
        images, masks = self.raw_clip(index)
        samples = [
            make_sample(image, mask, index, self.transform)
            for image, mask in zip(images, masks, strict=True)
        ]
        return {
            "image": torch.stack([s["image"] for s in samples]),
            "mask": torch.stack([s["mask"] for s in samples]),
            "index": index,
        }
