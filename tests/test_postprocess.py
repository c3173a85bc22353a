"""Post-processing of probability maps: each step's numbers, the presets and the settings API."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import yaml
from hydra.utils import instantiate
from omegaconf import OmegaConf

from helpers import CONFIGS, compose_cfg
from seg.errors import ConfigError, MissingFileError, UserInputError
from seg.postprocess import (
    PRESETS,
    PostProcessor,
    describe_settings,
    load_postprocess,
    normalize_settings,
)
from seg.postprocess.mask_ops import disk, feather
from seg.postprocess.smoothing import mediapipe_uncertainty
from seg.resize import resize_image, resize_probs


def square(size: int = 40, side: int = 10, value: float = 1.0) -> np.ndarray:
    mask = np.zeros((size, size), np.float32)
    start = (size - side) // 2
    mask[start : start + side, start : start + side] = value
    return mask


# ---------------------------------------------------------------- threshold, morphology, blobs


@pytest.mark.parametrize("k", [1, 2, 3])
def test_dilate_grows_a_square_by_the_kernels_ring_and_erode_shrinks_it(k):
    side = 10
    grown = PostProcessor(dilate_px=k)(square(side=side))
    # Minkowski sum of a side x side square and the (2k+1)^2 elliptical kernel: k px on each side,
    # plus in each corner the kernel's own off-axis quadrant
    corner = int(disk(k)[:k, :k].sum())
    assert grown.sum() == side * side + 4 * side * k + 4 * corner
    if k == 1:  # the 3x3 ellipse is a cross: exactly the square's 4-neighbour ring
        assert grown.sum() == (side + 2) ** 2 - 4
    shrunk = PostProcessor(erode_px=k)(square(side=side))
    assert shrunk.sum() == (side - 2 * k) ** 2
    assert np.array_equal(shrunk, square(side=side - 2 * k))


def test_dilate_then_erode_gives_back_the_square():
    mask = square(side=12)
    closed = PostProcessor(dilate_px=3, erode_px=3)(mask)
    assert np.array_equal(closed, mask)


def test_soft_threshold_is_a_monotone_smoothstep_between_low_and_high():
    pp = PostProcessor(threshold={"mode": "soft", "low": 0.3, "high": 0.7})
    p = np.linspace(0, 1, 101, dtype=np.float32)[None]
    out = pp(p)[0]
    assert np.all(out[p[0] <= 0.3] == 0) and np.all(out[p[0] >= 0.7] == 1)
    assert out[50] == pytest.approx(0.5, abs=1e-6)  # p = 0.5, the midpoint
    x = (0.4 - 0.3) / 0.4
    assert out[40] == pytest.approx(3 * x**2 - 2 * x**3, abs=1e-6)
    assert np.all(np.diff(out) >= 0)


def test_hard_threshold_is_exact():
    p = np.array([[0.0, 0.39, 0.4, 0.41, 1.0]], np.float32)
    out = PostProcessor(threshold={"mode": "hard", "level": 0.4})(p)
    assert out.tolist() == [[0, 0, 1, 1, 1]]
    assert PostProcessor(threshold="hard")(p).tolist() == [[0, 0, 0, 0, 1]]  # level 0.5


def test_blob_removal_removes_a_small_blob_with_its_fringe_and_keeps_the_big_one():
    mask = np.zeros((100, 100), np.float32)
    mask[20:70, 20:70] = 1.0  # 25 % of the frame
    mask[85:88, 85:88] = 0.9  # 0.09 %
    mask[84, 85:88] = 0.3  # its soft fringe
    out = PostProcessor(min_area=0.002)(mask)
    assert out[85:88, 85:88].sum() == 0 and out[84].sum() == 0
    assert np.array_equal(out[:80, :80], mask[:80, :80])
    kept = PostProcessor(min_area=0.0005)(mask)  # 0.05 %: the 9-pixel blob stays
    assert np.array_equal(kept, mask)


def test_fill_holes_fills_a_small_enclosed_hole_but_not_background_at_the_border():
    mask = np.zeros((100, 100), np.float32)
    mask[10:90, 0:60] = 1.0
    mask[40:43, 30:33] = 0.0  # enclosed hole of 9 px
    mask[50:53, 0:3] = 0.0  # 9 px of background at the frame border: a gap, not a hole
    out = PostProcessor(min_area=0.002, fill_holes=True)(mask)
    assert out[40:43, 30:33].min() == 1.0
    assert out[50:53, 0:3].max() == 0.0
    assert out.sum() == mask.sum() + 9
    assert PostProcessor(min_area=0.002)(mask)[40:43, 30:33].max() == 0.0  # off by default


# ---------------------------------------------------------------- temporal


def test_ema_converges_to_a_constant_input_as_one_minus_a_to_the_n():
    a = 0.3
    pp = PostProcessor(temporal={"mode": "ema", "weight": a})
    pp(np.zeros((8, 8), np.float32))  # the state starts at 0
    target = np.full((8, 8), 0.8, np.float32)
    for n in range(1, 9):
        out = pp(target)
        assert np.abs(0.8 - out).max() == pytest.approx(0.8 * (1 - a) ** n, rel=1e-4)
    pp.reset()
    assert np.allclose(pp(target), target)  # no history: the frame itself
    assert pp.last_reset


def test_uncertainty_blend_follows_mediapipes_formula():
    ratio = 0.8
    pp = PostProcessor(temporal={"mode": "uncertainty", "ratio": ratio})
    prev = np.ones((1, 3), np.float32)
    cur = np.array([[0.5, 1.0, 0.3]], np.float32)
    pp(prev)
    out = pp(cur)[0]
    assert mediapipe_uncertainty(np.float32(0.5)) == 1.0
    assert out[0] == pytest.approx(0.5 + (1 - 0.5) * 1.0 * ratio)  # moves by ratio * u, u = 1
    assert out[1] == pytest.approx(1.0, abs=1e-6)  # sure: unchanged (prev = p)
    x = (0.3 - 0.5) ** 2  # hand-computed polynomial of MediaPipe's calculator
    u = 1 - min(1, x * (5.68842 + x * (-0.748699 + x * (-57.8051 + x * (291.309 + x * -624.717)))))
    assert out[2] == pytest.approx(0.3 + (1 - 0.3) * u * ratio, abs=1e-6)
    pp.reset()
    pp(np.zeros((1, 3), np.float32))
    assert pp(np.ones((1, 3), np.float32))[0, 0] == pytest.approx(1.0, abs=1e-4)  # p=1: u ~ 4e-5


def frames_pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 100, (36, 64, 3), dtype=np.uint8)
    return a, (255 - a).astype(np.uint8)  # mean grey difference ~0.6: a cut


def test_a_scene_cut_resets_the_temporal_state():
    frame, other = frames_pair()
    p0, p1 = np.zeros((9, 16), np.float32), np.full((9, 16), 0.5, np.float32)
    fresh = PostProcessor(temporal="uncertainty")(p1, other)
    pp = PostProcessor(temporal="uncertainty")
    pp(p0, frame)
    assert np.array_equal(pp(p1, other), fresh)  # a very different frame: no history
    assert pp.last_reset
    pp.reset()
    pp(p0, frame)
    assert pp(p1, frame).max() < 0.2  # the same frame: smoothed towards 0
    assert not pp.last_reset
    pp(p0)
    assert pp(p1).max() < 0.2  # without frames there is no cut detection
    assert np.array_equal(pp(np.full((4, 4), 0.5, np.float32)), np.full((4, 4), 0.5))  # size
    assert pp.last_reset


# ---------------------------------------------------------------- guided refinement, feather


def edge_scene() -> tuple[np.ndarray, np.ndarray, int]:
    """A 160 x 320 frame with a sharp vertical edge at x = 163 and a 32 x 64 mask whose edge is
    6 px (output) too far right."""
    edge = 163
    frame = np.full((160, 320, 3), 40, np.uint8)
    frame[:, edge:] = 200
    wrong = np.zeros((160, 320), np.float32)
    wrong[:, : edge + 6] = 1.0
    return frame, resize_image(wrong, 32, 64), edge


def test_guided_refinement_moves_the_low_res_edge_onto_the_frames_edge():
    frame, low, edge = edge_scene()
    truth = np.zeros((160, 320), np.float32)
    truth[:, :edge] = 1.0
    plain = PostProcessor()(low, frame)
    refined = PostProcessor(refine={"mode": "guided", "radius": 8, "eps": 3e-4})(low, frame)
    assert refined.shape == (160, 320) and refined.dtype == np.float32
    assert refined.min() >= 0.0 and refined.max() <= 1.0

    def boundary_error(alpha: np.ndarray) -> float:
        return float(np.abs((alpha >= 0.5).sum(axis=1) - edge).mean())

    assert boundary_error(plain) == pytest.approx(6, abs=0.5)
    assert boundary_error(refined) <= 1.0
    assert np.abs(refined - truth).mean() < np.abs(plain - truth).mean()
    # same resolution: the plain guided filter, also within [0, 1]
    same = PostProcessor(refine="guided")(resize_image(low, 160, 320), frame)
    assert same.shape == (160, 320) and same.min() >= 0 and same.max() <= 1


def test_guided_refinement_without_a_frame_is_skipped():
    _, low, _ = edge_scene()
    assert np.array_equal(PostProcessor(refine="guided")(low), low)


def test_feather_softens_only_near_the_edge():
    mask = square(size=64, side=32)
    out = PostProcessor(feather_px=1.5)(mask)
    reach = np.ones((9, 9), np.uint8)  # the kernel: 2 * ceil(2.5 * 1.5) + 1 = 9 taps
    near = cv2.dilate(mask, reach) != cv2.erode(mask, reach)  # within 4 px of the edge
    soft = (out > 0) & (out < 1)
    assert soft.any() and not (soft & ~near).any()
    assert np.array_equal(out[~near], mask[~near])  # interior 1, exterior 0, unchanged
    assert 0.5 < out[32, 17] < 1 and 0 < out[32, 15] < 0.5  # the ramp across the edge
    assert out.sum() == pytest.approx(mask.sum(), rel=1e-5)  # a blur moves alpha, keeps it
    assert np.array_equal(out, feather(mask, 1.5))


def test_feather_before_an_upsample_matches_the_blur_at_output_size():
    low = np.zeros((36, 64), np.float32)
    cv2.circle(low, (32, 18), 10, 1.0, -1)
    folded = PostProcessor(feather_px=1.5)(low, np.zeros((180, 320, 3), np.uint8))
    exact = feather(resize_image(low, 180, 320), 1.5)
    band = (exact > 0.01) & (exact < 0.99)
    assert folded.shape == (180, 320)
    assert np.abs(folded - exact)[band].mean() < 0.03
    plain = resize_image(low, 180, 320)  # no feather at all is much further off
    assert np.abs(folded - exact).max() < 0.2 < np.abs(plain - exact).max()
    assert np.all(folded[~band & (exact >= 0.99)] > 0.95)


# ---------------------------------------------------------------- presets and settings


def test_none_is_the_identity():
    pp = load_postprocess("none")
    p = np.random.default_rng(0).random((18, 32), dtype=np.float32)
    assert pp.is_identity and pp.enabled_steps() == []
    assert np.array_equal(pp(p), p)
    frame = np.zeros((36, 64, 3), np.uint8)
    assert np.array_equal(pp(p, frame), resize_image(p, 36, 64))


@pytest.mark.parametrize("name", PRESETS)
def test_each_preset_loads_round_trips_and_matches_hydra(name, tmp_path):
    pp = load_postprocess(name)
    settings = pp.settings()
    assert json.loads(json.dumps(settings)) == settings
    assert PostProcessor(**settings) == pp
    path = CONFIGS / "postprocess" / f"{name}.yaml"
    assert load_postprocess(path) == pp  # by file
    assert instantiate(OmegaConf.load(path)) == pp  # Hydra reads the same file
    sidecar = tmp_path / "export.json"
    sidecar.write_text(json.dumps({"onnx": "student.onnx", "postprocess": settings}))
    assert load_postprocess(sidecar) == pp
    assert load_postprocess(settings) == pp  # a dict
    alpha = pp(np.full((18, 32), 0.6, np.float32), np.zeros((72, 128, 3), np.uint8))
    assert alpha.shape == (72, 128) and alpha.dtype == np.float32


def test_presets_are_the_files_of_the_config_group_and_every_run_has_one():
    assert sorted(PRESETS) == sorted(p.stem for p in (CONFIGS / "postprocess").glob("*.yaml"))
    cfg = compose_cfg()
    assert instantiate(cfg.postprocess) == load_postprocess("default")
    assert instantiate(compose_cfg("postprocess=smooth").postprocess) == load_postprocess("smooth")


def test_presets_enable_what_they_promise():
    assert load_postprocess("default").enabled_steps() == [
        "soft_threshold",
        "remove_blobs",
        "feather",
    ]
    assert load_postprocess("smooth").enabled_steps() == [
        "uncertainty",
        "soft_threshold",
        "remove_blobs",
        "guided_refine",
        "feather",
    ]
    assert describe_settings(load_postprocess("default").settings()) == (
        "soft 0.3-0.7, blobs<0.2%, feather 1.5px"
    )
    assert describe_settings(load_postprocess("smooth").settings()) == (
        "soft 0.3-0.7, blobs<0.2%, guided r8 eps0.0003, feather 1.5px, uncertainty 0.8 cut>0.08"
    )
    assert describe_settings({}) == "none"


def test_overrides_apply_dotted_flat_and_mode_keys(tmp_path):
    pp = load_postprocess(
        "smooth", ["temporal.ratio=0.5", "dilate_px=2", "threshold=hard", "refine.eps=1e-3"]
    )
    s = pp.settings()
    assert s["temporal"]["ratio"] == 0.5 and s["dilate_px"] == 2
    assert s["threshold"]["mode"] == "hard" and s["threshold"]["low"] == 0.3
    assert s["refine"]["eps"] == 1e-3
    assert load_postprocess("default", ["refine=null"]).settings()["refine"]["mode"] == "none"
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"feather_px": 2.0}))
    assert load_postprocess(path, ["min_area=0.01"]).enabled_steps() == ["remove_blobs", "feather"]


@pytest.mark.parametrize(
    ("spec", "overrides", "names"),
    [
        ("default", ["feather=2"], ["feather", "feather_px"]),  # unknown key, valid keys listed
        ("default", ["temporal.rato=0.5"], ["temporal.rato", "ratio"]),
        ("default", ["dilate_px.x=1"], ["dilate_px"]),
        ("default", ["temporal.ratio=2"], ["temporal.ratio", "[0, 1]"]),
        ("default", ["threshold.low=0.8"], ["threshold.low", "threshold.high"]),
        ("default", ["dilate_px=1.5"], ["dilate_px", "integer"]),
        ("default", ["fill_holes=yes please"], ["fill_holes"]),
        ("default", ["min_area=0", "fill_holes=true"], ["fill_holes", "min_area"]),
        ("default", ["refine=bilateral"], ["refine.mode", "guided", "ximgproc"]),
        ("default", ["temporal"], ["temporal", "key=value"]),
        ({"feather": 1}, None, ["feather", "feather_px"]),
        ("smoth", None, ["smoth", "none, default, smooth"]),
    ],
)
def test_bad_keys_and_values_raise_config_errors_naming_the_key(spec, overrides, names):
    with pytest.raises(ConfigError) as error:
        load_postprocess(spec, overrides)
    for name in names:
        assert name in str(error.value)


def test_bad_constructor_values_and_missing_files():
    with pytest.raises(ConfigError, match="temporal.mode"):
        PostProcessor(temporal="median")
    with pytest.raises(ConfigError, match="feather_px"):
        PostProcessor(feather_px=-1)
    with pytest.raises(MissingFileError, match="nope.yaml"):
        load_postprocess("nope.yaml")
    assert normalize_settings({"_target_": "x", "threshold": "soft"})["threshold"]["low"] == 0.3


def test_bad_inputs_raise_user_errors_and_inputs_are_not_changed():
    pp = load_postprocess("smooth")
    with pytest.raises(UserInputError, match="probs"):
        pp(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(UserInputError, match="float"):
        pp(np.zeros((4, 4), np.uint8))
    with pytest.raises(UserInputError, match="frame"):
        pp(np.zeros((4, 4), np.float32), np.zeros((8, 8), np.float32))
    p = np.full((1, 18, 32), 0.6, np.float32)  # a 1 x H x W map is taken as H x W
    frame = np.full((36, 64, 3), 128, np.uint8)
    before = p.copy(), frame.copy()
    assert pp(p, frame).shape == (36, 64)
    assert np.array_equal(p, before[0]) and np.array_equal(frame, before[1])


@pytest.mark.parametrize("name", PRESETS)
def test_out_buffer_receives_the_same_alpha(name):
    frame = np.zeros((72, 128, 3), np.uint8)
    frame[:, 64:] = 200
    p = np.zeros((18, 32), np.float32)
    p[4:14, 6:18] = 0.9
    out = np.full((72, 128), -1.0, np.float32)
    assert load_postprocess(name)(p, frame, out=out) is out
    assert np.array_equal(out, load_postprocess(name)(p, frame))
    with pytest.raises(UserInputError, match="out"):
        load_postprocess(name)(p, frame, out=np.zeros((18, 32), np.float32))


def test_resize_probs_writes_into_out_like_resize_image():
    p = np.random.default_rng(1).random((18, 32), dtype=np.float32)
    for hw in [(72, 128), (9, 16), (18, 32)]:
        out = np.empty(hw, np.float32)
        assert resize_probs(p, *hw, out=out) is out
        assert np.array_equal(out, resize_image(p, *hw))
    assert resize_probs(p, 18, 32) is p
    with pytest.raises(ValueError, match="float32"):
        resize_probs(p, 72, 128, out=np.empty((72, 128), np.float64))
