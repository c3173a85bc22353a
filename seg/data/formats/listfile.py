"""``list`` format: text files of ``image_path mask_path`` lines, relative to the root
(PaddleSeg / PP-HumanSeg style ``train.txt``, ``val.txt``, ``test.txt``).

Fields are separated by whitespace (a tab separates paths that contain spaces); blank lines and
lines starting with ``#`` are skipped. A line with one path is an unlabelled image.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from seg.data.formats.manifest import SPLIT_NAMES, apply_manifest
from seg.data.records import DatasetError, Record


def _lines(path: Path, root: Path, name: str, split: str | None) -> list[Record]:
    if not path.is_file():
        raise DatasetError(f"List file {path} (split {split or 'any'}) does not exist.")
    records = []
    seen: dict[Path, int] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) not in (1, 2):
            raise DatasetError(
                f"{path}, line {number}: expected 'image_path mask_path', got {len(fields)} "
                f"fields ({line[:80]!r}); separate paths that contain spaces with a tab."
            )
        image = root / fields[0].strip()
        if image in seen:
            raise DatasetError(
                f"{path}, line {number}: {fields[0]} is listed twice (first on line {seen[image]})."
            )
        seen[image] = number
        mask = root / fields[1].strip() if len(fields) == 2 else None
        rel = Path(fields[0].strip()).with_suffix("").as_posix()
        records.append(Record(f"{name}/{rel}", image, mask, "mask", name, split))
    return records


def scan(
    root: Path,
    name: str,
    list_file: str | None = None,
    list_files: Mapping[str, str] | None = None,
    manifest: str | None = None,
) -> list[Record]:
    """Records from list files.

    Args:
        root: Folder the paths in the lists are relative to; list paths are relative to it too
            (or absolute).
        name: Source name (ids are ``<name>/<image path without suffix>``).
        list_file: One list for all samples (the seeded ratio split decides their splits); when
            set it is used instead of ``list_files``.
        list_files: ``{split: list}``, e.g. ``{train: train.txt, val: val.txt, test: test.txt}``.
        manifest: Optional manifest CSV (relative to root) with split/attribute columns.

    Raises:
        DatasetError: When neither ``list_file`` nor ``list_files`` is given, a list is
            missing, a line is malformed or an image is listed twice.
    """
    if not list_file and not list_files:
        raise DatasetError(
            f"data=list (source {name!r}): set data.list_file (one list, ratio split) or "
            "data.list_files ({train: train.txt, val: val.txt, test: test.txt})."
        )
    records: list[Record] = []
    if list_file:
        records = _lines(root / list_file, root, name, None)
    else:
        for split, path in (list_files or {}).items():
            if split not in SPLIT_NAMES:
                raise DatasetError(f"data.list_files: {split!r} is not one of {SPLIT_NAMES}.")
            records += _lines(root / path, root, name, split)
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DatasetError(f"{root}: sample {dup!r} is listed in more than one list file.")
    records.sort(key=lambda r: r.id)
    if manifest:
        records = apply_manifest(records, root / manifest, root)
    return records
