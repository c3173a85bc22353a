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

import sys
from pathlib import Path

from seg import cli
from seg.bench.onnx_profile import profile


def main(argv: list[str]) -> int:
    parser = cli.parser(__doc__)
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
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
