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


def cpu_description() -> str:
    text = read_cpuinfo()
    if not text:
        return platform.processor() or platform.machine()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("model name")), "unknown"
    )
    flags = cpu_flags(text)
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni")
    return f"{model} ({', '.join(f for f in wanted if f in flags) or 'no AVX2'})"
