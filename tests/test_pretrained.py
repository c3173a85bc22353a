"""``pretrained: true | false | auto``: quick offline fallback, cached weights, errors.

No test here touches the network: DNS lookups fail the test, the Hugging Face and torch hub caches
are empty temporary folders, and the reachability probe is replaced where a test needs it.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import huggingface_hub
import huggingface_hub.constants
import pytest
import timm
import torch
from safetensors.torch import save_file

from seg.errors import ConfigError, PretrainedWeightsError
from seg.models import PretrainedStatus, SmpTeacher, StudentNet, resolve_pretrained
from seg.models import pretrained as pretrained_mod
from seg.models.pretrained import clear_pretrained_cache, parse_pretrained_mode

ENCODER = "mobilenetv3_small_050"  # tiny: builds in well under a second
HUB_ID = "timm/mobilenetv3_small_050.lamb_in1k"
LOGGER = "seg.models.pretrained"


@pytest.fixture
def dns_lookups(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every DNS lookup fails (and is recorded): no test reaches the network."""
    lookups: list[object] = []

    def no_dns(host: object, *args: object, **kwargs: object) -> None:
        lookups.append(host)
        raise OSError(f"network disabled in tests (lookup of {host})")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    return lookups


@pytest.fixture(autouse=True)
def isolated_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dns_lookups: list[object]
) -> Iterator[Path]:
    """Empty HF / torch caches, hub online as far as huggingface_hub knows, no memo."""
    cache = tmp_path / "hf" / "hub"
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    # huggingface_hub reads these at import time, so patch the module too.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    clear_pretrained_cache()
    yield cache
    clear_pretrained_cache()
    assert not dns_lookups, f"a test tried to reach the network: {dns_lookups}"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


@pytest.fixture
def no_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(url: str) -> str:
        raise AssertionError(f"unexpected reachability probe of {url}")

    monkeypatch.setattr(pretrained_mod, "_reachable", fail)


def fake_hub_file(cache: Path, repo_id: str, filename: str, revision: str | None = None) -> Path:
    """The path of ``filename`` in a Hugging Face cache layout (refs/main -> snapshot)."""
    commit = revision or "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    path = repo / "snapshots" / commit / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def cache_timm_weights(cache: Path, seed: int = 0) -> dict[str, torch.Tensor]:
    """Put a (random) state dict of ``ENCODER`` into the cache as its hub weights."""
    torch.manual_seed(seed)
    state = {k: v.contiguous() for k, v in timm.create_model(ENCODER).state_dict().items()}
    save_file(state, fake_hub_file(cache, HUB_ID, "model.safetensors"))
    return state


def pretrained_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelname == "WARNING"]


@pytest.mark.usefixtures("offline", "no_probe")
def test_auto_offline_falls_back_quickly_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        net = StudentNet(ENCODER, pretrained="auto", decoder_channels=8)
        again = StudentNet(ENCODER, decoder_channels=8)  # auto is the default
    assert time.monotonic() - start < 5
    status = net.pretrained_status
    assert status == again.pretrained_status == resolve_pretrained(ENCODER, "auto")
    assert (status.mode, status.used, status.source) == ("auto", False, "random init")
    assert "offline (HF_HUB_OFFLINE=1)" in status.reason and HUB_ID in status.reason
    (message,) = pretrained_warnings(caplog)
    assert f"Encoder '{ENCODER}' trains from random initialisation" in message
    assert "HF_HUB_CACHE" in message and "pretrained_cfg_overlay" in message
    assert status.as_dict() == {
        "encoder": ENCODER,
        "mode": "auto",
        "used": False,
        "source": "random init",
        "reason": status.reason,
    }


def test_auto_unreachable_hub_falls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, dns_lookups: list[object]
) -> None:
    """Not offline, not cached: one probe whose DNS lookup fails at once; nothing is retried."""
    calls: list[str] = []
    real = pretrained_mod._reachable

    def counted(url: str) -> str:
        calls.append(url)
        return real(url)

    monkeypatch.setattr(pretrained_mod, "_reachable", counted)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        student = resolve_pretrained(ENCODER, "auto")
        teacher = resolve_pretrained("tu-resnet18", "auto")
        assert resolve_pretrained(ENCODER, "auto") is student  # memoised: no second probe
    assert time.monotonic() - start < 5
    assert not student.used and "huggingface.co cannot be reached" in student.reason
    assert "network disabled in tests" in student.reason and not teacher.used
    assert len(calls) == 2 and dns_lookups == ["huggingface.co"]  # one probe per host
    assert len(pretrained_warnings(caplog)) == 2
    dns_lookups.clear()  # expected: the probe's own lookup


def test_auto_uses_cached_weights_without_network(isolated_hub: Path, no_probe: None) -> None:
    state = cache_timm_weights(isolated_hub)
    status = resolve_pretrained(ENCODER, "auto")
    assert status.used and status.reason == ""
    assert status.source == f"imagenet weights of {HUB_ID} (local cache)"
    net = StudentNet(ENCODER, decoder_channels=8)
    assert net.pretrained_status == status and net.encoder.pretrained_status == status
    torch.testing.assert_close(net.encoder.model.conv_stem.weight, state["conv_stem.weight"])
    assert huggingface_hub.constants.HF_HUB_OFFLINE is False  # the forced offline is undone


