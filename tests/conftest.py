"""Shared test set-up: repo paths, quiet W&B, few threads, an offline Hugging Face Hub."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("WANDB_SILENT", "true")
# `pretrained: auto` must not depend on a developer's cache or network: the hub is offline and its
# caches are empty, so every model (in this process and in the train.py subprocesses, which inherit
# the environment) trains from random initialisation, as in CI.
_EMPTY_CACHE = tempfile.mkdtemp(prefix="seg-test-hf-")
for _key in ("HF_HOME", "HF_HUB_CACHE", "TORCH_HOME"):
    os.environ[_key] = os.path.join(_EMPTY_CACHE, _key.lower())
os.environ["HF_HUB_OFFLINE"] = "1"
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session", autouse=True)
def offline_hub():
    """The hub constants read at import agree with the environment above."""
    from huggingface_hub import constants

    from seg.models.pretrained import clear_pretrained_cache

    constants.HF_HUB_OFFLINE = True
    constants.HF_HOME = os.environ["HF_HOME"]
    constants.HF_HUB_CACHE = os.environ["HF_HUB_CACHE"]
    clear_pretrained_cache()
    yield
    shutil.rmtree(_EMPTY_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session", autouse=True)
def teacher_cache(tmp_path_factory) -> Path:
    """Teachers trained by smoke runs go to a temporary cache shared by the session, not the repo."""
    path = tmp_path_factory.mktemp("teachers")
    os.environ["SEG_TEACHER_CACHE"] = str(path)
    return path
