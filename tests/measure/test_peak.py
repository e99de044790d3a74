import pytest

from lgrin_edge.measure.peak import peak

VNNI = "flags\t\t: fpu sse2 avx2 fma avx512f avx512bw avx512_vnni\n"
ZEN4 = "vendor_id\t: AuthenticAMD\ncpu MHz\t\t: 2596.148\n" + VNNI
ICELAKE = "vendor_id\t: GenuineIntel\ncpu MHz\t\t: 2000.000\n" + VNNI
HASWELL = "vendor_id\t: GenuineIntel\ncpu MHz\t\t: 3000.000\nflags\t\t: sse2 avx2 fma\n"
BASELINE = "vendor_id\t: GenuineIntel\ncpu MHz\t\t: 1000.000\nflags\t\t: sse2\n"
ARM = "Features\t: fp asimd asimddp\n"


@pytest.mark.parametrize(
    ("text", "machine", "isa", "int8", "fp32"),
    [
        (ZEN4, "x86_64", "AVX-512 VNNI (AMD)", 64, 16),
        (ICELAKE, "x86_64", "AVX-512 VNNI", 64, 32),
        (HASWELL, "x86_64", "AVX2 + FMA", 32, 16),
        (BASELINE, "x86_64", "SSE2", 8, 8),
        (ARM, "aarch64", "aarch64 sdot", 32, 8),
        ("Features\t: fp asimd\n", "aarch64", "aarch64 NEON", 16, 8),
    ],
)
def test_peak_per_cycle_from_the_instruction_set(text, machine, isa, int8, fp32) -> None:
    p = peak(text, machine)
    assert (p.isa, p.int8_per_cycle, p.fp32_per_cycle) == (isa, int8, fp32)


def test_peak_rate_is_macs_per_cycle_times_the_reported_clock() -> None:
    p = peak(HASWELL, "x86_64")
    assert p.clock_hz == pytest.approx(3.0e9)
    assert p.rates["int8"] == pytest.approx(32 * p.clock_hz)
    assert "AVX2 + FMA" in p.describe() and "GMAC/s" in p.describe()
