"""Frames the benchmarks run on: the first frames of a split of the training config's data (IoU,
int8 calibration) and the seeded random image every timing input is resized from."""

from __future__ import annotations

import numpy as np

IMAGE_SEED = 0
BASE_SIZE = (576, 1024)  # the random image every timing input is resized from


def load_frames(split: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` samples of a split of the training config's data
    (:func:`seg.config.compose_train`), built and prepared by the data module
    (:func:`seg.build.build_datamodule`); fewer when the split is shorter.

    Args:
        split: ``val`` (calibration) or ``test`` (IoU), or any split the data module builds.
        count: How many samples.

    Returns:
        ``(images, masks)``: ``N x H x W x 3`` uint8 RGB and ``N x H x W`` uint8 in ``{0, 1}``.
    """
    from seg.build import build_datamodule
    from seg.config import compose_train
    from seg.export.exporter import frames_from

    dataset = build_datamodule(compose_train(["data.num_workers=0"])).prepared_split(split)
    images, masks = frames_from(dataset, count)
    return images, (masks >= 0.5).astype(np.uint8)


def base_image() -> np.ndarray:
    """The seeded random ``BASE_SIZE`` RGB image (uint8) every benchmark input is resized from."""
    rng = np.random.default_rng(IMAGE_SEED)
    return rng.integers(0, 256, size=(*BASE_SIZE, 3), dtype=np.uint8)
