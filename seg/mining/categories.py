"""Simple failure categories of one prediction, from the image, a reference mask and the probability.

Three *error* categories say what went wrong, measured against a reference mask (the ground truth of
a labelled image, or the teacher's mask for an unlabelled one). The *band* is every pixel within
``band_px`` of the reference boundary, on either side:

* ``missing_body`` (missing body parts): false negatives outside the band cover at least
  :data:`MISSING_BODY_SHARE` of the reference foreground: whole chunks (an arm, the torso) missed.
* ``background_fp`` (background false positives): false positives outside the band cover at least
  :data:`BACKGROUND_FP_IMAGE_SHARE` of the image or :data:`BACKGROUND_FP_TARGET_SHARE` of the
  reference foreground: background objects taken for the person.
* ``boundary`` (boundary / hair errors): at least :data:`BOUNDARY_SHARE` of all wrong pixels lie in
  the band, and the wrong pixels add up to at least :data:`BOUNDARY_MIN_ERROR` of the reference
  foreground (below that an edge is as good as a 0.5-pixel rendering difference).

Two *conditions* say where it went wrong, whatever the error:

* ``small_person``: the reference foreground (the predicted mask when there is no reference) covers
  more than 0 and less than :data:`SMALL_PERSON_SHARE` of the image (an empty frame is no person).
* ``low_light``: the mean Rec. 601 luma ``0.299 R + 0.587 G + 0.114 B`` of the image is below
  :data:`LOW_LIGHT_LUMA`.

Every image gets one **primary** category, for the per-category contact sheets: the first error
category that applies in the order ``missing_body > background_fp > boundary`` (bigger, rarer
failures first), else the first condition that applies in the order ``small_person > low_light``
(no clear error, but a hard case), else ``ok``. All flags are kept besides the primary one.

The band is :data:`BAND_PX` pixels at the default ``144 x 256`` input and scales with the square root
of the pixel count (:func:`scaled_band_px`): 10 px at ``288 x 512``, 2 px at ``64 x 96``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from seg.errors import UserInputError

BAND_PX = 5  # boundary band half-width in pixels at the reference size below
BAND_REFERENCE_SIZE = (144, 256)  # (height, width) at which BAND_PX applies
BOUNDARY_SHARE = 0.60  # share of wrong pixels inside the band for `boundary`
BOUNDARY_MIN_ERROR = 0.05  # wrong pixels / reference foreground needed for `boundary`
MISSING_BODY_SHARE = 0.05  # false negatives outside the band / reference foreground
BACKGROUND_FP_IMAGE_SHARE = 0.02  # false positives outside the band / image
BACKGROUND_FP_TARGET_SHARE = 0.10  # false positives outside the band / reference foreground
SMALL_PERSON_SHARE = 0.06  # reference foreground / image below this: `small_person`
LOW_LIGHT_LUMA = 0.25  # mean Rec. 601 luma in [0, 1] below this: `low_light`

ERROR_CATEGORIES = ("missing_body", "background_fp", "boundary")  # in priority order
CONDITIONS = ("small_person", "low_light")  # in priority order
FLAGS = (*ERROR_CATEGORIES, *CONDITIONS)
CATEGORIES = (*FLAGS, "ok")  # every possible primary category, in priority order
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float64)


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of :func:`categorize` (defaults: the module constants)."""

    band_px: int = BAND_PX
    band_reference_size: tuple[int, int] = BAND_REFERENCE_SIZE
    boundary_share: float = BOUNDARY_SHARE
    boundary_min_error: float = BOUNDARY_MIN_ERROR
    missing_body_share: float = MISSING_BODY_SHARE
    background_fp_image_share: float = BACKGROUND_FP_IMAGE_SHARE
    background_fp_target_share: float = BACKGROUND_FP_TARGET_SHARE
    small_person_share: float = SMALL_PERSON_SHARE
    low_light_luma: float = LOW_LIGHT_LUMA

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["band_reference_size"] = list(self.band_reference_size)
        return out


@dataclass(frozen=True)
class Categories:
    """The categories of one prediction.

    Attributes:
        flags: Every name of :data:`FLAGS` -> whether it applies. Error categories are ``None``
            (not applicable) when there was no reference mask.
        primary: One name of :data:`CATEGORIES` (see the module docstring for the rule).
        measures: The numbers behind the flags: ``fg_share`` (reference or predicted foreground /
            image), ``luma``, ``band_px``, and with a reference ``error_share`` (wrong pixels /
            reference foreground), ``band_share`` (wrong pixels in the band / wrong pixels),
            ``missing_share`` and ``fp_image_share`` / ``fp_target_share``.
    """

    flags: dict[str, bool | None]
    primary: str
    measures: dict[str, float] = field(default_factory=dict)


