import os
import subprocess
import sys
import textwrap

import pytest

from seg.errors import ConfigError
from seg.loggers import resolve_wandb_mode, wandb_credentials_available


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    for var in ("WANDB_API_KEY", "WANDB_MODE", "WANDB_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_auto_is_offline_without_credentials(no_credentials):
    assert not wandb_credentials_available()
    assert resolve_wandb_mode("auto") == "offline"


def test_auto_is_online_after_login_or_with_key(no_credentials, monkeypatch):
    netrc_file = no_credentials / ".netrc"
    netrc_file.write_text("machine api.wandb.ai\n  login user\n  password abc123\n")
    netrc_file.chmod(0o600)
    assert resolve_wandb_mode("auto") == "online"
    netrc_file.unlink()
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert resolve_wandb_mode("auto") == "online"


def test_env_mode_and_explicit_mode_win(no_credentials, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert resolve_wandb_mode("auto") == "disabled"
    assert resolve_wandb_mode("offline") == "offline"
    with pytest.raises(ValueError, match="mode must be one of"):
        resolve_wandb_mode("sometimes")


def test_explicit_online_without_credentials_is_a_clear_error(no_credentials):
    from seg.loggers import wandb_logger

    with pytest.raises(ConfigError, match="wandb login"):
        wandb_logger(mode="online", project="seg", save_dir=str(no_credentials / "run"))


def test_offline_run_without_account_never_prompts(no_credentials):
    """A real W&B run with no account, no network and no stdin: it must log offline and exit."""
    script = textwrap.dedent(
        """
        import sys
        from seg.loggers import wandb_logger
        logger = wandb_logger(project="seg-test", save_dir=sys.argv[1], name="t")
        logger.log_metrics({"val/iou": 0.5}, step=0)
        logger.experiment.finish()
        print("MODE", logger.experiment.settings.mode)
        """
    )
    run_dir = no_credentials / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(HOME=str(no_credentials), NETRC=str(no_credentials / ".netrc"), WANDB_SILENT="true")
    proc = subprocess.run(
        [sys.executable, "-c", script, str(run_dir)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "MODE offline" in proc.stdout
    offline_runs = list((run_dir / "wandb").glob("offline-run-*"))
    assert len(offline_runs) == 1, list(run_dir.rglob("*"))[:20]
