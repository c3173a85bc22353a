"""Measure the extra cost of each auxiliary / distillation loss term and write docs/loss_benchmark.md.

For every size it times, at batch ``--batch``:

* ``student step``: ``StudentNet(pretrained=False, edge_head=True)`` forward, BCE on the logits,
  backward and an AdamW step: the reference every term is compared to;
* ``teacher forward``: ``SmpTeacher("Unet", "tu-resnet18")`` under ``no_grad`` in float32 and, where
  bf16 is fast (``teacher.autocast``, the default), in bfloat16 autocast: what a frozen teacher adds to
  every offline-distillation step (the same for every KD term), not the cost of a loss;
* each term, forward + backward of the term alone on the student's real outputs / features and the
  teacher's: PixelwiseKD (logits), AttentionKD (sum over strides 4, 8, 16, 32), AffinityKD (grid
  9x16 and 18x32, sum over strides 8, 16, 32), EdgeLoss, TemporalConsistencyLoss (the loss with
  its warp; and with ConsistencyPerturbation plus the extra student forward / backward on the
  perturbed batch).

A term's inputs are the student tensors detached into leaves that require grad, so the timed
region holds exactly the term's forward and its backward down to the student tensors; the
backward through the student network itself runs once per step whatever terms feed into it and is
part of the student step. Each number is the median of ``--iters`` runs after ``--warmup``.

Peak memory: on CUDA the rise of ``torch.cuda.max_memory_allocated`` over the memory allocated
before the region; on CPU the peak of the running sum of allocation / free events that
``torch.profiler`` records with ``profile_memory=True`` during one run of the region (every
allocation by PyTorch's CPU allocator, temporaries included, relative to the start).

Usage:
    python scripts/bench_losses.py [--sizes 144x256 288x512] [--batch 8] [--iters 20]
                                   [--warmup 3] [--device cpu|cuda] [--threads N]
                                   [--out docs/loss_benchmark.md]
    python scripts/bench_losses.py --quick --out /tmp/x.md   # tiny smoke run (used by a test)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from seg.utils import cpu_model
from seg.losses import (
    AffinityKD,
    AttentionKD,
    ConsistencyPerturbation,
    EdgeLoss,
    PixelwiseKD,
    TemporalConsistencyLoss,
    warp_with_validity,
)
from seg.models import SmpTeacher, StudentNet
from seg.utils import bf16_supported

ROOT = Path(__file__).resolve().parents[1]

ATTENTION_STRIDES = (4, 8, 16, 32)
AFFINITY_STRIDES = (8, 16, 32)
STEP = "student step (fwd + BCE + bwd + AdamW)"
TEACHER = "teacher forward (no_grad, fp32)"
TEACHER_BF16 = "teacher forward (no_grad, bf16 autocast)"
TERMS = (
    STEP,
    TEACHER,
    TEACHER_BF16,
    "PixelwiseKD (logits)",
    "AttentionKD (strides 4-32)",
    "AffinityKD grid 9x16 (strides 8-32)",
    "AffinityKD grid 18x32 (strides 8-32)",
    "EdgeLoss",
    "TemporalConsistencyLoss (loss + warp)",
    "TemporalConsistencyLoss + perturbation + extra student fwd/bwd",
)
# targets from the issue, in % of a student step
TARGETS = {
    "PixelwiseKD (logits)": 5.0,
    "AttentionKD (strides 4-32)": 5.0,
    "AffinityKD grid 9x16 (strides 8-32)": 15.0,
    "AffinityKD grid 18x32 (strides 8-32)": 15.0,
}
MIB = 2**20


@dataclass
class Row:
    """One measured region."""

    size: str
    term: str
    ms: float
    peak_bytes: float | None
    pct: float | None = None

    @property
    def target(self) -> float | None:
        return TARGETS.get(self.term)

    @property
    def verdict(self) -> str:
        if self.target is None or self.pct is None:
            return "-"
        return "pass" if self.pct <= self.target else "FAIL"


def parse_size(text: str) -> tuple[int, int]:
    """``"144x256"`` -> ``(144, 256)`` (height, width)."""
    h, w = (int(v) for v in text.lower().split("x"))
    return h, w


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_ms(
    fn: Callable[[], object],
    iters: int,
    warmup: int,
    device: torch.device,
    setup: Callable[[], object] | None = None,
) -> float:
    """Median wall time of ``fn`` in ms; ``setup`` runs untimed before each call."""
    times = []
    for i in range(warmup + iters):
        if setup is not None:
            setup()
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def peak_bytes(
    fn: Callable[[], object], device: torch.device, setup: Callable[[], object] | None = None
) -> float | None:
    """Peak extra memory allocated while ``fn`` runs once (see the module docstring)."""
    if setup is not None:
        setup()
    if device.type == "cuda":
        sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        sync(device)
        return float(torch.cuda.max_memory_allocated(device) - base)
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    try:
        events = [
            e
            for e in prof.profiler.kineto_results.events()
            if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU
        ]
    except AttributeError:  # private profiler API changed: say so rather than guess
        return None
    running = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        running += event.nbytes()
        peak = max(peak, running)
    return float(peak)


def make_batch(
    batch: int, height: int, width: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images and one ellipse "person" mask per image (an edge for EdgeLoss)."""
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(batch, 3, height, width, generator=gen)
    ys = torch.arange(height).float().view(1, height, 1)
    xs = torch.arange(width).float().view(1, 1, width)
    cy = (0.4 + 0.2 * torch.rand(batch, 1, 1, generator=gen)) * height
    cx = (0.4 + 0.2 * torch.rand(batch, 1, 1, generator=gen)) * width
    mask = ((ys - cy) / (0.35 * height)) ** 2 + ((xs - cx) / (0.25 * width)) ** 2 <= 1
    return images.to(device), mask.float().unsqueeze(1).to(device)


