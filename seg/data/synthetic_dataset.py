"""PyTorch dataset over the synthetic portrait generator, with an optional on-disk cache.

Generating is fast, but a 2-core laptop also has to train: with ``cache_dir`` set, each split is
rendered once (in parallel) into ``.npy`` files and memory-mapped afterwards, so the teacher run,
the student run and every later run with the same data settings share one rendering. The cache key
covers every generation parameter and the generator's source code, so a change to either renders
anew instead of reusing stale frames.

With ``pairs=True`` every sample is two consecutive frames of a short synthetic clip (smooth person
and camera motion, :meth:`SyntheticPortraitGenerator.clip`): the second frame is ``image``/``mask``,
the first ``previous_image``/``previous_mask``, for temporal-consistency losses that read
``previous.*``. One random augmentation is drawn per sample and applied to both frames alike, so
augmentation never looks like motion. Pair caches have their own key (``"pairs": true``) and store
both frames; single-frame cache keys are unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from seg.data import synthetic
from seg.data.dataset import SegDataset
from seg.data.sample import Transform, make_sample
from seg.data.synthetic import SyntheticPortraitGenerator
from seg.errors import ConfigError

log = logging.getLogger(__name__)

PARALLEL_MIN_FRAMES = 256  # below this, starting worker processes costs more than it saves
# How the previous frame of a pair is augmented: as another image/mask of the same sample, so
# albumentations applies the very same random parameters to both frames.
PAIR_TARGETS = {"previous_image": "image", "previous_mask": "mask"}


@functools.cache
def _generator_fingerprint() -> str:
    """Hash of the generator's source, read once per process."""
    return synthetic.source_fingerprint()


def _render_chunk(
    args: tuple[dict[str, Any], str, int, int, Any],
) -> tuple[int, np.ndarray, np.ndarray, list]:
    """Render samples ``start:stop``: frames (``N x H x W``), pairs (``what == "pairs"``,
    ``N x 2 x H x W``) or scripted clips (``what == (frames, motions)``, ``N x T x H x W``; clip
    ``i`` has motion ``motions[i % len(motions)]``)."""
    params, split, start, stop, what = args
    import cv2

    cv2.setNumThreads(1)
    gen = SyntheticPortraitGenerator(**params)
    if what is not None:
        if what == "pairs":
            clips = [gen.clip(split, i, 2) for i in range(start, stop)]
        else:
            frames, motions = what
            clips = [
                gen.clip(split, i, frames, motion=motions[i % len(motions)])
                for i in range(start, stop)
            ]
        images = np.stack([c.images for c in clips])
        masks = np.stack([c.masks for c in clips])
        return start, images, masks, [c.attributes for c in clips]
    samples = [gen.frame(split, i) for i in range(start, stop)]
    images = np.stack([s.image for s in samples])
    masks = np.stack([s.mask for s in samples])
    return start, images, masks, [s.attributes for s in samples]


