"""seg's Optuna sweeper for Hydra: ``hydra/sweeper=seg_optuna`` (see :mod:`.sweeper`).

Hydra discovers plugins in the ``hydra_plugins`` namespace package; this module also registers
the sweeper's config node ``hydra/sweeper/seg_optuna`` in Hydra's ConfigStore.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore


@dataclass
class SegOptunaSweeperConf:
    """Defaults of ``hydra/sweeper=seg_optuna`` (lightning-hydra-template's keys)."""

    _target_: str = "hydra_plugins.seg_optuna_sweeper.sweeper.SegOptunaSweeper"
    sampler: Any = field(
        default_factory=lambda: {"_target_": "optuna.samplers.TPESampler", "seed": 1234}
    )
    direction: Any = "maximize"
    storage: Any = None
    study_name: str = "sweep"
    n_trials: int = 20
    n_jobs: int = 1
    max_failure_rate: float = 0.0
    params: Any = field(default_factory=dict)


ConfigStore.instance().store(
    group="hydra/sweeper", name="seg_optuna", node=SegOptunaSweeperConf, provider="seg"
)
