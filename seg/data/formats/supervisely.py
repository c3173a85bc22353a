"""The Supervisely format (e.g. the Supervisely Person dataset): images plus annotation JSONs.

Layout::

    <root>/meta.json                      (optional, not read)
    <root>/<ds>/img/<name>.<ext>          (one or more dataset folders: ds1 ... ds13)
    <root>/<ds>/ann/<name>.<ext>.json     (the image file name plus ``.json``; older exports:
                                           <name>.json, used when the first is missing)

An annotation is ``{"size": {"height": H, "width": W}, "objects": [...]}``; every object has a
``classTitle`` and a ``geometryType``:

- ``"polygon"``: ``points: {"exterior": [[x, y], ...], "interior": [[[x, y], ...], ...]}``; the
  interior rings are holes of that polygon.
- ``"bitmap"``: ``bitmap: {"data": <base64 of zlib-compressed PNG>, "origin": [x, y]}``; the PNG's
  alpha channel (or its only channel) is the object's mask, top-left corner at ``origin``.

The foreground is the union of the objects whose class is in ``classes``; each object is rendered on
its own canvas first, so one polygon's hole never erases another object. Supervisely Person
also has ``neutral`` objects; they are not foreground unless ``classes`` names them.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from seg.data.records import BadSampleError, DatasetError, Record

FOREGROUND_CLASSES = ("person_poly", "person_bmp")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
MASK_FORMAT = "supervisely"
LAYOUT = "<root>/<ds>/img/<name>.<ext> with <root>/<ds>/ann/<name>.<ext>.json"


def scan(
    root: str | Path, name: str = "supervisely", classes: Sequence[str] = FOREGROUND_CLASSES
) -> list[Record]:
    """One :class:`Record` per image of a Supervisely project, sorted by id.

    Args:
        root: The project folder holding the dataset folders (``ds1`` ... ``dsN``).
        name: Source name; ids are ``<name>/<ds>/<image stem>``.
        classes: Foreground classes (unused while scanning; kept so every format's ``scan`` takes
            the same arguments as its reader).

    Returns:
        Records with ``image`` the image file, ``mask`` the annotation JSON (:func:`annotation_path`;
        None when it is missing: the dataset checker reports it), ``mask_format="supervisely"`` and no split.

    Raises:
        DatasetError: ``root`` is missing or not a folder, holds no ``<ds>/img`` folder, or two
            images of one dataset folder share a stem.
    """
    del classes
    root = Path(root)
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise DatasetError(
            f"Supervisely root {root} {what}; set data.root to the folder holding the dataset "
            f"folders ({LAYOUT})."
        )
    datasets = sorted(p for p in root.iterdir() if (p / "img").is_dir())
    if not datasets:
        hint = (
            f" {root}/img exists: set data.root to its parent folder {root.parent}."
            if (root / "img").is_dir()
            else ""
        )
        raise DatasetError(
            f"Supervisely root {root} holds no <ds>/img folder; expected {LAYOUT} "
            f"(e.g. {root}/ds1/img/0001.jpg and {root}/ds1/ann/0001.jpg.json).{hint}"
        )
    records: list[Record] = []
    for ds in datasets:
        seen: dict[str, Path] = {}
        for image in sorted((ds / "img").iterdir()):
            if image.name.startswith(".") or image.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            if not image.is_file():
                continue
            if image.stem in seen:
                raise DatasetError(
                    f"{image} and {seen[image.stem]} share the id {name}/{ds.name}/{image.stem}; "
                    "rename or remove one of them."
                )
            seen[image.stem] = image
            records.append(
                Record(
                    id=f"{name}/{ds.name}/{image.stem}",
                    image=image,
                    mask=annotation_path(image),
                    mask_format=MASK_FORMAT,
                    source=name,
                    split=None,
                )
            )
    return sorted(records, key=lambda r: r.id)


def annotation_path(image: Path) -> Path | None:
    """The annotation of ``<ds>/img/<name>.<ext>``: ``<ds>/ann/<name>.<ext>.json``.

    Older exports name it ``<ds>/ann/<name>.json``; that is used when the first does not exist.
    None when neither exists.
    """
    ann_dir = image.parent.parent / "ann"
    for candidate in (ann_dir / f"{image.name}.json", ann_dir / f"{image.stem}.json"):
        if candidate.is_file():
            return candidate
    return None


def render_annotation(
    path: str | Path,
    classes: Sequence[str] = FOREGROUND_CLASSES,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Rasterise a Supervisely annotation JSON into a foreground mask.

    Args:
        path: The annotation JSON.
        classes: ``classTitle`` values that count as foreground; other objects are ignored.
        size: Expected ``(height, width)`` (the image's); must equal the JSON's ``size``.

    Returns:
        ``H x W`` uint8 mask in ``{0, 1}``: the union of the foreground objects.

    Raises:
        BadSampleError: The file is unreadable or not valid JSON, has no valid ``size`` or
            ``objects``, a foreground object has an unknown ``geometryType`` or malformed
            geometry (points, base64, zlib, PNG), or ``size`` differs from the JSON's size.
    """
    path = Path(path)
    try:
        ann = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise BadSampleError(path, f"cannot read the annotation ({err})") from err
    except json.JSONDecodeError as err:
        raise BadSampleError(path, f"invalid JSON ({err})") from err
    if not isinstance(ann, dict):
        raise BadSampleError(path, "annotation is not a JSON object")
    height, width = _size(path, ann.get("size"))
    if size is not None and (int(size[0]), int(size[1])) != (height, width):
        raise BadSampleError(
            path,
            f"annotation size {height}x{width} (HxW) differs from the image size "
            f"{int(size[0])}x{int(size[1])}",
        )
    objects = ann.get("objects")
    if not isinstance(objects, list):
        raise BadSampleError(path, "no 'objects' list")
    wanted = set(classes)
    mask = np.zeros((height, width), np.uint8)
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise BadSampleError(path, f"objects[{i}] is not a JSON object")
        if obj.get("classTitle") not in wanted:
            continue
        kind = obj.get("geometryType")
        where = f"objects[{i}] ({obj.get('classTitle')})"
        if kind == "polygon":
            mask |= _polygon(path, where, obj.get("points"), (height, width))
        elif kind == "bitmap":
            _paste_bitmap(path, where, obj.get("bitmap"), mask)
        else:
            raise BadSampleError(
                path, f"{where}: unknown geometryType {kind!r} (expected 'polygon' or 'bitmap')"
            )
    return mask


