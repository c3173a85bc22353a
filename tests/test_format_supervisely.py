"""The Supervisely format: scanning a project tree and rasterising polygons (with holes) and bitmaps."""

from __future__ import annotations

import base64
import io
import json
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from seg.data.formats.supervisely import FOREGROUND_CLASSES, render_annotation, scan
from seg.data.records import BadSampleError, DatasetError


def sly_bitmap_data(mask: np.ndarray) -> str:
    """Encode a boolean mask exactly as the Supervisely SDK does (``Bitmap.data_2_base64``)."""
    img = Image.fromarray(np.asarray(mask, dtype=np.uint8))
    img.putpalette([0, 0, 0, 255, 255, 255])
    buf = io.BytesIO()
    img.save(buf, format="PNG", transparency=0, optimize=0)
    return base64.b64encode(zlib.compress(buf.getvalue())).decode("utf-8")


def polygon(exterior, interior=(), cls: str = "person_poly") -> dict:
    return {
        "classTitle": cls,
        "geometryType": "polygon",
        "points": {
            "exterior": [list(p) for p in exterior],
            "interior": [list(r) for r in interior],
        },
    }


def bitmap(mask: np.ndarray, origin: tuple[int, int], cls: str = "person_bmp") -> dict:
    return {
        "classTitle": cls,
        "geometryType": "bitmap",
        "bitmap": {"data": sly_bitmap_data(mask), "origin": list(origin)},
    }


def rect(x0: int, y0: int, x1: int, y1: int) -> list[list[int]]:
    """Corners of a rectangle covering pixels x0..x1, y0..y1 inclusive."""
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def write_ann(path: Path, objects: list[dict], height: int = 64, width: int = 80) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"size": {"height": height, "width": width}, "objects": objects}))
    return path


def test_polygon_hole_is_cut_out(tmp_path):
    ann = write_ann(tmp_path / "a.json", [polygon(rect(10, 5, 49, 34), [rect(20, 15, 29, 24)])])
    mask = render_annotation(ann)
    assert mask.shape == (64, 80) and mask.dtype == np.uint8
    assert set(np.unique(mask).tolist()) == {0, 1}
    expected = np.zeros((64, 80), np.uint8)
    expected[5:35, 10:50] = 1  # 40 x 30
    expected[15:25, 20:30] = 0  # 10 x 10 hole
    assert int(expected.sum()) == 1100
    assert abs(int(mask.sum()) - 1100) <= 4
    assert (mask == expected).mean() > 0.998
    assert mask[15:25, 20:30].sum() == 0  # the hole
    assert mask[6:14, 11:49].all() and mask[26:34, 11:49].all()  # the ring


def test_polygon_matches_independent_fillpoly_with_float_points(tmp_path):
    tri = [[5.2, 3.7], [70.4, 10.1], [30.6, 58.9]]
    ann = write_ann(tmp_path / "t.json", [polygon(tri)])
    expected = np.zeros((64, 80), np.uint8)
    cv2.fillPoly(expected, [np.array([[5, 4], [70, 10], [31, 59]], np.int32)], 1)
    np.testing.assert_array_equal(render_annotation(ann), expected)


def test_bitmap_placed_at_origin(tmp_path):
    patch = np.zeros((6, 9), bool)
    patch[1:5, 2:8] = True
    patch[2, 4] = False
    ann = write_ann(tmp_path / "b.json", [bitmap(patch, (30, 12))])
    expected = np.zeros((64, 80), np.uint8)
    expected[12:18, 30:39] = patch
    mask = render_annotation(ann)
    np.testing.assert_array_equal(mask, expected)
    assert mask.sum() == 23


def test_bitmap_single_channel_png(tmp_path):
    patch = np.zeros((4, 4), np.uint8)
    patch[1:3, 1:4] = 255
    buf = io.BytesIO()
    Image.fromarray(patch, mode="L").save(buf, format="PNG")
    obj = {
        "classTitle": "person_bmp",
        "geometryType": "bitmap",
        "bitmap": {
            "data": base64.b64encode(zlib.compress(buf.getvalue())).decode(),
            "origin": [0, 0],
        },
    }
    mask = render_annotation(write_ann(tmp_path / "g.json", [obj], height=5, width=5))
    expected = np.zeros((5, 5), np.uint8)
    expected[1:3, 1:4] = 1
    np.testing.assert_array_equal(mask, expected)


def test_bitmap_overflowing_is_clipped(tmp_path):
    patch = np.ones((10, 12), bool)
    objects = [bitmap(patch, (74, 58)), bitmap(patch, (-5, -3))]
    mask = render_annotation(write_ann(tmp_path / "c.json", objects))
    expected = np.zeros((64, 80), np.uint8)
    expected[58:64, 74:80] = 1  # 6 x 6 inside
    expected[0:7, 0:7] = 1  # 7 x 7 inside
    np.testing.assert_array_equal(mask, expected)
    assert mask.sum() == 36 + 49