def bench_size(
    height: int, width: int, batch: int, iters: int, warmup: int, device: torch.device
) -> list[Row]:
    """All rows of one size."""
    size = f"{height}x{width}"
    torch.manual_seed(0)
    student = StudentNet(pretrained=False, edge_head=True).to(device).train()
    teacher = SmpTeacher(arch="Unet", encoder="tu-resnet18", pretrained=False).to(device).eval()
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-3)
    images, mask = make_batch(batch, height, width, device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        out = student(images)
        F.binary_cross_entropy_with_logits(out.logits, mask).backward()
        optimizer.step()

    def teacher_forward() -> None:
        with torch.no_grad():
            teacher(images)

    def teacher_forward_bf16() -> None:
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16):
            teacher(images)

    rows = [
        Row(size, STEP, median_ms(step, iters, warmup, device), peak_bytes(step, device)),
        Row(
            size,
            TEACHER,
            median_ms(teacher_forward, iters, warmup, device),
            peak_bytes(teacher_forward, device),
        ),
    ]
    if bf16_supported(device):
        rows.append(
            Row(
                size,
                TEACHER_BF16,
                median_ms(teacher_forward_bf16, iters, warmup, device),
                peak_bytes(teacher_forward_bf16, device),
            )
        )

    with torch.no_grad():
        t_out = teacher(images)
    s_out = student(images)  # one forward; each term gets detached leaves of its tensors
    s_logits = s_out.logits.detach()
    s_edge = s_out.edge_logits.detach()
    s_feats = {k: v.detach() for k, v in s_out.features.items()}
    del s_out
    temporal, perturb = TemporalConsistencyLoss(), ConsistencyPerturbation()
    with torch.no_grad():
        perturbed, theta = perturb(images)
        s_perturbed = student(perturbed).logits  # the perturbed twin, for the loss-only row
    leaves: dict[str, object] = {}

    def fresh_leaves() -> None:
        leaves["logits"] = s_logits.clone().requires_grad_()
        leaves["edge"] = s_edge.clone().requires_grad_()
        leaves["perturbed"] = s_perturbed.clone().requires_grad_()
        leaves["feats"] = {k: v.clone().requires_grad_() for k, v in s_feats.items()}

    pixelwise, attention, edge = PixelwiseKD(), AttentionKD(), EdgeLoss()
    affinity = {"9x16": AffinityKD(grid=(9, 16)), "18x32": AffinityKD(grid=(18, 32))}

    def run_pixelwise() -> None:
        pixelwise(leaves["logits"], t_out.logits).backward()

    def run_attention() -> None:
        feats = leaves["feats"]
        sum(attention(feats[s], t_out.features[s]) for s in ATTENTION_STRIDES).backward()

    def run_affinity(grid: str) -> Callable[[], None]:
        def run() -> None:
            feats = leaves["feats"]
            loss = affinity[grid]
            sum(loss(feats[s], t_out.features[s]) for s in AFFINITY_STRIDES).backward()

        return run

    def run_edge() -> None:
        edge(leaves["edge"], mask).backward()

    def run_temporal_loss() -> None:
        target = warp_with_validity(leaves["logits"], theta)
        temporal(leaves["perturbed"], target).backward()

    def run_temporal_full() -> None:
        with torch.no_grad():
            perturbed_now, theta_now = perturb(images)
        pred = student(perturbed_now).logits
        target = warp_with_validity(leaves["logits"], theta_now)
        temporal(pred, target).backward()

    def reset_full() -> None:
        fresh_leaves()
        student.zero_grad(set_to_none=True)

    regions = [
        ("PixelwiseKD (logits)", run_pixelwise, fresh_leaves),
        ("AttentionKD (strides 4-32)", run_attention, fresh_leaves),
        ("AffinityKD grid 9x16 (strides 8-32)", run_affinity("9x16"), fresh_leaves),
        ("AffinityKD grid 18x32 (strides 8-32)", run_affinity("18x32"), fresh_leaves),
        ("EdgeLoss", run_edge, fresh_leaves),
        ("TemporalConsistencyLoss (loss + warp)", run_temporal_loss, fresh_leaves),
        (
            "TemporalConsistencyLoss + perturbation + extra student fwd/bwd",
            run_temporal_full,
            reset_full,
        ),
    ]
    for term, fn, setup in regions:
        ms = median_ms(fn, iters, warmup, device, setup=setup)
        rows.append(Row(size, term, ms, peak_bytes(fn, device, setup=setup)))
    step_ms = rows[0].ms
    for row in rows[1:]:
        row.pct = 100.0 * row.ms / step_ms
    return rows


