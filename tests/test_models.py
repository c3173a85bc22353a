"""Model package: output contract, input checks, errors, gradients, ONNX export, size summary.

Models here are built with the default ``pretrained: auto`` against an empty Hugging Face cache with
the hub offline, so they start from random initialisation without touching the network
(``tests/test_pretrained.py`` covers the weights themselves).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import huggingface_hub.constants
import numpy as np
import pytest
import timm
import torch
from torch import Tensor, nn

from seg.errors import PretrainedWeightsError
from seg.models import (
    InputNormalization,
    MLPDecoder,
    RefineModule,
    SegOutput,
    SmpTeacher,
    StudentNet,
    TimmEncoder,
    describe,
    timm_mean_std,
)
from seg.models.pretrained import clear_pretrained_cache

STUDENT_ENCODERS = [
    name
    for name in (
        "mobilenetv3_large_100",
        "mobilenetv3_small_100",
        "mobilenetv3_small_050",
        "efficientnet_lite0",
        "tf_efficientnet_lite0",
        "lcnet_050",
        "mobilenetv4_conv_small",
    )
    if timm.is_model(name)
]


@pytest.fixture(scope="module", autouse=True)
def _hub_offline_empty_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``pretrained: auto`` (the default) resolves offline to random init: no network here."""
    hf = tmp_path_factory.mktemp("hf")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("HF_HOME", str(hf))
        mp.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch")))
        mp.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        mp.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hf / "hub"))
        clear_pretrained_cache()
        yield
    clear_pretrained_cache()


@pytest.fixture(scope="module")
def student() -> StudentNet:
    return StudentNet().eval()


@pytest.fixture(scope="module")
def tiny_student() -> StudentNet:
    return StudentNet("mobilenetv3_small_050", decoder_channels=16).eval()


@pytest.fixture(scope="module")
def fpn_teacher() -> SmpTeacher:
    return SmpTeacher("FPN", "tu-resnet18").eval()


def assert_contract(out: SegOutput, model: nn.Module, x: Tensor, *, edge: bool) -> None:
    b, _, h, w = x.shape
    assert isinstance(out, SegOutput)
    assert out.logits.shape == (b, 1, h, w)
    if edge:
        assert out.edge_logits is not None and out.edge_logits.shape == (b, 1, h, w)
    else:
        assert out.edge_logits is None
    assert set(out.features) == set(model.feature_channels)
    for stride, f in out.features.items():
        assert f.shape[:2] == (b, model.feature_channels[stride])
        # ceil(H / stride) for padded convolutions, floor for unpadded patchify stems (ConvNeXt)
        assert abs(f.shape[-2] - h / stride) < 1 and abs(f.shape[-1] - w / stride) < 1


@pytest.mark.parametrize("size", [(144, 256), (96, 160), (128, 128), (100, 150), (32, 32)])
@torch.no_grad()
def test_student_contract_any_size(student: StudentNet, size: tuple[int, int]) -> None:
    x = torch.rand(2, 3, *size)
    assert_contract(student(x), student, x, edge=True)
    assert student.input_multiple == 1
    assert set(student.feature_channels) == {2, 4, 8, 16, 32}


@pytest.mark.parametrize("encoder", STUDENT_ENCODERS)
@torch.no_grad()
def test_student_candidate_encoders(encoder: str) -> None:
    model = StudentNet(encoder, edge_head=False).eval()
    x = torch.rand(1, 3, 64, 96)
    assert_contract(model(x), model, x, edge=False)


@torch.no_grad()
def test_student_without_stride2_feature_uses_image_stem() -> None:
    model = StudentNet("convnext_atto", decoder_channels=16).eval()
    assert set(model.feature_channels) == {4, 8, 16, 32}
    x = torch.rand(1, 3, 70, 90)
    assert_contract(model(x), model, x, edge=True)


def test_student_normalization_follows_backbone() -> None:
    model = StudentNet("tf_efficientnet_lite0")
    assert model.normalize.mean.flatten().tolist() == [0.5, 0.5, 0.5]
    assert timm_mean_std("mobilenetv3_large_100")[0] == (0.485, 0.456, 0.406)
    custom = StudentNet("lcnet_050", mean=(0.1, 0.2, 0.3), std=(1.0, 1.0, 1.0))
    assert custom.normalize.mean.flatten().tolist() == pytest.approx([0.1, 0.2, 0.3])


def test_input_normalization() -> None:
    norm = InputNormalization(mean=(0.5, 0.5, 0.5), std=(0.25, 0.5, 1.0))
    out = norm(torch.ones(1, 3, 2, 2))
    assert out[0, :, 0, 0].tolist() == [2.0, 1.0, 0.5]
    assert "mean" not in norm.state_dict()
    with pytest.raises(ValueError, match="3 values"):
        InputNormalization(mean=(0.5,), std=(1.0,))
    with pytest.raises(ValueError, match="positive"):
        InputNormalization(std=(1.0, 0.0, 1.0))


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ((2, 1, 64, 64), r"B x 3 x H x W.*\(2, 1, 64, 64\)"),
        ((3, 64, 64), r"B x 3 x H x W.*\(3, 64, 64\)"),
        ((1, 3, 16, 64), r">= 32; got 16x64"),
    ],
)
def test_bad_input_raises(
    tiny_student: StudentNet, fpn_teacher: SmpTeacher, shape: tuple[int, ...], match: str
) -> None:
    for model in (tiny_student, fpn_teacher):
        with pytest.raises(ValueError, match=match):
            model(torch.rand(*shape))


