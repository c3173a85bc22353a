"""End-to-end latency of the virtual-background path (resize, model, post-processing, compositing,
each timed) for our students and MediaPipe's landscape model, at 640x480 and 1280x720, 1 and 2
threads, interleaved in one process; decode/encode timed separately. Writes the
"## End-to-end latency" section of docs/video.md (the rest of the file is kept).

A benchmark, not a test: run it on a quiet machine (`make peers` first for the MediaPipe rows).

Usage:
    python scripts/bench_video.py                                  # the docs/video.md table
    python scripts/bench_video.py --repeats 3 --iters 50           # shorter
    python scripts/bench_video.py --model mine=logs/cpu_distill/<run>/student.onnx --untrained
    python scripts/bench_video.py --fast                           # smoke run, nothing written
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seg import cli
from seg.bench import video_latency as vl
from seg.bench.options import parse_model, parse_size
from seg.bench.peers import DEFAULT_DIR
from seg.paths import CHECKOUT


def build_parser() -> argparse.ArgumentParser:
    """The command line (see the module docstring)."""
    parser = cli.parser(__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--model", dest="models", type=cli.arg_type(parse_model), action="append", default=[],
        metavar="NAME=PATH", help="a model file to add (repeatable)")  # fmt: skip
    add("--untrained", nargs="*", default=list(vl.STUDENTS), metavar="CONFIG",
        help="untrained students of these configs (default: student_cpu student)")  # fmt: skip
    add("--sizes", type=cli.arg_type(parse_size), nargs="+", default=list(vl.SIZES),
        metavar="HxW", help="frame sizes (default 480x640 720x1280)")  # fmt: skip
    add("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    add("--presets", nargs="+", default=list(vl.PRESETS), help="post-processing presets")
    add("--background", default="blur", help="background (default blur)")
    add("--repeats", type=int, default=5, help="repeats (mean ± std over them; default 5)")
    add("--iters", type=int, default=100, help="timed frames per row and repeat (default 100)")
    add("--warmup", type=int, default=10, help="warm-up frames per row (default 10)")
    add("--rounds", type=int, default=5, help="interleaved rounds per repeat (default 5)")
    add("--clip-frames", type=int, default=30, help="frames of the generated clip (default 30)")
    add("--peers-dir", type=Path, default=DEFAULT_DIR, help="folder of the MediaPipe models")
    add("--note", help="a line for the report, e.g. what else ran on the machine")
    add("--fast", action="store_true",
        help="smoke run: 1 repeat of 3 frames, 1 thread, default preset; no file")  # fmt: skip
    add("--markdown", type=Path, default=CHECKOUT / "docs" / "video.md",
        help="the file whose End-to-end latency section is rewritten")  # fmt: skip
    add("--json", type=Path, help="also write the rows as JSON here")
    return parser


def main(argv: list[str]) -> int:
    """Run the benchmark and write the section; returns the exit status."""
    args = build_parser().parse_args(argv)
    options = vl.VideoBenchOptions(
        models=args.models,
        untrained=args.untrained,
        sizes=args.sizes,
        threads=[1] if args.fast else args.threads,
        presets=["default"] if args.fast else args.presets,
        background=args.background,
        repeats=1 if args.fast else args.repeats,
        iters=3 if args.fast else args.iters,
        warmup=1 if args.fast else args.warmup,
        rounds=1 if args.fast else args.rounds,
        clip_frames=4 if args.fast else args.clip_frames,
        peers_dir=args.peers_dir,
        note=args.note,
    )
    result = vl.run_video_benchmark(options)
    lines = vl.section_lines(result, options, argv)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"rows": result.rows, "codec": result.codec}, indent=2))
        print(f"wrote {args.json}")
    if not args.fast:
        vl.write_section(args.markdown, lines)
        print(f"wrote the '{vl.SECTION}' section of {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
