"""scripts/prepare_dataset.py: any format -> folder layout + manifest.csv, read back unchanged."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from data_fixtures import portrait, write_folder
from helpers import load_script
from seg.data.portrait_dataset import PortraitDataset


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
    result = load_script("prepare_dataset").main(
        [
            "--output",
            str(out),
            "--attributes",
            str(people),
            "data=list",
            f"data.root={src}",
            "data.cache_dir=null",
        ]
    )
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
    prepare = load_script("prepare_dataset").main
    args = [
        "data=folder",
        f"data.root={tmp_path / 'src'}",
        "data.cache_dir=null",
        "data.split_ratio=[1,1,1]",
    ]
    prepare(["--output", str(tmp_path / "out"), *args])
    with pytest.raises(FileExistsError, match="manifest.csv exists"):
        prepare(["--output", str(tmp_path / "out"), *args])
