"""A mistake the user can fix prints one clear line and exits 1 — no traceback — in train.py and the
scripts; real bugs and HYDRA_FULL_ERROR=1 / --debug keep the traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import ROOT, run_train
from seg.errors import ConfigError, SegError, user_error


def script(name: str, *args: str, debug_env: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SEG_DEBUG"}
    if debug_env:
        env["SEG_DEBUG"] = "1"
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env=env,
    )


def assert_clean_error(proc: subprocess.CompletedProcess, *expected: str) -> None:
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "Error executing job" not in proc.stderr + proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    for text in expected:
        assert text in errors[0], errors[0]


def test_user_error_finds_the_cause_hydra_wrapped():
    try:
        try:
            raise ConfigError("data.height=16: too small")
        except ConfigError as inner:
            raise RuntimeError("Error in call to target 'x'") from inner
    except RuntimeError as outer:
        assert isinstance(user_error(outer), ConfigError)
    assert user_error(KeyError("a bug")) is None
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigError, SegError)


def test_missing_teacher_checkpoint_names_the_key(tmp_path):
    proc = run_train(
        "experiment=attn_distill",
        "debug=smoke",
        f"teacher.checkpoint={tmp_path}/nope.pt",
        run_dir=tmp_path / "run",
    )
    assert_clean_error(proc, f"teacher.checkpoint={tmp_path}/nope.pt: no such file")
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_a_size_the_model_cannot_take_stops_before_training(tmp_path):
    proc = run_train("experiment=student", "debug=smoke", "data.height=16", run_dir=tmp_path)
    assert_clean_error(proc, "data.height=16 data.width=96 does not fit model", ">= 32")
    assert not (tmp_path / "checkpoints").exists()


def test_hydra_full_error_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    proc = run_train("experiment=student", "debug=smoke", "data.batch_size=0", run_dir=tmp_path)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "data.batch_size=0: must be a positive integer" in (
        proc.stderr
    )


def test_scripts_print_the_message_alone(tmp_path):
    assert_clean_error(
        script("evaluate.py", str(tmp_path / "no_run")), "no such run dir or model file"
    )
    broken = tmp_path / "student.onnx"
    broken.write_bytes(b"not a graph")
    assert_clean_error(script("mine_badcases.py", str(broken)), "not a loadable ONNX graph")


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback_of_a_user_error(tmp_path, how):
    args = [str(tmp_path / "no_run"), *(["--debug"] if how == "flag" else [])]
    proc = script("evaluate.py", *args, debug_env=how == "env")
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "MissingFileError" in proc.stderr
