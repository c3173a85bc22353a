"""The temporal/edge evidence table of docs/video.md: the runs of ``scripts/video_evidence.sh``
scored on the synthetic test clips (40 clips x 32 frames) without and with the ``smooth``
post-processing preset, mean ± std over seeds and paired against the plain student of the same
seed. Scores a run once (``<run>/eval-clips-<preset>/``) and reads it back afterwards.

Usage:
    python scripts/video_evidence_table.py                       # logs/video_evidence, seeds 42 43 44
    python scripts/video_evidence_table.py --root logs/video_evidence --seeds 42 --output table.md
    python scripts/video_evidence_table.py --archive docs/evidence/video   # keep the scores
    python scripts/video_evidence_table.py --root docs/evidence/video      # rebuild from them
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seg import cli
from seg.eval.temporal_evidence import archive_runs, evidence_table, motion_table

VARIANTS = ("student", "temporal", "temporal_frames", "edge", "full")


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("logs/video_evidence"))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    parser.add_argument("--presets", nargs="+", default=["none", "smooth"])
    parser.add_argument("--output", type=Path, help="also write the tables here")
    parser.add_argument(
        "--archive",
        type=Path,
        help="also copy each scored run's config, metrics.json and clip summaries here "
        "(about 100 kB per run; --root ARCHIVE rebuilds the tables from them)",
    )
    args = parser.parse_args(argv)
    text = evidence_table(args.root, args.variants, args.seeds, args.presets)
    for preset in args.presets:
        text += f"\n\ndtSSD per clip motion, post-processing `{preset}` (mean over seeds):\n\n"
        text += motion_table(args.root, args.variants, args.seeds, preset)
    print(text)
    if args.archive is not None:
        runs = archive_runs(args.root, args.archive, args.variants, args.seeds, args.presets)
        print(f"\nArchived {len(runs)} runs under {args.archive}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
