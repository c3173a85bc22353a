"""The temporal/edge evidence table (docs/video.md): every variant's runs scored on the synthetic
test clips without and with a post-processing preset, paired against the plain student of the
same seed.

``scripts/video_evidence.sh`` trains the runs; ``scripts/video_evidence_table.py`` (the command
line of :func:`evidence_table`) scores what is not scored yet and prints the table.
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seg.config import run_config_path
from seg.errors import MissingFileError
from seg.eval.run_table import find_run

COLUMNS = (  # (summary path, header, scale, digits)
    ("overall.iou_pooled", "IoU", 1.0, 4),
    ("overall.boundary_f_mean", "boundary F", 1.0, 4),
    ("temporal.dtssd", "dtSSD", 1.0, 3),
    ("temporal.tc", "TC", 1.0, 4),
)
BASELINE = "student"


def _get(summary: dict[str, Any], path: str) -> float:
    value: Any = summary
    for part in path.split("."):
        value = value[part]
    return float(value)


def clip_summary(run: Path, preset: str, clip_overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The run's evaluation on the test clips with ``preset`` (``<run>/eval-clips-<preset>/``),
    computed once and read back afterwards."""
    out = run / f"eval-clips-{preset}"
    summary_file = out / "summary.json"
    if not summary_file.is_file():
        from seg.eval.evaluation import evaluate
        from seg.postprocess import load_postprocess

        post = None if preset == "none" else load_postprocess(preset)
        # the verified export: as the app runs it, and fast on 1 thread
        graph = run / "student.onnx"
        evaluate(
            graph if graph.is_file() else run,
            ["data=clips", *clip_overrides],
            output=out,
            latency=False,
            worst=0,
            postprocess=post,
            threads=1,
        )
    return json.loads(summary_file.read_text())


def _mean_std(values: list[float], digits: int) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.fmean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def _deltas(values: list[float], digits: int, unit: str) -> str:
    if not values:
        return "–"
    per_seed = ", ".join(f"{v:+.{digits}f}" for v in values)
    return f"{statistics.fmean(values):+.{digits}f}{unit} ({per_seed})"


