"""Pretrained encoder weights: ``pretrained: true | false | auto``, decided once and quickly.

timm and segmentation-models-pytorch fetch weights from the Hugging Face Hub (or a URL). Offline,
with ``HF_HUB_OFFLINE=1`` or an empty cache, they raise low-level errors (``LocalEntryNotFoundError``,
``URLError``...) that do not say which model wanted what, and without ``HF_HUB_OFFLINE`` they first
retry for most of a minute. This module decides what a configured ``pretrained`` value means:

* ``false``: random initialisation; nothing touches the network.
* ``true``: the weights are required; :func:`create_backbone` turns a failure to fetch them into one
  :class:`~seg.errors.PretrainedWeightsError` naming the encoder, the cause and the fixes.
* ``"auto"`` (the default): the weights when they are in the local cache (read with the hub forced
  offline, so no network call) or, when the hub answers a quick probe, downloaded; otherwise random
  initialisation with one warning that says why and how to get them. ``auto`` never fails a run
  for missing weights.

:func:`resolve_pretrained` makes the decision (memoised per process, so the probe, the download
and the warning happen once) and :func:`build_backbone` builds a network accordingly. Where the
weights live comes from timm's ``pretrained_cfg`` (``hf_hub_id``, ``url`` or ``file``) for timm
encoders (and smp's ``tu-`` ones) and from smp's ``pretrained_settings`` for smp's own encoders.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import torch
from huggingface_hub import constants as hf_constants
from torch import nn

from seg.errors import ConfigError, PretrainedWeightsError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=nn.Module)
Mode = bool | Literal["auto"]

PROBE_TIMEOUT_S = 3.0
"""Seconds the reachability probe of a weights host may take (DNS lookup included)."""

_HF_FILENAMES = ("model.safetensors", "pytorch_model.bin")  # what timm looks for, in order
_TRUE = {"1", "on", "yes", "true"}


@dataclass(frozen=True)
class PretrainedStatus:
    """What became of an encoder's pretrained weights.

    Attributes:
        encoder: The encoder name as configured (``"mobilenetv3_small_100"``, ``"tu-resnet18"``,
            ``"mit_b1"``).
        mode: The configured value: ``True``, ``False`` or ``"auto"``.
        used: Whether the network starts from pretrained weights.
        source: Where they come from, e.g. ``"imagenet weights of
            timm/mobilenetv3_small_100.lamb_in1k (local cache)"``, or ``"random init"``.
        reason: Why they are not used; empty when they are.
    """

    encoder: str
    mode: Mode
    used: bool
    source: str
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (for metrics.json, weights metadata, the model card)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _Weights:
    """Where an encoder's weights live: a hub repo, a URL or a file (or nowhere)."""

    kind: Literal["hub", "url", "file", "state_dict", "none"]
    location: str = ""  # repo id, URL or path
    revision: str | None = None  # hub revision
    files: tuple[tuple[str, ...], ...] = ()  # hub: groups of alternatives, one of each needed
    note: str = ""  # kind "none": why

    @property
    def label(self) -> str:
        if self.kind == "hub":
            return self.location + (f"@{self.revision}" if self.revision else "")
        return self.location


_lock = threading.RLock()
_statuses: dict[tuple[Any, ...], PretrainedStatus] = {}
_warned: set[str] = set()


def pretrained_record(net: nn.Module) -> dict[str, Any] | None:
    """``net.pretrained_status`` as a dict for metadata and reports (None for a network without
    one, e.g. a user's own model)."""
    status = getattr(net, "pretrained_status", None)
    return None if status is None else status.as_dict()


def parse_pretrained_mode(mode: object) -> Mode:
    """Validate a ``pretrained`` config value.

    Args:
        mode: ``True``, ``False`` or ``"auto"``; the strings ``"true"`` and ``"false"`` (any case)
            are accepted too.

    Returns:
        ``True``, ``False`` or ``"auto"``.

    Raises:
        ConfigError: For any other value, naming ``model.pretrained`` and the allowed values.
    """
    if isinstance(mode, bool):
        return mode
    if isinstance(mode, str) and mode.strip().lower() in ("true", "false", "auto"):
        word = mode.strip().lower()
        return "auto" if word == "auto" else word == "true"
    raise ConfigError(
        f"model.pretrained must be true, false or auto; got {mode!r}. "
        "auto: ImageNet weights when cached or downloadable, else random init with a warning; "
        "true: require them; false: never fetch them."
    )


