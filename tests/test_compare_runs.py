"""Comparing runs (seg.eval.run_table, scripts/compare_runs.py): mean ± std over seeds per task, and
explicit handling of unfinished runs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from seg.errors import MissingFileError
from seg.eval.run_table import load_runs, table

ROOT = Path(__file__).resolve().parents[1]


def fake_run(root: Path, name: str, task: str, iou: float) -> Path:
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(
        f"task_name: {task}\nmodel:\n  _target_: seg.models.StudentNet\n  encoder: enc\n"
        "data:\n  height: 144\n  width: 256\ntrainer:\n  max_epochs: 6\n"
    )
    (run / "metrics.json").write_text(json.dumps({"test/iou": iou, "trainer/epochs": 6}))
    return run


def test_groups_seeds_and_skips_unfinished_runs_only_when_asked(tmp_path):
    runs = [
        fake_run(tmp_path, "a", "student", 0.80),
        fake_run(tmp_path, "b", "student", 0.90),
        fake_run(tmp_path, "c", "attn_distill", 0.95),
    ]
    unfinished = tmp_path / "d"
    (unfinished / ".hydra").mkdir(parents=True)
    loaded, skipped = load_runs(runs)
    text = table(loaded, ["test/iou"], "task_name")
    assert "| student | StudentNet enc | 2 | 144x256 | 6 | 0.8500 ± 0.0707 |" in text
    assert "| attn_distill | StudentNet enc | 1 | 144x256 | 6 | 0.9500 |" in text
    assert skipped == []
    with pytest.raises(MissingFileError, match="is not a finished run.*--skip-unfinished"):
        load_runs([*runs, unfinished])
    assert load_runs([*runs, unfinished], skip_unfinished=True)[1] == [unfinished]
    with pytest.raises(MissingFileError, match="no finished run"):
        load_runs([unfinished], skip_unfinished=True)

    out = tmp_path / "table.md"
    cmd = [sys.executable, str(ROOT / "scripts" / "compare_runs.py"), "--metrics", "test/iou"]
    cmd += ["--output", str(out), *map(str, runs), str(unfinished)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 1 and "error: " in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [*cmd, "--skip-unfinished"], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0 and "skipped 1 unfinished run dir(s)" in proc.stderr
    assert out.read_text().strip() == text.strip()


def test_model_card_groups_become_columns(tmp_path):
    runs = [fake_run(tmp_path, n, "student", 0.9) for n in ("a", "b")]
    for run, (dark, gap) in zip(runs, ((0.80, 10.0), (0.84, 6.0)), strict=True):
        (run / "eval-test").mkdir()
        summary = {
            "overall": {"iou_mean": 0.9, "iou_pooled": None},
            "breakdown": {
                "lighting": {
                    "groups": {"even": {"iou_mean": 0.9}, "low_light": {"iou_mean": dark}},
                    "worst": "low_light",
                    "gap": gap,
                }
            },
        }
        (run / "eval-test" / "summary.json").write_text(json.dumps(summary))
    metrics = ["group/lighting/low_light", "group/lighting/worst", "group/lighting/gap"]
    text = table(load_runs(runs)[0], metrics, "task_name")
    assert "| 0.8200 ± 0.0283 | 0.8200 ± 0.0283 | 8.00 ± 2.83 |" in text
