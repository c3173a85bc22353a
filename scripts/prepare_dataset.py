"""Convert any dataset config into the folder layout plus a manifest CSV.

Writes ``OUT/images/``, ``OUT/masks/`` (normalised ``{0, 255}`` PNGs; 8-bit mattes with
``data.soft=true``) and ``OUT/manifest.csv`` (id, image, mask, width, height, split, source,
original_id and every attribute column), which ``data=folder data.root=OUT`` reads back with the
same splits and attributes. Every input sample is checked first (``data.on_bad_sample`` applies).

Usage:
    python scripts/prepare_dataset.py data=supervisely data.root=/data/supervisely_person --output /data/sp_folder
    python scripts/prepare_dataset.py data=list data.root=/data/PP-HumanSeg14K --output /data/pphs
    python scripts/prepare_dataset.py data=synthetic data.test.length=200 --splits test --output demo/
    python scripts/prepare_dataset.py data=folder data.root=/data/mine --attributes people.csv --output /data/mine_v2

``--attributes`` joins a CSV with an ``id`` column (the input's sample ids, see the printed
examples) and attribute columns such as ``skin_tone``, ``gender``, ``region``, ``lighting``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seg import cli
from seg.build import build_datamodule
from seg.config import compose_train
from seg.data.prepare import prepare_dataset


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, type=Path, help="new folder to write")
    parser.add_argument(
        "--splits", nargs="+", default=["train", "val", "test"], help="splits to convert"
    )
    parser.add_argument("--attributes", type=Path, help="CSV: id + attribute columns to join")
    parser.add_argument("overrides", nargs="*", help="data config overrides, e.g. data=list")
    args = parser.parse_args(argv)
    misplaced = [s for s in args.splits if "=" in s]
    if misplaced:
        parser.error(
            f"--splits takes split names, got {misplaced}: put key=value overrides before "
            "--splits (or after --output DIR)."
        )
    cfg = compose_train([*args.overrides, "augment=none", "data.num_workers=0"])
    datamodule = build_datamodule(cfg, report_dir=args.output)
    splits = {split: datamodule.prepared_split(split) for split in args.splits}
    for split, dataset in splits.items():
        print(f"{split}: {len(dataset)} samples (ids like {dataset.sample_ids()[:2]})")
    result = prepare_dataset(splits, args.output, args.attributes)
    print(json.dumps(result, indent=2))
    print(
        f"Train on it: python train.py experiment=attn_distill data=folder data.root={args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
