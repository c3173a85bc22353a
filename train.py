"""Train a seg model: ``python train.py experiment=<name> [key=value ...]``.

Examples:
    python train.py experiment=student
    python train.py experiment=teacher trainer=gpu data.batch_size=32
    python train.py --cfg job                      # print the composed config

A mistake the user can fix (a bad config value, a missing or bad file) ends the run with one
``error: ...`` line and exit status 1; ``HYDRA_FULL_ERROR=1`` shows its traceback too.
"""

import logging
import os
import sys

import hydra
from omegaconf import DictConfig

from seg.config import register_resolvers
from seg.errors import user_error
from seg.paths import ensure_project_env

ensure_project_env()
register_resolvers()
log = logging.getLogger("train")


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns the optimized metric for sweepers."""
    from seg.pipeline import run

    try:
        metrics = run(cfg).metrics
    except Exception as err:
        mistake = user_error(err)
        if mistake is None or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (mistake,), None)
        for handler in logging.getLogger().handlers:  # the run's log file; stderr gets it below
            if isinstance(handler, logging.FileHandler):
                handler.handle(record)
        print(f"error: {mistake}", file=sys.stderr, flush=True)
        sys.exit(1)
    metric = cfg.get("optimized_metric")
    return metrics.get(metric) if metric else None


if __name__ == "__main__":
    main()
