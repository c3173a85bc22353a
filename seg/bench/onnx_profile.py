"""Where an ONNX model's time goes in ONNX Runtime: kernel time per operator type and per node."""

from __future__ import annotations

import collections
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from seg.inference import ort_session


def profile(
    path: str | Path, threads: int = 1, runs: int = 200, warmup: int = 20
) -> dict[str, Any]:
    """Profile ``runs`` inferences on a seeded random ``[0, 1]`` input, after ``warmup`` runs of an
    unprofiled session (same graph optimisations as a normal session).

    Returns:
        ``{"total_us": kernel microseconds per run, "by_type": [(op, us per run, nodes)],
        "by_node": [((node, op, output shape), us per run)]}``, slowest first.

    Raises:
        MissingFileError: When ``path`` does not exist.
    """
    plain = ort_session(path, threads)
    inp = plain.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    for _ in range(warmup):
        plain.run(None, {inp.name: x})
    with tempfile.TemporaryDirectory() as tmp:
        session = ort_session(path, threads, profile_prefix=str(Path(tmp) / "profile"))
        for _ in range(runs):
            session.run(None, {inp.name: x})
        events = json.loads(Path(session.end_profiling()).read_text())
    by_type: collections.Counter = collections.Counter()
    count: collections.Counter = collections.Counter()
    by_node: collections.Counter = collections.Counter()
    for event in events:
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        op = event["args"]["op_name"]
        by_type[op] += event["dur"] / runs
        count[op] += 1
        shape = event["args"].get("output_type_shape", "")
        by_node[(event["name"].removesuffix("_kernel_time"), op, str(shape))] += event["dur"] / runs
    return {
        "total_us": sum(by_type.values()),
        "by_type": [(op, us, count[op] // runs) for op, us in by_type.most_common()],
        "by_node": by_node.most_common(),
    }