def resolve_pretrained(
    encoder: str,
    mode: bool | str = "auto",
    *,
    pretrained_cfg_overlay: Mapping[str, Any] | None = None,
) -> PretrainedStatus:
    """Decide whether ``encoder`` starts from pretrained weights; memoised per process.

    ``auto`` resolves in this order: (1) with ``HF_HUB_OFFLINE=1`` or the weights already in the
    local cache, the cache only (no network call); (2) otherwise a quick probe of the weights'
    host (:data:`PROBE_TIMEOUT_S`) and, if it answers, a download into the cache; (3) otherwise,
    or if the download fails, random initialisation with one ``logging`` warning per encoder that
    says why and how to get the weights. ``true`` and ``false`` never touch the network here.

    Args:
        encoder: timm model name, or an smp encoder name (``"mit_b1"``, ``"resnet34"``) or
            ``"tu-<timm name>"``.
        mode: The ``pretrained`` config value (see :func:`parse_pretrained_mode`).
        pretrained_cfg_overlay: timm's ``pretrained_cfg_overlay`` of the build (e.g.
            ``{"file": "/path/weights.safetensors"}``), which changes where the weights live.

    Returns:
        The decision. With ``used=True`` and mode ``auto`` the weights are in the local cache.

    Raises:
        ConfigError: When ``mode`` is not a valid value.
        PretrainedWeightsError: When ``mode`` is true and the encoder has no pretrained weights at
            all (fetch failures are raised when building, by :func:`create_backbone`).
    """
    mode = parse_pretrained_mode(mode)
    key = (encoder, mode, _freeze(pretrained_cfg_overlay))
    with _lock:
        if key not in _statuses:
            _statuses[key] = _resolve(encoder, mode, pretrained_cfg_overlay)
        return _statuses[key]


def clear_pretrained_cache() -> None:
    """Forget the memoised decisions and warnings (for tests, or after the network came back)."""
    with _lock:
        _statuses.clear()
        _warned.clear()
        _reachable_cache.clear()


def build_backbone(
    factory: Callable[[bool], M],
    *,
    encoder: str,
    pretrained: bool | str = "auto",
    pretrained_cfg_overlay: Mapping[str, Any] | None = None,
) -> tuple[M, PretrainedStatus]:
    """Build a network with or without pretrained weights as :func:`resolve_pretrained` decides.

    Args:
        factory: Builds the network; its one argument says whether to load pretrained weights
            (e.g. ``lambda p: timm.create_model(name, pretrained=p)``).
        encoder: Encoder name (see :func:`resolve_pretrained`).
        pretrained: The ``pretrained`` config value: true, false or ``"auto"``.
        pretrained_cfg_overlay: As for :func:`resolve_pretrained`.

    Returns:
        The network and what became of its weights. In ``auto`` mode, cached weights are read with
        the Hugging Face Hub forced offline; if reading them fails anyway (a corrupt or partial
        cache), the network is built from random initialisation with a warning.

    Raises:
        ConfigError: For an invalid ``pretrained`` value.
        PretrainedWeightsError: When ``pretrained`` is true and the weights cannot be fetched.
    """
    status = resolve_pretrained(encoder, pretrained, pretrained_cfg_overlay=pretrained_cfg_overlay)
    if status.mode is True:
        return create_backbone(factory, encoder=encoder, pretrained=True), status
    if not status.used:
        return factory(False), status
    try:
        with hub_offline():
            return factory(True), status
    except Exception as err:  # noqa: BLE001 - auto never fails a run for unusable weights
        reason = f"reading them from {status.source} failed ({type(err).__name__}: {err})"
        fallback = _fallback(encoder, status.mode, reason)
        with _lock:
            key = (encoder, status.mode, _freeze(pretrained_cfg_overlay))
            _statuses[key] = fallback
        return factory(False), fallback


