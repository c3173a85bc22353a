"""The extra cost of each auxiliary / distillation loss term (``scripts/bench_losses.py``).

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

The report is :func:`seg.bench.loss_cost_report.render`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

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
    """One measured region.

    Attributes:
        size: ``HxW``.
        term: One of :data:`TERMS`.
        ms: Median milliseconds.
        peak_bytes: Peak extra memory (None when it could not be read).
        pct: ``ms`` in % of the student step of the same size (None for the step itself).
    """

    size: str
    term: str
    ms: float
    peak_bytes: float | None
    pct: float | None = None

    @property
    def target(self) -> float | None:
        """The term's target in % of a student step (:data:`TARGETS`), else None."""
        return TARGETS.get(self.term)

    @property
    def verdict(self) -> str:
        """``pass``/``FAIL`` against the target, ``-`` without one."""
        if self.target is None or self.pct is None:
            return "-"
        return "pass" if self.pct <= self.target else "FAIL"


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); no-op on the CPU."""
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
    """All rows of one size: the student step, the teacher forward(s) and every term, with each
    term's ``pct`` of the student step (see the module docstring).

    Args:
        height: Input height.
        width: Input width.
        batch: Batch size.
        iters: Timed iterations per region.
        warmup: Untimed warm-up iterations.
        device: Where everything runs.
    """
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
