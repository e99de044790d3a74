"""What a benchmark run records beside its timings, and the lines of the report that name it.

benchmarks/conftest.py stores :func:`run_record` in the pytest-benchmark JSON as
``machine_info["lgrin_edge"]``: how the timed models were trained (seed, ``--bench-training``), the CPU,
the flags that decide its kernels and its nominal peak, the versions of the libraries that ran them and
the pytest command of the run. The report prints :func:`header_lines` of it, and :func:`run_sentence`
under the tables meant for the README; a JSON from before the record says n/a.
"""

from __future__ import annotations

from dataclasses import asdict

from lgrin_edge import __version__
from lgrin_edge.export.runner import package_version
from lgrin_edge.measure.peak import Peak, peak
from lgrin_edge.measure.threads import cpu_model, timing_flags
from lgrin_edge.native import cpu_flags, read_cpuinfo

# Distributions whose versions decide the timings (None in the record: not installed).
LIBRARIES = (
    "torch",
    "numpy",
    "onnxruntime",
    "ai-edge-litert",
    "executorch",
    "tflite-micro",
    "tensorrt",
    "pytest-benchmark",
)
RECORD_KEY = "lgrin_edge"
FLOOR_SOURCE = "benchmarks/test_floor.py"  # the GEMM-rate benchmarks behind every "x floor" figure
# Models benchmarks/test_latency.py times with --bench-training=full only, and why (the report's summary
# says so where their rows are missing from a fast run).
FULL_ONLY = {
    "senet-paper": "a fast run leaves paper-scale SENet out (its 26.6M parameters would add 5-15 min of "
    "training on one core)"
}


def run_record(mode: str, epochs: int, seed: int, command: str | None = None) -> dict:
    """This run's record: training mode and epochs, the seed of the timed models, CPU and its peak,
    libraries, and ``command`` (the pytest command line that ran it)."""
    text = read_cpuinfo()
    return {
        "seed": seed,
        "bench_training": mode,
        "epochs": epochs,
        "lgrin_edge": __version__,
        "cpu": cpu_model(text),
        "cpu_flags": timing_flags(cpu_flags(text)),
        "peak": asdict(peak()),
        "versions": {name: package_version(name) for name in LIBRARIES},
        "command": command,
    }


def record(machine: dict) -> dict:
    """The run record in a JSON's machine_info (empty for a JSON from before it)."""
    rec = machine.get(RECORD_KEY)
    return rec if isinstance(rec, dict) else {}


def recorded_peak(machine: dict) -> Peak | None:
    """The nominal peak of the CPU the run timed on, where the JSON records it."""
    try:
        return Peak(**record(machine)["peak"])
    except (KeyError, TypeError):
        return None


def cpu_name(machine: dict) -> str | None:
    """The CPU's model name: the run record's, else pytest-benchmark's own (py-cpuinfo)."""
    cpu = machine.get("cpu") if isinstance(machine.get("cpu"), dict) else {}
    return record(machine).get("cpu") or cpu.get("brand_raw")


def _na(value: object) -> str:
    return "n/a" if value is None else str(value)


def header_lines(machine: dict) -> list[str]:
    """The report's opening lines from a JSON's machine_info: the run, the CPU, the libraries."""
    rec = record(machine)
    known = "" if rec else " (this JSON has no run record: it predates it)"
    lines = [
        f"Run: seed {_na(rec.get('seed'))}, training mode {mode_words(machine)}, "
        f"lgrin-edge {_na(rec.get('lgrin_edge'))}{known}; every latency on one thread "
        "unless a row says otherwise."
    ]
    # pytest-benchmark's own CPU record (py-cpuinfo) stands in for a JSON without ours.
    cpu = machine.get("cpu") if isinstance(machine.get("cpu"), dict) else {}
    name = cpu_name(machine)
    flags = rec.get("cpu_flags") or (timing_flags(set(cpu["flags"])) if cpu.get("flags") else {})
    flag_txt = ", ".join(f"{f} {'yes' if ok else 'no'}" for f, ok in flags.items()) or "flags n/a"
    lines.append(f"CPU: {_na(name)}; {flag_txt}.")
    versions = rec.get("versions") or {}
    libs = ", ".join(f"{k} {v or 'not installed'}" for k, v in versions.items()) or "n/a"
    lines.append(f"Libraries: {libs}.")
    return lines


def measured_on(machine: dict, date: str | None) -> str:
    """Where and when, for the sentence under a README table: "<CPU> on <date>"."""
    return f"{_na(cpu_name(machine))} on {_na(date[:10] if date else None)}"


def mode_words(machine: dict) -> str:
    """How the models were trained: "--bench-training=full (150 epochs per model)", or n/a."""
    rec = record(machine)
    mode = rec.get("bench_training")
    epochs = f" ({rec['epochs']} epochs per model)" if rec.get("epochs") else ""
    return f"--bench-training={mode}{epochs}" if mode else "n/a"