def test_unknown_names_raise_clear_errors() -> None:
    with pytest.raises(
        ValueError, match=r"Unknown timm model 'mobilenetv3_larg_100'.*mobilenetv3_large_100"
    ):
        StudentNet("mobilenetv3_larg_100")
    with pytest.raises(ValueError, match=r"timm.list_models\('\*"):
        TimmEncoder("no_such_net")
    with pytest.raises(
        ValueError, match=r"Unknown segmentation-models-pytorch encoder 'resnet5'.*tu-"
    ):
        SmpTeacher("Unet", "resnet5")
    with pytest.raises(ValueError, match=r"Unknown timm model 'resnet5'"):
        SmpTeacher("Unet", "tu-resnet5")
    with pytest.raises(ValueError, match=r"Unknown segmentation-models-pytorch arch 'Unett'.*unet"):
        SmpTeacher("Unett", "tu-resnet18")


def test_encoder_strides_and_errors() -> None:
    enc = TimmEncoder("mobilenetv3_small_050", out_strides=(8, 4, 32))
    assert enc.strides == (4, 8, 32)
    feats = enc(torch.rand(1, 3, 64, 96))
    assert {s: f.shape[1] for s, f in feats.items()} == enc.channels
    assert feats[32].shape[-2:] == (2, 3)
    with pytest.raises(
        ValueError, match=r"no feature map at stride\(s\) \[64\].*\[2, 4, 8, 16, 32\]"
    ):
        TimmEncoder("mobilenetv3_small_050", out_strides=(4, 64))
    with pytest.raises(ValueError, match="out_strides"):
        TimmEncoder("mobilenetv3_small_050", out_indices=(1, 2))


def test_mlp_decoder_exact_sizes_and_errors() -> None:
    dec = MLPDecoder({2: 8, 4: 8, 8: 16, 32: 32}, channels=12, depth=2)
    assert dec.strides == (4, 8, 32)
    feats = {2: torch.rand(1, 8, 72, 128), 4: torch.rand(1, 8, 36, 64)}
    feats |= {8: torch.rand(1, 16, 18, 32), 32: torch.rand(1, 32, 5, 8)}
    assert dec(feats).shape == (1, 12, 36, 64)
    with pytest.raises(ValueError, match="stride-4 feature"):
        MLPDecoder({8: 16, 16: 32})


def test_refine_module_shapes() -> None:
    decoded = torch.rand(2, 12, 25, 38)
    refine = RefineModule(12, skip_channels=8, channels=6)
    assert refine(decoded, torch.rand(2, 8, 50, 75)).shape == (2, 6, 50, 75)
    stem = RefineModule(12, skip_channels=None, channels=6, num_blocks=1)
    assert stem(decoded, torch.rand(2, 3, 100, 150)).shape == (2, 6, 50, 75)


@torch.no_grad()
def test_teacher_pads_and_crops(fpn_teacher: SmpTeacher) -> None:
    assert fpn_teacher.input_multiple == 1
    assert fpn_teacher.feature_channels == {2: 64, 4: 64, 8: 128, 16: 256, 32: 512}
    for size in [(144, 256), (100, 150)]:
        x = torch.rand(1, 3, *size)
        out = fpn_teacher(x)  # padded to a multiple of 32; features cropped to ceil(size / stride)
        assert_contract(out, fpn_teacher, x, edge=False)
        for stride, f in out.features.items():
            assert f.shape[-2:] == tuple(math.ceil(v / stride) for v in size)


def test_teacher_without_padding_names_working_sizes() -> None:
    teacher = SmpTeacher("FPN", "tu-resnet18", pad_to_multiple=False).eval()
    assert teacher.input_multiple == 32
    with pytest.raises(ValueError, match=r"divisible by 32; got 144x256.*height 128 or 160"):
        teacher(torch.rand(1, 3, 144, 256))
    with torch.no_grad():
        assert teacher(torch.rand(1, 3, 128, 256)).logits.shape == (1, 1, 128, 256)


