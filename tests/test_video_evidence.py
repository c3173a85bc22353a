"""The temporal/edge evidence tables (seg.eval.temporal_evidence) on hand-made scored runs."""

import json

import pytest

from seg.errors import MissingFileError
from seg.eval.temporal_evidence import archive_runs, evidence_table, motion_table


def fake_run(root, variant, seed, scores):
    """A finished run dir of ``variant`` trained with ``seed``, scored per preset:
    ``scores[preset] = (iou, boundary_f, dtssd, tc, {motion: dtssd})``."""
    run = root / variant / f"2026-12-03_00-00-{seed}"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(f"task_name: {variant}\nseed: {seed}\nx: 1\n")
    (run / "metrics.json").write_text("{}")
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "last.ckpt").write_bytes(b"big")
    for preset, (iou, bf, dt, tc, motions) in scores.items():
        out = run / f"eval-clips-{preset}"
        out.mkdir()
        summary = {
            "overall": {"iou_pooled": iou, "boundary_f_mean": bf},
            "temporal": {
                "dtssd": dt,
                "tc": tc,
                "by_motion": {m: {"dtssd": v} for m, v in motions.items()},
            },
        }
        (out / "summary.json").write_text(json.dumps(summary))
    return run


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "logs"
    # variant -> (IoU, boundary F, TC, {motion: (dtSSD without, with smooth)}) without
    # post-processing; smooth: IoU and boundary F 0.01 lower, dtSSD halved, TC 0.02 higher
    variants = {
        "student": (0.90, 0.60, 0.95, {"still": (1.0, 0.5), "fast_turn": (8.0, 6.0)}),
        "temporal": (0.898, 0.61, 0.96, {"still": (0.6, 0.3), "fast_turn": (7.0, 5.0)}),
    }
    dtssd = {42: {"student": 4.0, "temporal": 3.0}, 43: {"student": 5.0, "temporal": 4.5}}
    for seed, per_variant in dtssd.items():
        for variant, (iou, bf, tc, motions) in variants.items():
            dt = per_variant[variant]
            scores = {
                "none": (iou, bf, dt, tc, {m: v[0] for m, v in motions.items()}),
                "smooth": (
                    iou - 0.01,
                    bf - 0.01,
                    dt / 2,
                    tc + 0.02,
                    {m: v[1] for m, v in motions.items()},
                ),
            }
            fake_run(root, variant, seed, scores)
    return root


def rows(text):
    return {
        tuple(c.strip() for c in line.strip("|").split("|")[:2]): line for line in text.splitlines()
    }


def test_paired_deltas_per_seed(runs):
    table = evidence_table(runs, ["student", "temporal"], [42, 43])
    line = rows(table)["temporal", "none"]
    # dtSSD 3/4 - 1 = -25 %, 4.5/5 - 1 = -10 %: mean -17.5 %; IoU -0.2 points on both seeds
    assert "-17.5 % (-25.0, -10.0)" in line
    assert "-0.20 (-0.20, -0.20)" in line
    assert "+1.00 (+1.00, +1.00)" in line  # boundary F
    assert "0.8980 ± 0.0000" in line and "3.750 ± 1.061" in line
    assert rows(table)["student", "none"].rstrip(" |").endswith("–")
    # post-processing vs none of the same run: dtSSD halved, TC +2 points, IoU -1 point
    assert (
        "| student | -50.0 % (-50.0, -50.0) | +2.00 (+2.00, +2.00) | -1.00 (-1.00, -1.00) |"
        in table
    )


def test_missing_seed_is_left_out_and_no_run_is_an_error(runs, tmp_path):
    table = evidence_table(runs, ["student", "temporal"], [42, 44])
    assert "| temporal | none | 42 |" in table
    with pytest.raises(MissingFileError, match="No finished run"):
        evidence_table(tmp_path / "empty", ["student"], [42])


def test_motion_table_means_over_seeds(runs):
    table = motion_table(runs, ["student", "temporal"], [42, 43])
    assert table.splitlines()[0] == "| run | seeds | still | fast_turn |"
    assert "| temporal | 42, 43 | 0.600 | 7.000 |" in table
    one_seed = motion_table(runs, ["temporal"], [42, 44])  # 44 was never run
    assert one_seed.splitlines()[2].startswith("| temporal | 42 | ")


def test_archive_keeps_only_the_scores_and_rebuilds_the_same_table(runs, tmp_path):
    dest = tmp_path / "archive"
    archived = archive_runs(runs, dest, ["student", "temporal"], [42, 43])
    assert len(archived) == 4
    files = sorted(
        p.relative_to(archived[0]).as_posix() for p in archived[0].rglob("*") if p.is_file()
    )
    assert files == [
        ".hydra/config.yaml",
        "eval-clips-none/summary.json",
        "eval-clips-smooth/summary.json",
        "metrics.json",
    ]
    assert evidence_table(dest, ["student", "temporal"], [42, 43]) == evidence_table(
        runs, ["student", "temporal"], [42, 43]
    )
    assert len(archive_runs(runs, dest, ["student", "temporal"], [42, 43])) == 4  # replaced
