"""scripts/compare_runs.py: mean ± std over seeds per task, and explicit handling of unfinished runs."""

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    path = ROOT / "scripts" / "compare_runs.py"
    spec = importlib.util.spec_from_file_location("compare_runs", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def fake_run(root: Path, name: str, task: str, iou: float) -> Path:
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(
        f"task_name: {task}\nmodel:\n  _target_: seg.models.StudentNet\n  encoder: enc\n"
        "data:\n  height: 144\n  width: 256\ntrainer:\n  max_epochs: 6\n"
    )
    (run / "metrics.json").write_text(json.dumps({"test/iou": iou, "trainer/epochs": 6}))
    return run


def test_groups_seeds_and_skips_unfinished_runs_only_when_asked(tmp_path, capsys):
    compare = load_script()
    runs = [
        fake_run(tmp_path, "a", "student", 0.80),
        fake_run(tmp_path, "b", "student", 0.90),
        fake_run(tmp_path, "c", "attn_distill", 0.95),
    ]
    unfinished = tmp_path / "d"
    (unfinished / ".hydra").mkdir(parents=True)
    out = tmp_path / "table.md"
    argv = ["--metrics", "test/iou", "--output", str(out), *map(str, runs)]
    assert compare.main(argv) == 0
    table = out.read_text()
    assert "| student | StudentNet enc | 2 | 144x256 | 6 | 0.8500 ± 0.0707 |" in table
    assert "| attn_distill | StudentNet enc | 1 | 144x256 | 6 | 0.9500 |" in table
    assert compare.main([*argv, str(unfinished)]) == 2
    assert "is not a finished run" in capsys.readouterr().err
    assert compare.main([*argv, str(unfinished), "--skip-unfinished"]) == 0
    assert "skipped 1 unfinished run dir(s)" in capsys.readouterr().err


def test_model_card_groups_become_columns(tmp_path):
    compare = load_script()
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
    out = tmp_path / "t.md"
    metrics = ["group/lighting/low_light", "group/lighting/worst", "group/lighting/gap"]
    assert compare.main(["--metrics", *metrics, "--output", str(out), *map(str, runs)]) == 0
    assert "| 0.8200 ± 0.0283 | 0.8200 ± 0.0283 | 8.00 ± 2.83 |" in out.read_text()
