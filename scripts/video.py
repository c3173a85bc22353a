"""Virtual background for a video, a folder of frames or a camera: the person over a blurred
frame, a colour, a picture or a looping video, with any model seg can load (or MediaPipe's).

The output keeps the input's size and frame rate (``.mp4`` via OpenCV's mp4v; the audio track is
muxed back in when ffmpeg is available, e.g. from ``pip install imageio-ffmpeg``); an output path
without suffix (or ending in ``/``) gets PNG frames instead. It is written under a temporary name
and only appears once complete. Ctrl-C stops a camera recording (kept) or aborts a file (nothing
written). The per-frame path and its timing: seg/video/ and docs/video.md.

Examples:
    python scripts/video.py call.mp4 --model logs/cpu_distill/<run> --output out.mp4
    python scripts/video.py call.mp4 --model student.onnx --output out.mp4 --background beach.jpg
    python scripts/video.py frames/ --fps 25 --model student.onnx --output out/ --view side-by-side
    python scripts/video.py 0 --model mediapipe_landscape --output cam.mp4 --max-frames 300
    python scripts/video.py call.mp4 --model student.onnx --compare mediapipe_landscape \\
        --output compare.mp4 --postprocess smooth --pp feather=3 --stats stats.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seg import cli
from seg.bench.peers import DEFAULT_DIR
from seg.video.app import VideoOptions, run_video
from seg.video.frame_path import VIEWS


def build_parser() -> argparse.ArgumentParser:
    """The command line (see the module docstring)."""
    parser = cli.parser(__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("input", help="a video file, a folder of frames (sorted image files) or a camera index")
    add(
        "--model",
        required=True,
        help="run dir, student.pt, .ckpt, .onnx, .tflite, or mediapipe_landscape / "
        "mediapipe_general (make peers)",
    )
    add("--output", required=True, help="output video (.mp4, .mov, .avi) or folder of PNG frames")
    add(
        "--background",
        default="blur",
        help="blur (default), color:#RRGGBB, an image file or a video file (looped)",
    )
    add("--light-wrap", action="store_true", help="let background light bleed over the edge")
    add("--view", choices=VIEWS, default="composite", help="side-by-side: input | mask | composite")
    add("--compare", metavar="MODEL2", help="a second model, its output side by side")
    add(
        "--postprocess",
        metavar="PRESET_OR_FILE",
        help="none, default, smooth or a .json/.yaml file (default: the model's own "
        "student.postprocess.json when it has one, else the default preset)",
    )
    add(
        "--pp",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one post-processing setting (repeatable)",
    )
    add("--threads", type=int, default=1, help="model and OpenCV threads (default 1; 0: auto)")
    add("--max-frames", type=int, help="stop after this many frames")
    add("--resize", choices=("stretch", "fit", "cover"), default="stretch",
        help="how frames are fitted to the model's input (default stretch)")  # fmt: skip
    add("--fps", type=float, help="frame rate of a folder of frames (default 30) or a camera")
    add("--stats", type=Path, help="write frames, fps, per-stage ms and temporal metrics here")
    add("--overwrite", action="store_true", help="replace an existing output")
    add("--quiet", action="store_true", help="no progress bar")
    add("--peers-dir", type=Path, default=DEFAULT_DIR, help="folder of the MediaPipe models")
    return parser


def main(argv: list[str]) -> int:
    """Parse the command line and run the app."""
    args = build_parser().parse_args(argv)
    options = VideoOptions(
        input=args.input,
        model=args.model,
        output=args.output,
        background=args.background,
        light_wrap=args.light_wrap,
        view=args.view,
        compare=args.compare,
        postprocess=args.postprocess,
        pp=args.pp,
        threads=args.threads,
        max_frames=args.max_frames,
        resize=args.resize,
        fps=args.fps,
        stats=args.stats,
        overwrite=args.overwrite,
        quiet=args.quiet,
        peers_dir=args.peers_dir,
    )
    run_video(options)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