def test_auto_corrupt_cache_falls_back(
    isolated_hub: Path, no_probe: None, caplog: pytest.LogCaptureFixture
) -> None:
    fake_hub_file(isolated_hub, HUB_ID, "model.safetensors").write_bytes(b"not safetensors")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        net = StudentNet(ENCODER, decoder_channels=8)
    assert not net.pretrained_status.used and "failed" in net.pretrained_status.reason
    assert len(pretrained_warnings(caplog)) == 1
    assert resolve_pretrained(ENCODER, "auto") == net.pretrained_status


def test_auto_downloads_when_the_hub_answers(
    isolated_hub: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def fake_download(repo_id: str, filename: str, revision: str | None = None) -> str:
        calls.append(filename)
        if filename != "model.safetensors":
            raise AssertionError(filename)
        state = {k: v.contiguous() for k, v in timm.create_model(ENCODER).state_dict().items()}
        path = fake_hub_file(isolated_hub, repo_id, filename)
        save_file(state, path)
        return str(path)

    monkeypatch.setattr(pretrained_mod, "_reachable", lambda url: "")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    status = resolve_pretrained(ENCODER, "auto")
    assert status.used and status.source.endswith("(downloaded)") and calls == ["model.safetensors"]
    assert resolve_pretrained(ENCODER, "auto") is status and len(calls) == 1  # memoised


def test_auto_download_failure_falls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise ConnectionError("connection reset")

    monkeypatch.setattr(pretrained_mod, "_reachable", lambda url: "")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", broken)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        status = resolve_pretrained(ENCODER, "auto")
    assert not status.used
    assert "downloading it failed (ConnectionError: connection reset)" in status.reason
    (message,) = pretrained_warnings(caplog)
    assert "connection reset" in message


@pytest.mark.usefixtures("no_probe")
def test_smp_encoder_cache_lookup(isolated_hub: Path) -> None:
    """smp's own encoders (mit_b1) need config.json and model.safetensors at smp's revision."""
    import segmentation_models_pytorch as smp

    settings = smp.encoders.encoders["mit_b1"]["pretrained_settings"]["imagenet"]
    repo, revision = settings["repo_id"], settings["revision"]
    fake_hub_file(isolated_hub, repo, "model.safetensors", revision).write_bytes(b"x")
    huggingface_hub.constants.HF_HUB_OFFLINE = True  # undone by the fixture's monkeypatch
    assert not resolve_pretrained("mit_b1", "auto").used  # config.json missing
    clear_pretrained_cache()
    fake_hub_file(isolated_hub, repo, "config.json", revision).write_text("{}")
    status = resolve_pretrained("mit_b1", "auto")
    assert status.used and repo in status.source and "(local cache)" in status.source


@pytest.mark.usefixtures("offline")
def test_true_offline_raises_quickly() -> None:
    start = time.monotonic()
    with pytest.raises(PretrainedWeightsError, match=f"encoder '{ENCODER}'") as err:
        StudentNet(ENCODER, pretrained=True)
    assert time.monotonic() - start < 5
    assert isinstance(err.value, RuntimeError) and "pretrained: false" in str(err.value)
    status = resolve_pretrained(ENCODER, True)
    assert (status.mode, status.used) == (True, True)  # true: required, failures raise


@pytest.mark.usefixtures("no_probe")
def test_false_never_probes() -> None:
    net = StudentNet(ENCODER, pretrained=False, decoder_channels=8)
    assert net.pretrained_status == PretrainedStatus(
        ENCODER, False, False, "random init", "pretrained: false"
    )
    teacher = SmpTeacher("Unet", "tu-resnet18", pretrained="false")
    assert teacher.pretrained_status.mode is False and not teacher.pretrained_status.used


@pytest.mark.parametrize("bad", ["yes", "", 1, None, "autox"])
def test_invalid_mode_raises_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"model\.pretrained must be true, false or auto"):
        resolve_pretrained(ENCODER, bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"model\.pretrained"):
        StudentNet(ENCODER, pretrained=bad)  # type: ignore[arg-type]


def test_parse_mode_accepts_strings() -> None:
    assert parse_pretrained_mode("TRUE") is True and parse_pretrained_mode("false") is False
    assert parse_pretrained_mode(" Auto ") == "auto" and parse_pretrained_mode(True) is True


@pytest.mark.usefixtures("no_probe")
def test_weights_file_rebuild_never_fetches() -> None:
    from seg.models.weights import build_model

    config = {"_target_": "seg.models.StudentNet", "encoder": ENCODER, "pretrained": "auto"}
    status = build_model(config).pretrained_status
    assert status.mode is False and not status.used


@pytest.mark.usefixtures("offline", "no_probe")
def test_auto_missing_local_file_falls_back(tmp_path: Path) -> None:
    missing = tmp_path / "weights.safetensors"
    status = StudentNet(
        ENCODER, encoder_kwargs={"pretrained_cfg_overlay": {"file": str(missing)}}
    ).pretrained_status
    assert not status.used and str(missing) in status.reason
    assert resolve_pretrained(ENCODER, "auto").reason != status.reason  # keyed by the overlay
