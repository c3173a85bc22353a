"""The closed loop on a folder of photos, through the real CLIs: train (attention distillation,
with a broken file skipped) -> evaluate with a model card by attribute -> mine badcases -> retrain
with them oversampled."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from data_fixtures import truncate, write_folder
from helpers import ROOT, run_train


def _script(name: str, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


# ~80 s of the 11-minute fast suite on 2 cores: `make test-all` runs it; the fast suite keeps each
# step's own tests (test_real_data's counted skips and oversampling, test_evaluate, test_mining).
@pytest.mark.slow
def test_train_evaluate_mine_retrain_on_a_folder_dataset(tmp_path):
    root = tmp_path / "portraits"
    n = 30
    attrs = [{"skin_tone": "tone1" if i % 2 else "tone5"} for i in range(n)]
    write_folder(
        root,
        n=n,
        size=(72, 96),
        attributes=attrs,
        splits=["train"] * 22 + ["val"] * 4 + ["test"] * 4,
    )
    truncate(root / "images" / "s05.png")  # one broken photo in the train split
    data = ["data=folder", f"data.root={root}", f"data.cache_dir={tmp_path / 'cache'}"]

    # A broken file stops the run before anything trains, naming the file and the reason ...
    failed = run_train("experiment=attn_distill", "debug=smoke", *data, run_dir=tmp_path / "r0")
    assert failed.returncode != 0
    assert "s05.png: unreadable or truncated image" in failed.stderr + failed.stdout
    assert not (tmp_path / "r0" / "student.pt").exists()

    # ... or is skipped, counted and listed when the user says so.
    run = tmp_path / "r1"
    proc = run_train(
        "experiment=attn_distill", "debug=smoke", *data, "data.on_bad_sample=skip", run_dir=run
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Skipped 1 bad sample(s) (train 1" in proc.stdout
    skipped = list(csv.DictReader((run / "skipped_samples.csv").open()))
    assert [(r["split"], r["id"]) for r in skipped] == [("train", "portraits/s05")]
    assert (run / "student.onnx").is_file()

    _script("evaluate.py", str(run), *data, "--output", str(tmp_path / "eval"), "--no-latency")
    rows = list(csv.DictReader((tmp_path / "eval" / "per_image.csv").open()))
    assert len(rows) == 4 and {r["skin_tone"] for r in rows} == {"tone1", "tone5"}
    card = (tmp_path / "eval" / "model_card.md").read_text()
    assert "skin_tone" in card and "tone1" in card and "tone5" in card
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
    mean = sum(float(r["iou"]) for r in rows) / len(rows)
    assert abs(summary["overall"]["iou_mean"] - mean) < 1e-6

    mined = tmp_path / "mined"
    _script(
        "mine_badcases.py",
        str(run),
        *data,
        "data.on_bad_sample=skip",
        "--split",
        "train",
        "--top",
        "5",
        "--output",
        str(mined),
    )
    badcases = list(csv.DictReader((mined / "badcases.csv").open()))
    assert len(badcases) == 5 and all(b["id"].startswith("portraits/s") for b in badcases)
    assert [float(b["badness"]) for b in badcases] == sorted(
        (float(b["badness"]) for b in badcases), reverse=True
    )

    retrain = run_train(
        "experiment=student",
        "debug=smoke",
        *data,
        "data.on_bad_sample=skip",
        f"data.badcases={mined / 'badcases.csv'}",
        "data.badcase_weight=4",
        run_dir=tmp_path / "r2",
    )
    assert retrain.returncode == 0, retrain.stdout[-3000:] + retrain.stderr[-3000:]
    assert "Badcases: 5 of 21 train samples drawn 4x as often" in retrain.stdout + retrain.stderr
