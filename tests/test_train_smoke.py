"""Every experiment runs end to end with debug=smoke through the real CLI and writes its outputs."""

import csv
import json

import pytest

from helpers import EXPERIMENTS, run_train


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
    return metrics


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_smoke_run(experiment, tmp_path, smoke_cache):
    run_dir = tmp_path / "run"
    proc = run_train(
        f"experiment={experiment}", "debug=smoke", f"paths.cache_dir={smoke_cache}", run_dir=run_dir
    )
    check_run_outputs(run_dir, proc)
    with open(run_dir / "csv" / "metrics.csv") as f:
        columns = next(csv.reader(f))
    for column in ("train/loss_step", "train/loss_bce_step", "train/lr", "val/iou", "test/iou"):
        assert column in columns, f"{column} not logged; columns: {columns}"


def test_smoke_run_with_wandb_offline_and_csv(tmp_path, smoke_cache, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc: W&B must go offline, not prompt
    run_dir = tmp_path / "run"
    proc = run_train(
        "experiment=student",
        "debug=smoke",
        "logger=many",
        f"paths.cache_dir={smoke_cache}",
        run_dir=run_dir,
    )
    check_run_outputs(run_dir, proc)
    assert list((run_dir / "wandb").glob("offline-run-*")), "no offline W&B run was written"
    assert (run_dir / "csv" / "metrics.csv").is_file()


def test_smoke_run_without_logger(tmp_path, smoke_cache):
    run_dir = tmp_path / "run"
    proc = run_train(
        "experiment=student",
        "debug=smoke",
        "logger=none",
        f"paths.cache_dir={smoke_cache}",
        run_dir=run_dir,
    )
    check_run_outputs(run_dir, proc)
    assert not (run_dir / "csv").exists()


@pytest.mark.slow
def test_ddp_sim_two_processes(tmp_path, smoke_cache):
    run_dir = tmp_path / "run"
    proc = run_train(
        "experiment=student",
        "debug=smoke",
        "trainer=ddp_sim",
        f"paths.cache_dir={smoke_cache}",
        run_dir=run_dir,
        timeout=600,
    )
    metrics = check_run_outputs(run_dir, proc)
    # 24 training frames, batch 4 per process, 2 processes: each process sees 3 batches per epoch
    assert metrics["trainer/steps"] == 3
