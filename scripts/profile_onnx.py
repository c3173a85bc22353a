"""Where an ONNX model's time goes in ONNX Runtime: per operator type and the slowest nodes.

Runs the graph on a random ``[0, 1]`` input with ONNX Runtime's profiler (after the same graph
optimisations a normal session applies: fusions, the x86 blocked NCHWc layout) and prints the
kernel time per operator type and the top nodes with their output shapes, so you can see whether
convolutions, resizes, layout reorders or element-wise ops dominate.

Usage:
    python scripts/profile_onnx.py logs/cpu_distill/<run>/student.onnx [--threads 1] [--runs 200]
    python scripts/profile_onnx.py student.int8.onnx --top 15
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort


def profile(path: Path, threads: int = 1, runs: int = 200, warmup: int = 20) -> dict:
    """Profile ``runs`` inferences; returns per-op-type and per-node mean microseconds per run."""
    if not path.is_file():
        raise SystemExit(f"profile_onnx: {path} does not exist.")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    with tempfile.TemporaryDirectory() as tmp:
        plain = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inp = plain.get_inputs()[0]
        shape = [d if isinstance(d, int) else 1 for d in inp.shape]
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        for _ in range(warmup):
            plain.run(None, {inp.name: x})
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "profile")
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--top", type=int, default=12, help="slowest nodes to list")
    args = parser.parse_args(argv)
    result = profile(args.model, args.threads, args.runs)
    total = result["total_us"]
    print(f"{args.model}: {total:.0f} us of kernel time per run ({args.threads} thread(s))")
    print(f"{'operator':<28}{'us/run':>10}{'share':>8}{'nodes':>7}")
    for op, us, n in result["by_type"]:
        print(f"{op:<28}{us:>10.1f}{us / total:>8.1%}{n:>7}")
    print(f"\nslowest {args.top} nodes (output shapes as run, NCHWc blocks padded):")
    for (name, op, shape), us in result["by_node"][: args.top]:
        print(f"{us:>8.1f} us  {op:<16} {shape[:60]:<60} {name[:50]}")


if __name__ == "__main__":
    main()
