"""``model_card.md``: what the model is, what it is for, how well it does overall and per
attribute group (the fairness view), and how fast it runs — rendered from ``summary.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seg.errors import ModelFileError
from seg.inference import OnnxBackend, Predictor
from seg.timing import time_fn
from seg.utils import cpu_model

LATENCY_ITERS = 50
LATENCY_WARMUP = 5

INTENDED_USE = """\
Person-vs-background segmentation of portrait and video-call frames (background blur or
replacement, framing): one person-ish foreground per frame — the person with their hair, clothing
and whatever they hold or wear (phone, cup, glasses, headphones) — as a soft foreground
probability, thresholded for a hard mask."""

LIMITATIONS = """\
* Not for identifying, tracking or judging people; it only separates foreground from background.
* Trained for one main subject close to the camera. Crowds, people far in the background, full
  bodies at a distance and non-portrait scenes are out of scope and may be segmented
  inconsistently (background people may be included or cut).
* Thin structures (hair strands, fingers, glasses frames) and colours close to the background are
  the usual failure cases; see the worst-case sheet.
* The numbers below hold for the data evaluated here. Synthetic or narrow test data does not
  prove quality on real footage: evaluate on data like the deployment's, with attribute columns,
  before relying on the per-group results."""


def latency_graph(predictor: Predictor) -> Path | None:
    """The ONNX graph whose latency stands for the model: the predictor's own graph, else for
    weights the ``.onnx`` next to them (``student.pt`` -> ``student.onnx``, a run's checkpoint ->
    ``<run>/student.onnx``), else None."""
    if predictor.kind == "onnx":
        return predictor.path
    candidates = [predictor.path.with_suffix(".onnx")]
    if predictor.run_dir is not None and predictor.path.suffix == ".ckpt":
        candidates.append(predictor.run_dir / "student.onnx")
    return next((c for c in candidates if c.is_file()), None)


def measure_latency(
    predictor: Predictor, iters: int = LATENCY_ITERS, warmup: int = LATENCY_WARMUP
) -> dict[str, Any]:
    """Single-frame ONNX Runtime CPU latency at 1 thread (:mod:`seg.timing`).

    Returns:
        ``{"measured": True, "graph", "median_ms", "p90_ms", "threads", "iters", "input_size",
        "cpu"}``, or ``{"measured": False, "reason", "cpu"}`` when there is no graph to time.
    """
    cpu = cpu_model()
    graph = latency_graph(predictor)
    if graph is None:
        return {
            "measured": False,
            "reason": f"no ONNX graph next to {predictor.path.name}; export one with "
            "scripts/export.py to measure latency",
            "cpu": cpu,
        }
    try:
        backend = OnnxBackend(graph, threads=1)
    except ModelFileError as err:  # e.g. a symbolic input size
        return {"measured": False, "reason": str(err), "cpu": cpu}
    median, p90 = time_fn(backend.timer(), iters=iters, warmup=warmup)
    return {
        "measured": True,
        "graph": str(graph),
        "median_ms": round(median, 3),
        "p90_ms": round(p90, 3),
        "threads": 1,
        "iters": iters,
        "input_size": [backend.height, backend.width],
        "cpu": cpu,
    }


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _params(value: Any) -> str:
    if value is None:
        return "unknown"
    return f"{value:,} ({value / 1e6:.2f} M)"


def _model_section(model: dict[str, Any]) -> list[str]:
    params = _params(model.get("params"))
    if model.get("kind") == "onnx" and model.get("params") is not None:
        params += " — ONNX graph weights (batch norms folded)"
    height, width = model.get("input_size") or ["?", "?"]
    rows = [
        ("Name", model.get("name")),
        ("Kind", "PyTorch weights" if model.get("kind") == "torch" else "ONNX graph"),
        ("File", f"`{model.get('path')}`"),
        ("Architecture", model.get("architecture") and f"`{model['architecture']}`"),
        ("Parameters", params),
        ("Input", f"{height} x {width} RGB in [0, 1] (N x 3 x H x W)"),
        ("Output", "N x 1 x H x W foreground probability"),
        ("Mask threshold", model.get("threshold")),
        ("Training run", model.get("run_dir") and f"`{model['run_dir']}`"),
        ("Training task", model.get("task_name")),
        ("Encoder initialisation", _pretrained(model.get("pretrained"))),
        ("Config hash", model.get("config_hash") and f"`{model['config_hash']}`"),
        (
            "Test IoU at training time",
            _num(model.get("training_test_iou"))
            if model.get("training_test_iou") is not None
            else None,
        ),
    ]
    lines = ["## Model", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows if value not in (None, "")]
    return lines


def _pretrained(status: Any) -> str | None:
    """How the encoder started: ImageNet weights (and from where) or random init (and why)."""
    if not isinstance(status, dict):
        return None
    if status.get("used"):
        return f"ImageNet weights ({status.get('source') or 'pretrained'})"
    reason = status.get("reason")
    return f"random (pretrained: {status.get('mode')}{'; ' + reason if reason else ''})"


def _data_section(data: dict[str, Any], n: int) -> list[str]:
    lines = ["## Evaluation data", ""]
    rows = [
        ("Dataset", data.get("dataset") and f"`{data['dataset']}`"),
        ("Root", data.get("root") and f"`{data['root']}`"),
        ("Config", data.get("config")),
        ("Overrides", " ".join(f"`{o}`" for o in data.get("overrides") or []) or None),
        ("Split", f"`{data.get('split')}`"),
        ("Images", n),
        ("Size", data.get("size")),
    ]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows if value not in (None, "")]
    return lines


def _overall_section(overall: dict[str, Any], threshold: Any) -> list[str]:
    return [
        "## Overall metrics",
        "",
        f"Threshold {threshold}; boundary F with a {overall.get('band_px', 3)}-pixel band.",
        "",
        "| Metric | Value |",
        "|---|---|",
        f"| Images | {overall['n']} |",
        f"| Mean per-image IoU | {_num(overall['iou_mean'])} |",
        f"| Pooled IoU (all pixels of the split) | {_num(overall.get('iou_pooled'))} |",
        f"| Median per-image IoU | {_num(overall.get('iou_median'))} |",
        f"| Worst image IoU | {_num(overall.get('iou_min'))} |",
        f"| Mean boundary F | {_num(overall['boundary_f_mean'])} |",
        f"| Mean absolute error | {_num(overall['mae_mean'])} |",
    ]


def _stability_section(temporal: dict[str, Any] | None, postprocess: Any) -> list[str]:
    lines = ["## Stability on video", ""]
    if not temporal:
        return lines + [
            "Not measured: evaluated on single frames. Evaluate on clips (`data=clips`) for dtSSD "
            "and temporal consistency."
        ]
    if postprocess:
        from seg.postprocess import describe_settings

        pp = f"post-processed ({describe_settings(postprocess)})"
    else:
        pp = "raw probabilities"
    lines += [
        f"{temporal['clips']} clips, {temporal['frames']} frames, {pp}. dtSSD (x100, lower is "
        "steadier; 0 = changes exactly as the ground truth), TC (IoU of each mask with the "
        "previous one warped by optical flow; 1 = moves with the image), flicker (mean |p_t - "
        "p_t-1|), flip rate (share of mask pixels that flip per frame). Synthetic clips, not "
        "measured on real video.",
        "",
        "| Motion | Clips | IoU | dtSSD | TC | Flicker | Flip rate |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [("all", temporal), *temporal.get("by_motion", {}).items()]
    for name, t in rows:
        lines.append(
            f"| {name} | {t['clips']} | {_num(t['iou'])} | {t['dtssd']:.3f} | {_num(t['tc'])} | "
            f"{t['flicker']:.5f} | {t['flip_rate']:.5f} |"
        )
    return lines


def _latency_section(latency: dict[str, Any] | None) -> list[str]:
    lines = ["## Latency", ""]
    if latency is None:
        return [*lines, f"Not measured (`--no-latency`). CPU: {cpu_model()}."]
    if not latency.get("measured"):
        return [*lines, f"Not measured: {latency.get('reason')}. CPU: {latency.get('cpu')}."]
    height, width = latency["input_size"]
    return [
        *lines,
        f"ONNX Runtime, CPU execution provider, {latency['threads']} thread, batch 1, "
        f"{height} x {width}, {latency['iters']} timed runs of `{Path(latency['graph']).name}`:",
        "",
        "| Median | p90 | CPU |",
        "|---|---|---|",
        f"| {latency['median_ms']:.2f} ms | {latency['p90_ms']:.2f} ms | {latency['cpu']} |",
    ]


def _attribute_section(breakdown: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["## Results by attribute", ""]
    if not breakdown:
        return [
            *lines,
            "The evaluated data has no attribute columns, so there is no per-group view. Add "
            "categorical columns (e.g. `skin_tone`, `gender`, `region`, `lighting`) to the "
            "dataset's manifest CSV next to the image and mask paths (see data/README.md); they "
            "flow into this section and `per_image.csv`.",
        ]
    lines += [
        "Mean per-image IoU per group of each attribute column; the gap is best minus worst "
        "group mean IoU in points (x 100), the ratio worst / best.",
        "",
        "| Attribute | Groups | Worst group | Best group | Gap (IoU points) | Ratio |",
        "|---|---|---|---|---|---|",
    ]
    for column, result in breakdown.items():
        worst, best = result["worst"], result["best"]
        groups = result["groups"]
        lines.append(
            f"| {column} | {len(groups)} | "
            + (f"{worst} ({groups[worst]['iou_mean']:.4f})" if worst else "n/a")
            + " | "
            + (f"{best} ({groups[best]['iou_mean']:.4f})" if best else "n/a")
            + f" | {_num(result['gap'], 1)} | {_num(result['ratio'], 3)} |"
        )
    for column, result in breakdown.items():
        lines += ["", f"### {column}", ""]
        lines += [
            "| Group | n | Mean IoU ± std | Boundary F | MAE |",
            "|---|---|---|---|---|",
        ]
        for name, g in result["groups"].items():
            flag = " (small, not compared)" if g["small"] else ""
            lines.append(
                f"| {name}{flag} | {g['n']} | {g['iou_mean']:.4f} ± {g['iou_std']:.4f} | "
                f"{g['boundary_f_mean']:.4f} | {g['mae_mean']:.4f} |"
            )
        lines.append("")
        if result["gap"] is not None:
            lines.append(
                f"Worst group: **{result['worst']}**; best group: **{result['best']}**; "
                f"gap {result['gap']:.1f} IoU points."
            )
        else:
            lines.append(
                f"Fewer than two groups with at least {result['min_group']} images: no comparison."
            )
        if result["excluded"]:
            lines.append(
                f"Groups under {result['min_group']} images (not compared): "
                + ", ".join(result["excluded"])
                + "."
            )
    return lines


def render_card(summary: dict[str, Any]) -> str:
    """The model card (Markdown) of an evaluation summary (the content of ``summary.json``)."""
    model = summary["model"]
    overall = summary["overall"]
    files = summary.get("files") or {}
    lines = [f"# Model card: {model['name']}", ""]
    lines += _model_section(model)
    lines += ["", "## Intended use", "", INTENDED_USE, "", "## Limitations", "", LIMITATIONS, ""]
    lines += _data_section(summary.get("data") or {}, overall["n"])
    lines += [""] + _overall_section(overall, model.get("threshold"))
    lines += [""] + _stability_section(summary.get("temporal"), summary.get("postprocess"))
    lines += [""] + _latency_section(summary.get("latency"))
    lines += [""] + _attribute_section(summary.get("breakdown") or {})
    lines += ["", "## Worst cases", ""]
    sheet = files.get("worst_cases")
    if sheet:
        lines += [
            f"The {summary.get('worst_count', '')} lowest-IoU images (image | ground truth | "
            "prediction | errors: false positives red, false negatives blue):",
            "",
            f"![worst cases]({Path(sheet).name})",
        ]
    else:
        lines.append("No worst-case sheet was written.")
    if files.get("per_image"):
        lines += [
            "",
            f"Per-image scores: [{Path(files['per_image']).name}]"
            f"({Path(files['per_image']).name}).",
        ]
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def write_model_card(summary: dict[str, Any], path: str | Path) -> Path:
    """Write :func:`render_card` of ``summary`` to ``path`` (``model_card.md``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_card(summary))
    return path
