"""A Hydra sweeper around current Optuna (``hydra/sweeper=seg_optuna``).

The PyPI ``hydra-optuna-sweeper`` (1.3.0) still pins ``optuna<3``; this plugin keeps its interface
(``hydra.sweeper.n_trials``, ``storage``, ``study_name``, ``direction``, ``sampler``, ``params``
in Hydra's sweep grammar: ``choice(a, b)``, ``range(1, 9, 2)``, ``interval(0.1, 1.0)``,
``tag(log, interval(1e-4, 1e-2))``, ``tag(int, interval(16, 64))``) and leaves the search itself
to Optuna's samplers. It adds:

* **persistence by default**: with ``storage: null`` the study is an Optuna journal file in the
  sweep dir (``optuna_journal.log``); any Optuna storage URL (``sqlite:///…``,
  ``postgresql://…``) or a journal file path can be given, so several workers share one study;
* **a killed sweep continues**: ``n_trials`` counts the study's finished trials, so running the
  same command again (same storage and study name) runs only the trials still owed; a session
  that finds trials in the study reseeds the sampler at random, so it does not repeat the seeded
  draws of the session that started it (the seed makes a fresh, uninterrupted sweep
  reproducible; several workers started at once need ``sampler.seed=null`` or seeds of their
  own);
* **job dirs numbered by trial**: ``<sweep dir>/<trial number>``, never reused by a resumed sweep
  or another worker;
* a Pareto front for several directions, saved with the best trial in
  ``<sweep dir>/optimization_results.yaml``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    IntervalSweep,
    Override,
    RangeSweep,
    Transformer,
)
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

log = logging.getLogger(__name__)

JOURNAL_NAME = "optuna_journal.log"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
DIRECTIONS = ("maximize", "minimize")


def distribution_of(override: Override) -> BaseDistribution | str:
    """The Optuna distribution of a sweep override, or the plain value of a fixed one.

    ``choice(...)`` -> categorical; ``range(start, stop, step)`` -> int (float with a float
    bound or step; ``stop`` excluded as in Hydra) or categorical when shuffled;
    ``interval(lo, hi)`` -> float, ``tag(int, interval(lo, hi))`` -> int, either with a
    ``log`` tag on a log scale (``tag(log, interval(1e-4, 1e-2))``).

    Raises:
        ValueError: For a sweep kind Optuna cannot sample, naming the override.
    """
    if not override.is_sweep_override():
        return override.get_value_element_as_str()
    value = override.value()
    key = override.get_key_element()
    if override.is_choice_sweep() or (isinstance(value, RangeSweep) and value.shuffle):
        choices = list(override.sweep_iterator(transformer=Transformer.encode))
        for choice in choices:
            if not isinstance(choice, str | int | float | bool | type(None)):
                raise ValueError(
                    f"{key}: a choice must be a str, int, float, bool or null, got {choice!r}."
                )
        return CategoricalDistribution(choices)
    if isinstance(value, RangeSweep):
        start, stop, step = value.start, value.stop, value.step
        if any(isinstance(v, float) for v in (start, stop, step)):
            n = int(round((stop - start) / step))  # Hydra's range excludes stop
            return FloatDistribution(start, start + (n - 1) * step, step=step)
        last = start + ((stop - start - 1) // step) * step
        return IntDistribution(int(start), int(last), step=int(step))
    if isinstance(value, IntervalSweep):
        log_scale = "log" in value.tags
        if "int" in value.tags:  # Hydra's interval bounds are always floats
            return IntDistribution(int(value.start), int(value.end), log=log_scale)
        return FloatDistribution(float(value.start), float(value.end), log=log_scale)
    raise ValueError(f"{key}: the sweep {override.input_line!r} is not supported by Optuna.")


def search_space(arguments: Sequence[str]) -> tuple[dict[str, BaseDistribution], dict[str, str]]:
    """``(distributions, fixed values)`` of ``key=value`` sweep arguments."""
    space: dict[str, BaseDistribution] = {}
    fixed: dict[str, str] = {}
    for override in OverridesParser.create().parse_overrides(list(arguments)):
        value = distribution_of(override)
        if isinstance(value, BaseDistribution):
            space[override.get_key_element()] = value
        else:
            fixed[override.get_key_element()] = value
    return space, fixed


def open_storage(storage: str | None, sweep_dir: str) -> Any:
    """The Optuna storage: a journal file in ``sweep_dir`` for None, a journal file for a path
    (``*.log`` / ``*.journal``), else the URL as Optuna takes it (``sqlite:///…``, …)."""
    if storage is None or str(storage).endswith((".log", ".journal")):
        path = Path(sweep_dir) / JOURNAL_NAME if storage is None else Path(storage)
        path.parent.mkdir(parents=True, exist_ok=True)
        backend = optuna.storages.journal.JournalFileBackend(str(path))
        return optuna.storages.JournalStorage(backend)
    return str(storage)


def finished(study: optuna.Study) -> int:
    """How many of the study's trials are finished (complete, pruned or failed): what
    ``n_trials`` counts."""
    return len(study.get_trials(deepcopy=False, states=FINISHED))


class SegOptunaSweeper(Sweeper):
    """Runs an Optuna study over Hydra overrides (see the module docstring).

    Args:
        sampler: An Optuna sampler (or its ``_target_`` config), None for Optuna's default.
        direction: ``maximize`` / ``minimize``, or a list of them (multi-objective: the task
            returns one value per direction).
        storage: None (a journal file in the sweep dir), a journal file path or a storage URL.
        study_name: The study's name in the storage.
        n_trials: How many finished trials the study should have in the end.
        n_jobs: Trials launched together (the launcher runs them; 1 for the basic launcher).
        max_failure_rate: Share of failed trials in a batch above which the sweep stops.
        params: ``{key: sweep}`` in Hydra's override grammar.
    """

    def __init__(
        self,
        sampler: Any = None,
        direction: Any = "maximize",
        storage: str | None = None,
        study_name: str = "sweep",
        n_trials: int = 20,
        n_jobs: int = 1,
        max_failure_rate: float = 0.0,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        directions = [direction] if isinstance(direction, str) else list(direction)
        for d in directions:
            if d not in DIRECTIONS:
                raise ValueError(f"hydra.sweeper.direction: {d!r} is not one of {DIRECTIONS}.")
        if n_trials < 1 or n_jobs < 1:
            raise ValueError("hydra.sweeper.n_trials and n_jobs must be >= 1.")
        if not 0.0 <= max_failure_rate <= 1.0:
            raise ValueError("hydra.sweeper.max_failure_rate must be in [0, 1].")
        self.sampler_config = sampler
        self.directions = directions
        self.storage = storage
        self.study_name = study_name
        self.n_trials = n_trials
        self.n_jobs = n_jobs
        self.max_failure_rate = max_failure_rate
        self.params = dict(params or {})

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function
        )
        self.sweep_dir = str(config.hydra.sweep.dir)

    def study(self) -> optuna.Study:
        """The study, created or loaded from the storage."""
        sampler = self.sampler_config  # Hydra instantiates it with the sweeper; a config
        if sampler is not None and not isinstance(sampler, optuna.samplers.BaseSampler):
            sampler = instantiate(sampler)  # when the sweeper is built by hand
        return optuna.create_study(
            study_name=self.study_name,
            storage=open_storage(self.storage, self.sweep_dir),
            sampler=sampler,
            directions=self.directions,
            load_if_exists=True,
        )

    def sweep(self, arguments: list[str]) -> None:
        params = [f"{k}={v}" for k, v in self.params.items()] + list(arguments)
        space, fixed = search_space(params)
        for key in fixed:
            space.pop(key, None)  # a command-line value overrides the search of that key
        study = self.study()
        if study.get_trials(deepcopy=False):
            # A resumed sweep or a second worker: a seeded sampler would draw the same
            # parameters as the session that started the study, so it draws afresh.
            study.sampler.reseed_rng()
        done = finished(study)
        log.info(
            f"Optuna study {self.study_name!r} ({len(space)} parameters, "
            f"{'/'.join(self.directions)}): {done} of {self.n_trials} trials already finished"
        )
        while (todo := self.n_trials - done) > 0:
            trials = [study.ask(space) for _ in range(min(self.n_jobs, todo))]
            overrides = [
                tuple(f"{k}={v}" for k, v in {**t.params, **fixed}.items()) for t in trials
            ]
            returns = self._launch(trials, overrides)
            failures: list[str] = []
            for trial, ret in zip(trials, returns, strict=True):
                try:
                    study.tell(trial, self._values(ret.return_value))
                except Exception as error:  # a failed job or a bad return: the trial fails
                    study.tell(trial, state=TrialState.FAIL)
                    log.warning(f"trial {trial.number} failed: {error}")
                    failures.append(f"trial {trial.number}: {error}")
            if len(failures) / len(returns) > self.max_failure_rate:
                raise RuntimeError(
                    f"{len(failures)} of {len(returns)} trials failed, over "
                    f"hydra.sweeper.max_failure_rate={self.max_failure_rate}; "
                    + "; ".join(failures)
                )
            done = finished(study)
        self._save_results(study)

    def _launch(self, trials: list[optuna.trial.Trial], overrides: list[tuple[str, ...]]) -> list:
        """Launch the jobs, each numbered (``hydra.job.num``, its sweep subdir) by its trial's
        number in the study, so a resumed sweep or a second worker never reuses a job dir."""
        numbers = [t.number for t in trials]
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            return list(self.launcher.launch(overrides, initial_job_idx=numbers[0]))
        return [  # another worker's trials lie in between: one launch per trial
            self.launcher.launch([o], initial_job_idx=n)[0]
            for n, o in zip(numbers, overrides, strict=True)
        ]

    def _values(self, value: Any) -> list[float]:
        values = list(value) if isinstance(value, Sequence) else [value]
        if len(values) != len(self.directions) or any(v is None for v in values):
            raise ValueError(
                f"the task returned {value!r}; expected {len(self.directions)} number(s), one "
                f"per direction (set optimized_metric to a metric the run logs)."
            )
        return [float(v) for v in values]

    def _save_results(self, study: optuna.Study) -> None:
        if len(self.directions) == 1:
            best = study.best_trial
            results = {"name": "optuna", "best_params": best.params, "best_value": best.value}
            log.info(f"Best value {best.value} with {best.params}")
        else:
            front = [{"params": t.params, "values": t.values} for t in study.best_trials]
            results = {"name": "optuna", "solutions": front}
            log.info(f"Pareto front: {len(front)} trials")
        Path(self.sweep_dir).mkdir(parents=True, exist_ok=True)
        OmegaConf.save(
            OmegaConf.create(results), Path(self.sweep_dir) / "optimization_results.yaml"
        )
