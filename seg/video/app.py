"""The virtual-background app behind ``scripts/video.py``: a video, a folder of frames or a camera
in; the person over a blurred, coloured, picture or video background out, at the input's size and
frame rate, audio kept.

:func:`run_video` checks everything that can be checked before writing (output path, input,
models, background), then streams frames through the :class:`~seg.video.frame_path.FramePath`
into a sink that only appears under the output name once complete (:mod:`seg.video.sinks`), and
returns (and optionally writes) the run's statistics: frames, pipeline fps, per-stage
milliseconds and the label-free temporal metrics of the output masks
(:class:`seg.metrics.TemporalStats`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2

from seg.bench.peers import DEFAULT_DIR, HINT, PEERS, find_peers
from seg.errors import MissingFileError, UserInputError
from seg.inference import load_predictor
from seg.video.composite import open_background
from seg.video.frame_path import PATH_STAGES, FramePath, Segmenter, StageTimes
from seg.video.sinks import check_output, open_sink
from seg.video.sources import open_source

PEER_NAMES = tuple(p.name for p in PEERS)
OWN_SETTINGS = "student.postprocess.json"  # a model's own post-processing, next to it
DEFAULT_PRESET = "default"
Echo = Callable[[str], None]


@dataclass
class VideoOptions:
    """What ``scripts/video.py`` was asked to do (its options, same names)."""

    input: str
    model: str
    output: str
    background: str = "blur"
    light_wrap: bool = False
    view: str = "composite"
    compare: str | None = None
    postprocess: str | None = None
    pp: list[str] = field(default_factory=list)
    threads: int = 1
    max_frames: int | None = None
    resize: str = "stretch"
    fps: float | None = None
    stats: Path | None = None
    overwrite: bool = False
    quiet: bool = False
    peers_dir: Path = DEFAULT_DIR


def model_path(spec: str, peers_dir: Path = DEFAULT_DIR) -> Path:
    """The file or run dir ``spec`` names; ``mediapipe_landscape`` / ``mediapipe_general`` are the
    MediaPipe selfie models that ``make peers`` fetches.

    Raises:
        MissingFileError: For a peer name whose file is missing (run ``make peers``).
    """
    if spec in PEER_NAMES:
        found = find_peers(peers_dir)
        if spec not in found:
            filename = next(p.filename for p in PEERS if p.name == spec)
            raise MissingFileError(f"--model {spec}: {filename} is not in {peers_dir}. {HINT}")
        return found[spec]
    return Path(spec)


def model_label(spec: str, path: Path) -> str:
    """A short name for tiles and reports: the peer name, ``<folder>/<file>`` for a run's
    ``student.*``/``teacher.*``, else the file or folder name."""
    if spec in PEER_NAMES:
        return spec
    if path.is_dir():
        return path.name
    if path.name.split(".")[0] in ("student", "teacher") and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name


def own_settings(predictor: Any) -> Path | None:
    """The model's own post-processing settings file, if one sits next to the model / in its run
    dir."""
    folders = [predictor.path.parent] + ([predictor.run_dir] if predictor.run_dir else [])
    return next((f / OWN_SETTINGS for f in folders if (f / OWN_SETTINGS).is_file()), None)


def load_postprocessor(predictor: Any, spec: str | None, overrides: Sequence[str]) -> tuple:
    """``(post-processor, where its settings come from)``: ``spec`` (a preset or a file) when
    given, else the model's own :data:`OWN_SETTINGS`, else the ``default`` preset; ``overrides``
    (``key=value``, :func:`seg.postprocess.load_postprocess` parses them) on top."""
    from seg.postprocess import load_postprocess

    if spec is not None:
        source = f"{spec} preset" if Path(spec).suffix == "" else str(spec)
    elif (own := own_settings(predictor)) is not None:
        spec, source = str(own), f"{own} (the model's own)"
    else:
        spec, source = DEFAULT_PRESET, f"{DEFAULT_PRESET} preset"
    pp = load_postprocess(spec, list(overrides))
    return pp, source + (f" + {' '.join(overrides)}" if overrides else "")


def describe(pp: Any) -> str:
    """The post-processor's settings in one line."""
    from seg.postprocess import describe_settings

    return describe_settings(pp.settings())


def load_segmenter(spec: str, options: VideoOptions) -> Segmenter:
    """One model (any file :func:`seg.inference.load_predictor` takes, or a peer name) with its
    post-processing and, with ``--stats``, temporal statistics."""
    path = model_path(spec, options.peers_dir)
    predictor = load_predictor(path, threads=options.threads, resize=options.resize, batch_size=1)
    pp, source = load_postprocessor(predictor, options.postprocess, options.pp)
    label = model_label(spec, path)
    stats = None
    if options.stats is not None:
        from seg.metrics import TemporalStats  # imports torchmetrics: only when asked for

        stats = TemporalStats(threshold=0.5)
    return Segmenter(predictor, pp, label, stats, source)


def _check_options(options: VideoOptions) -> None:
    if options.threads < 0:
        raise UserInputError(f"--threads must be >= 0, got {options.threads}.")
    if options.max_frames is not None and options.max_frames < 1:
        raise UserInputError(f"--max-frames must be >= 1, got {options.max_frames}.")


def _inputs(options: VideoOptions) -> list[Path]:
    """The files and folders the run reads (the output may be none of them)."""
    paths = [] if options.input.isdigit() else [Path(options.input)]
    for spec in (options.background, options.model, options.compare):
        if spec and not spec.startswith(("color:", "colour:")) and Path(spec).exists():
            paths.append(Path(spec))
    if options.stats is not None:
        paths.append(Path(options.stats))
    return paths


