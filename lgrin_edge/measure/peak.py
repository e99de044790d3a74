"""One core's nominal int8 and fp32 peak (multiply-accumulates per second) from its instruction set and
clock: the second compute floor of the benchmark report, beside the GEMM rates measured in the same run.

MACs per cycle per core, from the widest vector instructions the CPU reports and the vector pipes the
vendors document for those instructions (an assumption the report states):

- AVX-512 VNNI: int8 64 (one 512-bit ``vpdpbusd`` per cycle, or two 256-bit halves on AMD Zen 4); fp32 32 on
  Intel (two 512-bit FMA pipes), 16 on AMD (two 256-bit FMA pipes).
- AVX2 + FMA: int8 32 (``vpmaddubsw`` + ``vpmaddwd`` + ``vpaddd`` on two 256-bit pipes: 64 products per
  three instructions, about one MAC per lane and cycle); fp32 16 (two 256-bit FMA pipes).
- SSE2 (any x86-64): int8 8 (``pmaddwd`` on 128-bit, two pipes); fp32 8 (128-bit multiply and add, two pipes).
- aarch64 with the dot product: int8 32 (two 128-bit ``sdot`` pipes); fp32 8 (two 128-bit FMA pipes);
  without it: int8 16 (``smull`` + ``sadalp``), fp32 8.

The clock is the CPU's highest reported frequency (``CPU max MHz`` in lscpu's words, else /proc/cpuinfo's
current ``cpu MHz``); a virtual machine often reports its nominal clock only.
"""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass
from pathlib import Path

from lgrin_edge.native import cpu_flags, read_cpuinfo


@dataclass(frozen=True)
class Peak:
    isa: str
    clock_hz: float
    int8_per_cycle: int
    fp32_per_cycle: int

    @property
    def rates(self) -> dict[str, float]:
        """MAC/s of one core per precision."""
        return {"int8": self.int8_per_cycle * self.clock_hz, "fp32": self.fp32_per_cycle * self.clock_hz}

    def describe(self) -> str:
        return (
            f"{self.isa} at {self.clock_hz / 1e9:.2f} GHz: int8 {self.int8_per_cycle} and fp32 "
            f"{self.fp32_per_cycle} MAC/cycle, so {self.rates['int8'] / 1e9:.0f} and "
            f"{self.rates['fp32'] / 1e9:.0f} "
            "GMAC/s (nominal, lgrin_edge/measure/peak.py)"
        )


def _clock_hz(cpuinfo: str, sysfs: bool) -> float:
    """The highest clock the kernel reports (cpufreq's maximum, else the largest 'cpu MHz' line)."""
    top = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if sysfs and top.is_file():
        return float(top.read_text()) * 1e3
    mhz = [float(m) for m in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", cpuinfo, re.M)]
    return max(mhz) * 1e6 if mhz else 0.0


def peak(cpuinfo: str | None = None, machine: str | None = None) -> Peak:
    """This machine's nominal peak (``cpuinfo``/``machine`` given: that machine's, for tests)."""
    text = read_cpuinfo() if cpuinfo is None else cpuinfo
    arch = (machine or platform.machine()).lower()
    flags = cpu_flags(text)
    amd = "AuthenticAMD" in text
    clock = _clock_hz(text, sysfs=cpuinfo is None)
    if arch in ("aarch64", "arm64"):
        return (
            Peak("aarch64 sdot", clock, 32, 8) if "asimddp" in flags else Peak("aarch64 NEON", clock, 16, 8)
        )
    if {"avx512f", "avx512bw", "avx512_vnni"} <= flags:
        return Peak("AVX-512 VNNI" + (" (AMD)" if amd else ""), clock, 64, 16 if amd else 32)
    if {"avx2", "fma"} <= flags:
        return Peak("AVX2 + FMA", clock, 32, 16)
    return Peak("SSE2", clock, 8, 8)
