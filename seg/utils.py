"""Small helpers about the machine that several modules need."""

from __future__ import annotations

import functools
import os
import platform
import sys
import time
from pathlib import Path

import torch


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty off Linux or when it cannot be read)."""
    if not sys.platform.startswith("linux"):
        return frozenset()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            line = next((line for line in f if line.startswith("flags")), "flags:")
    except OSError:
        return frozenset()
    return frozenset(line.split(":", 1)[-1].split())


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), read from /proc/cpuinfo.

    oneDNN then runs bf16 convolutions about twice as fast as float32; without those instructions
    bf16 is emulated and slower, so callers keep float32.
    """
    return not cpu_flags().isdisjoint(("avx512_bf16", "amx_bf16"))


def bf16_supported(device: torch.device | str) -> bool:
    """Whether bfloat16 autocast is fast on ``device`` (a CUDA GPU with bf16, or such a CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_bf16()


def auto_precision() -> str:
    """Lightning ``precision`` for big convnets: ``bf16-mixed`` where bf16 is fast, else ``32-true``.

    Registered as the OmegaConf resolver ``${seg_precision:}``.
    """
    if torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "bf16-mixed" if cpu_has_bf16() else "32-true"


def cpu_model() -> str:
    """The CPU's ``model name`` from ``/proc/cpuinfo`` (platform's processor string otherwise),
    named next to every timing this project reports."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cpu_times() -> tuple[float, float] | None:
    """``(busy, total)`` jiffies of all CPUs from /proc/stat (steal counted as neither), or None."""
    try:
        with open("/proc/stat", encoding="utf-8") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    if len(fields) < 4:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0.0
    guest = sum(fields[8:10])  # already counted in user/nice
    total = sum(fields) - steal - guest
    return total - idle, total


def cpu_busy_cores(seconds: float = 1.0) -> float | None:
    """How many cores other processes keep busy, sampled over ``seconds`` while this process
    sleeps (/proc/stat): 0 on a quiet machine, about 1 while one single-threaded job runs. None off
    Linux. Unlike the 1-minute load average it does not carry the last minute's work (e.g. the
    caller's own) into the sample.
    """
    before = _cpu_times()
    if before is None:
        return None
    time.sleep(seconds)
    after = _cpu_times()
    if after is None or after[1] <= before[1]:
        return None
    share = (after[0] - before[0]) / (after[1] - before[1])
    return round(share * (os.cpu_count() or 1), 2)
