"""Preparing a dataset (seg.data.prepare, scripts/prepare_dataset.py): any format -> folder layout +
manifest.csv, read back unchanged."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from data_fixtures import portrait, write_folder
from helpers import ROOT
from seg.build import build_datamodule
from seg.config import compose_train
from seg.data.portrait_dataset import PortraitDataset
from seg.data.prepare import prepare_dataset


def prepare(overrides, output, attributes=None, splits=("train", "val", "test")):
    """What scripts/prepare_dataset.py does: compose, build the splits, convert."""
    cfg = compose_train([*overrides, "augment=none", "data.num_workers=0"])
    datamodule = build_datamodule(cfg, report_dir=output)
    return prepare_dataset({s: datamodule.prepared_split(s) for s in splits}, output, attributes)


def test_list_dataset_converts_to_folder_with_splits_and_user_attributes(tmp_path):
    src = tmp_path / "src"
    write_folder(src, n=6, mask_scale=1, ext=".jpg")  # {0,1} masks, JPEG photos
    (src / "train.txt").write_text("".join(f"images/s0{i}.jpg masks/s0{i}.png\n" for i in range(4)))
    (src / "val.txt").write_text("images/s04.jpg masks/s04.png\n")
    (src / "test.txt").write_text("images/s05.jpg masks/s05.png\n")
    people = tmp_path / "people.csv"
    people.write_text(
        "id,gender\n" + "".join(f"src/images/s0{i},{'f' if i % 2 else 'm'}\n" for i in range(6))
    )
    out = tmp_path / "out"
    result = prepare(["data=list", f"data.root={src}", "data.cache_dir=null"], out, people)
    assert result["per_split"] == {"train": 4, "val": 1, "test": 1}
    rows = list(csv.DictReader((out / "manifest.csv").open()))
    assert list(rows[0])[:8] == [
        "id",
        "image",
        "mask",
        "width",
        "height",
        "split",
        "source",
        "original_id",
    ]
    assert {r["original_id"]: r["gender"] for r in rows}["src/images/s01"] == "f"
    assert all((r["width"], r["height"]) == ("64", "48") for r in rows)
    # Images are copied byte for byte; masks become {0, 255}.
    assert (out / "images" / "images__s00.jpg").read_bytes() == (
        src / "images/s00.jpg"
    ).read_bytes()
    mask = np.asarray(Image.open(out / "masks" / "images__s00.png"))
    assert set(np.unique(mask)) == {0, 255}
    assert np.array_equal(mask // 255, portrait(48, 64, seed=0)[1])
    # Read back as data=folder: same splits, attributes from the manifest.
    for split, n in (("train", 4), ("val", 1), ("test", 1)):
        ds = PortraitDataset(split, 48, 64, format="folder", root=out)
        assert len(ds) == n
    train = PortraitDataset("train", 48, 64, format="folder", root=out)
    assert [a["gender"] for a in train.attributes()] == ["m", "f", "m", "f"]


def test_prepare_refuses_to_overwrite(tmp_path):
    write_folder(tmp_path / "src", n=3)
    args = [
        "data=folder",
        f"data.root={tmp_path / 'src'}",
        "data.cache_dir=null",
        "data.split_ratio=[1,1,1]",
    ]
    prepare(args, tmp_path / "out")
    with pytest.raises(FileExistsError, match="manifest.csv exists"):
        prepare(args, tmp_path / "out")
    # the command line: the same refusal as one error line, no traceback
    cmd = [sys.executable, str(ROOT / "scripts" / "prepare_dataset.py"), *args]
    proc = subprocess.run(
        [*cmd, "--output", str(tmp_path / "out")], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1 and "manifest.csv exists" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = subprocess.run(
        [*cmd, "--output", str(tmp_path / "new")], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (
        "Train on it: python train.py" in proc.stdout and (tmp_path / "new/manifest.csv").is_file()
    )
