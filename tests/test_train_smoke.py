"""Every experiment runs end to end with debug=smoke through the real CLI and writes its outputs."""

import csv
import json
from pathlib import Path

import pytest
import torch

from helpers import EXPERIMENTS, compose_cfg, run_train
from seg.export import read_metadata
from seg.models import load_model


@pytest.fixture(scope="session")
def smoke_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("synthetic-cache")


def check_run_outputs(run_dir, proc):
    assert proc.returncode == 0, proc.stdout[-4000:] + "\n" + proc.stderr[-4000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in (
        "val/iou",
        "val/boundary_f",
        "val/mae",
        "test/iou",
        "test/boundary_f",
        "test/mae",
        "test/loss",
    ):
        assert key in metrics, f"{key} missing from metrics.json: {sorted(metrics)}"
    for key in ("val/iou", "test/iou", "test/boundary_f", "test/mae"):
        assert 0.0 <= metrics[key] <= 1.0, (key, metrics[key])
    assert metrics["trainer/steps"] > 0
    assert (run_dir / "checkpoints" / "best.ckpt").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert sorted(p.name for p in (run_dir / "previews").glob("*.png"))[0].startswith("epoch_000")
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert f"Run dir: {run_dir}" in proc.stdout
    check_export(run_dir, metrics)
    return metrics


def check_export(run_dir, metrics):
    """Every run leaves a verified ONNX graph whose test IoU matches PyTorch's."""
    report = json.loads((run_dir / "export.json").read_text())
    onnx_path = run_dir / Path(report["onnx"]).name
    assert onnx_path.is_file() and onnx_path.name in ("student.onnx", "teacher.onnx")
    assert report["verification"]["passed"] and report["verification"]["max_abs_diff"] <= 1e-4
    meta = read_metadata(onnx_path)
    assert meta["config_hash"] and meta["input_layout"] == "NCHW"
    assert abs(float(meta["test_iou"]) - metrics["test/iou"]) < 1e-4  # written at test end
    # the graph scores like PyTorch on the test split (torchmetrics thresholds with >=, ORT with >)
    assert abs(report["test_iou_onnx"] - metrics["test/iou"]) < 5e-3
    if onnx_path.name == "student.onnx":
        assert (run_dir / "student.int8.onnx").is_file()
        assert read_metadata(run_dir / "student.int8.onnx")["precision"] == "int8"
        assert metrics["export/test_iou_int8"] == report["test_iou_int8"]


def smoke_run(run_dir, smoke_cache, *overrides, timeout=300):
    """``train.py <overrides> debug=smoke`` with the shared data cache; checks every run output."""
    proc = run_train(
        *overrides,
        "debug=smoke",
        f"paths.cache_dir={smoke_cache}",
        run_dir=run_dir,
        timeout=timeout,
    )
    return proc, check_run_outputs(run_dir, proc)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_smoke_run(experiment, tmp_path, smoke_cache):
    run_dir = tmp_path / "run"
    proc, metrics = smoke_run(run_dir, smoke_cache, f"experiment={experiment}")
    cfg = compose_cfg(f"experiment={experiment}", "debug=smoke", output_dir=run_dir)
    with open(run_dir / "csv" / "metrics.csv") as f:
        columns = next(csv.reader(f))
    # every loss term of the experiment is logged on its own, plus the total and the LR
    expected = [f"train/loss_{name}_step" for name in cfg.loss.terms]
    expected += ["train/loss_step", "train/lr", "val/iou", "test/iou"]
    if cfg.teacher.mode == "online":
        expected += ["val/teacher_iou", "test/teacher_iou", "train/teacher_loss_step"]
    for column in expected:
        assert column in columns, f"{column} not logged; columns: {columns}"
    if cfg.teacher.mode == "offline":  # the cached teacher's own scores are reported alongside
        assert 0.0 <= metrics["teacher/test/iou"] <= 1.0
        assert "(teacher " in proc.stdout
        assert metrics["teacher/pretrained"] == 0.0  # offline tests: the teacher from scratch too
    weights = run_dir / cfg.export_weights
    net = load_model(weights)
    assert type(net).__name__ == cfg.model._target_.rsplit(".", 1)[-1]
    payload = torch.load(weights)
    assert all(not k.startswith("teacher") for k in payload["state_dict"])
    # pretrained: auto, offline: random init, recorded in metrics.json and the weights' metadata
    assert metrics["model/pretrained"] == 0.0
    status = payload["metadata"]["pretrained"]
    assert (status["mode"], status["used"], status["source"]) == ("auto", False, "random init")
    assert "not in the local cache" in status["reason"]


def test_teacher_is_trained_once_then_reused(tmp_path, smoke_cache, monkeypatch):
    monkeypatch.setenv("SEG_TEACHER_CACHE", str(tmp_path / "teachers"))
    first, _ = smoke_run(tmp_path / "first", smoke_cache, "experiment=attn_distill")
    assert "training one now" in first.stdout + first.stderr
    (cached,) = (tmp_path / "teachers").glob("teacher-Unet-tu-resnet18-*/teacher.pt")
    stamp = cached.stat().st_mtime_ns
    second, _ = smoke_run(tmp_path / "second", smoke_cache, "experiment=pixel_distill")
    log = second.stdout + second.stderr
    assert "Teacher cache hit" in log and "training one now" not in log
    assert cached.stat().st_mtime_ns == stamp
    assert len(list((tmp_path / "teachers").iterdir())) == 1  # no partial entries left


def test_smoke_run_with_wandb_offline_and_csv(tmp_path, smoke_cache, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc: W&B must go offline, not prompt
    run_dir = tmp_path / "run"
    smoke_run(run_dir, smoke_cache, "experiment=student", "logger=many")
    assert list((run_dir / "wandb").glob("offline-run-*")), "no offline W&B run was written"
    assert (run_dir / "csv" / "metrics.csv").is_file()


def test_smoke_run_without_logger_on_clips(tmp_path, smoke_cache):
    run_dir = tmp_path / "run"
    clips = ["data=clips", "data.val.length=2", "data.val.frames=4", "data.test.frames=4"]
    proc, metrics = smoke_run(run_dir, smoke_cache, "experiment=student", "logger=none", *clips)
    assert not (run_dir / "csv").exists()
    # on clips every run reports stability next to IoU: dtSSD on val and test, TC etc. on test
    for key in ("val/dtssd", "test/dtssd", "test/tc", "test/flicker", "test/flip_rate"):
        assert key in metrics, f"{key} missing from metrics.json"
    assert metrics["test/dtssd"] >= 0.0 and 0.0 <= metrics["test/tc"] <= 1.0
    assert 0.0 <= metrics["test/iou"] <= 1.0
    assert "test/dtssd=" in proc.stdout
    # the run ships its post-processing (postprocess=default) next to the ONNX and inside it
    from seg.postprocess import load_postprocess

    shipped = json.loads((run_dir / "student.postprocess.json").read_text())["postprocess"]
    assert shipped == load_postprocess("default").settings()
    assert json.loads(read_metadata(run_dir / "student.onnx")["postprocess"]) == shipped


@pytest.mark.slow
@pytest.mark.parametrize("experiment", ["student", "attn_distill"])
def test_ddp_sim_two_processes(experiment, tmp_path, smoke_cache, monkeypatch):
    # attn_distill also trains its teacher under DDP first (a fresh cache), then the student
    monkeypatch.setenv("SEG_TEACHER_CACHE", str(tmp_path / "teachers"))
    run_dir = tmp_path / "run"
    _, metrics = smoke_run(
        run_dir, smoke_cache, f"experiment={experiment}", "trainer=ddp_sim", timeout=600
    )
    # 24 training frames, batch 4 per process, 2 processes: each process sees 3 batches per epoch
    assert metrics["trainer/steps"] == 3
    assert (run_dir / "student.pt").is_file()
