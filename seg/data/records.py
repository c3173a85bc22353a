"""What a dataset format yields: one :class:`Record` per labelled (or unlabelled) image.

Every format (``seg.data.formats``) turns a dataset on disk into a list of records; everything
after that — checking, splitting, mixing, reading, resizing — is the same for all formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from seg.errors import DataError

# How a record's mask is stored, i.e. which reader turns it into an H x W array:
MASK_FORMATS = (
    "mask",  # a mask image: {0,1}, {0,255}, class indices (data.foreground_labels) or 8-bit alpha
    "alpha",  # a matte image (grey, or the alpha channel of an RGBA file): 0..255 = 0..1
    "image_alpha",  # no mask file: the matte is the alpha channel of the RGBA image itself
    "supervisely",  # a Supervisely annotation JSON (person_poly polygons, person_bmp bitmaps)
)


class DatasetError(DataError):
    """A dataset cannot be used at all (wrong root, no samples, a bad list file, ...).

    A :class:`seg.errors.DataError`, hence also a ``ValueError``.
    """


class BadSampleError(DataError):
    """One sample cannot be used; ``path`` names the offending file and ``reason`` says why.

    Args:
        path: The file at fault (image, mask or annotation).
        reason: Short human reason, e.g. ``"mask is missing"`` or ``"mask values {0, 3, 7}"``.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class Record:
    """One sample of a real dataset, before any pixel is read.

    Attributes:
        id: Unique id within the dataset: ``<source>/<path relative to the source root, no
            suffix>`` (e.g. ``eg1800/images/00012``). Badcase manifests and per-image reports use it.
        image: The image file.
        mask: The mask / matte / annotation file; None for an unlabelled image or for
            ``mask_format="image_alpha"`` (the matte is inside ``image``).
        mask_format: One of :data:`MASK_FORMATS`.
        source: Name of the source dataset (for mixing weights and reports).
        split: ``train`` / ``val`` / ``test`` when the layout, a list file or a manifest says so;
            None to be assigned by the seeded ratio split.
        attributes: Categorical attribute columns (e.g. ``skin_tone``) from a manifest.
    """

    id: str
    image: Path
    mask: Path | None
    mask_format: str = "mask"
    source: str = "data"
    split: str | None = None
    attributes: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def labelled(self) -> bool:
        return self.mask is not None or self.mask_format == "image_alpha"
