"""What a latency benchmark run is asked to do: sizes, models and timing settings, with the defaults
that depend on ``--fast`` filled in and every number checked (``scripts/benchmark.py``'s options).

:func:`parse_size` is shared with the loss benchmark (``scripts/bench_losses.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from seg.bench.peers import DEFAULT_DIR
from seg.errors import UserInputError

PEER_SIZES: tuple[tuple[int, int], ...] = ((144, 256), (256, 256))  # the MediaPipe input sizes
HD_SIZE = (288, 512)  # student_hd's training size, also benchmarked at the peer sizes
DEFAULT_MODELS = ("student_cpu", "student", "student_hd")


def parse_size(text: str) -> tuple[int, int]:
    """``"144x256"`` -> ``(144, 256)`` (height, width).

    Raises:
        UserInputError: When ``text`` is not two positive integers joined by ``x``.
    """
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserInputError(f"size must look like 144x256, got '{text}'") from None
    if h < 1 or w < 1:
        raise UserInputError(f"size must be positive, got '{text}'")
    return h, w


def parse_model(text: str) -> tuple[str, Path]:
    """``"NAME=PATH"`` -> ``(NAME, PATH)``.

    Raises:
        UserInputError: When ``text`` has no ``=`` or an empty name or path.
    """
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise UserInputError(f"--model takes NAME=PATH, got '{text}'")
    return name, Path(path)


@dataclass
class LatencyOptions:
    """The settings of one latency benchmark run (``None``: the default, see :func:`resolve`).

    Attributes:
        models: ``(name, path)`` of every ``--model NAME=PATH``.
        untrained: Model configs of untrained students to add (None: ``DEFAULT_MODELS`` when no
            model is given, none otherwise).
        fast: Smoke run: 5 iterations after 1 warm-up, 1 thread, 1 round, no IoU, 8 calibration
            frames (where not given).
        threads: Thread counts (default 1 2; fast: 1).
        iters: Timed runs per row (default 200; fast: 5).
        warmup: Warm-up runs (default 20; fast: 1).
        rounds: Interleaved rounds the timed runs are split into (default 10; fast: 1).
        iou_frames: Test frames IoU is measured on (default 200; fast: 0 = off).
        calibration_frames: Validation frames for int8 re-quantization (default 64; fast: 8).
        peers_dir: Folder of the MediaPipe ``.tflite`` files.
        peer_res: Sizes our models also run at.
        no_peer_res: Only each model's own size (clears ``peer_res``).
        target_model: The model the latency targets apply to.
    """

    models: list[tuple[str, Path]] = field(default_factory=list)
    untrained: list[str] | None = None
    fast: bool = False
    threads: list[int] | None = None
    iters: int | None = None
    warmup: int | None = None
    rounds: int | None = None
    iou_frames: int | None = None
    calibration_frames: int | None = None
    peers_dir: Path = DEFAULT_DIR
    peer_res: list[tuple[int, int]] = field(default_factory=lambda: list(PEER_SIZES))
    no_peer_res: bool = False
    target_model: str = "student_cpu"


def _pick(value: int | None, fast: bool, when_fast: int, default: int) -> int:
    return value if value is not None else (when_fast if fast else default)


def resolve(options: LatencyOptions) -> LatencyOptions:
    """``options`` with every default filled in (see :class:`LatencyOptions`) and checked.

    Raises:
        UserInputError: For a number out of range; the message names the option.
    """
    fast = options.fast
    out = replace(
        options,
        threads=list(options.threads or ([1] if fast else [1, 2])),
        iters=_pick(options.iters, fast, 5, 200),
        warmup=_pick(options.warmup, fast, 1, 20),
        rounds=_pick(options.rounds, fast, 1, 10),
        iou_frames=_pick(options.iou_frames, fast, 0, 200),
        calibration_frames=_pick(options.calibration_frames, fast, 8, 64),
        peer_res=[] if options.no_peer_res else list(options.peer_res),
        models=list(options.models),
    )
    if out.untrained is None and out.models:
        out.untrained = []
    if out.rounds < 1:
        raise UserInputError(f"--rounds must be >= 1, got {out.rounds}")
    if out.iters < 1 or out.warmup < 0 or out.iou_frames < 0 or out.calibration_frames < 1:
        raise UserInputError(
            "--iters and --calibration-frames must be >= 1, --warmup and --iou-frames >= 0."
        )
    if any(t < 1 for t in out.threads):
        raise UserInputError(f"--threads must be >= 1, got {out.threads}")
    return out
