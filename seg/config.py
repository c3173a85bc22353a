"""Configs outside ``train.py``: seg's OmegaConf resolvers, composing ``configs/train.yaml``,
reading a finished run's saved config, and checks of a composed config before anything is built."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from seg.errors import ConfigError, MissingFileError
from seg.paths import config_dir, ensure_project_env

TEACHER_MODES = ("none", "offline", "online")


def register_resolvers() -> None:
    """Register ``${seg_precision:}`` (see :func:`seg.utils.auto_precision`). Idempotent."""
    if not OmegaConf.has_resolver("seg_precision"):

        def _precision() -> str:
            from seg.utils import auto_precision

            return auto_precision()

        OmegaConf.register_new_resolver("seg_precision", _precision)


def compose_train(
    overrides: Sequence[str] = (), config_path: str | Path | None = None
) -> DictConfig:
    """``configs/train.yaml`` composed with ``overrides`` as ``train.py`` would, without a run.

    Inside ``train.py``'s ``@hydra.main`` (Hydra already initialised) it composes with that
    instance; elsewhere (scripts, tools) it initialises Hydra on ``config_path`` (default:
    :func:`seg.paths.config_dir`) for the call. Resolvers are registered and ``$PROJECT_ROOT`` set.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    ensure_project_env()
    register_resolvers()
    if GlobalHydra.instance().is_initialized():
        return compose("train", overrides=list(overrides))
    folder = str(config_path or config_dir())
    with initialize_config_dir(config_dir=folder, version_base="1.3"):
        return compose("train", overrides=list(overrides))


def run_config_path(run_dir: str | Path) -> Path:
    """``<run dir>/.hydra/config.yaml``, the config ``train.py`` saved for a run."""
    return Path(run_dir) / ".hydra" / "config.yaml"


def load_run_config(run_dir: str | Path, overrides: Sequence[str] = ()) -> DictConfig:
    """A finished run's saved config merged with ``key=value`` overrides (``+`` prefixes dropped).

    Raises:
        MissingFileError: When the run dir has no saved config.
    """
    path = run_config_path(run_dir)
    if not path.is_file():
        raise MissingFileError(f"{run_dir}: not a train.py run dir ({path} is missing).")
    ensure_project_env()  # the saved config's ${oc.env:PROJECT_ROOT}
    register_resolvers()
    cfg = upgrade_run_config(OmegaConf.load(path))
    if overrides:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist([o.lstrip("+") for o in overrides]))
    return cfg  # type: ignore[return-value]


def upgrade_run_config(cfg: DictConfig) -> DictConfig:
    """A config saved by an older seg in today's dialect, so its runs still evaluate and export:
    ``data.dataset_kwargs.*`` (the synthetic data's seed, difficulty, cache folder) became
    top-level ``data.*`` keys, and ``callbacks.onnx_export`` became the ``export`` group."""
    with open_dict(cfg):
        data = cfg.get("data")
        if isinstance(data, DictConfig) and "dataset_kwargs" in data:
            moved = data.pop("dataset_kwargs") or {}
            for key, value in moved.items():
                data.setdefault(key, value)
        callbacks = cfg.get("callbacks")
        if isinstance(callbacks, DictConfig) and "onnx_export" in callbacks:
            old = OmegaConf.to_container(callbacks.pop("onnx_export"), resolve=False) or {}
            if "export" not in cfg:
                settings = {k: v for k, v in old.items() if k not in ("_target_", "dirpath")}
                cfg.export = {"enabled": bool(old), **settings}
    return cfg


def is_data_choice(override: str) -> bool:
    """``data=<option>`` (also ``+data=`` / ``++data=``) picks another data config."""
    return override.lstrip("+").split("=", 1)[0] == "data"


def data_config(
    run_dir: str | Path | None, height: int, width: int, overrides: Sequence[str] = ()
) -> DictConfig:
    """The config whose ``data`` section builds the frames a trained model is run on (evaluation,
    mining, export checks), at the model's ``height x width``.

    With a ``data=<option>`` override: ``configs/train.yaml`` composed with the overrides. Else,
    with a known run dir: the run's saved config merged with the ``key=value`` overrides. Else the
    default (synthetic) data composed with the overrides. Either way ``data.height``/``data.width``
    are the model's input size, ``data.num_workers`` is 0, and no split is augmented (the train
    split gets the eval transform: mining it scores the frames training sees, not random
    augmented copies).
    """
    overrides = list(overrides)
    if run_dir is not None and not any(is_data_choice(o) for o in overrides):
        cfg = load_run_config(run_dir, overrides)
        with open_dict(cfg):
            cfg.data.height, cfg.data.width, cfg.data.num_workers = height, width, 0
    else:
        size = [f"data.height={height}", f"data.width={width}", "data.num_workers=0"]
        cfg = compose_train([*overrides, *size])
    with open_dict(cfg):  # scored frames are never augmented, the train split's neither
        augment = cfg.get("augment") or {}
        cfg.augment = {"train": augment.get("eval"), "eval": augment.get("eval")}
    return cfg


def select(cfg: DictConfig, key: str, default: object = None) -> object:
    """``cfg``'s value at dotted ``key``; ``default`` when missing or when it only resolves inside
    a Hydra run (``${hydra:...}`` in a saved config)."""
    try:
        value = OmegaConf.select(cfg, key, throw_on_missing=False)
    except Exception:  # noqa: BLE001 - an interpolation that resolves only inside Hydra
        return default
    return default if value is None else value


def validate_run_config(cfg: DictConfig) -> None:
    """Check the keys every run needs before anything is built, naming the key that is wrong.

    Raises:
        ConfigError: For a non-positive ``data.height``/``data.width``/``data.batch_size`` or an
            unknown ``teacher.mode``.
        MissingFileError: When ``teacher.checkpoint`` or ``ckpt_path`` names a missing file.
    """
    from hydra.utils import to_absolute_path

    for key in ("data.height", "data.width", "data.batch_size"):
        value = OmegaConf.select(cfg, key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{key}={value}: must be a positive integer.")
    mode = OmegaConf.select(cfg, "teacher.mode", default="none")
    if mode not in TEACHER_MODES:
        raise ConfigError(f"teacher.mode={mode}: must be one of {', '.join(TEACHER_MODES)}.")
    for key in ("teacher.checkpoint", "ckpt_path"):
        value = OmegaConf.select(cfg, key)
        if value and not Path(to_absolute_path(str(value))).is_file():
            raise MissingFileError(
                f"{key}={value}: no such file. Point it at an existing weights file, or set "
                f"{key}=null"
                + (" to train and cache a teacher first." if "teacher" in key else ".")
            )
