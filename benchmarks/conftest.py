"""Benchmark fixtures: checkpoints trained once per session and cached on disk, with their exports; the
run's record (seed, training mode, CPU, library versions) in the JSON's machine_info, and every
benchmark's p90/p99 latency in its extra_info.

Options: --bench-training=fast|full (epochs 40 or 150), --bench-cache=DIR, --bench-datasets=a,b,
--bench-seeds=0,1,2,3,4 (test_accuracy.py). Write them
with '=': `pytest --benchmark-only` from the repository root reads them before this file is loaded.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from lgrin_edge import __version__
from lgrin_edge.measure.context import RECORD_KEY, run_record
from lgrin_edge.measure.threads import one_thread
from lgrin_edge.measure.timing import tails

EPOCHS = {"fast": 40, "full": 150}
DATASETS = ("japanesevowels", "basicmotions")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lgrin-edge benchmarks")
    group.addoption(
        "--bench-training",
        choices=tuple(EPOCHS),
        default="fast",
        help="fast: 40 epochs per model (minutes); full: 150 epochs, the quickstart setting",
    )
    group.addoption(
        "--bench-cache", default=".lgrin_cache/bench", help="where trained checkpoints are cached"
    )
    group.addoption("--bench-datasets", default=",".join(DATASETS), help="comma-separated bundled datasets")
    group.addoption(
        "--bench-seeds", default="0,1,2,3,4", help="comma-separated seeds of the accuracy-over-seeds table"
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """`pytest` alone (testpaths include this folder) runs the tests only: benchmark modules are not
    even imported unless --benchmark-only asks for them."""
    if collection_path.name.startswith("test_") and not config.getoption("benchmark_only"):
        return True
    return None


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Name what the timings depend on beyond the machine: how the models were trained, the CPU's kernel
    flags and peak, the library versions and the pytest command (lgrin_edge/measure/context.py; the
    report prints them, and names the command in the first line of each file it writes)."""
    from lgrin_edge.train import build_parser

    mode = config.getoption("--bench-training")
    command = shlex.join(["pytest", *config.invocation_params.args])
    # RunCache passes no --seed: the timed models are trained with train's default seed.
    machine_info[RECORD_KEY] = run_record(mode, EPOCHS[mode], build_parser().get_default("seed"), command)


@pytest.fixture
def benchmark(benchmark):
    """pytest-benchmark's fixture, which also keeps the p90/p99 of the round times in extra_info: they
    then survive a --benchmark-save without --benchmark-save-data, which keeps the stats alone."""
    yield benchmark
    if benchmark.stats:
        benchmark.extra_info.update(tails(benchmark.stats.stats.data))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dataset" in metafunc.fixturenames:
        names = metafunc.config.getoption("--bench-datasets").split(",")
        metafunc.parametrize("dataset", names, scope="session")


class RunCache:
    """Trains (model, dataset) once, keyed by options and version, and exports it once."""

    def __init__(self, root: Path, mode: str) -> None:
        self.root, self.mode = root, mode

    def run(self, dataset: str, model: str, **opts: str) -> Path:
        from lgrin_edge.train import main as train_main
        from lgrin_edge.train.recipes import recipe_tag

        tag = "-".join(f"{k}{v}" for k, v in sorted(opts.items()))
        # The recipe is part of the key: a cache trained under another default recipe is not reused.
        version = f"v{__version__}-{self.mode}-{recipe_tag('default')}"
        out = self.root / version / f"{dataset}-{model}{'-' + tag if tag else ''}"
        if not (out / "metrics.json").exists():
            args = [
                "--dataset",
                dataset,
                "--model",
                model,
                "--epochs",
                str(EPOCHS[self.mode]),
                "--out",
                str(out),
                "--device",
                "cpu",
            ]
            for key, value in opts.items():
                args += [f"--{key}", value]
            # One thread: summation order, hence the trained weights, depends on the thread count, and
            # the published accuracies must not depend on how many cores the benchmark machine has.
            with one_thread():
                code = train_main(args)
            if code != 0:
                raise RuntimeError(f"training {model} on {dataset} failed")
        return out

    def export(self, run: Path, targets: list[str], static_int8: bool = False) -> dict:
        """The run's exports of ``targets`` (``static_int8``: the full-integer files, in dist-static)."""
        from lgrin_edge.export.pipeline import run_export

        dist = run / ("dist-static" if static_int8 else "dist")
        manifest_path = dist / "manifest.json"
        if manifest_path.exists():
            manifest = json.loads(manifest_path.read_text())
            entries = manifest["artifacts"] + manifest.get("failed", []) + manifest["skipped"]
            stale = _stale_bundles(manifest)  # re-made below, the other files kept as they are
            if set(targets) <= {e["target"] for e in entries} and not stale:
                return manifest
            targets = stale if set(targets) <= {e["target"] for e in entries} else targets
        # A baseline's int8 may miss the tolerance: it is timed all the same (the report marks it).
        precisions = ["int8"] if static_int8 else ["fp32", "int8"]
        return run_export(
            run, targets, precisions, dist, log=lambda *_: None, keep_unverified=True, static_int8=static_int8
        )


def _stale_bundles(manifest: dict) -> list[str]:
    """The targets whose cached export holds a runtime other than the sources build today (the web
    target's .wasm and lgrin.js): a cached model is reused, a stale runtime is never timed."""
    from lgrin_edge.atomic import file_sha256

    stale = []
    for entry in manifest["artifacts"]:
        bundle = entry.get("bundle", {})
        if "web/lgrin_simd128.wasm" in bundle:
            from lgrin_edge.web.build import WEB_DIR, build_wasm

            now = {"web/lgrin_simd128.wasm": build_wasm("simd128"), "web/lgrin.js": WEB_DIR / "lgrin.js"}
            if any(bundle.get(name) != file_sha256(path) for name, path in now.items()):
                stale.append(entry["target"])
    return stale


@pytest.fixture(scope="session")
def runs(request: pytest.FixtureRequest) -> RunCache:
    cfg = request.config
    return RunCache(Path(cfg.getoption("--bench-cache")), cfg.getoption("--bench-training"))
