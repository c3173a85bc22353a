"""The loss benchmark script runs in quick mode and writes a row with numbers for every term."""

import re

import pytest

from helpers import load_script


def test_quick_run_writes_every_term(tmp_path):
    bench = load_script("bench_losses")
    out = tmp_path / "x.md"
    assert bench.main(["--quick", "--out", str(out)]) == 0
    text = out.read_text()
    assert "Command: `python scripts/bench_losses.py --quick" in text
    assert "torch threads" in text
    rows = [line for line in text.splitlines() if line.startswith("| 64x96 |")]
    terms = [row.split("|")[2].strip() for row in rows]
    assert terms == list(bench.TERMS)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        ms, pct, verdict, mem = cells[2], cells[3], cells[5], cells[6]
        assert float(ms) > 0
        assert pct == "-" or float(pct) > 0
        assert verdict in {"pass", "FAIL", "-"}
        assert float(mem) >= 0
    for term in bench.TARGETS:
        row = rows[terms.index(term)]
        assert re.search(r"\| (pass|FAIL) \|", row)
    assert "full resolution, stride 8 of 288x512" in text


def test_bad_size_is_rejected(tmp_path):
    bench = load_script("bench_losses")
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "big", "--out", str(tmp_path / "y.md")])
