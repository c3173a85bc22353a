#!/usr/bin/env bash
# Fetch the MediaPipe selfie segmentation models (the latency peers of scripts/benchmark.py).
#
# Usage: scripts/fetch_peers.sh [PYTHON] [DEST]
#   PYTHON  the interpreter whose pip downloads the wheel and gets ai-edge-litert (default: python3)
#   DEST    destination folder (default: data/peers/mediapipe, git-ignored)
#
# The models ship inside the mediapipe wheel (0.10.21 is the last release that carries them). The
# .tflite files are identical in every platform wheel, so one pinned wheel (CPython 3.11,
# manylinux_2_28 x86_64, ~35 MB) works whatever Python runs this script. Only the two model files
# are extracted; the wheel is deleted afterwards. Idempotent: nothing is downloaded when both files
# are already there. ai-edge-litert (the TFLite runtime) is pip-installed into PYTHON's environment.
set -euo pipefail

PYTHON=${1:-python3}
DEST=${2:-data/peers/mediapipe}
VERSION=0.10.21
MODELS_DIR=mediapipe/modules/selfie_segmentation
FILES=(selfie_segmentation.tflite selfie_segmentation_landscape.tflite)

die() { echo "fetch_peers: error: $*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || die "python interpreter '$PYTHON' not found."
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "'$PYTHON -m pip' does not work; install pip for it."

if "$PYTHON" -c "import ai_edge_litert.interpreter" >/dev/null 2>&1; then
    echo "fetch_peers: ai-edge-litert already installed for $PYTHON"
else
    echo "fetch_peers: installing ai-edge-litert for $PYTHON"
    "$PYTHON" -m pip install --progress-bar off ai-edge-litert \
        || die "pip install ai-edge-litert failed (no network, or no wheel for this platform/Python)."
fi

missing=0
for f in "${FILES[@]}"; do [ -s "$DEST/$f" ] || missing=1; done
if [ "$missing" -eq 0 ]; then
    echo "fetch_peers: $DEST already holds ${FILES[*]}; nothing to download."
    exit 0
fi

mkdir -p "$DEST" || die "cannot create destination folder '$DEST'."
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fetch_peers.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

echo "fetch_peers: downloading mediapipe==$VERSION (one wheel, no dependencies, ~35 MB)"
"$PYTHON" -m pip download --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_28_x86_64 --progress-bar off "mediapipe==$VERSION" -d "$TMP" \
    || die "pip download of mediapipe==$VERSION failed (network or index problem; see pip's output above)."
WHEEL=$(ls "$TMP"/mediapipe-"$VERSION"-*.whl 2>/dev/null | head -n 1)
[ -n "$WHEEL" ] || die "pip download succeeded but no mediapipe-$VERSION wheel is in $TMP."

# A wheel is a zip file; python's zipfile avoids depending on an unzip binary.
"$PYTHON" - "$WHEEL" "$DEST" "$MODELS_DIR" "${FILES[@]}" <<'PY' \
    || die "could not extract the models from $(basename "$WHEEL")."
import shutil
import sys
import zipfile
from pathlib import Path

wheel, dest, models_dir, *files = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf:
    names = set(zf.namelist())
    for name in files:
        member = f"{models_dir}/{name}"
        if member not in names:
            sys.exit(f"fetch_peers: error: {member} is not in {wheel}")
        target = Path(dest) / name
        tmp = target.with_name(target.name + ".tmp")
        with zf.open(member) as src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out)
        tmp.replace(target)
        print(f"fetch_peers: wrote {target} ({target.stat().st_size} bytes)")
PY
echo "fetch_peers: done; run 'make benchmark' to compare against them."