def create_backbone(factory: Callable[[bool], M], *, encoder: str, pretrained: bool) -> M:
    """Call ``factory(pretrained)``, explaining weight-fetching failures.

    Args:
        factory: Builds the network; its one argument says whether to load pretrained weights
            (e.g. ``lambda p: timm.create_model(name, pretrained=p)``).
        encoder: Encoder name for the error message.
        pretrained: Whether to load pretrained weights.

    Returns:
        What ``factory`` returns.

    Raises:
        PretrainedWeightsError: When ``pretrained`` is true and the weights cannot be fetched or
            read from disk (no internet, Hugging Face Hub offline, missing cache or file). The
            original error is chained as ``__cause__``.
    """
    if not pretrained:
        return factory(False)
    try:
        return factory(True)
    except OSError as err:  # URLError, requests/httpx errors, HF Hub errors, FileNotFoundError
        raise PretrainedWeightsError(_fetch_failure_message(encoder, err)) from err


@contextlib.contextmanager
def hub_offline() -> Iterator[None]:
    """Force ``huggingface_hub`` offline (cache only, no request) inside the block.

    huggingface_hub reads ``HF_HUB_OFFLINE`` from the environment at import; every request checks
    ``huggingface_hub.constants.is_offline_mode()``, which reads the module constant at call time.
    """
    before = hf_constants.HF_HUB_OFFLINE
    hf_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hf_constants.HF_HUB_OFFLINE = before


# --- the decision ------------------------------------------------------------------------------


def _resolve(encoder: str, mode: Mode, overlay: Mapping[str, Any] | None) -> PretrainedStatus:
    if mode is False:
        return PretrainedStatus(encoder, False, False, "random init", "pretrained: false")
    weights = _locate(encoder, overlay)
    if weights.kind == "none":
        if mode is True:
            raise PretrainedWeightsError(
                f"`pretrained: true`, but encoder '{encoder}' has no pretrained weights: "
                f"{weights.note}. Set `pretrained: false` (or auto) or pick another encoder."
            )
        return _fallback(encoder, mode, weights.note)
    cached = _is_cached(weights)
    if mode is True:
        where = "local cache" if cached else _remote_label(weights)
        return PretrainedStatus(encoder, True, True, _describe(weights, where))
    if cached:
        return PretrainedStatus(encoder, "auto", True, _describe(weights, "local cache"))

    def fallback(reason: str) -> PretrainedStatus:
        return _fallback(encoder, mode, reason, url_weights=weights.kind == "url")

    if weights.kind == "file":
        return fallback(f"the weights file {weights.location} does not exist")
    if _offline():
        return fallback(f"offline (HF_HUB_OFFLINE=1) and {weights.label} is not in the local cache")
    url = hf_constants.ENDPOINT if weights.kind == "hub" else weights.location
    problem = _reachable(url)
    if problem:
        host = urlsplit(url).hostname
        return fallback(
            f"{weights.label} is not in the local cache and {host} cannot be reached ({problem})"
        )
    try:
        _download(weights)
    except Exception as err:  # noqa: BLE001 - auto never fails a run for missing weights
        return fallback(
            f"{weights.label} is not in the local cache and downloading it failed "
            f"({type(err).__name__}: {err})"
        )
    return PretrainedStatus(encoder, "auto", True, _describe(weights, "downloaded"))


def _fallback(
    encoder: str, mode: Mode, reason: str, *, url_weights: bool = False
) -> PretrainedStatus:
    """Random init, with the one warning per encoder and process that says why and what to do."""
    with _lock:
        first = encoder not in _warned
        _warned.add(encoder)
    if first:
        log.warning(
            "Encoder '%s' trains from random initialisation (pretrained: auto): its ImageNet "
            "weights are not available: %s.\n%s",
            encoder,
            reason,
            _auto_fixes(encoder, url_weights),
        )
    return PretrainedStatus(encoder, mode, False, "random init", reason)


def _offline() -> bool:
    env = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE
    return env or bool(hf_constants.HF_HUB_OFFLINE)


def _describe(weights: _Weights, where: str) -> str:
    if weights.kind == "file":
        return f"weights file {weights.location}"
    if weights.kind == "state_dict":
        return "the given state_dict"
    of = "of" if weights.kind == "hub" else "from"
    return f"imagenet weights {of} {weights.label} ({where})"


