"""The one inference API: any model file, RGB uint8 frames of any size, probabilities at frame size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import TINY_STUDENT
from seg.errors import MissingFileError, ModelFileError, UserInputError
from seg.export.onnx import export_onnx
from seg.inference import (
    OnnxBackend,
    Predictor,
    load_predictor,
    to_frames,
    to_model_input,
)
from seg.models.weights import build_model, save_model
from seg.resize import fit_frame

H, W = 64, 96


class RedChannel:
    """A fake backend whose 'probability' is the red channel: shows where each pixel went."""

    kind, layout, height, width = "fake", "NCHW", H, W

    def run(self, batch: np.ndarray) -> np.ndarray:
        assert batch.shape[1:] == (3, H, W) and batch.dtype == np.float32
        return batch[:, :1].copy()

    def timer(self, example=None):
        return lambda: self.run(np.zeros((1, 3, H, W), np.float32))


def ramp(height: int, width: int) -> np.ndarray:
    """A frame whose red channel rises smoothly left to right (resizing keeps it smooth)."""
    red = np.tile(np.linspace(20, 235, width), (height, 1))
    frame = np.zeros((height, width, 3), np.uint8)
    frame[..., 0] = red.round().astype(np.uint8)
    frame[..., 1] = 128
    return frame


@pytest.mark.parametrize("size", [(H, W), (480, 640), (200, 120), (33, 500)])
@pytest.mark.parametrize("resize", ["stretch", "fit"])
def test_stretch_and_fit_map_every_pixel_back_to_its_place(size, resize):
    frame = ramp(*size)
    predictor = Predictor(RedChannel(), "fake", Path("fake"), resize=resize)
    prob = predictor(frame)
    assert prob.shape == size and prob.dtype == np.float32
    expected = frame[..., 0] / 255.0
    # interpolation error only: far below the ramp's full range (0.08 .. 0.92)
    assert np.abs(prob - expected)[:, 2:-2].max() < 0.05


def test_cover_keeps_the_centre_and_zeroes_what_the_crop_cut():
    frame = ramp(96, 96)  # square into 64 x 96: cover scales to 96 x 96 and crops 16 rows each side
    prob = Predictor(RedChannel(), "fake", Path("fake"), resize="cover")(frame)
    assert prob.shape == (96, 96)
    centre = slice(20, 76)
    assert np.abs(prob[centre] - frame[centre, :, 0] / 255.0).max() < 0.05
    assert prob[:12].max() == 0 and prob[-12:].max() == 0


def test_model_input_of_a_frame_at_the_model_size_is_the_dataset_tensor():
    frame = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)
    x = to_model_input([frame], H, W)
    dataset_tensor = torch.from_numpy(frame).permute(2, 0, 1).float().div_(255.0).numpy()
    assert np.array_equal(x[0], dataset_tensor)  # bit for bit: scores do not move
    assert np.array_equal(to_frames(x), frame[None])
    fitted, _ = fit_frame(ramp(480, 640), None, H, W, "fit")
    assert np.array_equal(
        to_model_input([ramp(480, 640)], H, W, "fit")[0],
        fitted.transpose(2, 0, 1) / np.float32(255),
    )


def test_shapes_in_and_out():
    predictor = Predictor(RedChannel(), "fake", Path("fake"), batch_size=3)
    frames = np.stack([ramp(100, 150)] * 7)  # more frames than one backend call takes
    assert predictor(frames).shape == (7, 100, 150)
    out = predictor([ramp(100, 150), ramp(30, 40)])
    assert [p.shape for p in out] == [(100, 150), (30, 40)]
    masks = predictor.masks(ramp(100, 150))
    assert masks.dtype == bool and masks[:, :5].sum() == 0 and masks[:, -5:].all()
    with pytest.raises(UserInputError, match="uint8 frames H x W x 3.*predict_batch"):
        predictor(frames.astype(np.float32) / 255)
    with pytest.raises(UserInputError, match="got uint8 of shape \\(100, 150\\)"):
        predictor(ramp(100, 150)[..., 0])


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(0)
    net = build_model(TINY_STUDENT).eval()
    weights = save_model(folder / "student.pt", net, TINY_STUDENT, {"input_size": [H, W]})
    graph = export_onnx(net, folder / "student.onnx", H, W, exporter="torchscript")
    return weights, graph


def test_pytorch_and_onnx_predictors_agree_on_frames_of_any_size(tiny_model):
    weights, graph = tiny_model
    torch_p, onnx_p = load_predictor(weights), load_predictor(graph, threads=1)
    assert (torch_p.kind, onnx_p.kind) == ("torch", "onnx")
    assert (torch_p.height, torch_p.width) == (onnx_p.height, onnx_p.width) == (H, W)
    assert torch_p.params == sum(p.numel() for p in build_model(TINY_STUDENT).parameters())
    frames = np.random.default_rng(1).integers(0, 256, (3, 360, 640, 3), dtype=np.uint8)
    a, b = torch_p(frames), onnx_p(frames)
    assert a.shape == b.shape == (3, 360, 640)
    assert np.abs(a - b).max() < 1e-4
    assert a.min() >= 0.0 and a.max() <= 1.0
    batch = to_model_input(list(frames), H, W)
    assert np.abs(onnx_p.predict_batch(batch) - OnnxBackend(graph).run(batch)).max() == 0


def test_clear_errors_for_missing_and_broken_model_files(tmp_path):
    with pytest.raises(MissingFileError, match="no such run dir or model file"):
        load_predictor(tmp_path / "nope.onnx")
    with pytest.raises(MissingFileError, match="no student.pt or checkpoints/best.ckpt"):
        load_predictor(tmp_path)
    (tmp_path / "broken.onnx").write_bytes(b"not a graph")
    with pytest.raises(ModelFileError, match="broken.onnx: not a loadable ONNX graph"):
        load_predictor(tmp_path / "broken.onnx")
    (tmp_path / "model.h5").write_bytes(b"x")
    with pytest.raises(ModelFileError, match="unknown model file type '.h5'"):
        load_predictor(tmp_path / "model.h5")
    with pytest.raises(Exception, match="resize must be one of fit, cover, stretch"):
        Predictor(RedChannel(), "fake", Path("fake"), resize="crop")


def test_mediapipe_tflite_runs_behind_the_same_interface(repo_root):
    peer = repo_root / "data" / "peers" / "mediapipe" / "selfie_segmentation_landscape.tflite"
    if not peer.is_file():
        pytest.skip("MediaPipe peers not fetched (make peers)")
    pytest.importorskip("ai_edge_litert")
    predictor = load_predictor(peer, threads=1)
    assert (predictor.kind, predictor.height, predictor.width) == ("tflite", 144, 256)
    prob = predictor(np.full((720, 1280, 3), 127, np.uint8))
    assert prob.shape == (720, 1280) and 0.0 <= prob.min() <= prob.max() <= 1.0
