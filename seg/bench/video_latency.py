"""End-to-end latency of the virtual-background path (``scripts/bench_video.py`` ->
``docs/video.md``): resize, model, post-processing and compositing of a whole frame, each stage
timed, for our students and the same path around MediaPipe's landscape model.

Every configuration (model x frame size x post-processing preset, blur background) is a
:class:`~seg.video.frame_path.FramePath` over its own copy of a generated clip; for each thread
count (ONNX Runtime / LiteRT threads and ``cv2.setNumThreads``) all of them are loaded, warmed up
and then timed interleaved (:func:`seg.timing.time_interleaved`), so a noisy spell of the machine
hits every row alike. That is repeated ``repeats`` times; a row is the mean +- std over repeats of
each repeat's mean per-frame milliseconds, per stage and in total. Decoding and encoding (OpenCV's
mp4v, with the RGB/BGR conversion the app does) are timed separately on the generated clip.

Our students are untrained students of model configs, exported to ONNX at 144x256 in a temporary
folder (latency does not depend on the weights), or any ``NAME=PATH`` model file.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seg.bench.peers import DEFAULT_DIR, REFERENCE, find_peers, missing_reason
from seg.errors import UserInputError
from seg.utils import cpu_busy_cores

SIZES: tuple[tuple[int, int], ...] = ((480, 640), (720, 1280))
PRESETS = ("default", "smooth", "none")
STUDENTS = ("student_cpu", "student")
MODEL_SIZE = (144, 256)
TARGET_FPS = 100.0
TARGET = {"size": (720, 1280), "threads": 1, "preset": "default"}
SECTION = "## End-to-end latency"
COMMAND = ("python", "scripts/bench_video.py")
STAGE_COLUMNS = ("resize", "model", "postprocess", "composite")
Echo = Callable[[str], None]


def _print(text: str) -> None:
    print(text, flush=True)


@dataclass
class VideoBenchOptions:
    """One run of the benchmark (``scripts/bench_video.py``'s options, same names)."""

    models: list[tuple[str, Path]] = field(default_factory=list)
    untrained: Sequence[str] = STUDENTS
    sizes: Sequence[tuple[int, int]] = SIZES
    threads: Sequence[int] = (1, 2)
    presets: Sequence[str] = PRESETS
    background: str = "blur"
    repeats: int = 5
    iters: int = 100
    warmup: int = 10
    rounds: int = 5
    clip_frames: int = 30
    peers_dir: Path = DEFAULT_DIR
    note: str | None = None

    def check(self) -> None:
        """Raise :class:`UserInputError` for a count that cannot work."""
        for name in ("repeats", "iters", "rounds", "clip_frames"):
            if getattr(self, name) < 1:
                raise UserInputError(f"--{name.replace('_', '-')} must be >= 1.")
        if self.warmup < 0 or any(t < 1 for t in self.threads):
            raise UserInputError("--warmup must be >= 0 and every --threads value >= 1.")
        if not self.models and not self.untrained:
            raise UserInputError("nothing to benchmark: give --model NAME=PATH or --untrained.")


def clip_frames(height: int, width: int, count: int, seed: int = 0) -> list[np.ndarray]:
    """A generated clip: a bright rounded 'person' moving over a textured, gradient background
    (RGB ``uint8``), the same for every model."""
    import cv2

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    base = np.stack([xx * 200 / width, yy * 200 / height, np.full_like(xx, 90.0)], -1)
    texture = rng.integers(0, 40, (height, width, 3))
    scene = np.clip(base + texture, 0, 255).astype(np.uint8)
    frames = []
    for i in range(count):
        frame = scene.copy()
        cx = int(width * (0.35 + 0.3 * np.sin(2 * np.pi * i / max(count, 1))))
        cv2.ellipse(frame, (cx, height // 3), (width // 14, height // 8), 0, 0, 360,
                    (230, 190, 170), -1)  # fmt: skip
        cv2.ellipse(frame, (cx, height), (width // 6, height // 2), 0, 180, 360,
                    (60, 80, 200), -1)  # fmt: skip
        frames.append(frame)
    return frames


def export_untrained(configs: Sequence[str], folder: Path, echo: Echo = _print) -> list[tuple]:
    """``(name, onnx path)`` of untrained students of ``configs`` exported at 144x256."""
    if not configs:
        return []
    from seg.bench.candidates import build_default
    from seg.export.onnx import export_onnx

    out = []
    for config in configs:
        echo(f"exporting an untrained {config} at {MODEL_SIZE[0]}x{MODEL_SIZE[1]} ...")
        path = export_onnx(build_default(config), folder / f"{config}.onnx", *MODEL_SIZE)
        out.append((config, path))
    return out


class Runner:
    """One configuration: processes the next frame of its clip per call, its stages timed."""

    def __init__(self, model: str, size: tuple[int, int], preset: str, frame_path: Any,
                 frames: list[np.ndarray]) -> None:  # fmt: skip
        from seg.video.frame_path import StageTimes

        self.model, self.size, self.preset = model, size, preset
        self.path, self.frames = frame_path, frames
        self.times = StageTimes(STAGE_COLUMNS)
        self.i = 0

    def __call__(self) -> None:
        self.path(self.frames[self.i % len(self.frames)], self.times)
        self.times.end_frame()
        self.i += 1

    def means(self) -> dict[str, float]:
        """Mean ms per stage and ``total`` since the last :meth:`StageTimes.clear`."""
        out = {s: float(np.mean(self.times.ms[s])) for s in STAGE_COLUMNS}
        out["total"] = float(np.mean(self.times.path_ms()))
        return out


def _runners(models, options, threads, clips) -> list[Runner]:
    from seg.inference import load_predictor
    from seg.postprocess import load_postprocess
    from seg.video.composite import open_background
    from seg.video.frame_path import FramePath, Segmenter

    runners = []
    for name, path in models:
        predictor = load_predictor(path, threads=threads, batch_size=1)
        for size in options.sizes:
            for preset in options.presets:
                seg = Segmenter(predictor, load_postprocess(preset), name)
                frame_path = FramePath([seg], open_background(options.background))
                runners.append(Runner(name, size, preset, frame_path, clips[size]))
    return runners


def time_paths(models, options: VideoBenchOptions, echo: Echo = _print) -> list[dict[str, Any]]:
    """Rows of per-stage mean +- std ms for every model x size x preset x thread count."""
    import cv2

    from seg.timing import time_interleaved

    clips = {s: clip_frames(*s, min(options.clip_frames, 30)) for s in options.sizes}
    rows = []
    previous = cv2.getNumThreads()
    try:
        for threads in options.threads:
            cv2.setNumThreads(threads)
            runners = _runners(models, options, threads, clips)
            echo(f"threads={threads}: {len(runners)} configurations, {options.repeats} repeats")
            for runner in runners:
                for _ in range(options.warmup):
                    runner()
            per_repeat: list[list[dict[str, float]]] = [[] for _ in runners]
            for r in range(options.repeats):
                for runner in runners:
                    runner.times.clear()
                time_interleaved(runners, options.iters, 0, options.rounds)
                for i, runner in enumerate(runners):
                    per_repeat[i].append(runner.means())
                echo(f"  repeat {r + 1}/{options.repeats} done")
            for runner, reps in zip(runners, per_repeat, strict=True):
                row = {"model": runner.model, "height": runner.size[0], "width": runner.size[1],
                       "threads": threads, "preset": runner.preset}  # fmt: skip
                for key in (*STAGE_COLUMNS, "total"):
                    values = np.array([rep[key] for rep in reps])
                    row[f"{key}_ms"] = round(float(values.mean()), 4)
                    row[f"{key}_std"] = round(
                        float(values.std(ddof=1)) if len(values) > 1 else 0.0, 4
                    )
                row["fps"] = round(1000.0 / row["total_ms"], 2)
                rows.append(row)
            del runners
    finally:
        cv2.setNumThreads(previous)
    return rows


def time_codec(options: VideoBenchOptions, folder: Path, echo: Echo = _print) -> list[dict]:
    """Per size: ms per frame to encode (RGB->BGR + ``VideoWriter.write``, mp4v) and decode
    (``VideoCapture.read`` + BGR->RGB) the generated clip, mean +- std over repeats (1 thread)."""
    import cv2

    rows = []
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        for h, w in options.sizes:
            frames = clip_frames(h, w, options.clip_frames)
            enc, dec = [], []
            for r in range(options.repeats):
                path = folder / f"clip_{h}x{w}_{r}.mp4"
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (w, h))
                start = time.perf_counter()
                for frame in frames:
                    writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                writer.release()
                enc.append((time.perf_counter() - start) * 1e3 / len(frames))
                capture = cv2.VideoCapture(str(path))
                start, count = time.perf_counter(), 0
                while True:
                    ok, bgr = capture.read()
                    if not ok:
                        break
                    cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                    count += 1
                capture.release()
                dec.append((time.perf_counter() - start) * 1e3 / max(count, 1))
                path.unlink(missing_ok=True)
            row = {"height": h, "width": w, "frames": len(frames)}
            for key, values in (("encode", enc), ("decode", dec)):
                arr = np.array(values)
                row[f"{key}_ms"] = round(float(arr.mean()), 4)
                row[f"{key}_std"] = round(float(arr.std(ddof=1)) if len(arr) > 1 else 0.0, 4)
            echo(
                f"  codec {h}x{w}: encode {row['encode_ms']:.2f} ms, "
                f"decode {row['decode_ms']:.2f} ms"
            )
            rows.append(row)
    finally:
        cv2.setNumThreads(previous)
    return rows


@dataclass
class VideoBenchResult:
    """What a run measured: path rows, codec rows, notes and the load average at the start."""

    rows: list[dict[str, Any]]
    codec: list[dict[str, Any]]
    notes: list[str]
    load: str
    models: list[str]


def run_video_benchmark(options: VideoBenchOptions, echo: Echo = _print) -> VideoBenchResult:
    """Export the students, find the MediaPipe model and time everything (see the module doc)."""
    from seg.bench.latency_report import load_average

    options.check()
    load = load_average()
    busy_before = cpu_busy_cores()
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench_video_") as tmp:
        models = [*export_untrained(options.untrained, Path(tmp), echo), *options.models]
        peers = find_peers(options.peers_dir)
        reason = missing_reason(options.peers_dir)
        if REFERENCE in peers and reason is None:
            models.append((REFERENCE, peers[REFERENCE]))
        else:
            notes.append(f"no MediaPipe rows: {reason}")
        rows = time_paths(models, options, echo)
        codec = time_codec(options, Path(tmp), echo)
    busy = busy_note(busy_before, cpu_busy_cores())
    if busy:
        notes.append(busy)
    return VideoBenchResult(rows, codec, notes, load, [m[0] for m in models])


def busy_note(start: float | None, end: float | None) -> str | None:
    """A warning when other work kept more than a quarter of the cores busy just before or just
    after the timings (``seg.utils.cpu_busy_cores``, sampled while the benchmark sleeps), else
    None."""
    known = [b for b in (start, end) if b is not None]
    cores = os.cpu_count() or 1
    if not known or max(known) <= 0.25 * cores:
        return None
    return (
        f"the machine was busy (other processes kept {max(known):.2f} of {cores} cores busy; "
        f"{start} before the timings, {end} after): other work competed for the cores, so these "
        "numbers are pessimistic; rerun on a quiet machine."
    )


def _pm(row: dict, key: str) -> str:
    return f"{row[f'{key}_ms']:.2f} ± {row[f'{key}_std']:.2f}"


def dominant_stage(row: dict[str, Any]) -> str:
    """The stage with the largest mean of a row."""
    return max(STAGE_COLUMNS, key=lambda s: row[f"{s}_ms"])


def verdict_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The targets: >= 100 fps at 1280x720 on one thread (default preset, blur) and our
    students at least as fast as the same path around MediaPipe's landscape model."""
    h, w = TARGET["size"]
    pick = [r for r in rows if (r["height"], r["width"]) == (h, w)
            and r["threads"] == TARGET["threads"] and r["preset"] == TARGET["preset"]]  # fmt: skip
    ref = next((r for r in pick if r["model"] == REFERENCE), None)
    lines = []
    for r in pick:
        fps_ok = "pass" if r["fps"] >= TARGET_FPS else "FAIL"
        text = (
            f"- {r['model']}: {r['fps']:.0f} fps at {w}x{h}, 1 thread, default preset: "
            f"{fps_ok} (>= {TARGET_FPS:.0f})"
        )
        if ref is not None and r is not ref:
            ratio = r["total_ms"] / ref["total_ms"]
            text += (
                f"; {ratio:.2f}x MediaPipe's path time: {'pass' if ratio <= 1 else 'FAIL'} (<= 1)"
            )
        text += f"; largest stage: {dominant_stage(r)} ({r[dominant_stage(r) + '_ms']:.2f} ms)"
        lines.append(text)
    return lines


def section_lines(
    result: VideoBenchResult, options: VideoBenchOptions, argv: Sequence[str]
) -> list[str]:
    """The ``## End-to-end latency`` section of docs/video.md."""
    from seg.bench.latency_report import versions
    from seg.utils import cpu_model

    vers = versions()
    cmd = shlex.join([*COMMAND, *argv])
    lines = [
        SECTION,
        "",
        "The whole per-frame path of `scripts/video.py` (seg/video/frame_path.py), each stage "
        "timed: **resize** the frame to the model's 144x256 input (`seg.resize`, area "
        "interpolation) and make the float batch; the **model** (ONNX Runtime / LiteRT, batch 1); "
        "**post-processing** (`seg.postprocess`, the preset named; it scales the 144x256 "
        "probabilities to the frame itself); **compositing** over the background (blur: the "
        "model's input reused, scaled to 128 px on the longer side, Gaussian blur, scaled back "
        "up; then the `uint8` blend in 128-row strips). Decoding and encoding are timed "
        "separately below; the app's `fps` leaves them out too.",
        "",
        "What keeps it fast: the probabilities are never scaled to the frame before "
        "post-processing (no `predictor(frame)`, which would add a full-size resize); the blur "
        "reuses the model's input instead of scaling the frame down a second time and blurs at "
        "128 px (blurring at 1/4 of the frame cost 0.5-0.8 ms more at 720p); the blend is five "
        "OpenCV passes on `uint8` through cache-sized strip buffers (whole-frame passes were "
        "about 20 % slower; `cv2.blendLinear` and NumPy float or uint16 blends 2-5x slower).",
        "",
        f"- Command: `{cmd}`",
        f"- Date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- CPU: {cpu_model()} ({os.cpu_count()} logical cores visible); load average at start "
        f"{result.load}",
        f"- onnxruntime {vers['onnxruntime']}, ai-edge-litert {vers['ai-edge-litert']}, "
        f"Python {platform.python_version()}",
        f"- Threads {', '.join(map(str, options.threads))} (model runtime threads and "
        f"`cv2.setNumThreads`); {options.repeats} repeats of {options.iters} frames per row after "
        f"{options.warmup} warm-up frames, interleaved in {options.rounds} rounds per repeat; "
        "mean ± std over the repeats of each repeat's mean ms per frame.",
        f"- Models: {', '.join(result.models)} (students untrained, exported to ONNX at 144x256: "
        "latency does not depend on the weights); the frames are a generated clip.",
    ]
    if options.note:
        lines.append(f"- Note: {options.note}")
    lines += [f"- {n}" for n in result.notes]
    lines += ["", "Targets:", "", *verdict_lines(result.rows), ""]
    lines += [
        "| model | frame | threads | post-processing | resize ms | model ms | post-proc. ms "
        "| composite ms | total ms | fps |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    order = {p: i for i, p in enumerate(options.presets)}
    for r in sorted(result.rows, key=lambda r: (r["height"] * r["width"], r["threads"],
                                                 order.get(r["preset"], 9), r["model"] != REFERENCE,
                                                 r["model"])):  # fmt: skip
        lines.append(
            f"| {r['model']} | {r['width']}x{r['height']} | {r['threads']} | {r['preset']} "
            f"| {_pm(r, 'resize')} | {_pm(r, 'model')} | {_pm(r, 'postprocess')} "
            f"| {_pm(r, 'composite')} | {_pm(r, 'total')} | {r['fps']:.0f} |"
        )
    lines += [
        "",
        "Decode and encode (OpenCV, mp4v, 1 thread, with the RGB/BGR conversion), per frame of "
        f"the generated {options.clip_frames}-frame clip:",
        "",
        "| frame | decode ms | encode ms |",
        "|---|---:|---:|",
    ]
    for c in result.codec:
        lines.append(f"| {c['width']}x{c['height']} | {_pm(c, 'decode')} | {_pm(c, 'encode')} |")
    return lines + [""]


def write_section(path: str | Path, lines: Sequence[str], title: str = "# Video") -> Path:
    """Put ``lines`` (starting with :data:`SECTION`) into the markdown file ``path`` in place of
    its old section (up to the next ``## `` heading), appended when it has none; the rest of the
    file is kept."""
    path = Path(path)
    text = path.read_text() if path.is_file() else f"{title}\n\n"
    old = text.splitlines()
    start = next((i for i, line in enumerate(old) if line.strip() == SECTION), None)
    if start is None:
        new = [*old, *([""] if old and old[-1].strip() else []), *lines]
    else:
        end = next((i for i in range(start + 1, len(old)) if old[i].startswith("## ")), len(old))
        new = [*old[:start], *lines, *old[end:]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(new).rstrip("\n") + "\n")
    return path