@pytest.mark.parametrize(
    ("arch", "encoder", "channels"),
    [
        ("Segformer", "mit_b0", {4: 32, 8: 64, 16: 160, 32: 256}),  # 0-channel stride-2 dropped
        ("DeepLabV3Plus", "tu-resnet18", {2: 64, 4: 64, 8: 128, 16: 512}),  # dilated: deepest 16
        ("Unet", "tu-resnet18", {2: 64, 4: 64, 8: 128, 16: 256, 32: 512}),
    ],
)
@torch.no_grad()
def test_teacher_archs_measure_strides(arch: str, encoder: str, channels: dict[int, int]) -> None:
    teacher = SmpTeacher(arch, encoder).eval()
    assert teacher.feature_channels == channels
    x = torch.rand(1, 3, 100, 150)
    assert_contract(teacher(x), teacher, x, edge=False)


@pytest.mark.parametrize("kind", ["student", "teacher"])
def test_gradients_reach_the_encoder(kind: str) -> None:
    if kind == "student":
        model = StudentNet("mobilenetv3_small_050", decoder_channels=16).train()
        first = model.encoder.model.conv_stem.weight
    else:
        model = SmpTeacher("FPN", "tu-resnet18").train()
        first = model.model.encoder.model.conv1.weight
    model(torch.rand(2, 3, 64, 96)).logits.mean().backward()
    assert first.grad is not None and first.grad.abs().sum() > 0


@pytest.fixture
def offline_hub(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No network, empty caches: hub downloads must fail at once."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    # huggingface_hub reads these at import time, so patch the module too.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))


@pytest.mark.parametrize(
    ("factory", "name"),
    [
        (lambda: StudentNet("mobilenetv3_small_050", pretrained=True), "mobilenetv3_small_050"),
        (lambda: SmpTeacher("Unet", "resnet18", pretrained=True), "resnet18"),
        (lambda: SmpTeacher("FPN", "tu-resnet18", pretrained=True), "tu-resnet18"),
    ],
)
@pytest.mark.usefixtures("offline_hub")
def test_pretrained_offline_fails_fast_and_clearly(factory, name: str) -> None:
    start = time.monotonic()
    with pytest.raises(
        PretrainedWeightsError, match=f"Could not fetch pretrained weights for encoder '{name}'"
    ) as err:
        factory()
    assert time.monotonic() - start < 10
    message = str(err.value)
    assert "pretrained: false" in message and "pretrained_cfg_overlay" in message
    assert "HF_HUB_OFFLINE" in message and isinstance(err.value.__cause__, OSError)


def test_pretrained_missing_local_file_is_explained(tmp_path) -> None:
    missing = tmp_path / "weights.safetensors"
    with pytest.raises(
        PretrainedWeightsError, match="Could not fetch pretrained weights.*FileNotFoundError"
    ):
        StudentNet(
            "lcnet_050",
            pretrained=True,
            encoder_kwargs={"pretrained_cfg_overlay": {"file": str(missing)}},
        )


def test_models_record_pretrained_status(
    student: StudentNet, fpn_teacher: SmpTeacher, caplog: pytest.LogCaptureFixture
) -> None:
    for net, encoder in ((student, "mobilenetv3_small_100"), (fpn_teacher, "tu-resnet18")):
        status = net.pretrained_status
        assert (status.encoder, status.mode, status.used) == (encoder, "auto", False)
        assert "HF_HUB_OFFLINE=1" in status.reason
    assert student.encoder.pretrained_status is student.pretrained_status
    with caplog.at_level("WARNING", logger="seg.models.pretrained"):
        again = StudentNet(decoder_channels=8)  # same encoder: decided once, no second warning
    assert again.pretrained_status is student.pretrained_status and not caplog.records
    explicit = TimmEncoder("mobilenetv3_small_050", pretrained=False).pretrained_status
    assert (explicit.mode, explicit.used, explicit.reason) == (False, False, "pretrained: false")


@pytest.mark.parametrize("size", [(65, 97)])
def test_shuffle_head_matches_input_size_and_exports(size: tuple[int, int], tmp_path) -> None:
    from seg.export import export_onnx
    from seg.inference import OnnxBackend

    torch.manual_seed(0)
    net = StudentNet(
        encoder="mobilenetv3_small_050",
        decoder_channels=8,
        refine_channels=8,
        edge_head=True,
        head_upsample="shuffle",
    ).eval()
    assert net.seg_head.out_channels == 4 and net.edge_head.out_channels == 4
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        out = net(x)
    assert out.logits.shape == out.edge_logits.shape == (2, 1, *size)  # odd sizes are cropped
    path = export_onnx(net, tmp_path / "s.onnx", *size, dynamic_batch=True)
    np.testing.assert_allclose(OnnxBackend(path).run(x.numpy()), out.probs.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="head_upsample must be 'bilinear' or 'shuffle'"):
        StudentNet(encoder="mobilenetv3_small_050", head_upsample="nearest")


def test_describe_student_much_smaller_than_teacher(student: StudentNet) -> None:
    teacher = SmpTeacher()
    s, t = describe(student, 64, 96), describe(teacher, 64, 96)
    assert s.params > 0 and s.macs > 0 and (s.height, s.width) == (64, 96)
    assert 5 * s.params < t.params and 5 * s.macs < t.macs
    assert teacher.training and "GMACs" in str(s)
