"""Compare finished runs: a markdown table of their metrics, grouped with mean ± std over seeds.

Each run dir must hold ``metrics.json`` and ``.hydra/config.yaml`` (every ``train.py`` run does).
Runs are grouped by ``task_name`` (or ``--group-by`` any dotted config key); a group with several runs
(e.g. seeds) shows mean ± sample std.

Runs evaluated with ``scripts/evaluate.py`` (``<run>/eval-test/summary.json``) also offer the model
card's numbers as metrics: ``eval/iou_mean``, ``eval/boundary_f_mean``, ``group/<attribute>/<group>``
(that group's mean IoU), ``group/<attribute>/worst`` (the worst group's mean IoU) and
``group/<attribute>/gap`` (best minus worst group, IoU points).

Usage:
    python scripts/compare_runs.py logs/teacher/* logs/student/* [--metrics test/iou test/boundary_f]
                                   [--group-by task_name] [--output table.md] [--skip-unfinished]
    python scripts/compare_runs.py logs/student/* logs/badcase_retrain_w4/* \
        --metrics test/iou group/lighting/low_light group/hands/worst group/hands/gap
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

DEFAULT_METRICS = ("test/iou", "test/boundary_f", "test/mae", "val/iou", "time/fit_s")


def load_run(run_dir: Path) -> dict[str, Any]:
    """Metrics and config of one run dir; a clear error when it is not a finished run."""
    metrics_file = run_dir / "metrics.json"
    config_file = run_dir / ".hydra" / "config.yaml"
    for f in (metrics_file, config_file):
        if not f.is_file():
            raise FileNotFoundError(
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
    if not values:
        return "–"
    digits = 0 if key.startswith("time/") else 2 if key.endswith("/gap") else 4
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def table(runs: list[dict[str, Any]], metrics: list[str], group_by: str) -> str:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", type=Path, help="run directories")
    parser.add_argument(
        "--metrics", nargs="+", default=list(DEFAULT_METRICS), help="metrics.json keys"
    )
    parser.add_argument(
        "--group-by", default="task_name", help="dotted config key to group runs by"
    )
    parser.add_argument("--output", type=Path, default=None, help="also write the table here")
    parser.add_argument(
        "--skip-unfinished",
        action="store_true",
        help="leave out run dirs without metrics.json (interrupted runs), counted on stderr",
    )
    args = parser.parse_args(argv)
    runs, skipped = [], []
    for run_dir in args.runs:
        try:
            runs.append(load_run(run_dir))
        except FileNotFoundError as err:
            if not args.skip_unfinished:
                print(f"error: {err} (--skip-unfinished leaves such runs out)", file=sys.stderr)
                return 2
            skipped.append(run_dir)
    if skipped:
        print(
            f"skipped {len(skipped)} unfinished run dir(s): {', '.join(map(str, skipped))}",
            file=sys.stderr,
        )
    if not runs:
        print("error: no finished run among the given dirs", file=sys.stderr)
        return 2
    text = table(runs, args.metrics, args.group_by)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
