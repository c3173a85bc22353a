"""The synthetic dataset's cache and the DataModule."""

import functools

import numpy as np
import pytest
import torch

from seg.data import synthetic_dataset
from seg.data.datamodule import PortraitDataModule
from seg.data.synthetic_dataset import SyntheticPortraitDataset


def test_cached_frames_equal_rendered_frames_and_are_reused(tmp_path):
    plain = SyntheticPortraitDataset("val", 6, 64, 96, seed=5)
    cached = SyntheticPortraitDataset("val", 6, 64, 96, seed=5, cache_dir=tmp_path, workers=1)
    cached.prepare()
    done = cached.cache_path / "done"
    stamp = done.stat().st_mtime_ns
    for i in range(6):
        a, b = plain[i], cached[i]
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])
    again = SyntheticPortraitDataset("val", 6, 64, 96, seed=5, cache_dir=tmp_path)
    again.prepare()
    assert again.cache_path == cached.cache_path and done.stat().st_mtime_ns == stamp
    assert again.attributes() == plain.attributes()


def test_cache_key_covers_generation_parameters(tmp_path):
    base = SyntheticPortraitDataset("train", 4, 64, 96, seed=0, cache_dir=tmp_path)
    others = [
        SyntheticPortraitDataset("train", 4, 64, 96, seed=1, cache_dir=tmp_path),
        SyntheticPortraitDataset("train", 4, 64, 128, seed=0, cache_dir=tmp_path),
        SyntheticPortraitDataset("train", 4, 64, 96, seed=0, difficulty=0.5, cache_dir=tmp_path),
        SyntheticPortraitDataset("val", 4, 64, 96, seed=0, cache_dir=tmp_path),
        SyntheticPortraitDataset("train", 5, 64, 96, seed=0, cache_dir=tmp_path),
    ]
    assert len({base.cache_path, *(o.cache_path for o in others)}) == 6


def test_parallel_cache_fill_matches_serial(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic_dataset, "PARALLEL_MIN_FRAMES", 1)
    parallel = SyntheticPortraitDataset(
        "test", 12, 64, 96, seed=2, cache_dir=tmp_path / "p", workers=2
    )
    parallel.prepare()
    serial = SyntheticPortraitDataset("test", 12, 64, 96, seed=2)
    for i in (0, 5, 11):
        assert np.array_equal(parallel.raw(i)[0], serial.raw(i)[0])


def test_dataset_sample_format_and_errors():
    ds = SyntheticPortraitDataset("train", 3, 64, 96)
    s = ds[1]
    assert s["image"].shape == (3, 64, 96) and s["image"].dtype == torch.float32
    assert s["image"].min() >= 0.0 and s["image"].max() <= 1.0
    assert s["mask"].shape == (1, 64, 96) and set(s["mask"].unique().tolist()) <= {0.0, 1.0}
    assert s["index"] == 1
    with pytest.raises(IndexError):
        ds.raw(3)
    with pytest.raises(ValueError, match="length must be > 0"):
        SyntheticPortraitDataset("train", 0)


def make_dm(tmp_path, **kw):
    factory = functools.partial(SyntheticPortraitDataset, height=64, width=96)
    return PortraitDataModule(
        train=functools.partial(factory, split="train", length=10),
        val=functools.partial(factory, split="val", length=5),
        test=functools.partial(factory, split="test", length=5),
        height=64,
        width=96,
        num_workers=0,
        dataset_kwargs={"seed": 3, "cache_dir": tmp_path},
        **kw,
    )


def test_datamodule_batches(tmp_path):
    dm = make_dm(tmp_path, batch_size=4, eval_batch_size=5)
    dm.prepare_data()
    dm.setup("fit")
    train_batches = list(dm.train_dataloader())
    assert len(train_batches) == 2  # 10 frames, batch 4, last partial batch dropped
    batch = train_batches[0]
    assert batch["image"].shape == (4, 3, 64, 96) and batch["mask"].shape == (4, 1, 64, 96)
    dm.check_batch(batch)
    val = next(iter(dm.val_dataloader()))
    assert val["image"].shape[0] == 5 and val["index"].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="data.height x data.width"):
        dm.check_batch({"image": torch.zeros(1, 3, 32, 32)})


def test_datamodule_rejects_batch_larger_than_train_split(tmp_path):
    dm = make_dm(tmp_path, batch_size=16)
    with pytest.raises(ValueError, match="fewer than data.batch_size=16"):
        dm.setup("fit")


def test_datamodule_checks_batches_before_transfer(tmp_path):
    dm = make_dm(tmp_path, batch_size=4)
    good = {"image": torch.zeros(2, 3, 64, 96)}
    assert dm.on_before_batch_transfer(good, 0) is good
    with pytest.raises(ValueError, match="expected B x 3 x 64 x 96"):
        dm.on_before_batch_transfer({"image": torch.zeros(2, 3, 64, 64)}, 0)