def test_bitmap_fully_outside_adds_nothing(tmp_path):
    ann = write_ann(tmp_path / "o.json", [bitmap(np.ones((3, 3), bool), (100, 100))])
    assert render_annotation(ann).sum() == 0


def test_hole_of_one_object_does_not_erase_another(tmp_path):
    inner = polygon(rect(22, 17, 27, 22))  # lies inside the hole of the ring, drawn first
    ring = polygon(rect(10, 5, 49, 34), [rect(20, 15, 29, 24)])
    patch = np.ones((4, 4), bool)
    blob = bitmap(patch, (24, 19))  # also inside the hole, drawn before the ring
    for objects in ([inner, blob, ring], [ring, inner, blob]):
        mask = render_annotation(write_ann(tmp_path / "h.json", objects))
        assert mask[17:23, 22:28].all()
        assert mask[19:23, 24:28].all()
        assert mask[15:25, 20:30].sum() == 36
        assert abs(int(mask.sum()) - (1100 + 36)) <= 4


def test_other_classes_ignored_and_classes_selectable(tmp_path):
    objects = [
        polygon(rect(0, 0, 9, 9)),
        polygon(rect(40, 40, 49, 49), cls="background_thing"),
        bitmap(np.ones((5, 5), bool), (60, 10), cls="neutral"),
        {"classTitle": "neutral", "geometryType": "rectangle", "points": {}},
    ]
    ann = write_ann(tmp_path / "d.json", objects)
    mask = render_annotation(ann)
    assert mask.sum() == 100 and mask[:10, :10].all()
    only_bg = render_annotation(ann, classes=("background_thing",))
    assert only_bg.sum() == 100 and only_bg[40:50, 40:50].all()
    assert FOREGROUND_CLASSES == ("person_poly", "person_bmp")


def test_empty_objects_give_empty_mask(tmp_path):
    mask = render_annotation(write_ann(tmp_path / "e.json", [], height=7, width=9))
    assert mask.shape == (7, 9) and mask.sum() == 0


def test_broken_base64_names_the_json(tmp_path):
    obj = bitmap(np.ones((3, 3), bool), (0, 0))
    obj["bitmap"]["data"] = "eJz!!!not-base64"
    ann = write_ann(tmp_path / "ann" / "x.jpg.json", [obj])
    with pytest.raises(BadSampleError) as err:
        render_annotation(ann)
    assert err.value.path == str(ann)
    assert str(ann) in str(err.value) and "bitmap" in err.value.reason


def test_not_a_png_inside_zlib(tmp_path):
    obj = bitmap(np.ones((3, 3), bool), (0, 0))
    obj["bitmap"]["data"] = base64.b64encode(zlib.compress(b"definitely not a png")).decode()
    ann = write_ann(tmp_path / "z.json", [obj])
    with pytest.raises(BadSampleError, match="PNG"):
        render_annotation(ann)


def test_size_mismatch(tmp_path):
    ann = write_ann(tmp_path / "s.json", [polygon(rect(0, 0, 9, 9))], height=64, width=80)
    assert render_annotation(ann, size=(64, 80)).shape == (64, 80)
    with pytest.raises(BadSampleError) as err:
        render_annotation(ann, size=(80, 64))
    assert err.value.path == str(ann)
    assert "64x80" in err.value.reason and "80x64" in err.value.reason


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "invalid JSON"),
        (json.dumps({"objects": []}), "size"),
        (json.dumps({"size": {"height": 0, "width": 5}, "objects": []}), "size"),
        (json.dumps({"size": {"height": 5, "width": 5}}), "objects"),
        (
            json.dumps(
                {
                    "size": {"height": 5, "width": 5},
                    "objects": [{"classTitle": "person_poly", "geometryType": "rectangle"}],
                }
            ),
            "geometryType",
        ),
        (
            json.dumps(
                {
                    "size": {"height": 5, "width": 5},
                    "objects": [polygon([[0, 0], [3, 3]])],
                }
            ),
            "3 points",
        ),
    ],
)
def test_invalid_annotations(tmp_path, content, needle):
    ann = tmp_path / "bad.json"
    ann.write_text(content)
    with pytest.raises(BadSampleError, match=needle) as err:
        render_annotation(ann)
    assert err.value.path == str(ann)


def test_missing_annotation_file(tmp_path):
    with pytest.raises(BadSampleError, match="cannot read"):
        render_annotation(tmp_path / "nope.json")