def run_video(options: VideoOptions, echo: Echo = print) -> dict[str, Any]:
    """Run the app; returns the statistics (also written to ``options.stats`` when set).

    Raises:
        SegError: For a bad input, model, background or output (nothing is written then), and
            for Ctrl-C on a file or folder input (the partial output is deleted; a camera's
            recording ends normally on Ctrl-C instead).
    """
    _check_options(options)
    kind = check_output(options.output, _inputs(options), options.overwrite)
    source = open_source(options.input, options.fps)
    background = sink = None
    previous_threads = cv2.getNumThreads()
    try:
        if options.threads:
            cv2.setNumThreads(options.threads)
        segmenters = [load_segmenter(options.model, options)]
        if options.compare:
            segmenters.append(load_segmenter(options.compare, options))
        background = open_background(options.background)
        frame_path = FramePath(segmenters, background, options.view, options.light_wrap)
        for seg in segmenters:
            echo(f"{seg.label}: post-processing {seg.source}: {describe(seg.postprocess)}")
        times = StageTimes()
        total = options.max_frames or source.frame_count
        if source.frame_count and options.max_frames:
            total = min(source.frame_count, options.max_frames)
        bar = _progress(total, options.quiet)
        start = time.perf_counter()
        interrupted = False
        try:
            frames = 0
            while options.max_frames is None or frames < options.max_frames:
                t0 = time.perf_counter()
                frame = source.read()
                if frame is None:
                    break
                times.add("decode", (time.perf_counter() - t0) * 1e3)
                out, alphas = frame_path(frame, times)
                if sink is None:
                    sink = open_sink(kind, Path(options.output), source.fps, *out.shape[:2])
                t0 = time.perf_counter()
                sink.write(out)
                t1 = time.perf_counter()
                for seg, alpha in zip(segmenters, alphas, strict=True):
                    if seg.stats is not None:
                        seg.stats.update(alpha, frame)
                times.add("encode", (t1 - t0) * 1e3)
                times.add("metrics", (time.perf_counter() - t1) * 1e3)
                times.end_frame()
                frames += 1
                if bar is not None:
                    bar.update(1)
                    if frames % 10 == 0:
                        bar.set_postfix_str(f"pipeline {_fps(times):.0f} fps")
        except KeyboardInterrupt:
            if source.kind != "camera":
                raise UserInputError(
                    f"interrupted (Ctrl-C) after {frames} frames; nothing was written to "
                    f"{options.output}."
                ) from None
            interrupted = True  # a camera records until Ctrl-C: keep what was recorded
        finally:
            if bar is not None:
                bar.close()
        if sink is None:
            raise UserInputError(f"{source.name}: no frame was read; nothing to write.")
        audio = source.path if source.kind == "video" else None
        notes = sink.commit(audio_from=audio)
        wall = time.perf_counter() - start
    finally:
        if sink is not None:
            sink.abort()
        source.close()
        if background is not None:
            background.close()
        cv2.setNumThreads(previous_threads)
    stats = _stats(options, source, segmenters, times, sink, frames, wall)
    for note in notes + (
        ["stopped by Ctrl-C: the recording so far is kept."] if interrupted else []
    ):
        echo(f"note: {note}")
    ms = stats["ms"]
    stages = ", ".join(f"{s} {ms[s]['mean']:.2f}" for s in PATH_STAGES if s in ms)
    h, w = stats["output_size"]
    echo(
        f"wrote {options.output}: {frames} frames, {w}x{h} at {source.fps:g} fps; pipeline "
        f"{stats['fps']:.1f} fps (ms per frame: {stages}; decode and encode excluded)"
    )
    if options.stats is not None:
        Path(options.stats).parent.mkdir(parents=True, exist_ok=True)
        Path(options.stats).write_text(json.dumps(stats, indent=2) + "\n")
        echo(f"wrote {options.stats}")
    return stats


def _fps(times: StageTimes) -> float:
    per_frame = times.path_ms()
    return 1000.0 * len(per_frame) / per_frame.sum() if per_frame.sum() > 0 else 0.0


def _progress(total: int | None, quiet: bool):
    """A tqdm bar on stderr, or None (``--quiet`` or stderr not a terminal)."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="frame", file=sys.stderr, dynamic_ncols=True)


def _stats(options, source, segmenters, times, sink, frames, wall) -> dict[str, Any]:
    from seg.utils import cpu_model

    first = segmenters[0]
    temporal = first.stats.result() if first.stats is not None else {}
    stats: dict[str, Any] = {
        "frames": frames,
        "fps": round(_fps(times), 3),
        "wall_fps": round(frames / wall, 3) if wall > 0 else None,
        "ms": times.summary(),
        "flicker": temporal.get("flicker"),
        "flip_rate": temporal.get("flip_rate"),
        "tc": temporal.get("tc"),
        "model": first.label,
        "model_path": str(first.predictor.path),
        "model_input": [first.predictor.height, first.predictor.width],
        "input": source.name,
        "input_kind": source.kind,
        "input_fps": source.fps,
        "size": [source.height, source.width],
        "output": str(options.output),
        "output_size": list(sink.size),
        "view": options.view,
        "background": options.background,
        "light_wrap": options.light_wrap,
        "resize": options.resize,
        "postprocess": first.postprocess.settings(),
        "postprocess_source": first.source,
        "threads": options.threads,
        "cpu": cpu_model(),
    }
    if len(segmenters) > 1:
        other = segmenters[1]
        extra = other.stats.result() if other.stats is not None else {}
        stats["compare"] = {
            "model": other.label,
            "model_path": str(other.predictor.path),
            "postprocess": other.postprocess.settings(),
            **{k: extra.get(k) for k in ("flicker", "flip_rate", "tc")},
        }
    return stats
