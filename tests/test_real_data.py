"""Real dataset formats, mask normalisation, splits, the bad-sample check pass and mixing."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from data_fixtures import portrait, truncate, write_folder
from helpers import compose_cfg
from seg.build import build_datamodule
from seg.data.check import check_records
from seg.data.image_io import MaskSpec
from seg.data.portrait_dataset import PortraitDataset
from seg.data.records import DatasetError
from seg.data.splits import assign_splits
from seg.resize import fit_frame


def dataset(root: Path, split: str = "all", **kwargs) -> PortraitDataset:
    kwargs.setdefault("format", "folder")
    return PortraitDataset(split, 48, 64, root=root, **kwargs)


# --- formats -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 255])
def test_folder_reads_masks_of_either_scale(tmp_path, scale):
    write_folder(tmp_path / "p", n=4, mask_scale=scale)
    ds = dataset(tmp_path / "p")
    assert ds.sample_ids() == ["p/s00", "p/s01", "p/s02", "p/s03"]
    sample = ds[2]
    expected = portrait(48, 64, seed=2)[1]
    assert sample["image"].shape == (3, 48, 64) and sample["image"].max() <= 1
    assert torch.equal(sample["mask"][0], torch.from_numpy(expected).float())


def test_folder_manifest_gives_splits_and_attributes(tmp_path):
    attrs = [{"skin_tone": "tone1" if i < 3 else "tone5"} for i in range(6)]
    write_folder(tmp_path / "p", n=6, attributes=attrs, splits=["train"] * 4 + ["val", "test"])
    train = dataset(tmp_path / "p", "train")
    assert train.sample_ids() == ["p/s00", "p/s01", "p/s02", "p/s03"]
    assert [a["skin_tone"] for a in train.attributes()] == ["tone1"] * 3 + ["tone5"]
    assert dataset(tmp_path / "p", "val").sample_ids() == ["p/s04"]
    assert dataset(tmp_path / "p", "test").sample_ids() == ["p/s05"]


def test_folder_split_subfolders(tmp_path):
    for split, n in (("train", 3), ("val", 1), ("test", 2)):
        write_folder(tmp_path / "p" / split, n=n)
    assert len(dataset(tmp_path / "p", "train")) == 3
    assert dataset(tmp_path / "p", "test").sample_ids() == ["p/test/s00", "p/test/s01"]


def test_list_format_and_its_errors(tmp_path):
    write_folder(tmp_path / "d", n=4)
    (tmp_path / "d" / "train.txt").write_text(
        "# comment\nimages/s00.png masks/s00.png\n\nimages/s01.png\tmasks/s01.png\n"
        "images/s02.png masks/s02.png\n"
    )
    (tmp_path / "d" / "val.txt").write_text("images/s03.png masks/s03.png\n")
    files = {"train": "train.txt", "val": "val.txt"}
    train = dataset(tmp_path / "d", "train", format="list", list_files=files)
    # No test list: the test split is carved from train (and logged), never left empty.
    test = dataset(tmp_path / "d", "test", format="list", list_files=files)
    assert len(train) == 2 and len(test) == 1
    assert sorted(train.sample_ids() + test.sample_ids()) == [
        "d/images/s00",
        "d/images/s01",
        "d/images/s02",
    ]
    assert dataset(tmp_path / "d", "val", format="list", list_files=files).sample_ids() == [
        "d/images/s03"
    ]
    (tmp_path / "d" / "bad.txt").write_text("images/s00.png masks/s00.png\na b c\n")
    with pytest.raises(DatasetError, match=r"bad.txt, line 2: expected 'image_path mask_path'"):
        dataset(tmp_path / "d", format="list", list_file="bad.txt")
    with pytest.raises(DatasetError, match="missing.txt.*does not exist"):
        dataset(tmp_path / "d", format="list", list_file="missing.txt")


def test_list_carves_missing_splits_from_train(tmp_path):
    write_folder(tmp_path / "d", n=10)
    lines = "".join(f"images/s{i:02d}.png masks/s{i:02d}.png\n" for i in range(10))
    (tmp_path / "d" / "train.txt").write_text(lines)
    kw = {"format": "list", "list_files": {"train": "train.txt"}}
    parts = {
        s: set(dataset(tmp_path / "d", s, **kw).sample_ids()) for s in ("train", "val", "test")
    }
    assert [len(parts[s]) for s in ("train", "val", "test")] == [8, 1, 1]
    assert not (parts["train"] & parts["val"]) and not (parts["train"] & parts["test"])


def _write_matting(root: Path, n: int = 3, rgba_mattes: bool = False) -> list[np.ndarray]:
    (root / "image" / "a").mkdir(parents=True)
    (root / "matte" / "b").mkdir(parents=True)
    alphas = []
    for i in range(n):
        image, mask = portrait(seed=i)
        alpha = (mask * 200 + 30 * (1 - mask)).astype(np.uint8)  # soft 30 / 200 values
        alphas.append(alpha)
        Image.fromarray(image).save(root / "image" / "a" / f"m{i}.jpg")
        if rgba_mattes:
            rgba = np.dstack([image, alpha])
            Image.fromarray(rgba, "RGBA").save(root / "matte" / "b" / f"m{i}.png")
        else:
            Image.fromarray(alpha).save(root / "matte" / "b" / f"m{i}.png")
    return alphas


@pytest.mark.parametrize("rgba", [False, True])
def test_matting_hard_and_soft_targets(tmp_path, rgba):
    alphas = _write_matting(tmp_path / "m", rgba_mattes=rgba)
    hard = dataset(tmp_path / "m", format="matting")
    assert hard.sample_ids() == ["m/a/m0", "m/a/m1", "m/a/m2"]  # matched across sub-folders
    assert torch.equal(hard[1]["mask"][0], torch.from_numpy(alphas[1] >= 128).float())
    soft = dataset(tmp_path / "m", format="matting", soft=True)
    assert torch.allclose(soft[1]["mask"][0], torch.from_numpy(alphas[1] / 255.0).float())


def test_matting_rgba_images_carry_their_own_matte(tmp_path):
    (tmp_path / "r" / "image").mkdir(parents=True)
    image, mask = portrait(seed=3)
    Image.fromarray(np.dstack([image, mask * 255]), "RGBA").save(tmp_path / "r/image/x.png")
    ds = dataset(tmp_path / "r", format="matting", matte_dir=None)
    assert torch.equal(ds[0]["mask"][0], torch.from_numpy(mask).float())
    assert torch.allclose(ds[0]["image"], torch.from_numpy(image).permute(2, 0, 1) / 255.0)


def test_images_format_is_unlabelled(tmp_path):
    write_folder(tmp_path / "pool", n=3)
    ds = dataset(tmp_path / "pool" / "images", format="images", labelled=False)
    assert len(ds) == 3 and "mask" not in ds[0]


# --- mask values ---------------------------------------------------------------------------------


def test_class_index_masks_need_foreground_labels(tmp_path):
    write_folder(tmp_path / "c", n=2, mask_scale=15)  # VOC person label 15
    with pytest.raises(DatasetError, match=r"s00.png: mask values \{0, 15\}.*foreground_labels"):
        dataset(tmp_path / "c").prepare()
    ds = dataset(tmp_path / "c", foreground_labels=[15])
    assert ds[0]["mask"].sum() == portrait(seed=0)[1].sum()


def test_palette_mask_keeps_indices(tmp_path):
    write_folder(tmp_path / "c", n=1)
    mask = portrait(seed=0)[1]
    pal = Image.fromarray(mask * 2, "L").convert("P")  # indices {0, 2}
    pal.putpalette([0, 0, 0, 0, 0, 0, 192, 128, 128] + [0] * 759)
    pal.save(tmp_path / "c/masks/s00.png")
    ds = dataset(tmp_path / "c", foreground_labels=[2])
    assert ds[0]["mask"].sum() == mask.sum()


def test_colour_mask_is_rejected_with_its_colours(tmp_path):
    write_folder(tmp_path / "c", n=1)
    mask = portrait(seed=0)[1]
    rgb = np.zeros((*mask.shape, 3), np.uint8)
    rgb[mask == 1] = (255, 0, 0)
    Image.fromarray(rgb).save(tmp_path / "c/masks/s00.png")
    with pytest.raises(DatasetError, match=r"colour mask \(colours .*255, 0, 0"):
        dataset(tmp_path / "c").prepare()


# --- bad samples ---------------------------------------------------------------------------------


def _broken_folder(root: Path) -> dict[str, str]:
    write_folder(root, n=8, splits=["train"] * 6 + ["val", "test"])
    (root / "masks" / "s01.png").unlink()  # missing mask
    truncate(root / "images" / "s02.png")  # truncated image
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(root / "masks" / "s03.png")  # wrong size
    (root / "images" / "s04.png").write_bytes(b"not an image")  # unreadable
    return {
        "p/s01": "mask is missing",
        "p/s02": "unreadable or truncated",
        "p/s03": "mask is 10x10 but the image",
        "p/s04": "unreadable or truncated",
    }


def test_bad_samples_stop_with_file_and_reason(tmp_path):
    expected = _broken_folder(tmp_path / "p")
    with pytest.raises(DatasetError) as info:
        dataset(tmp_path / "p").prepare()
    message = str(info.value)
    assert "4 bad sample(s) in the all split" in message  # every one named, not just the first
    assert "data.on_bad_sample=skip" in message
    for stem, reason in expected.items():
        line = next(x for x in message.splitlines() if stem.split("/")[1] in x)
        assert reason in line


def test_skip_counts_lists_and_writes_the_skip_report(tmp_path, capsys):
    expected = _broken_folder(tmp_path / "p")
    cfg = compose_cfg(
        "data=folder",
        f"data.root={tmp_path / 'p'}",
        "data.on_bad_sample=skip",
        f"data.cache_dir={tmp_path / 'cache'}",
        "data.batch_size=1",
        "data.num_workers=0",
    )
    dm = build_datamodule(cfg, report_dir=tmp_path / "run")
    assert dm.report_dir == tmp_path / "run"
    dm.prepare_data()
    rows = list(csv.DictReader((tmp_path / "run" / "skipped_samples.csv").open()))
    assert {r["id"]: r["reason"] for r in rows}.keys() == expected.keys()
    for r in rows:
        assert expected[r["id"]] in r["reason"] and Path(r["file"]).name.startswith("s0")
    assert "Skipped 4 bad sample(s)" in capsys.readouterr().out
    dm.setup()
    assert [len(dm.dataset(s)) for s in ("train", "val", "test")] == [2, 1, 1]  # 8 - 4 skipped


def test_wrong_root_and_empty_dataset(tmp_path):
    with pytest.raises(DatasetError, match=r"nowhere.*does not exist.*data.root"):
        dataset(tmp_path / "nowhere")
    (tmp_path / "empty" / "images").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no images found under"):
        dataset(tmp_path / "empty")
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "photos").mkdir()
    with pytest.raises(DatasetError, match=r"expected a 'images' folder.*photos"):
        dataset(tmp_path / "odd")
    with pytest.raises(DatasetError, match="set data.root"):
        PortraitDataset("train", 48, 64, format="folder", root="???")


def test_check_results_are_cached_and_invalidated_by_changes(tmp_path):
    write_folder(tmp_path / "p", n=3)
    records = dataset(tmp_path / "p")._candidates
    spec = MaskSpec()
    assert check_records(records, lambda r: spec, cache_dir=tmp_path / "c") == []
    assert len(list((tmp_path / "c" / "checks").glob("*.json"))) == 1
    truncate(tmp_path / "p" / "images" / "s01.png")  # a change: size differs -> checked anew
    bad = check_records(records, lambda r: spec, cache_dir=tmp_path / "c")
    assert [b.id for b in bad] == ["p/s01"]


# --- splits, mixing, badcases, resizing ---------------------------------------------------------


def test_ratio_split_is_seeded_order_free_and_stable_as_data_grows(tmp_path):
    write_folder(tmp_path / "p", n=40)
    records = dataset(tmp_path / "p")._candidates
    a = assign_splits(records, (0.8, 0.1, 0.1), seed=0)
    sizes = [len(a[s]) for s in ("train", "val", "test")]
    assert sum(sizes) == 40 and sizes[0] >= 26 and min(sizes) >= 1
    assert a == assign_splits(list(reversed(records)), (0.8, 0.1, 0.1), seed=0)  # order-free
    assert a != assign_splits(records, (0.8, 0.1, 0.1), seed=1)
    # A sample keeps its split when the dataset grows: no test sample drifts into training.
    smaller = assign_splits(records[:25], (0.8, 0.1, 0.1), seed=0)
    for split in ("train", "val", "test"):
        assert {r.id for r in smaller[split]} <= {r.id for r in a[split]}


def test_mixed_sources_share_draws_by_weight(tmp_path):
    write_folder(tmp_path / "big", n=30)
    write_folder(tmp_path / "small", n=5)
    sources = [
        {"format": "folder", "root": str(tmp_path / "big"), "weight": 1.0},
        {"format": "folder", "root": str(tmp_path / "small"), "weight": 3.0},
    ]
    ds = PortraitDataset("all", 48, 64, sources=sources)
    weights = ds.sample_weights()
    small = np.array([i.startswith("small/") for i in ds.sample_ids()])
    assert weights[small].sum() / weights.sum() == pytest.approx(0.75)
    assert {a["source"] for a in ds.attributes()} == {"big", "small"}
    with pytest.raises(DatasetError, match="named 'big'"):
        PortraitDataset("all", 48, 64, sources=[sources[0], sources[0]])


def test_badcases_are_oversampled_as_configured(tmp_path):
    write_folder(tmp_path / "p", n=20, splits=["train"] * 20)
    (tmp_path / "bad.csv").write_text("rank,id,badness\n1,p/s03,0.9\n2,p/s07,0.8\n3,other/x,0.7\n")
    cfg = compose_cfg(
        "data=folder",
        f"data.root={tmp_path / 'p'}",
        f"data.badcases={tmp_path / 'bad.csv'}",
        "data.badcase_weight=5",
        "data.batch_size=4",
        "data.num_workers=0",
        "data.split_ratio=[1,1,1]",
    )
    dm = build_datamodule(cfg)
    # val/test are carved from the 20 train samples; find where the badcases landed.
    ids = dm.dataset("train").sample_ids()
    n, k = len(ids), sum(i in ("p/s03", "p/s07") for i in ids)
    assert k >= 1
    weights = dm.train_weights()
    expected = 5 * k / (n - k + 5 * k)
    assert weights[[i in ("p/s03", "p/s07") for i in ids]].sum() / weights.sum() == pytest.approx(
        expected
    )
    torch.manual_seed(0)
    sampler = dm.train_dataloader().sampler
    draws = [ids[i] for _ in range(300) for i in sampler]
    share = np.mean([d in ("p/s03", "p/s07") for d in draws])
    assert share == pytest.approx(expected, abs=0.03)
    assert k / n < share  # oversampled compared with a plain shuffle


def test_badcases_matching_nothing_is_an_error(tmp_path):
    write_folder(tmp_path / "p", n=6)
    (tmp_path / "bad.csv").write_text("id\nelsewhere/a\n")
    cfg = compose_cfg(
        "data=folder",
        f"data.root={tmp_path / 'p'}",
        f"data.badcases={tmp_path / 'bad.csv'}",
        "data.batch_size=2",
        "data.num_workers=0",
    )
    with pytest.raises(DatasetError, match=r"none of its 1 ids match a train sample"):
        build_datamodule(cfg).train_weights()


@pytest.mark.parametrize(
    ("mode", "check"),
    [
        ("fit", lambda m: m[:, :6].sum() == 0 and m[:, -6:].sum() == 0),  # letterbox bars
        ("cover", lambda m: m.shape == (40, 80)),
        ("stretch", lambda m: m.shape == (40, 80)),
    ],
)
def test_resize_modes(mode, check):
    image = np.full((120, 90, 3), 200, np.uint8)  # portrait photo into a landscape frame
    mask = np.ones((120, 90), np.uint8)
    out, out_mask = fit_frame(image, mask, 40, 80, mode)
    assert out.shape == (40, 80, 3) and out_mask.shape == (40, 80)
    assert check(out_mask)
    if mode == "fit":
        assert out_mask.sum() == 40 * 30  # 90/120 * 40 = 30 columns of person, nothing cut


def test_teacher_cache_key_follows_the_files_of_a_real_dataset(tmp_path):
    from seg.distill import teacher_cache_key, teacher_run_config

    write_folder(tmp_path / "p", n=6)
    cfg = compose_cfg("experiment=attn_distill", "data=folder", f"data.root={tmp_path / 'p'}")
    before = teacher_cache_key(teacher_run_config(cfg))
    assert before == teacher_cache_key(teacher_run_config(cfg))
    image, mask = portrait(seed=99)
    Image.fromarray(image).save(tmp_path / "p/images/new.png")  # same root, one more photo
    Image.fromarray(mask * 255).save(tmp_path / "p/masks/new.png")
    assert teacher_cache_key(teacher_run_config(cfg)) != before
    # Oversampling badcases retrains the student, never the teacher.
    (tmp_path / "bad.csv").write_text("id\np/s01\n")
    looped = compose_cfg(
        "experiment=attn_distill",
        "data=folder",
        f"data.root={tmp_path / 'p'}",
        f"data.badcases={tmp_path / 'bad.csv'}",
    )
    assert "badcases" not in teacher_run_config(looped).data
    assert teacher_cache_key(teacher_run_config(looped)) == teacher_cache_key(
        teacher_run_config(cfg)
    )


def test_every_real_data_config_builds_its_splits(tmp_path):
    """data=list / matting / images / mixed compose and read their layouts with the documented keys."""
    write_folder(tmp_path / "f", n=6)
    (tmp_path / "f" / "all.txt").write_text(
        "".join(f"images/s0{i}.png masks/s0{i}.png\n" for i in range(6))
    )
    _write_matting(tmp_path / "m", n=6)
    common = [
        "augment=none",
        "data.cache_dir=null",
        "data.split_ratio=[1,1,1]",
        "data.batch_size=1",
    ]
    cases = {
        "list": [f"data.root={tmp_path / 'f'}", "data.list_file=all.txt"],
        "matting": [f"data.root={tmp_path / 'm'}", "data.soft=true"],
        "images": [f"data.root={tmp_path / 'f' / 'images'}"],
        "mixed": [
            f"data.sources=[{{format: folder, root: {tmp_path / 'f'}}}, "
            f"{{format: matting, root: {tmp_path / 'm'}, weight: 3}}]"
        ],
    }
    for option, overrides in cases.items():
        dm = build_datamodule(compose_cfg(f"data={option}", *common, *overrides))
        splits = [dm.prepared_split(s) for s in ("train", "val", "test")]
        assert sum(map(len, splits)) == (12 if option == "mixed" else 6), option
        assert ("mask" in splits[0][0]) == (option != "images"), option
        if option == "images":
            with pytest.raises(ValueError, match="cannot be trained on"):
                dm.setup()
    # Mixed: the matting source gets 3/4 of the training draws.
    weights = dm.train_weights()
    ids = dm.dataset("train").sample_ids()
    share = weights[[i.startswith("m/") for i in ids]].sum() / weights.sum()
    assert share == pytest.approx(0.75)