def make_image(path: Path, size: tuple[int, int] = (16, 12)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (120, 80, 40)).save(path)
    return path


def test_scan_two_datasets(tmp_path):
    root = tmp_path / "sly"
    (root / "meta.json").parent.mkdir(parents=True)
    (root / "meta.json").write_text("{}")
    for ds, names in {"ds2": ["b.png", "a.jpg"], "ds1": ["z.jpeg", "c.jpg"]}.items():
        for n in names:
            make_image(root / ds / "img" / n)
            write_ann(root / ds / "ann" / f"{n}.json", [], height=12, width=16)
    make_image(root / "ds1" / "img" / "lonely.jpg")  # no annotation
    (root / "ds1" / "img" / "notes.txt").write_text("not an image")
    (root / "other").mkdir()  # no img/ folder: not a dataset

    records = scan(root, name="sp")
    assert [r.id for r in records] == [
        "sp/ds1/c",
        "sp/ds1/lonely",
        "sp/ds1/z",
        "sp/ds2/a",
        "sp/ds2/b",
    ]
    by_id = {r.id: r for r in records}
    assert by_id["sp/ds2/b"].image == root / "ds2" / "img" / "b.png"
    assert by_id["sp/ds2/b"].mask == root / "ds2" / "ann" / "b.png.json"
    assert by_id["sp/ds1/z"].mask == root / "ds1" / "ann" / "z.jpeg.json"
    assert by_id["sp/ds1/lonely"].mask is None
    assert not by_id["sp/ds1/lonely"].labelled
    for r in records:
        assert (r.mask_format, r.source, r.split) == ("supervisely", "sp", None)
        if r.mask is not None:
            assert render_annotation(r.mask, size=(12, 16)).shape == (12, 16)


def test_scan_missing_root(tmp_path):
    with pytest.raises(DatasetError, match="does not exist") as err:
        scan(tmp_path / "absent")
    assert str(tmp_path / "absent") in str(err.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match="not a folder"):
        scan(tmp_path / "file")


def test_scan_root_without_datasets(tmp_path):
    with pytest.raises(DatasetError, match=r"<ds>/img") as err:
        scan(tmp_path)
    assert str(tmp_path) in str(err.value)
    make_image(tmp_path / "ds1" / "img" / "a.jpg")
    with pytest.raises(DatasetError, match="parent"):
        scan(tmp_path / "ds1")  # pointed at a dataset folder instead of the project


def test_scan_duplicate_stems(tmp_path):
    make_image(tmp_path / "ds1" / "img" / "a.jpg")
    make_image(tmp_path / "ds1" / "img" / "a.png")
    with pytest.raises(DatasetError, match="share the id"):
        scan(tmp_path)


def test_scan_older_annotation_names(tmp_path):
    make_image(tmp_path / "ds1" / "img" / "old.jpg")
    make_image(tmp_path / "ds1" / "img" / "both.png")
    write_ann(tmp_path / "ds1" / "ann" / "old.json", [])  # older export: <stem>.json
    write_ann(tmp_path / "ds1" / "ann" / "both.json", [])
    write_ann(tmp_path / "ds1" / "ann" / "both.png.json", [])  # current name wins
    by_id = {r.id: r.mask for r in scan(tmp_path)}
    assert by_id == {
        "supervisely/ds1/both": tmp_path / "ds1" / "ann" / "both.png.json",
        "supervisely/ds1/old": tmp_path / "ds1" / "ann" / "old.json",
    }


def test_data_supervisely_config_trains_on_rendered_masks(tmp_path):
    """`data=supervisely data.root=...` builds the splits; samples carry the rendered masks."""
    from helpers import compose_cfg
    from seg.build import build_datamodule

    for i in range(6):
        ds = f"ds{i % 2 + 1}"
        make_image(tmp_path / ds / "img" / f"p{i}.jpg", size=(80, 64))
        write_ann(tmp_path / ds / "ann" / f"p{i}.jpg.json", [polygon(rect(10, 10, 50, 40))])
    cfg = compose_cfg(
        "data=supervisely",
        "augment=none",
        f"data.root={tmp_path}",
        "data.height=64",
        "data.width=80",
        "data.split_ratio=[1,1,1]",
        "data.cache_dir=null",
        "data.batch_size=1",
    )
    dm = build_datamodule(cfg)
    dm.setup()
    sizes = [len(dm.dataset(s)) for s in ("train", "val", "test")]
    assert sum(sizes) == 6 and min(sizes) >= 1
    sample = dm.dataset("train")[0]
    assert sample["mask"].shape == (1, 64, 80)
    assert int(sample["mask"].sum()) == 41 * 31  # pixels 10..50 x 10..40, inclusive
