"""Train a seg model: ``python train.py experiment=<name> [key=value ...]``.

Examples:
    python train.py experiment=student
    python train.py experiment=teacher trainer=gpu data.batch_size=32
    python train.py --cfg job                      # print the composed config
"""

import os
from pathlib import Path

import hydra
from omegaconf import DictConfig

from seg.config import register_resolvers

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parent))
register_resolvers()


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns the optimized metric for sweepers."""
    from seg.train import train

    metrics = train(cfg)
    metric = cfg.get("optimized_metric")
    return metrics.get(metric) if metric else None


if __name__ == "__main__":
    main()
