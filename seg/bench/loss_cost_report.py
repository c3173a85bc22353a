"""The loss benchmark's markdown report: the table of :mod:`seg.bench.loss_cost` rows with targets
and verdicts, the method, and the analytic size of the affinity matrices."""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Sequence

import torch

from seg.bench.loss_cost import MIB, Row
from seg.bench.options import parse_size
from seg.utils import cpu_model


def affinity_sizes(sizes: Sequence[tuple[int, int]], batch: int) -> list[str]:
    """Markdown lines: analytic size of the B x N x N affinity matrices (float32)."""
    lines = [
        "| affinity matrix | N (positions) | B x N x N float32 (MiB), one matrix |",
        "|---|---|---|",
    ]
    for gh, gw in ((9, 16), (18, 32)):
        n = gh * gw
        lines.append(
            f"| pooled grid {gh}x{gw} (any input size) | {n} | {batch * n * n * 4 / MIB:.2f} |"
        )
    for h, w in sizes:
        fh, fw = -(-h // 8), -(-w // 8)
        n = fh * fw
        lines.append(
            f"| full resolution, stride 8 of {h}x{w} ({fh}x{fw}) | {n} | "
            f"{batch * n * n * 4 / MIB:.2f} |"
        )
    return lines


def render(
    rows: Sequence[Row], batch: int, iters: int, warmup: int, command: str, device: torch.device
) -> list[str]:
    """The markdown report's lines (:func:`seg.bench.report.write_report` writes them).

    Args:
        rows: The measured rows (:func:`seg.bench.loss_cost.bench_size`), in order.
        batch: Batch size they were measured at.
        iters: Timed iterations per region.
        warmup: Warm-up iterations.
        command: The command line that ran the benchmark.
        device: The device they ran on.
    """
    gpu = f", GPU {torch.cuda.get_device_name(device)}" if device.type == "cuda" else ""
    lines = [
        "# Loss term benchmark",
        "",
        f"Command: `{command}`",
        "",
        f"Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}. "
        f"Machine: {cpu_model()}, {os.cpu_count()} cores{gpu}; device `{device}`, "
        f"torch threads {torch.get_num_threads()}, torch {torch.__version__}, "
        f"Python {platform.python_version()}.",
        "",
        f"Batch {batch}, median of {iters} timed iterations after {warmup} "
        "warm-up. Student `StudentNet(pretrained=False, edge_head=True)`, teacher "
        '`SmpTeacher(arch="Unet", encoder="tu-resnet18", pretrained=False)`, random weights '
        "(cost does not depend on them).",
        "",
        "Method. A term is timed as the forward and backward of that term alone, on the "
        "student's real outputs / features detached into leaf tensors that require grad and the "
        "teacher's outputs from one `no_grad` forward: the backward stops at the student tensors, "
        "because the backward through the student runs once per step whatever terms feed into it "
        "(it is in the student step). AttentionKD is summed over strides 4, 8, 16, 32 and "
        "AffinityKD over strides 8, 16, 32. The temporal loss is shown twice: the loss with its "
        "`warp_with_validity` alone, and with `ConsistencyPerturbation` plus the extra student "
        "forward and backward on the perturbed batch (the real extra cost of the term; the "
        "optimizer step is shared and left out). `%` is of the student step; targets from the "
        "issue: PixelwiseKD and AttentionKD <= 5 %, AffinityKD <= 15 %.",
        "",
        "Peak memory: "
        + (
            "rise of `torch.cuda.max_memory_allocated` over the memory allocated before the "
            "region (one run)."
            if device.type == "cuda"
            else "peak of the running sum of the allocation and free events that `torch.profiler`"
            " records with `profile_memory=True` during one run of the region: every allocation"
            " by PyTorch's CPU allocator, temporaries included, relative to the start of the"
            " region."
        ),
        "",
        "| size (HxW) | term | ms | % of student step | target | pass/fail | peak extra memory (MiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        pct = "-" if r.pct is None else f"{r.pct:.2f}"
        target = "-" if r.target is None else f"<= {r.target:g} %"
        mem = "n/a" if r.peak_bytes is None else f"{r.peak_bytes / MIB:.2f}"
        lines.append(
            f"| {r.size} | {r.term} | {r.ms:.3f} | {pct} | {target} | {r.verdict} | {mem} |"
        )
    sizes = sorted({parse_size(r.size) for r in rows})
    full = [(288, 512)] if (288, 512) not in sizes else []
    lines += [
        "",
        "## Affinity memory is bounded",
        "",
        "AffinityKD pools every feature map to a fixed grid, so its matrices have "
        "N = grid cells whatever the input size; a full-resolution affinity at stride 8 grows "
        f"with N^2 (analytic sizes at batch {batch}; the loss holds a student and a teacher "
        "matrix and their difference per stride):",
        "",
        *affinity_sizes(sizes + full, batch),
        "",
    ]
    return lines
