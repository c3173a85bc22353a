"""scripts/bench_real_data.py runs end to end on a few photos and reports every step."""

from __future__ import annotations

import json

from helpers import load_script


def test_bench_real_data_reports_check_and_loading(tmp_path):
    out, raw = tmp_path / "report.md", tmp_path / "raw.json"
    argv = ["--photos", "6", "--photo-size", "120x90", "--threads", "1", "2", "--load-samples", "3"]
    results = load_script("bench_real_data").main([*argv, "--output", str(out), "--json", str(raw)])
    assert set(results["check"]) == {1, 2} and all(v > 0 for v in results["check"].values())
    assert results["load"] > 0 and results["load_augment"] > 0
    report = out.read_text()
    for needle in ("check pass, cold, 2 thread(s)", "check pass, cached", "load + fit to 144x256"):
        assert needle in report
    assert json.loads(raw.read_text())["photos"] == 6
