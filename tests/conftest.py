"""Shared test set-up: repo paths, quiet W&B, few threads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PROJECT_ROOT", str(ROOT))
os.environ.setdefault("WANDB_SILENT", "true")
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session", autouse=True)
def teacher_cache(tmp_path_factory) -> Path:
    """Teachers trained by smoke runs go to a temporary cache shared by the session, not the repo."""
    path = tmp_path_factory.mktemp("teachers")
    os.environ["SEG_TEACHER_CACHE"] = str(path)
    return path
