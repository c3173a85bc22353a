"""Offline and online distillation in the training module, teacher loading, weights files, cache key."""

from __future__ import annotations

import functools

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf
from torch.utils.data import DataLoader, Dataset

from helpers import compose_cfg
from seg.distill import check_same_architecture, load_teacher, teacher_cache_key
from seg.distill.teacher_cache import teacher_run_config
from seg.losses import AttentionKD, BCELoss, Criterion, FeatureKDTerm, LossTerm, PixelwiseKD
from seg.models import StudentNet, load_model, save_model
from seg.module import SegModule

STUDENT_CFG = {"_target_": "seg.models.StudentNet", "encoder": "mobilenetv3_small_050"}
TEACHER_CFG = {
    "_target_": "seg.models.StudentNet",
    "encoder": "mobilenetv3_small_100",
    "decoder_channels": 48,
    "edge_head": False,
}


class Blobs(Dataset):
    """Random images whose mask is a bright square, so a few steps change every network."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(i)
        image = torch.rand(3, 64, 64, generator=g) * 0.5
        mask = torch.zeros(1, 64, 64)
        y, x = torch.randint(0, 32, (2,), generator=g).tolist()
        mask[:, y : y + 32, x : x + 32] = 1
        return {"image": image + 0.5 * mask, "mask": mask, "index": torch.tensor(i)}


def kd_criterion() -> Criterion:
    return Criterion(
        {
            "ce": LossTerm(BCELoss()),
            "kd_pixel": LossTerm(PixelwiseKD(2.0), target="teacher.logits"),
            "kd_attention": FeatureKDTerm(AttentionKD(), strides={8: 1.0, 16: 1.0}, weight=10.0),
        }
    )


def make_module(mode: str, teacher: torch.nn.Module) -> SegModule:
    torch.manual_seed(0)
    return SegModule(
        net=StudentNet(encoder="mobilenetv3_small_050", edge_head=False),
        criterion=kd_criterion(),
        optimizer=functools.partial(torch.optim.SGD, lr=0.05),
        teacher=teacher,
        distill_mode=mode,
        teacher_criterion=Criterion({"ce": LossTerm(BCELoss())}) if mode == "online" else None,
        teacher_lr=0.01 if mode == "online" else None,
        model_config=STUDENT_CFG,
    )


def fit(module: SegModule, steps: int = 3) -> L.Trainer:
    trainer = L.Trainer(
        max_steps=steps,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=1,
    )
    loader = DataLoader(Blobs(), batch_size=4)
    trainer.fit(module, train_dataloaders=loader, val_dataloaders=loader)
    return trainer


def snapshot(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def changed(before: dict[str, torch.Tensor], net: torch.nn.Module) -> list[str]:
    return [k for k, v in net.state_dict().items() if not torch.equal(before[k], v)]


def make_teacher() -> StudentNet:
    torch.manual_seed(1)
    return StudentNet(encoder="mobilenetv3_small_100", decoder_channels=48, edge_head=False)


def test_offline_teacher_is_frozen_and_only_the_student_learns():
    teacher = make_teacher()
    teacher_before = snapshot(teacher)  # includes BatchNorm running statistics
    module = make_module("offline", teacher)
    student_before = snapshot(module.net)
    fit(module)
    assert changed(teacher_before, teacher) == []  # weights and BN statistics untouched
    assert not teacher.training  # Lightning's train() never reached it
    assert all(p.grad is None and not p.requires_grad for p in teacher.parameters())
    assert changed(student_before, module.net)  # the student learned
    assert not any(k.startswith("teacher") for k in module.state_dict())  # not in checkpoints
    names = {n for group in module.optimizers().optimizer.param_groups for n in group["params"]}
    assert len(names) == len([p for p in module.net.parameters()])


def test_offline_kd_terms_are_logged_and_gradients_reach_the_student():
    module = make_module("offline", make_teacher())
    trainer = fit(module, steps=2)
    logged = set(trainer.callback_metrics)
    assert {"train/loss_ce", "train/loss_kd_pixel", "train/loss_kd_attention"} <= logged
    assert trainer.callback_metrics["train/loss_kd_attention"] > 0
    assert "val/loss_kd_pixel" not in logged  # validation has no teacher pass: task terms only
    assert "val/iou" in logged


def test_online_teacher_and_student_both_learn_with_their_own_lr():
    teacher = make_teacher()
    teacher_before = snapshot(teacher)
    module = make_module("online", teacher)
    student_before = snapshot(module.net)
    trainer = fit(module)
    assert changed(teacher_before, module.teacher)
    assert changed(student_before, module.net)
    groups = module.optimizers().optimizer.param_groups
    assert [g["lr"] for g in groups] == [pytest.approx(0.05), pytest.approx(0.01)]
    logged = set(trainer.callback_metrics)
    assert {"val/iou", "val/teacher_iou", "train/teacher_loss", "train/loss_kd_pixel"} <= logged


def test_kd_term_without_teacher_is_a_clear_error():
    with pytest.raises(ValueError, match="teacher=offline"):
        make_module("offline", None)


def test_weights_file_round_trip_and_lightning_checkpoint(tmp_path):
    torch.manual_seed(0)
    net = StudentNet(encoder="mobilenetv3_small_050").eval()
    path = save_model(tmp_path / "student.pt", net, STUDENT_CFG, {"metrics": {"test/iou": 0.9}})
    loaded = load_model(path)
    x = torch.rand(1, 3, 64, 96)
    assert torch.allclose(loaded(x).logits, net(x).logits, atol=1e-6)
    assert loaded.seg_metadata["metrics"]["test/iou"] == 0.9
    payload = torch.load(path, weights_only=False)
    assert set(payload) == {"format", "model_config", "state_dict", "metadata"}
    assert all(k in net.state_dict() for k in payload["state_dict"])  # student weights only


def test_teacher_checkpoint_of_another_architecture_names_both(tmp_path):
    path = save_model(tmp_path / "teacher.pt", make_teacher(), TEACHER_CFG)
    teacher, _ = load_teacher(path, TEACHER_CFG)
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    other = {**TEACHER_CFG, "encoder": "mobilenetv3_large_100"}
    with pytest.raises(ValueError, match="mobilenetv3_small_100.*mobilenetv3_large_100"):
        load_teacher(path, other)
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_teacher(tmp_path / "nope.pt", TEACHER_CFG)
    check_same_architecture({**TEACHER_CFG, "pretrained": True}, TEACHER_CFG, source="x")


def test_teacher_cache_key_follows_teacher_and_data_but_not_loader_settings(tmp_path):
    def key(*overrides: str) -> str:
        cfg = compose_cfg("experiment=attn_distill", *overrides, output_dir=tmp_path)
        return teacher_cache_key(teacher_run_config(cfg))

    base = key()
    assert key("data.num_workers=0", "data.eval_batch_size=4", "seed=7") == base
    assert key("data.height=128") != base
    assert key("model@teacher.model=teacher_fpn") != base
    assert key("experiment=pixel_distill") == base  # any student shares the same teacher
    run_cfg = teacher_run_config(compose_cfg("experiment=attn_distill", output_dir=tmp_path))
    assert run_cfg.model.arch == "Unet" and run_cfg.teacher.mode == "none"
    assert run_cfg.export_weights == "teacher.pt"
    assert OmegaConf.to_container(run_cfg.loss.terms).keys() == {"ce", "dice"}


def test_teacher_with_its_own_normalisation_gets_the_raw_batch():
    # Models normalise inside, so the module hands both the same [0, 1] RGB batch: a teacher whose
    # mean/std differ from the student's needs no conversion, and gets none applied twice.
    torch.manual_seed(1)
    teacher = StudentNet(
        encoder="mobilenetv3_small_050", edge_head=False, mean=(0.5,) * 3, std=(0.25,) * 3
    ).eval()
    module = make_module("offline", teacher)
    assert module.net.normalize.mean.flatten().tolist() != [0.5, 0.5, 0.5]
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        expected = teacher(x).logits
    assert torch.allclose(module._teacher_forward(x).logits, expected, atol=0.05)  # bf16 autocast
    module.teacher_autocast = False
    assert torch.allclose(module._teacher_forward(x).logits, expected, atol=1e-5)


def test_a_missing_teacher_is_trained_by_the_step_the_caller_hands_in(tmp_path, monkeypatch):
    from seg.build import build_network
    from seg.distill import resolve_teacher
    from seg.errors import SegError

    cfg = compose_cfg(
        "experiment=attn_distill", f"teacher.cache_dir={tmp_path / 'cache'}", output_dir=tmp_path
    )
    calls = []

    def train(run_cfg):
        """What the pipeline's run does, minus the training: write the weights, return the net."""
        calls.append(run_cfg)
        net = build_network(run_cfg.model)
        model_config = OmegaConf.to_container(run_cfg.model, resolve=True)
        save_model(
            f"{run_cfg.paths.output_dir}/teacher.pt",
            net,
            model_config,
            {"metrics": {"test/iou": 0.5}},
        )
        return net, {"test/iou": 0.5}, True

    with pytest.raises(SegError, match="experiment=teacher"):
        resolve_teacher(cfg)  # no checkpoint, nothing cached, no training step: a clear error
    teacher, info = resolve_teacher(cfg, train=train)
    assert len(calls) == 1 and calls[0].export.enabled is False and calls[0].print_summary is False
    assert not info.cached and info.metrics == {"test/iou": 0.5}
    assert info.path.endswith("teacher.pt") and ".partial" not in info.path
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    again, cached = resolve_teacher(cfg, train=train)
    assert len(calls) == 1 and cached.cached and cached.path == info.path
    assert cached.metrics["test/iou"] == 0.5


def test_teacher_cache_key_follows_whether_imagenet_weights_are_used(tmp_path, monkeypatch):
    from seg.distill import teacher_cache
    from seg.models.pretrained import PretrainedStatus

    def key() -> str:
        cfg = compose_cfg("experiment=attn_distill", output_dir=tmp_path)
        return teacher_cache_key(teacher_run_config(cfg))

    offline = key()  # auto resolves to random init offline (tests run with HF_HUB_OFFLINE=1)
    cfg = compose_cfg(
        "experiment=attn_distill", "teacher.model.pretrained=false", output_dir=tmp_path
    )
    assert teacher_cache_key(teacher_run_config(cfg)) == offline  # the same teacher either way

    def available(encoder, mode, pretrained_cfg_overlay=None):
        return PretrainedStatus(encoder, mode, True, "imagenet weights (local cache)")

    monkeypatch.setattr(teacher_cache, "resolve_pretrained", available)
    assert key() != offline  # weights found: another teacher, trained anew