def scaled_band_px(height: int, width: int, thresholds: Thresholds | None = None) -> int:
    """The band half-width at ``height x width``: ``band_px`` scaled by the square root of the pixel
    count relative to ``band_reference_size``, at least 1."""
    t = thresholds or Thresholds()
    ref_h, ref_w = t.band_reference_size
    return max(1, round(t.band_px * math.sqrt(height * width / (ref_h * ref_w))))


def boundary_band(mask: np.ndarray, band_px: int) -> np.ndarray:
    """Pixels within ``band_px`` (square neighbourhood) of the edge of a binary ``H x W`` mask.

    The image border is no edge: a person cut by the frame has no band along the frame.
    """
    m = mask.astype(np.uint8)
    kernel = np.ones((2 * band_px + 1, 2 * band_px + 1), np.uint8)
    # OpenCV's default border for dilate/erode leaves the frame out of both operations
    return (cv2.dilate(m, kernel) > 0) & ~(cv2.erode(m, kernel) > 0)


def mean_luma(image: np.ndarray) -> float:
    """Mean Rec. 601 luma of a ``3 x H x W`` RGB image in ``[0, 1]``."""
    return float(np.tensordot(LUMA_WEIGHTS, image.reshape(3, -1).mean(axis=1), axes=1))


def primary_category(flags: dict[str, bool | None]) -> str:
    """The primary category of a set of flags (see the module docstring)."""
    for name in CATEGORIES[:-1]:
        if flags.get(name):
            return name
    return "ok"


def categorize(
    image: np.ndarray,
    prob: np.ndarray,
    reference: np.ndarray | None = None,
    threshold: float = 0.5,
    thresholds: Thresholds | None = None,
) -> Categories:
    """The failure categories of one prediction.

    Args:
        image: ``3 x H x W`` RGB in ``[0, 1]`` (a dataset sample's ``image``).
        prob: ``H x W`` foreground probabilities of the model under test.
        reference: ``H x W`` reference mask (ground truth, or a teacher's mask / probabilities;
            foreground where ``> 0.5``), or None for an unlabelled image without a teacher: then
            only the conditions are computed, ``small_person`` from the predicted mask.
        threshold: Probability threshold of the predicted mask.
        thresholds: Category thresholds (default: the module constants).

    Returns:
        The flags, the primary category and the measured numbers.
    """
    t = thresholds or Thresholds()
    if image.ndim != 3 or image.shape[0] != 3:
        raise UserInputError(f"categorize: image must be 3 x H x W RGB, got shape {image.shape}.")
    h, w = image.shape[1:]
    if prob.shape != (h, w) or (reference is not None and reference.shape != (h, w)):
        raise UserInputError(
            f"categorize: image {h}x{w}, prob {prob.shape} and reference "
            f"{None if reference is None else reference.shape} must have the same H x W."
        )
    pred = prob > threshold
    area = float(h * w)
    luma = mean_luma(image)
    band_px = scaled_band_px(h, w, t)
    measures: dict[str, float] = {"luma": luma, "band_px": float(band_px)}
    flags: dict[str, bool | None] = dict.fromkeys(ERROR_CATEGORIES)
    if reference is not None:
        target = reference > 0.5
        target_area = float(target.sum())
        band = boundary_band(target, band_px)
        wrong = pred != target
        n_wrong = float(wrong.sum())
        missing = float((~pred & target & ~band).sum())
        extra = float((pred & ~target & ~band).sum())
        measures.update(
            error_share=n_wrong / max(target_area, 1.0),
            band_share=float((wrong & band).sum()) / max(n_wrong, 1.0),
            missing_share=missing / max(target_area, 1.0),
            fp_image_share=extra / area,
            fp_target_share=extra / target_area if target_area else 0.0,
        )
        flags["missing_body"] = (
            target_area > 0 and measures["missing_share"] >= t.missing_body_share
        )
        flags["background_fp"] = measures["fp_image_share"] >= t.background_fp_image_share or (
            target_area > 0 and measures["fp_target_share"] >= t.background_fp_target_share
        )
        flags["boundary"] = (
            n_wrong > 0
            and measures["band_share"] >= t.boundary_share
            and measures["error_share"] >= t.boundary_min_error
        )
        fg_share = target_area / area
    else:
        fg_share = float(pred.sum()) / area
    measures["fg_share"] = fg_share
    flags["small_person"] = 0.0 < fg_share < t.small_person_share
    flags["low_light"] = luma < t.low_light_luma
    return Categories(flags=flags, primary=primary_category(flags), measures=measures)
