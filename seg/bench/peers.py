"""The MediaPipe selfie segmentation models: the latency peers of the students.

``make peers`` (``scripts/fetch_peers.sh``) downloads the ``mediapipe==0.10.21`` wheel (the last
release that ships them) and extracts the two models into ``data/peers/mediapipe/`` (git-ignored).
Both take ``1 x H x W x 3`` float32 RGB in ``[0, 1]`` (NHWC) and return the foreground probability
``1 x H x W x 1`` (sigmoid applied); their weights are stored as fp16 and run in fp32 (XNNPACK).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "data" / "peers" / "mediapipe"
FETCH_SCRIPT = ROOT / "scripts" / "fetch_peers.sh"
MEDIAPIPE_VERSION = "0.10.21"
HINT = (
    "MediaPipe peer models not found: run `make peers` (downloads mediapipe=="
    f"{MEDIAPIPE_VERSION}'s selfie segmentation models into data/peers/mediapipe/ and installs "
    "ai-edge-litert) to benchmark against them."
)


@dataclass(frozen=True)
class Peer:
    """One peer model.

    Attributes:
        name: Row name in the benchmark (``mediapipe_landscape``, ``mediapipe_general``).
        filename: File name in the peers folder.
        height: Input height.
        width: Input width.
    """

    name: str
    filename: str
    height: int
    width: int


PEERS: tuple[Peer, ...] = (
    Peer("mediapipe_landscape", "selfie_segmentation_landscape.tflite", 144, 256),
    Peer("mediapipe_general", "selfie_segmentation.tflite", 256, 256),
)
REFERENCE = PEERS[0].name  # latency ratios are taken against this peer


def litert_available() -> bool:
    """Whether ``ai_edge_litert`` (the TFLite runtime the peers run on) can be imported."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: F401
    except ImportError:
        return False
    return True


def find_peers(directory: str | Path = DEFAULT_DIR) -> dict[str, Path]:
    """The peer model files present in ``directory``, by row name (missing ones left out)."""
    directory = Path(directory)
    found = {}
    for peer in PEERS:
        path = directory / peer.filename
        if path.is_file() and path.stat().st_size > 0:
            found[peer.name] = path
    return found


def missing_reason(directory: str | Path = DEFAULT_DIR) -> str | None:
    """Why the peers cannot run (files or runtime missing), with the fix; None when they can."""
    directory = Path(directory)
    missing = [p.filename for p in PEERS if p.name not in find_peers(directory)]
    problems = []
    if missing:
        problems.append(f"{', '.join(missing)} missing in {directory}")
    if not litert_available():
        problems.append("ai_edge_litert is not importable")
    if not problems:
        return None
    return f"{HINT} ({'; '.join(problems)})"


def fetch_peers(directory: str | Path = DEFAULT_DIR, python: str | None = None) -> dict[str, Path]:
    """Run ``scripts/fetch_peers.sh`` (idempotent) and return the peers found afterwards.

    Args:
        directory: Destination folder.
        python: Interpreter whose pip downloads the wheel and gets ai-edge-litert
            (default: this one).

    Returns:
        :func:`find_peers` of ``directory``.

    Raises:
        RuntimeError: When the script fails (its output is in the message).
    """
    cmd = ["bash", str(FETCH_SCRIPT), python or sys.executable, str(directory)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return find_peers(directory)
