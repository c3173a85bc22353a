"""ONNX export: the graph contract, verification, metadata, INT8 and the export script."""

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from helpers import ROOT
from seg.bench.onnx_profile import profile
from seg.errors import MissingFileError, UserInputError
from seg.export import (
    ExportSettings,
    ExportVerificationError,
    export_onnx,
    export_student,
    quantize_int8,
    read_metadata,
    update_metadata,
    verify_export,
)
from seg.export.exporter import frame_chunks, frames_from
from seg.inference import OnnxBackend, load_predictor, to_frames
from seg.metrics import mask_iou
from seg.models import SegOutput, StudentNet
from seg.utils import cpu_flags


class BrightnessNet(nn.Module):
    """A tiny seg model with a known answer: foreground where the image is bright.

    Two convolutions so quantization has something to do; logit = 12 * (mean RGB - 0.5), smoothed.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 1, 1)
        with torch.no_grad():
            self.conv.weight.fill_(0.0)
            self.conv.weight[:, :, 1, 1] = 1.0 / 3.0  # every channel = mean RGB
            self.conv.bias.fill_(-0.5)
            self.head.weight.fill_(1.5)  # 8 channels * 1.5 = 12
            self.head.bias.fill_(0.0)

    def forward(self, x):
        return SegOutput(logits=self.head(self.conv(x)))


def blob_frames(n: int, h: int = 48, w: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dark frames with one bright ellipse each (and noise): images and their masks."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    images, masks = [], []
    for _ in range(n):
        cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
        ry, rx = rng.uniform(0.15, 0.35) * h, rng.uniform(0.15, 0.35) * w
        mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        image = np.where(mask, 0.8, 0.2) + rng.normal(0, 0.03, (3, h, w))
        images.append(image.clip(0, 1))
        masks.append(mask[None])
    return np.stack(images).astype(np.float32), np.stack(masks).astype(np.float32)


def runtime_facts(probs: np.ndarray, masks: np.ndarray) -> str:
    """What a failed INT8/ONNX check needs to be diagnosed on another machine: the output on the
    true foreground and background, the ONNX Runtime version and the CPU's vector extensions (its
    kernels are picked per CPU)."""
    import onnxruntime

    fg, bg = probs[masks > 0.5], probs[masks <= 0.5]
    ext = sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx", "avx_vnni", "avx2")))
    return (
        f"foreground p min/mean {fg.min():.4f}/{fg.mean():.4f}, background p max/mean "
        f"{bg.max():.4f}/{bg.mean():.4f}; onnxruntime {onnxruntime.__version__}; CPU {ext}"
    )


def tiny_student() -> StudentNet:
    torch.manual_seed(0)
    return StudentNet(
        encoder="mobilenetv3_small_050", decoder_channels=8, refine_channels=8, edge_head=True
    ).eval()


def test_graph_contract_and_metadata_round_trip(tmp_path):
    net = tiny_student()
    path = export_onnx(net, tmp_path / "s.onnx", 64, 96, metadata={"test_iou": 0.9, "x": [1, 2]})
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert model.opset_import[0].version >= 17
    (inp,) = model.graph.input
    assert inp.name == "image"
    assert [d.dim_value for d in inp.type.tensor_type.shape.dim] == [1, 3, 64, 96]
    assert [o.name for o in model.graph.output] == ["foreground"]  # no edge head unless asked
    meta = read_metadata(path)
    assert meta["input_height"] == "64" and meta["input_width"] == "96"
    assert meta["input_layout"] == "NCHW" and meta["input_range"] == "[0, 1]"
    assert meta["threshold"] == "0.5" and meta["precision"] == "fp32"
    assert meta["test_iou"] == "0.9" and json.loads(meta["x"]) == [1, 2]
    update_metadata(path, {"test_iou": 0.95, "new": "yes"})
    meta = read_metadata(path)
    assert meta["test_iou"] == "0.95" and meta["new"] == "yes"
    assert sum(p.key == "test_iou" for p in onnx.load(str(path)).metadata_props) == 1
    # the graph holds normalisation and sigmoid: probabilities of raw [0, 1] input match PyTorch
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        expected = torch.sigmoid(net(x).logits).numpy()
    got = OnnxBackend(path).run(x.numpy())
    assert got.min() >= 0 and got.max() <= 1
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert net.training is False  # mode restored


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_dynamic_batch_and_edge_output(tmp_path, exporter):
    net = tiny_student()
    path = export_onnx(
        net, tmp_path / "d.onnx", 64, 96, dynamic_batch=True, include_edge=True, exporter=exporter
    )
    assert read_metadata(path)["exporter"] == exporter
    model = onnx.load(str(path))
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    assert [o.name for o in model.graph.output] == ["foreground", "edge"]
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = torch.rand(3, 3, 64, 96)
    fg, edge = session.run(None, {"image": x.numpy()})
    with torch.no_grad():
        out = net(x)
    np.testing.assert_allclose(fg, torch.sigmoid(out.logits).numpy(), atol=1e-5)
    np.testing.assert_allclose(edge, torch.sigmoid(out.edge_logits).numpy(), atol=1e-5)


def test_export_rejects_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="exporter must be 'dynamo' or 'torchscript'"):
        export_onnx(tiny_student(), tmp_path / "a.onnx", 64, 96, exporter="tflite")
    with pytest.raises(ValueError, match="opset must be >= 17"):
        export_onnx(tiny_student(), tmp_path / "a.onnx", 64, 96, opset=13)
    with pytest.raises(ValueError, match="needs height and width >= 32"):
        export_onnx(tiny_student(), tmp_path / "a.onnx", 16, 96)
    with pytest.raises(ValueError, match="no edge head"):
        export_onnx(BrightnessNet(), tmp_path / "a.onnx", 32, 32, include_edge=True)


def test_verification_catches_a_graph_that_differs(tmp_path):
    frames, _ = blob_frames(4)
    net = BrightnessNet().eval()
    path = export_onnx(net, tmp_path / "b.onnx", 48, 64)
    ok = verify_export(path, net, frames)
    assert ok.passed and ok.max_abs_diff < 1e-5 and ok.mask_iou == 1.0
    other = BrightnessNet().eval()
    with torch.no_grad():
        other.conv.bias.fill_(-0.45)  # a slightly different model: masks grow
    with pytest.raises(ExportVerificationError, match=r"max \|onnx - torch\| = .* mask IoU = "):
        verify_export(path, other, frames)


def test_int8_agrees_with_fp32_and_keeps_the_contract(tmp_path):
    images, masks = blob_frames(24)
    net = BrightnessNet().eval()
    fp32 = export_onnx(net, tmp_path / "m.onnx", 48, 64, metadata={"config_hash": "abc"})
    int8 = quantize_int8(fp32, tmp_path / "m.int8.onnx", images[:16])
    model = onnx.load(str(int8))
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    meta = read_metadata(int8)
    assert meta["precision"] == "int8" and meta["config_hash"] == "abc"
    assert "16 validation frames" in meta["calibration"]
    test = images[16:]
    a, b = OnnxBackend(fp32).run(test), OnnxBackend(int8).run(test)
    truth = masks[16:].reshape(a.shape)
    facts = f"fp32: {runtime_facts(a, truth)}; int8: {runtime_facts(b, truth)}"
    assert mask_iou(a > 0.5, truth > 0.5) >= 0.97, facts  # the model does what it says
    assert mask_iou(a > 0.5, b > 0.5) >= 0.97, facts
    assert np.abs(a - b).max() < 0.1, facts
    with pytest.raises(ValueError, match="N x 3 x H x W"):
        quantize_int8(fp32, tmp_path / "x.onnx", images[:0])


def test_export_student_writes_report_and_scores(tmp_path):
    images, masks = blob_frames(20)
    frames = to_frames(images)  # uint8 RGB frames, as the datasets give them
    report = export_student(
        BrightnessNet(),
        tmp_path,
        frames[:12],
        settings=ExportSettings(calibration_frames=12, height=32, width=48),
        test_chunks=[(frames[12:16], masks[12:16]), (frames[16:], masks[16:])],
        metadata={"test_iou": 0.5},
    )
    assert (tmp_path / "student.onnx").is_file() and (tmp_path / "student.int8.onnx").is_file()
    assert report["height"] == 32 and report["width"] == 48  # frames resized to the export size
    assert json.loads((tmp_path / "export.json").read_text()) == report
    truth = masks[12:, 0]
    fp32, int8 = (
        load_predictor(tmp_path / name)(frames[12:])
        for name in ("student.onnx", "student.int8.onnx")
    )
    facts = f"{report}; fp32: {runtime_facts(fp32, truth)}; int8: {runtime_facts(int8, truth)}"
    assert report["test_iou_onnx"] >= 0.9 and report["int8_mask_agreement"] >= 0.95, facts
    assert report["int8_passed"] and abs(report["int8_iou_drop"]) < 0.05
    assert report["test_frames"] == 8 and report["test_iou"] == 0.5
    # chunked scoring = scoring all frames at once, at the frames' own size (48 x 64)
    assert fp32.shape == (8, 48, 64)
    assert report["test_iou_onnx"] == round(mask_iou(fp32 > 0.5, truth > 0.5), 5)
    assert read_metadata(tmp_path / "student.onnx")["test_iou_onnx"] == str(report["test_iou_onnx"])


def test_onnx_backend_names_the_size_it_takes(tmp_path):
    path = export_onnx(BrightnessNet(), tmp_path / "b.onnx", 48, 64)
    with pytest.raises(
        UserInputError, match=r"takes N x 3 x 48 x 64 float32 input; got \(1, 3, 32"
    ):
        OnnxBackend(path).run(np.zeros((1, 3, 32, 32), np.float32))
    with pytest.raises(MissingFileError, match="ONNX file not found"):
        OnnxBackend(tmp_path / "missing.onnx")


def test_export_script_on_a_weights_file(tmp_path):
    from seg.models import save_model

    net = tiny_student()
    config = {
        "_target_": "seg.models.StudentNet",
        "encoder": "mobilenetv3_small_050",
        "decoder_channels": 8,
        "refine_channels": 8,
        "edge_head": True,
    }
    weights = save_model(tmp_path / "student.pt", net, config, {"input_size": [64, 96]})
    out = tmp_path / "out" / "model.onnx"
    cmd = [sys.executable, str(ROOT / "scripts" / "export.py"), str(weights), "--output", str(out)]
    cmd += ["--dynamic-batch", "--include-edge", "--no-int8", "--test-frames", "4"]
    env_cache = ["--height", "64", "--width", "96", f"paths.cache_dir={tmp_path / 'cache'}"]
    env_cache += ["data.val.length=16", "data.test.length=4"]
    proc = subprocess.run(cmd + env_cache, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert report["verification"]["passed"] and not (tmp_path / "out" / "model.int8.onnx").exists()
    meta = read_metadata(out)
    assert meta["batch"] == "dynamic" and meta["outputs"] == "foreground,edge"
    assert json.loads(meta["model_config"])["encoder"] == "mobilenetv3_small_050"
    missing = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export.py"), str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert missing.returncode == 1 and "error: " in missing.stderr
    assert "no such run dir or model file" in missing.stderr and "Traceback" not in missing.stderr


def test_profile_script_breaks_time_down_by_operator(tmp_path):
    path = export_onnx(BrightnessNet(), tmp_path / "b.onnx", 48, 64)
    result = profile(path, threads=1, runs=5, warmup=1)
    ops = {op: n for op, _, n in result["by_type"]}
    assert ops["Conv"] == 2  # the sigmoid is fused into the last convolution
    assert result["total_us"] > 0
    assert abs(sum(us for _, us, _ in result["by_type"]) - result["total_us"]) < 1e-6
    with pytest.raises(MissingFileError, match="ONNX file not found"):
        profile(tmp_path / "missing.onnx")


def test_frame_chunks_cover_the_split_in_order():
    images, masks = blob_frames(5, 32, 32)
    dataset = [
        {"image": torch.from_numpy(i), "mask": torch.from_numpy(m[0])}
        for i, m in zip(images, masks, strict=True)
    ]
    chunks = list(frame_chunks(dataset, chunk=2))
    assert [len(c[0]) for c in chunks] == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate([c[0] for c in chunks]), to_frames(images))
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), masks[:, 0])
    assert [len(c[0]) for c in frame_chunks(dataset, count=3, chunk=2)] == [2, 1]
    with pytest.raises(ValueError, match="dataset split is empty"):
        frames_from([], None)
