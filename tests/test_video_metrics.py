"""Temporal metrics (dtSSD, TC, flicker, flip rate) against hand computations, the scripted
synthetic clips, and clip scoring (seg.eval.clip_scoring)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from seg.data.clip_dataset import SyntheticClipDataset
from seg.data.synthetic import SyntheticPortraitGenerator
from seg.data.synthetic.motion import CLIP_MOTIONS
from seg.errors import ConfigError, UserInputError
from seg.metrics import (
    TemporalMetrics,
    TemporalStats,
    dtssd,
    flicker,
    flip_rate,
    temporal_consistency,
)


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3)).astype(np.uint8), (0, 0), 1.5)


def _moving(t_frames: int = 6, step: int = 3, h: int = 64, w: int = 96):
    """Frames of a texture panning right by ``step`` px per frame and a square moving with it."""
    base = _texture(h, w + step * t_frames)
    frames = np.stack([np.roll(base, step * t, axis=1)[:, :w] for t in range(t_frames)])
    masks = np.zeros((t_frames, h, w), np.float32)
    for t in range(t_frames):
        masks[t, 20:44, 20 + step * t : 50 + step * t] = 1.0
    return frames, masks


# ------------------------------------------------------------------------------ dtSSD


def test_dtssd_is_zero_for_a_static_correct_sequence_and_for_one_that_follows_the_truth():
    _, masks = _moving()
    assert dtssd(masks, masks) == 0.0
    static = np.repeat(masks[:1], 6, axis=0)
    assert dtssd(static, static) == 0.0
    # a constant offset (a wrong but steady prediction) does not change frame to frame either
    assert dtssd(np.clip(masks + 0.2, 0, 1) * 0 + 0.3, np.zeros_like(masks)) == 0.0


def test_dtssd_of_a_toy_flicker_matches_the_hand_computation():
    truth = np.zeros((3, 1, 2), np.float32)
    probs = np.array([[[0, 0]], [[1, 0]], [[0, 0]]], np.float32)
    # frames 1 and 2: sqrt(mean([1, 0])) * 100 = 70.71; frame 0 counts as 0; mean over 3 frames
    assert dtssd(probs, truth) == pytest.approx(2 * 100 * math.sqrt(0.5) / 3, rel=1e-6)
    # ghosting: the prediction lags the moving truth by one frame
    truth = np.array([[[0, 0]], [[1, 0]], [[1, 1]]], np.float32)
    lag = np.array([[[0, 0]], [[0, 0]], [[1, 0]]], np.float32)
    # frame 1: (0 - 1, 0 - 0) -> 70.71; frame 2: (1 - 0, 0 - 1) -> sqrt(1) * 100 = 100
    assert dtssd(lag, truth) == pytest.approx((100 * math.sqrt(0.5) + 100) / 3, rel=1e-6)


def test_dtssd_rejects_mismatched_shapes():
    with pytest.raises(UserInputError, match="differ in shape"):
        dtssd(np.zeros((3, 4, 4)), np.zeros((2, 4, 4)))


# ------------------------------------------------------------------------------ label-free


def test_flicker_and_flip_rate_of_a_toy_sequence():
    probs = np.zeros((3, 2, 2), np.float32)
    probs[1, 0, 0] = 0.8  # one pixel of four flips on, then off again
    assert flicker(probs) == pytest.approx(0.8 / 4)
    assert flip_rate(probs) == pytest.approx(0.25)
    assert flip_rate(probs, threshold=0.9) == 0.0


def test_tc_is_one_when_the_mask_moves_with_the_image():
    frames, masks = _moving()
    assert temporal_consistency(masks, frames) == pytest.approx(1.0, abs=0.02)


def test_tc_of_a_mask_jumping_on_still_frames_is_its_iou_with_the_previous_mask():
    frame = _texture(64, 96)
    frames = np.stack([frame] * 4)
    masks = np.zeros((4, 64, 96), np.float32)
    masks[0::2, 20:40, 20:40] = 1  # 20 x 20 square ...
    masks[1::2, 20:40, 30:50] = 1  # ... jumping 10 px right and back: IoU 200 / 600
    assert temporal_consistency(masks, frames) == pytest.approx(1 / 3, abs=0.02)


def test_streaming_stats_equal_the_sequence_functions():
    frames, masks = _moving()
    probs = masks * 0.9 + 0.05
    probs[2, :10] = 0.7  # some flicker
    stats = TemporalStats()
    for p, f in zip(probs, frames, strict=True):
        stats.update(p, f)
    result = stats.result()
    assert result["flicker"] == pytest.approx(flicker(probs), rel=1e-5)
    assert result["flip_rate"] == pytest.approx(flip_rate(probs), rel=1e-6)
    assert result["tc"] == pytest.approx(temporal_consistency(probs, frames), rel=1e-6)
    stats.reset()
    assert stats.frames == 0


def test_torch_temporal_metrics_average_the_clips():
    frames, masks = _moving()
    wrong = np.repeat(masks[:1], len(masks), axis=0)  # a frozen mask on a moving truth
    probs = torch.from_numpy(np.stack([masks, wrong]))[:, :, None]
    target = torch.from_numpy(np.stack([masks, masks]))[:, :, None]
    images = torch.from_numpy(np.stack([frames, frames])).permute(0, 1, 4, 2, 3).float() / 255
    metric = TemporalMetrics()
    metric.update(probs, target, images)
    out = metric.compute()
    assert out["dtssd"].item() == pytest.approx((0.0 + dtssd(wrong, masks)) / 2, rel=1e-5)
    assert out["tc"].item() == pytest.approx(
        (temporal_consistency(masks, frames) + temporal_consistency(wrong, frames)) / 2, rel=1e-4
    )
    assert out["flicker"].item() == pytest.approx(flicker(masks) / 2, rel=1e-5)
    with pytest.raises(UserInputError, match="frames"):
        TemporalMetrics().update(probs, target)


# ------------------------------------------------------------------------------ clips


def test_scripted_clips_are_deterministic_and_follow_their_motion():
    gen = SyntheticPortraitGenerator(72, 128)
    a = gen.clip("test", 3, 6, motion="lean_out")
    b = gen.clip("test", 3, 6, motion="lean_out")
    assert np.array_equal(a.images, b.images) and np.array_equal(a.masks, b.masks)
    assert a.attributes["motion"] == "lean_out"
    other = gen.clip("test", 3, 6, motion="still")
    assert not np.array_equal(other.images[0], a.images[0])  # each motion its own scenes
    still = gen.clip("val", 0, 8, motion="still")
    moved = np.abs(np.diff(still.masks.astype(np.float32), axis=0)).mean()
    assert moved < 0.003  # sitting still: the exact mask barely changes ...
    noise = np.abs(np.diff(still.images.astype(np.float32), axis=0)).mean()
    assert noise > 0.5  # ... but the sensor noise is new every frame
    lean = gen.clip("val", 0, 16, motion="lean_out").masks.reshape(16, -1).mean(1)
    assert lean.min() < 0.7 * lean.max()  # a large part of the person leaves the frame
    with pytest.raises(ValueError, match="unknown clip motion"):
        gen.clip("val", 0, 4, motion="dance")


def test_lighting_clips_change_brightness_but_not_the_masks_by_light():
    gen = SyntheticPortraitGenerator(72, 128)
    clip = gen.clip("test", 5, 24, motion="lighting")
    level = clip.images.reshape(24, -1).mean(1)
    assert level.max() - level.min() > 8  # levels of 255


def test_clip_dataset_cycles_motions_and_matches_its_cache(tmp_path):
    ds = SyntheticClipDataset("val", 3, frames=4, height=64, width=96, cache_dir=tmp_path)
    ds.prepare()
    sample = ds[2]
    assert sample["image"].shape == (4, 3, 64, 96) and sample["mask"].shape == (4, 1, 64, 96)
    assert ds.sample_ids() == [
        "val/clip0000-still",
        "val/clip0001-turn_slow",
        "val/clip0002-turn_fast",
    ]
    assert [a["motion"] for a in ds.attributes()] == list(CLIP_MOTIONS[:3])
    fresh = SyntheticClipDataset("val", 3, frames=4, height=64, width=96)
    assert torch.equal(fresh[2]["image"], sample["image"])
    chosen = SyntheticClipDataset("val", 2, frames=3, height=64, width=96, motions=["wave"])
    assert [a["motion"] for a in chosen.attributes()] == ["wave", "wave"]


def test_clip_dataset_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"data\.test\.frames"):
        SyntheticClipDataset("test", 2, frames=1)
    with pytest.raises(ConfigError, match=r"data\.val\.motions"):
        SyntheticClipDataset("val", 2, frames=4, motions=["dance"])
