"""Pairs of consecutive synthetic clip frames for temporal consistency (``pairs=True``)."""

from __future__ import annotations

import csv
import hashlib
import json

import albumentations as A
import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from helpers import compose_cfg, run_train
from seg.data import synthetic_dataset
from seg.data.datamodule import PortraitDataModule
from seg.data.sample import make_sample
from seg.data.synthetic import SyntheticPortraitGenerator
from seg.data.synthetic_dataset import SyntheticPortraitDataset

H, W = 64, 96


def _iou(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.bool(), b.bool()
    return float((a & b).sum() / (a | b).sum().clamp(min=1))


def test_pair_sample_format_and_determinism():
    ds = SyntheticPortraitDataset("train", 4, H, W, seed=1, pairs=True)
    s = ds[2]
    for key, channels in (("image", 3), ("previous_image", 3), ("mask", 1), ("previous_mask", 1)):
        assert s[key].shape == (channels, H, W) and s[key].dtype == torch.float32, key
    assert s["previous_image"].min() >= 0.0 and s["previous_image"].max() <= 1.0
    assert set(s["previous_mask"].unique().tolist()) <= {0.0, 1.0}
    assert s["index"] == 2
    clip = SyntheticPortraitGenerator(height=H, width=W, seed=1).clip("train", 2, 2)
    prev_image, prev_mask, image, mask = ds.raw_pair(2)
    assert np.array_equal(prev_image, clip.images[0]) and np.array_equal(image, clip.images[1])
    assert np.array_equal(prev_mask, clip.masks[0]) and np.array_equal(mask, clip.masks[1])
    assert all(np.array_equal(a, b) for a, b in zip(ds.raw(2), (image, mask), strict=True))
    again = SyntheticPortraitDataset("train", 4, H, W, seed=1, pairs=True)[2]
    assert all(torch.equal(s[k], again[k]) for k in ("image", "previous_image", "previous_mask"))
    assert "previous_image" not in SyntheticPortraitDataset("train", 4, H, W)[2]
    with pytest.raises(ValueError, match="pairs=True"):
        SyntheticPortraitDataset("train", 4, H, W).raw_pair(0)
    with pytest.raises(IndexError):
        ds.raw_pair(4)


def test_pairs_are_consecutive_frames():
    ds = SyntheticPortraitDataset("val", 12, H, W, pairs=True)
    ious, moved = [], []
    for i in range(len(ds)):
        s = ds[i]
        ious.append(_iou(s["previous_mask"], s["mask"]))
        moved.append(float((s["image"] - s["previous_image"]).abs().mean()))
    ious = np.array(ious)
    # same person and background, moved a little: masks overlap a lot but are not identical
    assert np.mean((ious > 0.8) & (ious < 1.0)) >= 0.75, ious
    assert min(moved) > 0.0 and np.median(moved) < 0.15, moved


def test_same_augmentation_hits_both_frames():
    plain = SyntheticPortraitDataset("train", 3, H, W, pairs=True)
    flip = A.Compose([A.HorizontalFlip(p=1.0)])
    flipped = SyntheticPortraitDataset("train", 3, H, W, pairs=True, transform=flip)
    for i in range(3):
        a, b = plain[i], flipped[i]
        for key in ("image", "mask", "previous_image", "previous_mask"):
            assert torch.equal(b[key], a[key].flip(-1)), (i, key)
    # the full random train pipeline: one draw per pair, so identical frames stay identical
    augment = instantiate(compose_cfg("debug=smoke").augment.train)
    SyntheticPortraitDataset("train", 1, H, W, pairs=True, transform=augment)  # registers targets
    image, mask = plain.raw(0)
    for _ in range(8):
        s = make_sample(image, mask, 0, augment, previous=(image, mask))
        assert torch.equal(s["image"], s["previous_image"])
        assert torch.equal(s["mask"], s["previous_mask"])


def test_pair_cache_has_its_own_key_and_stores_both_frames(tmp_path, monkeypatch):
    single = SyntheticPortraitDataset("val", 4, H, W, cache_dir=tmp_path)
    pairs = SyntheticPortraitDataset("val", 4, H, W, cache_dir=tmp_path, pairs=True)
    assert single.cache_path != pairs.cache_path
    # single-frame keys are exactly what they were before pairs existed (old caches stay valid)
    key = json.dumps(
        {
            **single.params,
            "split": "val",
            "length": 4,
            "code": synthetic_dataset.synthetic.source_fingerprint(),
        },
        sort_keys=True,
    )
    assert single.cache_path.name == f"val-4-{hashlib.sha1(key.encode()).hexdigest()[:16]}"
    monkeypatch.setattr(synthetic_dataset, "PARALLEL_MIN_FRAMES", 1)
    pairs.workers = 2  # the spawn pool path
    pairs.prepare()
    assert np.load(pairs.cache_path / "images.npy", mmap_mode="r").shape == (4, 2, H, W, 3)
    assert np.load(pairs.cache_path / "masks.npy", mmap_mode="r").shape == (4, 2, H, W)
    rendered = SyntheticPortraitDataset("val", 4, H, W, pairs=True)
    for i in (0, 3):
        assert all(
            np.array_equal(a, b)
            for a, b in zip(pairs.raw_pair(i), rendered.raw_pair(i), strict=True)
        )
    assert pairs.attributes() == rendered.attributes()


def test_datamodule_checks_previous_frames(tmp_path):
    dm = PortraitDataModule(train=None, val=None, test=None, height=H, width=W)
    image, mask = torch.zeros(2, 3, H, W), torch.zeros(2, 1, H, W)
    good = {"image": image, "mask": mask, "previous_image": image, "previous_mask": mask}
    assert dm.on_before_batch_transfer(good, 0) is good
    with pytest.raises(ValueError, match="'previous_image' is \\(2, 3, 32, 32\\)"):
        dm.check_batch({**good, "previous_image": torch.zeros(2, 3, 32, 32)})
    with pytest.raises(ValueError, match="'previous_mask' is"):
        dm.check_batch({**good, "previous_mask": torch.zeros(2, 1, H, 32)})
    with pytest.raises(ValueError, match="no 'previous_image'"):
        dm.check_batch({"image": image, "mask": mask, "previous_mask": mask})


def test_cli_temporal_frames_smoke(tmp_path):
    overrides = ("experiment=student", "+loss_terms=[temporal_frames]", "debug=smoke")
    cfg = compose_cfg(*overrides)
    assert cfg.data.pairs is True and "dataset_kwargs" not in cfg.data
    assert cfg.loss.terms.temporal_frames.target == "previous.logits"
    run_dir = tmp_path / "run"
    proc = run_train(*overrides, f"paths.cache_dir={tmp_path / 'cache'}", run_dir=run_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list((tmp_path / "cache" / "synthetic").glob("pairs-train-*"))
    rows = list(csv.DictReader((run_dir / "csv" / "metrics.csv").open()))
    assert "train/loss_temporal_frames_step" in rows[0]
    values = [
        float(r["train/loss_temporal_frames_step"])
        for r in rows
        if r["train/loss_temporal_frames_step"]
    ]
    assert values and all(np.isfinite(values))
