"""The Optuna sweeper plugin (hydra/sweeper=seg_optuna) on a tiny Hydra app: search space from
Hydra's sweep grammar, a persisted study that a rerun continues, two workers on one study."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import optuna
import pytest
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hydra_plugins.seg_optuna_sweeper.sweeper import JOURNAL_NAME, distribution_of, open_storage

APP = textwrap.dedent(
    """
    import hydra

    @hydra.main(version_base="1.3", config_path=None, config_name=None)
    def main(cfg):
        score = -((cfg.x - 2.0) ** 2) - (0.0 if cfg.opt == "a" else 1.0)
        if cfg.get("two"):
            return score, cfg.x
        return None if cfg.get("broken") else score

    main()
    """
)


def dist(text):
    return distribution_of(OverridesParser.create().parse_overrides([text])[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a=choice(x, 2, 0.5)", CategoricalDistribution(["x", 2, 0.5])),
        ("a=range(1, 9, 2)", IntDistribution(1, 7, step=2)),  # Hydra's range excludes 9
        ("a=range(0.1, 0.5, 0.1)", FloatDistribution(0.1, 0.4, step=0.1)),
        ("a=interval(0.0, 1.0)", FloatDistribution(0.0, 1.0)),
        ("a=interval(2, 64)", FloatDistribution(2.0, 64.0)),  # Hydra makes the bounds floats
        ("a=tag(int, interval(2, 64))", IntDistribution(2, 64)),
        ("a=tag(int, log, interval(2, 64))", IntDistribution(2, 64, log=True)),
        ("a=tag(log, interval(1e-4, 1e-2))", FloatDistribution(1e-4, 1e-2, log=True)),
        ("a=3", "3"),
    ],
)
def test_sweep_grammar_maps_to_optuna(text, expected):
    got = dist(text)
    if isinstance(expected, FloatDistribution) and expected.step is not None:
        assert got.low == expected.low and got.step == expected.step
        assert got.high == pytest.approx(expected.high)
    else:
        assert got == expected


def command(tmp_path, *args):
    """``python app.py -m`` over ``x`` and ``opt`` with seg's sweeper, sweep dir in ``tmp_path``."""
    app = tmp_path / "app.py"
    app.write_text(APP)
    cmd = [sys.executable, str(app), "-m", "hydra/sweeper=seg_optuna", "+x=interval(0, 4)"]
    return cmd + ["+opt=choice(a, b)", f"hydra.sweep.dir={tmp_path / 'sweep'}", *args]


def run(tmp_path, *args, check=True):
    out = subprocess.run(
        command(tmp_path, *args), cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    if check:
        assert out.returncode == 0, out.stderr[-2000:]
    return out


def load_study(tmp_path, name="sweep"):
    storage = open_storage(None, str(tmp_path / "sweep"))
    return optuna.load_study(study_name=name, storage=storage)


def study_trials(tmp_path):
    return load_study(tmp_path).get_trials()


def test_sweep_persists_and_a_rerun_continues_without_repeating(tmp_path):
    run(tmp_path, "hydra.sweeper.n_trials=3")
    sweep = tmp_path / "sweep"
    assert (sweep / JOURNAL_NAME).is_file()
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    trials = study_trials(tmp_path)
    assert len(trials) == 3 and {t.state.name for t in trials} == {"COMPLETE"}
    assert results["best_value"] == pytest.approx(max(t.value for t in trials))
    assert results["best_params"] == max(trials, key=lambda t: t.value).params
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1", "2"]

    out = run(tmp_path, "hydra.sweeper.n_trials=5")  # the same study: 2 trials still owed
    assert "3 of 5 trials already finished" in out.stderr + out.stdout
    trials = study_trials(tmp_path)
    assert len(trials) == 5
    params = {tuple(sorted(t.params.items())) for t in trials}
    assert len(params) == 5  # the reseeded sampler repeats no earlier draw
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1", "2", "3", "4"]
    run(tmp_path, "hydra.sweeper.n_trials=5")  # nothing owed: no new trial
    assert len(study_trials(tmp_path)) == 5


def test_two_workers_share_one_study(tmp_path):
    cmd = command(tmp_path, "hydra.sweeper.n_trials=6", "hydra.sweeper.sampler.seed=null")
    workers = [subprocess.Popen(cmd, cwd=tmp_path, stderr=subprocess.PIPE, text=True) for _ in "ab"]
    for w in workers:
        assert w.wait(timeout=180) == 0, w.stderr.read()[-2000:]
    trials = study_trials(tmp_path)
    # each worker stops once 6 trials are finished: at most one more while both were running
    assert 6 <= len(trials) <= 7
    assert len({t.number for t in trials}) == len(trials)
    assert len({tuple(sorted(t.params.items())) for t in trials}) == len(trials)
    dirs = [p.name for p in (tmp_path / "sweep").iterdir() if p.is_dir()]
    assert sorted(dirs, key=int) == [str(t.number) for t in trials]  # one job dir per trial


def test_multi_objective_saves_the_pareto_front(tmp_path):
    run(
        tmp_path,
        "hydra.sweeper.n_trials=4",
        "+two=true",
        "hydra.sweeper.direction=[maximize,minimize]",
    )
    results = yaml.safe_load((tmp_path / "sweep" / "optimization_results.yaml").read_text())
    front = results["solutions"]
    assert front and all(len(s["values"]) == 2 for s in front)
    best = {tuple(t.values) for t in load_study(tmp_path).best_trials}
    assert {tuple(s["values"]) for s in front} == best


def test_a_run_that_returns_nothing_fails_with_the_reason(tmp_path):
    out = run(tmp_path, "hydra.sweeper.n_trials=2", "+broken=true", check=False)
    assert out.returncode != 0
    assert "optimized_metric" in out.stderr
    assert not (tmp_path / "sweep" / "optimization_results.yaml").exists()


def test_bad_direction_is_named(tmp_path):
    out = run(tmp_path, "hydra.sweeper.direction=up", check=False)
    assert out.returncode != 0 and "'up' is not one of" in out.stderr


def test_kd_search_runs_two_trials_of_train_py(tmp_path):
    """The issue's check: ``python train.py -m hparams_search=kd debug=smoke
    hydra.sweeper.n_trials=2`` runs two trials, each with its metrics.json, and the best is
    the trial with the highest val/iou."""
    from helpers import run_train

    sweep = tmp_path / "kd"
    proc = run_train(
        "hparams_search=kd",
        "debug=smoke",
        "hydra.sweeper.n_trials=2",
        f"hydra.sweep.dir={sweep}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        run_dir=tmp_path / "unused",
        timeout=400,
        multirun=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    scores = {}
    for job in ("0", "1"):
        metrics = json.loads((sweep / job / "metrics.json").read_text())
        scores[job] = metrics["val/iou"]
        overrides = yaml.safe_load((sweep / job / ".hydra" / "overrides.yaml").read_text())
        assert any(o.startswith("loss.terms.kd_pixel.weight=") for o in overrides)
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert results["best_value"] == pytest.approx(max(scores.values()))
    assert set(results["best_params"]) == {
        "loss.terms.kd_pixel.weight",
        "loss.terms.kd_pixel.loss.temperature",
        "loss.terms.kd_attention.weight",
    }