def evidence_table(
    root: Path,
    variants: Sequence[str],
    seeds: Sequence[int],
    presets: Sequence[str] = ("none", "smooth"),
    clip_overrides: Sequence[str] = (),
) -> str:
    """The markdown table: one row per variant and preset, mean ± std over seeds, and the paired
    changes against ``student`` of the same seed and preset (IoU and boundary F in points, dtSSD
    in per cent).

    Args:
        root: Folder with one sub-folder of runs per variant (``scripts/video_evidence.sh``).
        variants: Variant names (``student`` first: the baseline).
        seeds: Training seeds.
        presets: Post-processing presets (``none``: the probabilities as they are).
        clip_overrides: Extra data overrides for the clips (e.g. ``data.test.length=8``).

    Raises:
        MissingFileError: When no variant has a finished run.
    """
    scores: dict[tuple[str, str, int], dict[str, float]] = {}
    for variant in variants:
        for seed in seeds:
            run = find_run(root / variant, seed)
            if run is None:
                continue
            for preset in presets:
                summary = clip_summary(run, preset, clip_overrides)
                scores[variant, preset, seed] = {p: _get(summary, p) for p, *_ in COLUMNS}
    if not scores:
        raise MissingFileError(f"No finished run of {list(variants)} under {root}.")
    header = ["run", "post-processing", "seeds"] + [c[1] for c in COLUMNS]
    header += ["Δ IoU vs student, pts", "Δ dtSSD vs student", "Δ boundary F vs student, pts"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for variant in variants:
        for preset in presets:
            done = [s for s in seeds if (variant, preset, s) in scores]
            if not done:
                continue
            row = [variant, preset, ", ".join(map(str, done))]
            for path, _, scale, digits in COLUMNS:
                row.append(
                    _mean_std([scores[variant, preset, s][path] * scale for s in done], digits)
                )
            paired = [s for s in done if (BASELINE, preset, s) in scores]
            if variant == BASELINE or not paired:
                row += ["–", "–", "–"]
            else:
                base = {s: scores[BASELINE, preset, s] for s in paired}
                mine = {s: scores[variant, preset, s] for s in paired}
                iou = [
                    100 * (mine[s]["overall.iou_pooled"] - base[s]["overall.iou_pooled"])
                    for s in paired
                ]
                dt = [
                    100 * (mine[s]["temporal.dtssd"] / base[s]["temporal.dtssd"] - 1)
                    for s in paired
                ]
                bf = [
                    100 * (mine[s]["overall.boundary_f_mean"] - base[s]["overall.boundary_f_mean"])
                    for s in paired
                ]
                row += [_deltas(iou, 2, ""), _deltas(dt, 1, " %"), _deltas(bf, 2, "")]
            lines.append("| " + " | ".join(row) + " |")
    smooth = [p for p in presets if p != "none"]
    if "none" in presets and smooth:
        lines += [
            "",
            f"Effect of post-processing (same run, {smooth[0]} vs none), per variant:",
            "",
        ]
        lines += ["| run | Δ dtSSD | Δ TC, pts | Δ IoU, pts |", "|---|---|---|---|"]
        for variant in variants:
            done = [
                s
                for s in seeds
                if (variant, "none", s) in scores and (variant, smooth[0], s) in scores
            ]
            if not done:
                continue
            raw = {s: scores[variant, "none", s] for s in done}
            post = {s: scores[variant, smooth[0], s] for s in done}
            dt = [100 * (post[s]["temporal.dtssd"] / raw[s]["temporal.dtssd"] - 1) for s in done]
            tc = [100 * (post[s]["temporal.tc"] - raw[s]["temporal.tc"]) for s in done]
            iou = [
                100 * (post[s]["overall.iou_pooled"] - raw[s]["overall.iou_pooled"]) for s in done
            ]
            lines.append(
                f"| {variant} | {_deltas(dt, 1, ' %')} | {_deltas(tc, 2, '')} | {_deltas(iou, 2, '')} |"
            )
    return "\n".join(lines)


def motion_table(
    root: Path, variants: Sequence[str], seeds: Sequence[int], preset: str = "none"
) -> str:
    """dtSSD per clip motion (mean over the seeds each variant has) of every variant: where the
    flicker is. A ``seeds`` column names the seeds behind each row, so a diagnostic run with one
    seed is not read as a mean over three."""
    rows: dict[str, dict[str, list[float]]] = {}
    found: dict[str, list[int]] = {}
    motions: list[str] = []
    for variant in variants:
        for seed in seeds:
            run = find_run(root / variant, seed)
            summary_file = None if run is None else run / f"eval-clips-{preset}" / "summary.json"
            if summary_file is None or not summary_file.is_file():
                continue
            found.setdefault(variant, []).append(seed)
            by_motion = json.loads(summary_file.read_text())["temporal"]["by_motion"]
            for motion, stats in by_motion.items():
                if motion not in motions:
                    motions.append(motion)
                rows.setdefault(variant, {}).setdefault(motion, []).append(stats["dtssd"])
    lines = ["| run | seeds | " + " | ".join(motions) + " |", "|" + "---|" * (len(motions) + 2)]
    for variant, per_motion in rows.items():
        cells = [
            f"{statistics.fmean(per_motion[m]):.3f}" if m in per_motion else "–" for m in motions
        ]
        named = ", ".join(str(s) for s in found[variant])
        lines.append(f"| {variant} | {named} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def archive_runs(
    root: Path,
    dest: Path,
    variants: Sequence[str],
    seeds: Sequence[int],
    presets: Sequence[str] = ("none", "smooth"),
) -> list[Path]:
    """Copy what the tables read of each finished, scored run (its saved config, ``metrics.json``
    and ``eval-clips-<preset>/summary.json``, about 100 kB) to ``dest/<variant>/<run name>/``, so the
    evidence outlives the run dirs and :func:`evidence_table` rebuilds it from ``dest`` without
    rescoring (``--root dest``). A run already there is replaced.

    Returns:
        The archived run dirs.
    """
    archived = []
    for variant in variants:
        for seed in seeds:
            run = find_run(root / variant, seed)
            if run is None:
                continue
            out = dest / variant / run.name
            if out.resolve() == run.resolve():  # archiving the archive onto itself
                continue
            files = [run_config_path(run), run / "metrics.json"]
            files += [run / f"eval-clips-{p}" / "summary.json" for p in presets]
            files = [f for f in files if f.is_file()]
            shutil.rmtree(out, ignore_errors=True)
            for f in files:
                target = out / f.relative_to(run)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, target)
            archived.append(out)
    return archived