def affinity_sizes(sizes: list[tuple[int, int]], batch: int) -> list[str]:
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


def render(rows: list[Row], args: argparse.Namespace, command: str, device: torch.device) -> str:
    """The markdown report."""
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
        f"Batch {args.batch}, median of {args.iters} timed iterations after {args.warmup} "
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
        f"with N^2 (analytic sizes at batch {args.batch}; the loss holds a student and a teacher "
        "matrix and their difference per stride):",
        "",
        *affinity_sizes(sizes + full, args.batch),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", nargs="+", default=["144x256", "288x512"], help="HxW sizes to time"
    )
    parser.add_argument("--batch", type=int, default=8, help="batch size")
    parser.add_argument("--iters", type=int, default=20, help="timed iterations per region")
    parser.add_argument("--warmup", type=int, default=3, help="untimed warm-up iterations")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="device")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument(
        "--out", default=str(ROOT / "docs" / "loss_benchmark.md"), help="markdown report"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 64x96, batch 2, 1 iteration, no warm-up"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.batch, args.iters, args.warmup = ["64x96"], 2, 1, 0
    try:
        sizes = [parse_size(s) for s in args.sizes]
    except ValueError:
        parser.error(f"--sizes: expected HxW like 144x256, got {args.sizes}")
    if min(args.batch, args.iters) < 1 or args.warmup < 0:
        parser.error("--batch and --iters must be >= 1 and --warmup >= 0")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    rows: list[Row] = []
    for h, w in sizes:
        size_rows = bench_size(h, w, args.batch, args.iters, args.warmup, device)
        for r in size_rows:
            pct = "" if r.pct is None else f" ({r.pct:.1f} %)"
            print(f"{r.size} {r.term}: {r.ms:.2f} ms{pct}")
        rows += size_rows

    command = "python scripts/bench_losses.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(rows, args, command.strip(), device))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
