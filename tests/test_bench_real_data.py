"""The real-data benchmark (seg.bench.data_throughput, scripts/bench_real_data.py) runs end to end on
a few photos and reports every step."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import ROOT
from seg.bench.data_throughput import real_data_report, real_data_throughput


def test_bench_real_data_reports_check_and_loading(tmp_path):
    results = real_data_throughput(6, (120, 90), (144, 256), [1, 2], 3)
    assert set(results["check"]) == {1, 2} and all(v > 0 for v in results["check"].values())
    assert results["load"] > 0 and results["load_augment"] > 0
    report = "\n".join(real_data_report(results, "python scripts/bench_real_data.py"))
    for needle in ("check pass, cold, 2 thread(s)", "check pass, cached", "load + fit to 144x256"):
        assert needle in report
    assert "Machine: " in report and results["photos"] == 6


def test_bench_real_data_cli_writes_report_and_json(tmp_path):
    out, raw = tmp_path / "report.md", tmp_path / "raw.json"
    argv = ["--photos", "4", "--photo-size", "120x90", "--threads", "1", "--load-samples", "2"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_real_data.py"), *argv, "--output",
         str(out), "--json", str(raw)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "check pass, cold, 1 thread(s)" in out.read_text()
    assert json.loads(raw.read_text())["photos"] == 4
