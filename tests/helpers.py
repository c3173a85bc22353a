"""Helpers shared by tests that run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml"))


def run_train(*overrides: str, run_dir: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``python train.py <overrides>`` with its output in ``run_dir``; never reads stdin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(PYTHONUNBUFFERED="1", WANDB_SILENT="true")
    cmd = [sys.executable, str(ROOT / "train.py"), f"hydra.run.dir={run_dir}", *overrides]
    return subprocess.run(
        cmd, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, env=env
    )
