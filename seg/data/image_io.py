"""Reading images and masks from disk, strictly: a bad file raises :class:`BadSampleError` naming it.

Masks are normalised to ``H x W`` arrays in ``[0, 1]``: ``{0, 1}`` and ``{0, 255}`` masks as they
are, class-index masks through ``foreground_labels``, alpha mattes (grey images or the alpha channel
of an RGBA file) as ``value / max``. Anything else — e.g. a class-index mask with other labels — is an
error that lists the values found, so a wrongly encoded dataset never trains as a silent mess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from seg.data.records import BadSampleError, Record
from seg.errors import ConfigError

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, never a grey half-image
Image.MAX_IMAGE_PIXELS = (
    200_000_000  # portraits are far smaller; guards against decompression bombs
)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
MASK_SUFFIXES = (".png", ".bmp", ".webp")


@dataclass(frozen=True)
class MaskSpec:
    """How mask values become foreground.

    Args:
        foreground_labels: Class indices that are foreground in a class-index mask (e.g. ``[1]``
            or ``[15]`` for VOC's person); None accepts only ``{0, 1}`` / ``{0, 255}`` masks.
        soft: Keep mattes as soft targets in ``[0, 1]``; False thresholds them.
        threshold: Matte value at or above which a pixel is foreground when ``soft`` is False.
        classes: Foreground object classes of Supervisely annotations.
    """

    foreground_labels: tuple[int, ...] | None = None
    soft: bool = False
    threshold: float = 0.5
    classes: tuple[str, ...] = ("person_poly", "person_bmp")

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"data.threshold must be in (0, 1), got {self.threshold}.")


def _open(path: Path) -> Image.Image:
    if not path.is_file():
        raise BadSampleError(path, "file is missing")
    try:
        image = Image.open(path)
        image.load()  # decodes everything: truncated or corrupt data raises here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise BadSampleError(path, f"unreadable or truncated image ({e})") from None
    return image


def read_image(path: str | Path) -> np.ndarray:
    """An image file as ``H x W x 3`` uint8 RGB (alpha dropped, greyscale expanded).

    Raises:
        BadSampleError: When the file is missing, unreadable or truncated.
    """
    image = _open(Path(path))
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.array(image)  # a writable copy (torch.from_numpy needs one)


def read_alpha(path: str | Path) -> np.ndarray:
    """The matte of a file as float32 ``H x W`` in ``[0, 1]``: its alpha channel if it has one,
    else its grey values (8- or 16-bit)."""
    path = Path(path)
    image = _open(path)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        return np.asarray(image.convert("RGBA"))[..., 3].astype(np.float32) / 255.0
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        values = np.asarray(image).astype(np.float32)
        return values / (65535.0 if values.max() > 255 else 255.0)
    if image.mode not in ("L", "P", "1"):
        rgb = np.asarray(image.convert("RGB"))
        if not (
            np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])
        ):
            raise BadSampleError(path, "colour matte: expected a grey image or an alpha channel")
        return rgb[..., 0].astype(np.float32) / 255.0
    return np.asarray(image.convert("L")).astype(np.float32) / 255.0


def _mask_values(path: Path, image: Image.Image) -> np.ndarray:
    """Raw label values of a mask file (palette indices stay indices)."""
    if image.mode in ("RGBA", "LA"):
        channels = np.asarray(image)
        alpha = channels[..., -1]
        if alpha.min() != alpha.max():  # a real alpha channel: it is the mask
            return alpha
        image = image.convert("RGB" if image.mode == "RGBA" else "L")
    if image.mode == "RGB":
        rgb = np.asarray(image)
        if not (
            np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])
        ):
            colours = np.unique(rgb.reshape(-1, 3), axis=0)[:6]
            raise BadSampleError(
                path,
                f"colour mask (colours {', '.join(map(str, map(tuple, colours.tolist())))}...): "
                "save masks as single-channel PNGs ({0,1}, {0,255} or class indices)",
            )
        return rgb[..., 0]
    if image.mode == "1":
        return np.asarray(image).astype(np.uint8)
    return np.asarray(image)


def _describe(values: np.ndarray) -> str:
    found = np.unique(values)
    shown = ", ".join(str(int(v)) for v in found[:12])
    return "{" + shown + (f", ... ({len(found)} values)" if len(found) > 12 else "") + "}"


def normalise_mask(values: np.ndarray, path: str | Path, spec: MaskSpec) -> np.ndarray:
    """Label values of a mask -> ``H x W`` foreground in ``[0, 1]`` (uint8 ``{0, 1}``).

    Raises:
        BadSampleError: When the values are not ``{0, 1}`` / ``{0, 255}`` (or the max of a 16-bit
            mask) and ``spec.foreground_labels`` is not set; the message lists the values found.
    """
    if spec.foreground_labels is not None:
        return np.isin(values, spec.foreground_labels).astype(np.uint8)
    if values.dtype == np.uint8:
        present = np.flatnonzero(np.bincount(values.ravel(), minlength=256))
    else:
        present = np.unique(values)
    top = 65535 if values.dtype == np.uint16 and present.size and present.max() > 255 else 255
    if set(present.tolist()) <= {0, 1}:
        return values.astype(np.uint8)
    if set(present.tolist()) <= {0, top}:
        return (values == top).astype(np.uint8)
    raise BadSampleError(
        path,
        f"mask values {_describe(values)}: expected {{0, 1}} or {{0, 255}}. For class-index masks "
        "set data.foreground_labels=[<person label>, ...]; for soft 8-bit mattes use data=matting",
    )


def read_mask(record: Record, spec: MaskSpec) -> np.ndarray:
    """The target of a record: uint8 ``{0, 1}`` (hard) or float32 ``[0, 1]`` (``spec.soft``).

    Raises:
        BadSampleError: When the mask is missing, unreadable, or its values cannot be normalised.
    """
    fmt = record.mask_format
    if fmt == "supervisely":
        from seg.data.formats.supervisely import render_annotation

        if record.mask is None or not Path(record.mask).is_file():
            where = f" (expected {record.mask})" if record.mask is not None else ""
            raise BadSampleError(record.image, f"annotation JSON is missing{where}")
        return render_annotation(record.mask, spec.classes)
    if fmt in ("alpha", "image_alpha"):
        path = record.image if fmt == "image_alpha" else record.mask
        if path is None or not Path(path).is_file():
            where = f" (expected {path})" if path is not None else ""
            raise BadSampleError(record.image, f"matte is missing{where}")
        alpha = read_alpha(path)
        if spec.soft:
            return alpha
        return (alpha >= spec.threshold).astype(np.uint8)
    if fmt != "mask":
        raise ValueError(
            f"Unknown mask format {fmt!r} of {record.id}; expected one of mask, "
            "alpha, image_alpha, supervisely."
        )
    if record.mask is None or not Path(record.mask).is_file():
        where = f" (expected {record.mask})" if record.mask is not None else ""
        raise BadSampleError(record.image, f"mask is missing{where}")
    image = _open(Path(record.mask))
    return normalise_mask(_mask_values(Path(record.mask), image), record.mask, spec)


def load_pair(record: Record, spec: MaskSpec) -> tuple[np.ndarray, np.ndarray | None]:
    """``(image, mask)`` of a record, checked to have the same size (mask None if unlabelled).

    Raises:
        BadSampleError: On any unreadable file, bad mask values or a size mismatch.
    """
    image = read_image(record.image)
    if not record.labelled:
        return image, None
    mask = read_mask(record, spec)
    if mask.shape[:2] != image.shape[:2]:
        (h, w), (mh, mw) = image.shape[:2], mask.shape[:2]
        hint = ""
        if (mh, mw) == (w, h):
            hint = " (transposed: is the image rotated by its EXIF orientation?)"
        raise BadSampleError(
            record.mask or record.image,
            f"mask is {mw}x{mh} but the image {record.image} is {w}x{h}{hint}",
        )
    return image, mask


def find_files(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    """Files under ``folder`` (recursive, hidden files and folders skipped) with these suffixes,
    sorted."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() in suffixes and path.is_file():
            found.append(path)
    return sorted(found)
