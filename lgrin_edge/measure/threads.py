"""Timing context for benchmarks (torch threads) and the description of the CPU that timings name."""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterator

import torch

from lgrin_edge.native import cpu_flags, read_cpuinfo


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run on ``n`` torch threads, restoring the previous setting afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def one_thread() -> contextlib.AbstractContextManager[None]:
    """Run on one torch thread (single-core latency)."""
    return torch_threads(1)


# The instruction sets that decide which kernels run (the C runtime's families, onnxruntime's and torch's
# int8 paths), per architecture.
TIMING_FLAGS = {
    "x86": ("avx2", "avx512f", "avx512_vnni", "avx_vnni"),
    "arm": ("asimd", "asimddp", "i8mm"),
}


def timing_flags(flags: set[str]) -> dict[str, bool]:
    """Which of the architecture's TIMING_FLAGS ``flags`` holds, in TIMING_FLAGS' order."""
    arch = "arm" if "asimd" in flags else "x86"
    return {f: f in flags for f in TIMING_FLAGS[arch]}


def cpu_model(cpuinfo: str | None = None) -> str:
    """The CPU's model name (/proc/cpuinfo's, else the platform's words for it)."""
    text = read_cpuinfo() if cpuinfo is None else cpuinfo
    name = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("model name")), "")
    return name or platform.processor() or platform.machine() or "unknown"


def cpu_description() -> str:
    """The model name and the timing flags it has, e.g. "Intel(R) Xeon(R) ... (avx2, avx512f)"."""
    text = read_cpuinfo()
    if not text:
        return cpu_model(text)
    flags = timing_flags(cpu_flags(text))
    present = [f for f, ok in flags.items() if ok]
    return f"{cpu_model(text)} ({', '.join(present) or 'none of ' + ', '.join(flags)})"