def _remote_label(weights: _Weights) -> str:
    return "Hugging Face Hub" if weights.kind == "hub" else "to download"


# --- where the weights live --------------------------------------------------------------------


def _locate(encoder: str, overlay: Mapping[str, Any] | None) -> _Weights:
    """Where ``encoder``'s weights live, as timm or smp would fetch them."""
    import segmentation_models_pytorch as smp

    name = encoder
    if smp.encoders.is_equivalent_to_timm_universal(name):  # smp's own rewrite of old names
        name = name.replace("timm-", "tu-")
        if "mobilenetv3" in name:
            name = name.replace("tu-", "tu-tf_")
    if not name.startswith("tu-") and name in smp.encoders.encoders:
        settings = smp.encoders.encoders[name]["pretrained_settings"].get("imagenet")
        if not settings:
            return _Weights("none", note=f"smp has no 'imagenet' weights for '{encoder}'")
        # smp.encoders.get_encoder downloads both files at this revision.
        files = (("config.json",), ("model.safetensors",))
        return _Weights("hub", settings["repo_id"], settings.get("revision"), files)
    return _locate_timm(name.removeprefix("tu-"), overlay)


def _locate_timm(name: str, overlay: Mapping[str, Any] | None) -> _Weights:
    """Mirror of ``timm.models._builder._resolve_pretrained_source`` on the resolved cfg."""
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    if cfg is None:
        return _Weights("none", note=f"timm has no pretrained config for '{name}'")
    cfg = dataclasses.replace(cfg, **dict(overlay or {}))
    if cfg.source == "local-dir":
        return _Weights("file", str(cfg.file))
    if cfg.source != "hf-hub":
        if cfg.state_dict:
            return _Weights("state_dict", "state_dict")
        if cfg.file:
            return _Weights("file", str(cfg.file))
    if cfg.hf_hub_id and not _timm_old_cache_hit(cfg.url):
        repo, _, revision = cfg.hf_hub_id.partition("@")
        if cfg.hf_hub_filename:
            name_ = cfg.hf_hub_filename
            alternatives = (name_[:-4] + ".safetensors", name_) if name_.endswith(".bin") else ()
            files = (alternatives or (name_,),)
        else:
            files = (_HF_FILENAMES,)
        return _Weights("hub", repo, revision or None, files)
    if cfg.url:
        return _Weights("url", str(cfg.url))
    return _Weights("none", note=f"timm lists no weights (hf_hub_id, url or file) for '{name}'")


def _timm_old_cache_hit(url: str | None) -> bool:
    """timm's ``TIMM_USE_OLD_CACHE=1``: a URL already in torch hub's cache wins over the hub."""
    if not url or os.environ.get("TIMM_USE_OLD_CACHE", "").strip().lower() not in _TRUE:
        return False
    return _url_cache_path(url).exists()


def _url_cache_path(url: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlsplit(url).path)


def _is_cached(weights: _Weights) -> bool:
    if weights.kind == "state_dict":
        return True
    if weights.kind == "file":
        return Path(weights.location).exists()
    if weights.kind == "url":
        return _url_cache_path(weights.location).is_file()
    from huggingface_hub import try_to_load_from_cache

    def cached(filename: str) -> bool:
        path = try_to_load_from_cache(weights.location, filename, revision=weights.revision)
        return isinstance(path, str)

    return all(any(cached(f) for f in group) for group in weights.files)


def _download(weights: _Weights) -> None:
    """Fetch ``weights`` into the cache timm / smp read (normal path, retries included)."""
    if weights.kind == "url":
        path = _url_cache_path(weights.location)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(weights.location, str(path), progress=False)
        return
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    for group in weights.files:
        for i, filename in enumerate(group):
            try:
                hf_hub_download(weights.location, filename, revision=weights.revision)
                break
            except EntryNotFoundError:  # like timm: the .safetensors may not exist, the .bin does
                if i == len(group) - 1:
                    raise


# --- reachability ------------------------------------------------------------------------------

_reachable_cache: dict[tuple[str, int], str] = {}


