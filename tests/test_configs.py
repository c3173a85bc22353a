"""Every config composes and instantiates; bad overrides fail with Hydra's clear errors."""

import pytest
from hydra.utils import instantiate

from helpers import CONFIGS, EXPERIMENTS, compose_cfg, run_train


def group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIGS / group).glob("*.yaml"))


def test_required_experiments_exist():
    assert {"teacher", "student"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_composes_with_and_without_smoke(experiment):
    cfg = compose_cfg(f"experiment={experiment}")
    assert cfg.task_name
    smoke = compose_cfg(f"experiment={experiment}", "debug=smoke")
    assert smoke.trainer.max_epochs == 1
    assert smoke.data.height * smoke.data.width < cfg.data.height * cfg.data.width


@pytest.mark.parametrize(
    "group", ["model", "loss", "optim", "augment", "trainer", "logger", "callbacks", "debug"]
)
def test_every_group_option_composes(group):
    for option in group_options(group):
        compose_cfg(f"{group}={option}")


@pytest.mark.parametrize("option", group_options("augment"))
def test_augment_pipelines_instantiate_and_keep_shapes(option):
    import numpy as np

    cfg = compose_cfg(f"augment={option}")
    if cfg.augment.train is None:
        return
    pipeline = instantiate(cfg.augment.train)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (cfg.data.height, cfg.data.width, 3), dtype=np.uint8)
    mask = (rng.random((cfg.data.height, cfg.data.width)) > 0.5).astype(np.uint8)
    for _ in range(10):
        out = pipeline(image=image, mask=mask)
        assert out["image"].shape == image.shape and out["image"].dtype == np.uint8
        assert out["mask"].shape == mask.shape
        assert set(np.unique(out["mask"])) <= {0, 1}


def test_trainer_configs_map_onto_lightning_trainer():
    import inspect

    from lightning.pytorch import Trainer

    allowed = set(inspect.signature(Trainer).parameters)
    for option in group_options("trainer"):
        cfg = compose_cfg(f"trainer={option}")
        keys = set(cfg.trainer) - {"_target_"}
        assert keys <= allowed, f"trainer={option}: not Trainer arguments: {keys - allowed}"
    assert compose_cfg("trainer=ddp").trainer.sync_batchnorm is True
    sim = compose_cfg("trainer=ddp_sim").trainer
    assert (sim.accelerator, sim.devices) == ("cpu", 2)


def test_optimizer_and_scheduler_are_partials():
    cfg = compose_cfg()
    assert cfg.optim.optimizer._partial_ and cfg.optim.scheduler._partial_


def test_unknown_experiment_is_a_clear_error(tmp_path):
    proc = run_train("experiment=does_not_exist", run_dir=tmp_path, timeout=120)
    assert proc.returncode != 0
    assert "Could not find 'experiment/does_not_exist'" in proc.stderr
    assert "student" in proc.stderr and "teacher" in proc.stderr  # lists what exists


def test_unknown_key_is_a_clear_error(tmp_path):
    proc = run_train("trainer.max_epoch=3", run_dir=tmp_path, timeout=120)
    assert proc.returncode != 0
    assert "Could not override 'trainer.max_epoch'" in proc.stderr
    assert "max_epoch" in proc.stderr


def test_cfg_job_prints_composed_config(tmp_path):
    proc = run_train("experiment=student", "--cfg", "job", run_dir=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "task_name: student" in proc.stdout and "_target_: seg.models.StudentNet" in proc.stdout
