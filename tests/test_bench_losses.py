"""seg.bench's loss benchmark: one size measured and rendered with numbers for every term, and one
quick run of the real ``scripts/bench_losses.py``."""

import re
import subprocess
import sys

import pytest
import torch

from helpers import ROOT
from seg.bench.loss_cost import STEP, TARGETS, TERMS, bench_size
from seg.bench.loss_cost_report import render
from seg.bench.options import parse_size
from seg.bench.report import write_report
from seg.errors import UserInputError
from seg.utils import bf16_supported


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| 64x96 |")]


def check_table(text: str) -> None:
    """Every term has a row with a positive time, a percentage, a verdict and a memory figure."""
    rows = table_rows(text)
    terms = [row.split("|")[2].strip() for row in rows]
    # the bf16 teacher row only where bf16 is fast (AVX512-BF16/AMX CPUs, GPUs)
    assert terms == [t for t in TERMS if bf16_supported(torch.device("cpu")) or "bf16" not in t]
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        ms, pct, verdict, mem = cells[2], cells[3], cells[5], cells[6]
        assert float(ms) > 0
        assert pct == "-" or float(pct) > 0
        assert verdict in {"pass", "FAIL", "-"}
        assert float(mem) >= 0
    for term in TARGETS:
        row = rows[terms.index(term)]
        assert re.search(r"\| (pass|FAIL) \|", row)
    assert "full resolution, stride 8 of 288x512" in text


def test_one_size_measures_and_renders_every_term(tmp_path, capsys):
    device = torch.device("cpu")
    rows = bench_size(64, 96, 2, 1, 0, device)
    expected = [t for t in TERMS if bf16_supported(device) or "bf16" not in t]
    assert [r.term for r in rows] == expected and all(r.size == "64x96" for r in rows)
    assert rows[0].term == STEP and rows[0].pct is None
    for row in rows:
        assert row.ms > 0 and (row.peak_bytes is None or row.peak_bytes >= 0)
    for row in rows[1:]:
        assert row.pct == pytest.approx(100.0 * row.ms / rows[0].ms)
        assert row.verdict in ({"pass", "FAIL"} if row.term in TARGETS else {"-"})
    command = "python scripts/bench_losses.py --quick"
    out = write_report(tmp_path / "x.md", render(rows, 2, 1, 0, command, device))
    assert f"wrote {out}" in capsys.readouterr().out
    text = out.read_text()
    assert f"Command: `{command}`" in text and "torch threads" in text
    assert "Batch 2, median of 1 timed iterations after 0 warm-up" in text
    if bf16_supported(device):
        check_table(text)


def test_bad_size_is_rejected():
    with pytest.raises(UserInputError, match="144x256"):
        parse_size("big")
    assert parse_size("64x96") == (64, 96)


def test_cli_quick_run_writes_every_term(tmp_path):
    """The real script: ``--quick`` writes a row with numbers for every term; a bad size exits 2."""

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "scripts/bench_losses.py", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=240,
        )

    out = tmp_path / "x.md"
    done = run("--quick", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"wrote {out}" in done.stdout
    text = out.read_text()
    assert "Command: `python scripts/bench_losses.py --quick" in text
    assert "torch threads" in text
    check_table(text)

    bad = run("--sizes", "big", "--out", str(tmp_path / "y.md"))
    assert bad.returncode == 2 and "--sizes" in bad.stderr
    assert not (tmp_path / "y.md").exists()