def _reachable(url: str) -> str:
    """``""`` when the host of ``url`` (or the proxy for it) accepts a TCP connection, else why.

    One probe per host and process, bounded by :data:`PROBE_TIMEOUT_S` including the DNS lookup
    (run in a daemon thread: ``getaddrinfo`` has no timeout of its own).
    """
    host, port = _connect_target(url)
    with _lock:
        if (host, port) in _reachable_cache:
            return _reachable_cache[host, port]
    outcome: list[str] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
                outcome.append("")
        except OSError as err:
            outcome.append(f"{type(err).__name__}: {err}")

    thread = threading.Thread(target=probe, name="seg-pretrained-probe", daemon=True)
    thread.start()
    thread.join(PROBE_TIMEOUT_S + 0.5)
    problem = outcome[0] if outcome else f"no answer from {host}:{port} in {PROBE_TIMEOUT_S:g} s"
    with _lock:
        _reachable_cache[host, port] = problem
    return problem


def _connect_target(url: str) -> tuple[str, int]:
    """The host and port a download of ``url`` connects to: the proxy's when one applies."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (80 if parts.scheme == "http" else 443)
    proxy = urllib.request.getproxies().get(parts.scheme or "https")
    if proxy and not urllib.request.proxy_bypass(host):
        proxy_parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        default = 443 if proxy_parts.scheme == "https" else 80
        return proxy_parts.hostname or host, proxy_parts.port or default
    return host, port


def _freeze(value: Any) -> Any:
    """A hashable memo key for ``value`` (mappings and sequences by content, the rest by id)."""
    if value is None or isinstance(value, str | bytes | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return ("id", id(value))


# --- messages ----------------------------------------------------------------------------------


def _cache_fix() -> str:
    offline = os.environ.get("HF_HUB_OFFLINE", "<unset>")
    return (
        "download the weights once on a machine with internet into the Hugging Face cache "
        f"(now {hf_constants.HF_HUB_CACHE}; moved by HF_HOME / HF_HUB_CACHE) with HF_HUB_OFFLINE "
        f"unset or 0 (now {offline}), e.g. by building this model once with `pretrained: true`, "
        "then copy the cache to this machine"
    )


def _file_fix(encoder: str) -> str:
    timm_name = encoder.removeprefix("tu-")
    return (
        "for timm encoders, load a local weights file: pass "
        f"`pretrained_cfg_overlay=dict(file='/path/to/{timm_name}.safetensors')`"
    )


def _is_timm(encoder: str) -> bool:
    import segmentation_models_pytorch as smp

    return encoder.startswith("tu-") or encoder not in smp.encoders.encoders


def _auto_fixes(encoder: str, url_weights: bool) -> str:
    offline = os.environ.get("HF_HUB_OFFLINE", "<unset>")
    cache = (
        f"torch hub's cache (now {Path(torch.hub.get_dir()) / 'checkpoints'}; moved by TORCH_HOME)"
        if url_weights
        else f"the Hugging Face cache (now {hf_constants.HF_HUB_CACHE}; moved by HF_HOME / "
        "HF_HUB_CACHE)"
    )
    fixes = [
        f"run once with internet and HF_HUB_OFFLINE unset or 0 (now {offline}): the weights go "
        f"into {cache} and are read from there afterwards, offline too",
        "download the weights once on a machine with internet, e.g. by building this model once "
        "with `pretrained: true`, then copy the cache to this machine",
    ]
    if _is_timm(encoder):
        fixes.append(_file_fix(encoder))
    lines = "".join(f"  * {fix};\n" for fix in fixes)
    return (
        f"To get them, any one of:\n{lines}"
        "Set `pretrained: true` to make missing weights an error, `pretrained: false` to silence "
        "this warning."
    )


def _fetch_failure_message(encoder: str, err: BaseException) -> str:
    return (
        f"Could not fetch pretrained weights for encoder '{encoder}': "
        f"{type(err).__name__}: {err}\n"
        "Fixes, any one of:\n"
        "  * train from random initialisation: set `pretrained: false` (or `pretrained: auto`, "
        "which falls back to it with a warning);\n"
        f"  * {_cache_fix()};\n"
        f"  * {_file_fix(encoder)}.\n"
        "Offline, set HF_HUB_OFFLINE=1 so that fetching fails at once instead of retrying."
    )