class SyntheticPortraitDataset(SegDataset):
    """Frames of the built-in synthetic portrait set for one split (a :class:`SegDataset`).

    Of the contract it implements :meth:`prepare` (render the cache), :meth:`sample_ids` and
    :meth:`attributes`; the rest keep their defaults: labelled, uniform weights, no files (so no
    :meth:`fingerprint` and no image paths), nothing skipped.

    Args:
        split: ``train``, ``val``, ``test`` (disjoint) or any other name (its own stream).
        length: Number of frames.
        height: Frame height in pixels.
        width: Frame width in pixels.
        seed: Base seed; the same seed always yields the same frames.
        difficulty: Generator difficulty (1.0 = default; see :class:`SyntheticPortraitGenerator`).
        supersample: Anti-aliasing factor of the renderer.
        cache_dir: Folder for rendered splits; ``None`` renders every frame on the fly.
        workers: Processes used to fill the cache (default: all cores).
        transform: Albumentations pipeline applied to ``(image, mask)``. With ``pairs``, an
            albumentations ``Compose`` gets ``previous_image``/``previous_mask`` registered as
            additional targets (in place), so both frames get the same random transform; any other
            callable must accept and return those two keys itself.
        pairs: Yield pairs of consecutive clip frames: sample ``i`` is the 2-frame clip ``i``
            (deterministic) with frame 1 as ``image``/``mask`` and frame 0 as
            ``previous_image``/``previous_mask``. A different stream of scenes than single frames.

    Raises:
        ConfigError: For a ``length`` below 1.
    """

    def __init__(
        self,
        split: str,
        length: int,
        height: int = 144,
        width: int = 256,
        seed: int = 0,
        difficulty: float = 1.0,
        supersample: int = 2,
        cache_dir: str | os.PathLike | None = None,
        workers: int | None = None,
        transform: Transform | None = None,
        pairs: bool = False,
    ) -> None:
        if length <= 0:
            raise ConfigError(
                f"SyntheticPortraitDataset: length must be > 0, got {length} ({split}); set "
                f"data.{split}.length."
            )
        self.split = split
        self.length = int(length)
        self.params = {
            "height": int(height),
            "width": int(width),
            "seed": int(seed),
            "supersample": int(supersample),
            "difficulty": float(difficulty),
        }
        self.pairs = bool(pairs)
        self.generator = SyntheticPortraitGenerator(**self.params)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.cache_path = self._cache_path()
        self.workers = workers or os.cpu_count() or 1
        self.transform = transform
        if self.pairs and transform is not None and hasattr(transform, "add_targets"):
            transform.add_targets(PAIR_TARGETS)
        self._images: np.ndarray | None = None
        self._masks: np.ndarray | None = None

    def _cache_path(self) -> Path | None:
        """Folder holding this split's rendered frames (None without a cache)."""
        if self.cache_dir is None:
            return None
        fields = {
            **self.params,
            "split": self.split,
            "length": self.length,
            "code": _generator_fingerprint(),
        }
        fields.update(self._key_fields())  # none for frames: their keys stay as they were
        key = json.dumps(fields, sort_keys=True)
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        kind = self._kind_prefix()
        return self.cache_dir / "synthetic" / f"{kind}{self.split}-{self.length}-{digest}"

    def _key_fields(self) -> dict[str, Any]:
        """Cache-key fields beyond the generator's parameters (frames: none)."""
        return {"pairs": True} if self.pairs else {}

    def _kind_prefix(self) -> str:
        return "pairs-" if self.pairs else ""

    def _render_what(self) -> Any:
        """What :func:`_render_chunk` renders per sample (None: one frame)."""
        return "pairs" if self.pairs else None

    def _sample_frames(self) -> tuple[int, ...]:
        """Frames per sample in the cache arrays: ``()`` one, ``(2,)`` a pair, ``(T,)`` a clip."""
        return (2,) if self.pairs else ()

    def prepare(self) -> None:
        """Render the split into the cache if it is not there yet (no-op without a cache)."""
        path = self.cache_path
        if path is None or (path / "done").exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
        h, w = self.params["height"], self.params["width"]
        what = {"pairs-": "frame pairs", "clips-": "clips"}.get(self._kind_prefix(), "frames")
        log.info(
            "Rendering %d synthetic %s %s (%dx%d) into %s",
            self.length,
            self.split,
            what,
            h,
            w,
            path,
        )
        frames = (self.length, *self._sample_frames())
        images = np.lib.format.open_memmap(tmp / "images.npy", "w+", np.uint8, (*frames, h, w, 3))
        masks = np.lib.format.open_memmap(tmp / "masks.npy", "w+", np.uint8, (*frames, h, w))
        attributes: list[dict[str, str]] = [{}] * self.length
        chunk = max(1, min(64, self.length // (4 * self.workers) or 1))
        jobs = [
            (self.params, self.split, s, min(s + chunk, self.length), self._render_what())
            for s in range(0, self.length, chunk)
        ]
        # A pool only from a non-daemonic process (DataLoader workers cannot have children), and
        # spawned, not forked: forking a process that runs torch and progress-bar threads deadlocks.
        rendered = self.length * int(np.prod(self._sample_frames(), dtype=int))
        parallel = self.workers > 1 and rendered >= PARALLEL_MIN_FRAMES
        if parallel and not multiprocessing.current_process().daemon:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(min(self.workers, len(jobs)), mp_context=context) as pool:
                results = pool.map(_render_chunk, jobs)
                self._store(results, images, masks, attributes)
        else:
            self._store(map(_render_chunk, jobs), images, masks, attributes)
        images.flush()
        masks.flush()
        del images, masks
        (tmp / "attributes.json").write_text(json.dumps(attributes))
        done = {**self.params, "split": self.split, "length": self.length, **self._key_fields()}
        (tmp / "done").write_text(json.dumps(done))
        try:
            tmp.rename(path)
        except OSError:  # another process finished the same split first
            shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _store(results, images: np.ndarray, masks: np.ndarray, attributes: list) -> None:
        for start, imgs, msks, attrs in results:
            images[start : start + len(imgs)] = imgs
            masks[start : start + len(msks)] = msks
            attributes[start : start + len(attrs)] = attrs

    def _load(self) -> None:
        path = self.cache_path
        if path is None:
            return
        self.prepare()
        self._images = np.load(path / "images.npy", mmap_mode="r")
        self._masks = np.load(path / "masks.npy", mmap_mode="r")

    def sample_ids(self) -> list[str]:
        """A stable id per frame, in index order (``<split>/<index>``), for reports and badcases."""
        return [f"{self.split}/{i:06d}" for i in range(self.length)]

    def attributes(self) -> list[dict[str, str]]:
        """Categorical attributes of every frame (skin tone, lighting, ...), in index order."""
        path = self.cache_path
        if path is not None:
            self.prepare()
            return json.loads((path / "attributes.json").read_text())
        if self.pairs:
            return [self.generator.clip(self.split, i, 2).attributes for i in range(self.length)]
        return [self.generator.frame(self.split, i).attributes for i in range(self.length)]

    def raw(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The untransformed ``(image, mask)`` of one frame (with ``pairs``: the later frame)."""
        if self.pairs:
            return self.raw_pair(index)[2:]
        self._check_index(index)
        if self.cache_path is not None and self._images is None:
            self._load()
        if self._images is not None:
            return np.array(self._images[index]), np.array(self._masks[index])
        sample = self.generator.frame(self.split, index)
        return sample.image, sample.mask

    def raw_pair(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The untransformed ``(previous_image, previous_mask, image, mask)`` of one pair."""
        if not self.pairs:
            raise ValueError("raw_pair needs a dataset built with pairs=True.")
        images, masks = self._raw_frames(index, 2)
        return images[0], masks[0], images[1], masks[1]

    def _raw_frames(
        self, index: int, length: int, motion: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The cached (or else rendered) ``length`` frames of multi-frame sample ``index``."""
        self._check_index(index)
        if self.cache_path is not None and self._images is None:
            self._load()
        if self._images is not None:
            return np.array(self._images[index]), np.array(self._masks[index])
        clip = self.generator.clip(self.split, index, length, motion=motion)
        return clip.images, clip.masks

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.split} split of {self.length}")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self.pairs:
            previous_image, previous_mask, image, mask = self.raw_pair(index)
            return make_sample(
                image, mask, index, self.transform, previous=(previous_image, previous_mask)
            )
        image, mask = self.raw(index)
        return make_sample(image, mask, index, self.transform)

    def __getstate__(self) -> dict[str, Any]:
        # memmaps are reopened in each worker instead of being pickled
        state = self.__dict__.copy()
        state["_images"] = state["_masks"] = None
        return state
