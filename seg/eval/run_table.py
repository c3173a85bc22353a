"""Comparing finished runs: their metrics (and model-card numbers) as one markdown table, grouped
with mean ± std over seeds. ``scripts/compare_runs.py`` is its command line."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from seg.config import run_config_path
from seg.errors import MissingFileError

DEFAULT_METRICS = ("test/iou", "test/boundary_f", "test/mae", "val/iou", "time/fit_s")


def load_run(run_dir: Path) -> dict[str, Any]:
    """Metrics and config of one run dir; a clear error when it is not a finished run."""
    metrics_file = run_dir / "metrics.json"
    config_file = run_config_path(run_dir)
    for f in (metrics_file, config_file):
        if not f.is_file():
            raise MissingFileError(
                f"{run_dir} is not a finished run: {f.name} is missing (expected {f})."
            )
    metrics = json.loads(metrics_file.read_text())
    summary_file = run_dir / "eval-test" / "summary.json"
    if summary_file.is_file():
        metrics.update(eval_metrics(json.loads(summary_file.read_text())))
    return {"dir": run_dir, "metrics": metrics, "cfg": OmegaConf.load(config_file)}


def eval_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """The numbers of a ``scripts/evaluate.py`` summary as flat metric keys (see the docstring)."""
    out = {f"eval/{k}": float(v) for k, v in summary.get("overall", {}).items() if v is not None}
    for attribute, result in (summary.get("breakdown") or {}).items():
        groups = result.get("groups", {})
        for group, stats in groups.items():
            out[f"group/{attribute}/{group}"] = float(stats["iou_mean"])
        if result.get("worst") in groups:
            out[f"group/{attribute}/worst"] = float(groups[result["worst"]]["iou_mean"])
        if result.get("gap") is not None:
            out[f"group/{attribute}/gap"] = float(result["gap"])
    return out


def model_name(cfg) -> str:
    """Short description of the trained network from its config."""
    m = cfg.model
    target = str(m.get("_target_", "?")).rsplit(".", 1)[-1]
    if "arch" in m:
        return f"{m.arch} {m.encoder}"
    return f"{target} {m.get('encoder', '')}".strip()


def fmt(values: list[float], key: str) -> str:
    """``mean`` or ``mean ± sample std`` with the digits that suit the metric."""
    if not values:
        return "–"
    digits = 0 if key.startswith("time/") else 2 if key.endswith("/gap") else 4
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def table(runs: list[dict[str, Any]], metrics: Sequence[str], group_by: str) -> str:
    """The markdown table: one row per group of runs (``group_by``: a dotted config key)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        key = OmegaConf.select(run["cfg"], group_by, default=None)
        groups.setdefault(str(key), []).append(run)
    header = ["run", "model", "n", "resolution", "epochs", *metrics]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, members in groups.items():
        cfg = members[0]["cfg"]
        epochs = {int(r["metrics"].get("trainer/epochs", cfg.trainer.max_epochs)) for r in members}
        row = [
            name,
            model_name(cfg),
            str(len(members)),
            f"{cfg.data.height}x{cfg.data.width}",
            "/".join(str(e) for e in sorted(epochs)),
        ]
        row += [fmt([r["metrics"][m] for r in members if m in r["metrics"]], m) for m in metrics]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def load_runs(dirs: Sequence[Path], skip_unfinished: bool = False) -> tuple[list[dict], list[Path]]:
    """``(runs, skipped dirs)``: :func:`load_run` of each dir; unfinished ones are skipped when
    ``skip_unfinished``, else the first raises.

    Raises:
        MissingFileError: For an unfinished run dir without ``skip_unfinished`` (the message says
            how to leave such runs out), or when no finished run is among ``dirs``.
    """
    runs, skipped = [], []
    for run_dir in dirs:
        try:
            runs.append(load_run(run_dir))
        except MissingFileError as err:
            if not skip_unfinished:
                raise MissingFileError(f"{err} (--skip-unfinished leaves such runs out)") from err
            skipped.append(run_dir)
    if not runs:
        raise MissingFileError("no finished run among the given dirs")
    return runs, skipped


def find_run(task_dir: Path, seed: int) -> Path | None:
    """A finished run dir (with ``metrics.json``) under ``task_dir`` trained with ``seed``."""
    for run in sorted(Path(task_dir).glob("*/")):
        config = run_config_path(run)
        if (run / "metrics.json").is_file() and f"\nseed: {seed}\n" in config.read_text():
            return run
    return None
