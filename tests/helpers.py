"""Helpers shared by tests that run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from seg.config import register_resolvers
from seg.paths import ensure_project_env

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
ensure_project_env()  # the configs' ${oc.env:PROJECT_ROOT}, as train.py sets it
register_resolvers()
# A tiny student (a few seconds to build, export and run) for tests that need any network.
TINY_STUDENT = {
    "_target_": "seg.models.StudentNet",
    "encoder": "mobilenetv3_small_050",
    "decoder_channels": 8,
    "refine_channels": 8,
    "edge_head": False,
}
EXPERIMENTS = sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml"))


def run_train(
    *overrides: str, run_dir: Path, timeout: int = 300, multirun: bool = False
) -> subprocess.CompletedProcess:
    """Run ``python train.py [-m] <overrides>`` with its output in ``run_dir`` (a single run's);
    never reads stdin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(PYTHONUNBUFFERED="1", WANDB_SILENT="true")
    cmd = [sys.executable, str(ROOT / "train.py"), *(["-m"] if multirun else [])]
    cmd += [f"hydra.run.dir={run_dir}", *overrides]
    return subprocess.run(
        cmd,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def compose_cfg(*overrides: str, output_dir: Path | str = "/tmp/seg-test") -> DictConfig:
    """Compose ``configs/train.yaml`` as ``train.py`` would, with the run dir set to ``output_dir``."""
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            cfg.paths.output_dir = str(output_dir)
            del cfg["hydra"]
        return cfg
