"""Writing a latency benchmark's results: the markdown table and report (command, date, CPU,
runtime versions, method, notes), the JSON rows and the latency-vs-IoU plot."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seg.bench.options import LatencyOptions
from seg.utils import cpu_model

TARGETS = {"fp32": 0.8, "int8": 0.5}  # max latency ratio vs mediapipe_landscape at 144x256
COMMAND = ("python", "scripts/benchmark.py")
Row = dict[str, Any]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (``/proc/loadavg``), or ``unknown``."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def versions() -> dict[str, str]:
    """Installed versions of the runtimes the report names (``not installed`` when absent)."""
    from importlib import metadata

    out = {}
    for dist in ("onnxruntime", "ai-edge-litert", "onnx", "torch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def verdict(row: Row, target_model: str) -> str:
    """``pass``/``FAIL`` against :data:`TARGETS` for ``target_model``'s rows with a ratio, else
    ``-``."""
    limit = TARGETS.get(row["precision"])
    if row["model"] != target_model or row["ratio_vs_landscape"] is None or limit is None:
        return "-"
    ok = row["ratio_vs_landscape"] <= limit
    return f"{'pass' if ok else 'FAIL'} (<= {limit}x)"


def sort_key(row: Row) -> tuple:
    """Table order: by input size, threads, peers first, model, precision."""
    peer = row["model"].startswith("mediapipe")
    return (
        row["height"] * row["width"],
        row["height"],
        row["threads"],
        not peer,
        row["model"],
        row["precision"],
    )


def table(rows: Sequence[Row], target_model: str) -> list[str]:
    """The results as markdown table lines."""
    lines = [
        "| model | precision | input | threads | median ms | p90 ms | params | MMACs | test IoU "
        "| x landscape | target |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in sorted(rows, key=sort_key):
        iou = "-" if r["test_iou"] is None else f"{r['test_iou']:.4f}"
        ratio = "-" if r["ratio_vs_landscape"] is None else f"{r['ratio_vs_landscape']:.2f}"
        lines.append(
            f"| {r['model']} | {r['precision']} | {r['height']}x{r['width']} | {r['threads']} "
            f"| {r['median_ms']:.3f} | {r['p90_ms']:.3f} | {r['params']:,} "
            f"| {r['macs'] / 1e6:.1f} | {iou} | {ratio} | {verdict(r, target_model)} |"
        )
    return lines


def markdown_lines(
    rows: Sequence[Row],
    options: LatencyOptions,
    argv: Sequence[str],
    notes: Sequence[str],
    load: str,
) -> list[str]:
    """The markdown report: header (command ``python scripts/benchmark.py <argv>``, date, CPU,
    ``load`` average at start, versions, settings), method, notes and :func:`table`."""
    vers = versions()
    cmd = shlex.join([*COMMAND, *argv])
    lines = [
        "# Latency benchmark: students vs MediaPipe selfie segmentation",
        "",
        f"- Command: `{cmd}`",
        f"- Date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- CPU: {cpu_model()} ({os.cpu_count()} logical cores visible), load average at start "
        f"{load}",
        f"- onnxruntime {vers['onnxruntime']}, ai-edge-litert {vers['ai-edge-litert']}, "
        f"onnx {vers['onnx']}, torch {vers['torch']}, Python {platform.python_version()}",
        f"- Threads: {', '.join(map(str, options.threads))}; {options.iters} timed runs after "
        f"{options.warmup} warm-up runs per row (median and 90th percentile of single-image "
        "latency, batch 1)",
        "",
        f"Method: one process; for each thread count every model is loaded, then all are timed "
        f"interleaved in {options.rounds} rounds (each round gives every model its share of the "
        "timed runs in turn), so a noisy spell of the machine hits all models alike. ONNX Runtime "
        "(CPU provider, default graph "
        "optimisation, `intra_op_num_threads` = threads, 1 inter-op thread, sequential) times "
        "`session.run` on a preallocated input; LiteRT (`ai_edge_litert` Interpreter, default "
        "XNNPACK delegate, `num_threads` = threads) times set_tensor + invoke + get_tensor. "
        "All inputs are the same seeded random image resized (area) to each size. "
        "Params and MACs are counted from the graphs the same way for ONNX and TFLite "
        "(`seg.bench.macs`: convolutions, transposed convolutions and matmuls; parameters are "
        "the stored weight tensors, each once; batch norm is folded into the convolutions, so a "
        "student's graph has fewer parameters than its PyTorch model by its BN channels).",
        "",
        "MediaPipe rows (`mediapipe_landscape` 144x256, `mediapipe_general` 256x256) are "
        "labelled fp32: their weights are stored as fp16 and dequantized, so XNNPACK computes "
        "in fp32. `x landscape` is the median latency over `mediapipe_landscape`'s at 144x256 "
        f"with the same thread count. Targets ({options.target_model} at 144x256): fp32 <= 0.8x, "
        "int8 <= 0.5x.",
        "",
    ]
    if notes:
        lines += ["Notes:", "", *[f"- {n}" for n in notes], ""]
    return lines + table(rows, options.target_model)


def write_markdown(path: str | Path, lines: Sequence[str]) -> Path:
    """Write ``lines`` (:func:`markdown_lines`) to ``path``, folders created, newline-terminated."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_json(path: str | Path, rows: Sequence[Row]) -> Path:
    """Write the rows as an indented JSON list to ``path``, folders created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(list(rows), indent=2) + "\n")
    return path


def write_plot(path: str | Path, rows: Sequence[Row]) -> Path:
    """Median latency (fewest threads) against test IoU, one point per graph, as an image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fewest = min(r["threads"] for r in rows)
    points = [r for r in rows if r["threads"] == fewest]
    known = [r for r in points if r["test_iou"] is not None]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for r in known:
        peer = r["model"].startswith("mediapipe")
        ax.scatter(
            r["median_ms"],
            r["test_iou"],
            marker="s" if peer else "o",
            color="tab:red" if peer else ("tab:blue" if r["precision"] == "fp32" else "tab:green"),
        )
        ax.annotate(
            f"{r['model']} {r['precision']} {r['height']}x{r['width']}",
            (r["median_ms"], r["test_iou"]),
            fontsize=7,
            xytext=(4, 3),
            textcoords="offset points",
        )
    if not known:
        ax.text(
            0.5,
            0.5,
            "test IoU unknown for every model\n(untrained students; pass "
            "--iou-frames N or trained models)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_xlabel(f"median latency, ms ({fewest} thread{'s' if fewest > 1 else ''})")
    ax.set_ylabel("test IoU (synthetic)")
    ax.set_title("Latency vs test IoU (squares: MediaPipe; blue fp32, green int8)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