def _size(path: Path, size: Any) -> tuple[int, int]:
    """``(height, width)`` from the JSON's ``size`` entry."""
    try:
        height, width = size["height"], size["width"]
    except (TypeError, KeyError) as err:
        raise BadSampleError(path, "missing 'size': {'height': H, 'width': W}") from err
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (height, width)):
        raise BadSampleError(path, f"invalid size height={height!r} width={width!r}")
    return height, width


def _ring(path: Path, where: str, points: Any) -> np.ndarray:
    """A ring of ``[x, y]`` points as an ``N x 2`` int32 array (rounded like the Supervisely SDK)."""
    try:
        ring = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise BadSampleError(path, f"{where}: points are not [x, y] number pairs") from err
    if ring.ndim != 2 or ring.shape[1] != 2 or not np.isfinite(ring).all():
        raise BadSampleError(path, f"{where}: points are not [x, y] number pairs")
    if len(ring) < 3:
        raise BadSampleError(
            path, f"{where}: a polygon ring needs at least 3 points, got {len(ring)}"
        )
    return np.rint(ring).astype(np.int32)


def _polygon(path: Path, where: str, points: Any, shape: tuple[int, int]) -> np.ndarray:
    """One polygon (exterior minus its interior rings) on its own ``shape`` canvas."""
    if not isinstance(points, dict) or "exterior" not in points:
        raise BadSampleError(path, f"{where}: polygon without points.exterior")
    interior = points.get("interior") or []
    if not isinstance(interior, list):
        raise BadSampleError(path, f"{where}: points.interior is not a list of rings")
    canvas = np.zeros(shape, np.uint8)
    cv2.fillPoly(canvas, [_ring(path, where, points["exterior"])], 1)
    for hole in interior:
        cv2.fillPoly(canvas, [_ring(path, f"{where} interior", hole)], 0)
    return canvas


def _decode_bitmap(path: Path, where: str, data: Any) -> np.ndarray:
    """The boolean mask inside a Supervisely bitmap ``data`` string (base64 of zlib of a PNG)."""
    if not isinstance(data, str):
        raise BadSampleError(path, f"{where}: bitmap.data is not a string")
    try:
        raw = base64.b64decode(data)
    except (binascii.Error, ValueError) as err:
        raise BadSampleError(path, f"{where}: bitmap.data is not valid base64 ({err})") from err
    try:
        png = zlib.decompress(raw)
    except zlib.error:
        png = raw  # the SDK also accepts an uncompressed PNG
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED) if png else None
    if image is None:
        raise BadSampleError(path, f"{where}: bitmap.data is not a zlib-compressed PNG")
    if image.ndim == 3 and image.shape[2] == 4:
        return image[:, :, 3] != 0
    if image.ndim == 2:
        return image != 0
    raise BadSampleError(
        path, f"{where}: bitmap PNG has {image.shape[2]} channels (expected 1, or 4 with alpha)"
    )


def _paste_bitmap(path: Path, where: str, bitmap: Any, mask: np.ndarray) -> None:
    """OR a bitmap object into ``mask`` at its origin, clipped to the image."""
    if not isinstance(bitmap, dict):
        raise BadSampleError(path, f"{where}: bitmap object without 'bitmap'")
    patch = _decode_bitmap(path, where, bitmap.get("data"))
    origin = bitmap.get("origin")
    if (
        not isinstance(origin, (list, tuple))
        or len(origin) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in origin)
    ):
        raise BadSampleError(path, f"{where}: bitmap.origin is not [x, y], got {origin!r}")
    x0, y0 = (int(round(v)) for v in origin)
    h, w = patch.shape
    top, left = max(y0, 0), max(x0, 0)
    bottom, right = min(y0 + h, mask.shape[0]), min(x0 + w, mask.shape[1])
    if bottom <= top or right <= left:
        return
    mask[top:bottom, left:right] |= patch[top - y0 : bottom - y0, left - x0 : right - x0]
