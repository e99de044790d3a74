"""The C99 runtime (export/) compiled with the system compiler and run through ctypes."""

from __future__ import annotations

import importlib.util
import platform
import shutil
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.deploy import int8, reference
from lgrin_edge.deploy.folded import FoldedLGrIN, FoldError
from lgrin_edge.export import c_runtime as cr
from lgrin_edge.export.c_facts import MAX_LAYERS
from lgrin_edge.export.tolerances import C_REPRODUCTION
from lgrin_edge.native import cpu_flags

pytestmark = pytest.mark.skipif(
    not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")), reason="no C compiler on PATH"
)

SIZES = [(29, 12, 9), (100, 6, 4), (90, 136, 6)]


def _model(M: int, P: int, C: int, seed: int = 0, n_cal: int = 128, n_test: int = 256):
    model, mean, std = FoldedLGrIN.random(M, P, C, seed=seed)
    rng = np.random.default_rng(seed + 100)
    cal = (mean + std * rng.normal(size=(n_cal, M, P))).astype(np.float32)
    test = (mean + std * rng.normal(size=(n_test, M, P))).astype(np.float32)
    return model, cal, test


@pytest.fixture(scope="module")
def paper_int8(tmp_path_factory: pytest.TempPathFactory):
    model, cal, test = _model(90, 136, 6)
    path = tmp_path_factory.mktemp("c") / "paper.lgrn"
    cr.write_c_model(model, cal, path)
    return model, cal, test, path


@pytest.mark.parametrize(("M", "P", "C"), SIZES)
def test_fp32_path_matches_numpy_reference(tmp_path: Path, M: int, P: int, C: int) -> None:
    model, _, test = _model(M, P, C, n_test=64)
    cr.write_c_model(model, None, tmp_path / "m.lgrn", precision="fp32")
    runtime = cr.CModel(tmp_path / "m.lgrn")
    assert (runtime.num_nodes, runtime.num_features, runtime.num_classes, runtime.precision) == (
        M,
        P,
        C,
        "fp32",
    )
    ref = reference.forward(model, test)
    np.testing.assert_allclose(runtime(test), ref, rtol=0, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize(("M", "P", "C"), SIZES)
def test_int8_is_bit_exact_with_simulation_and_agrees_with_fp32(
    tmp_path: Path, M: int, P: int, C: int
) -> None:
    model, cal, test = _model(M, P, C)
    cr.write_c_model(model, cal, tmp_path / "q.lgrn")
    got = cr.CModel(tmp_path / "q.lgrn")(test)
    sim = int8.simulate(int8.quantize(model, cal), test)
    ref = reference.forward(model, test)
    scale = np.abs(ref).max()
    # integer activations are identical; only the float32 vs float64 pooling/classifier rounding differs
    np.testing.assert_allclose(got, sim, rtol=0, atol=1e-5 * scale)
    assert np.abs(got - ref).max() < 0.1 * scale
    # random-weight models have many near-ties between the top two logits, so agreement is lower than
    # on trained models; measured 96-100% over these sizes
    assert (got.argmax(1) == ref.argmax(1)).mean() >= 0.93


ODD_SHAPES = [(30, 7, (48, 20), 3), (5, 3, (16, 64), 1), (1, 4, (4, 32), 2)]


_ARCH = platform.machine().lower()
# The families a build of this architecture holds, best first.
FAMILIES = (
    ("vnni", "avx2", "portable")
    if _ARCH in ("x86_64", "amd64")
    else ("sdot", "neon")
    if _ARCH in ("aarch64", "arm64")
    else ("portable",)
)
# What each family needs, in /proc/cpuinfo's words: the oracle for the runtime's own CPU detection.
NEEDS = {
    "avx2": {"avx2", "fma", "bmi2"},
    "vnni": {"avx2", "fma", "bmi2", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"},
    "sdot": {"asimddp"},
}


def _runnable(model_file: Path, family: str) -> cr.CModel:
    try:
        return cr.CModel(model_file, kernels=family)
    except ValueError:
        pytest.skip(
            f"this CPU cannot run the {family} kernels (the library holds them: {cr.kernel_families()})"
        )


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("M", "P", "eta", "L"), ODD_SHAPES)
def test_int8_odd_shapes_are_bit_exact_in_every_kernel_family(
    tmp_path: Path, M: int, P: int, eta: tuple[int, int], L: int, family: str
) -> None:
    """Widths that are not multiples of 64, 16 or 8, node counts that leave partial row tiles, inputs
    whose width is not a multiple of four: every kernel family of the one dispatching library must give
    the integers of the int8 simulation (deploy/int8.py)."""
    model, mean, std = FoldedLGrIN.random(M, P, 5, eta=eta, L=L, seed=M)
    rng = np.random.default_rng(1)
    cal = (mean + std * rng.normal(size=(64, M, P))).astype(np.float32)
    test = (mean + std * rng.normal(size=(64, M, P))).astype(np.float32)
    model_file = tmp_path / "m.lgrn"
    cr.write_c_model(model, cal, model_file)
    sim = int8.simulate(int8.quantize(model, cal), test)
    runtime = _runnable(model_file, family)
    assert runtime.kernels == family
    np.testing.assert_allclose(runtime(test), sim, rtol=0, atol=1e-5 * np.abs(sim).max())


@pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="the oracle reads /proc/cpuinfo (Linux only)")
def test_dispatch_holds_every_family_and_picks_the_best_this_cpu_runs(paper_int8) -> None:
    """The library lists the families of this architecture, best first; a model runs with the first one
    whose instructions /proc/cpuinfo lists, and a family the CPU lacks is refused; the single-family
    -march=native build agrees with the chosen family bit for bit."""
    _, _, test, path = paper_int8
    assert tuple(cr.kernel_families()) == FAMILIES
    flags = cpu_flags()
    runnable = [f for f in FAMILIES if NEEDS.get(f, set()) <= flags]
    chosen = cr.CModel(path)
    assert chosen.kernels == runnable[0]
    for family in FAMILIES:
        if family in runnable:
            assert cr.CModel(path, kernels=family).kernels == family
        else:
            with pytest.raises(ValueError, match=f"cannot run the '{family}' kernels"):
                cr.CModel(path, kernels=family)
    native = cr.CModel(path, library=cr.build_library(build="native"))
    np.testing.assert_array_equal(native(test), chosen(test))


def test_unknown_build_and_family_are_named(paper_int8) -> None:
    with pytest.raises(ValueError, match="unknown C runtime build 'neon'"):
        cr.build_library(build="neon")
    with pytest.raises(ValueError, match="cannot run the 'mmx' kernels here: this build holds"):
        cr.CModel(paper_int8[3], kernels="mmx")


def test_threads_and_probabilities(paper_int8) -> None:
    _, _, test, path = paper_int8
    one = cr.CModel(path)(test)
    np.testing.assert_array_equal(cr.CModel(path, num_threads=3)(test), one)
    probs = cr.CModel(path).probabilities(test[:8])
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    e = np.exp(one[:8] - one[:8].max(1, keepdims=True))
    np.testing.assert_allclose(probs, e / e.sum(1, keepdims=True), atol=1e-6)


def test_percentile_calibration_also_runs(tmp_path: Path) -> None:
    model, cal, test = _model(29, 12, 9, n_test=64)
    cr.write_c_model(model, cal, tmp_path / "p.lgrn", method="percentile", percentile=99.9)
    sim = int8.simulate(int8.quantize(model, cal, "percentile", 99.9), test)
    np.testing.assert_allclose(
        cr.CModel(tmp_path / "p.lgrn")(test), sim, rtol=0, atol=1e-4 * np.abs(sim).max()
    )


@pytest.mark.parametrize(
    ("edit", "name"),
    [
        (lambda b: b"", "LGRIN_E_TRUNCATED"),
        (lambda b: b[: len(b) // 2], "LGRIN_E_TRUNCATED"),
        (lambda b: b[:-1], "LGRIN_E_TRUNCATED"),
        (lambda b: b + b"\0\0\0\0", "LGRIN_E_SIZE"),
        (lambda b: b"XGRN" + b[4:], "LGRIN_E_MAGIC"),
        (lambda b: b[:4] + b"\x09" + b[5:], "LGRIN_E_VERSION"),
        (lambda b: b[:-10] + bytes([b[-10] ^ 1]) + b[-9:], "LGRIN_E_CHECKSUM"),
        (lambda b: b[:200] + bytes([b[200] ^ 0x80]) + b[201:], "LGRIN_E_CHECKSUM"),
    ],
)
def test_bad_model_files_raise_clear_errors(tmp_path: Path, edit, name: str) -> None:
    model, cal, _ = _model(29, 12, 9, n_test=1)
    good = cr.encode_model(model, cal)
    path = tmp_path / "bad.lgrn"
    path.write_bytes(edit(good))
    with pytest.raises(cr.CModelFileError, match=name) as info:
        cr.CModel(path)
    assert info.value.name == name
    assert str(path) in str(info.value)


def test_weight_of_minus_128_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Weights are symmetric in -127..127 and the AVX2 kernel relies on it; a file breaking it is refused."""
    model, cal, _ = _model(29, 12, 9, n_test=1)
    real = cr.quantize

    def with_minus_128(*args, **kwargs):
        q = real(*args, **kwargs)
        q.layers[0].branches[0][1].w.flat[5] = -128
        return q

    monkeypatch.setattr(cr, "quantize", with_minus_128)
    path = tmp_path / "m.lgrn"
    path.write_bytes(cr.encode_model(model, cal))
    with pytest.raises(cr.CModelFileError, match="LGRIN_E_VALUE"):
        cr.CModel(path)


def test_wrong_input_raises_value_error(paper_int8) -> None:
    _, _, test, path = paper_int8
    model = cr.CModel(path)
    with pytest.raises(ValueError, match=r"shape \(batch, 90, 136\)"):
        model(test[0])
    with pytest.raises(ValueError, match="shape"):
        model(test[:, :, :-1])
    bad = test[:2].copy()
    bad[1, 3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model(bad)
    bad[1, 3, 4] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        model(bad)


def test_writer_validates_and_is_atomic(tmp_path: Path) -> None:
    model, cal, _ = _model(29, 12, 9, n_test=1)
    with pytest.raises(ValueError, match="calibration"):
        cr.write_c_model(model, None, tmp_path / "m.lgrn")
    with pytest.raises(ValueError, match="calibration must have shape"):
        cr.write_c_model(model, cal[:, :, :5], tmp_path / "m.lgrn")
    deep, _, _ = FoldedLGrIN.random(29, 12, 9, eta=(4, 4), L=MAX_LAYERS + 1)
    with pytest.raises(
        ValueError, match=rf"expected 1\.\.{MAX_LAYERS} inception layers, found {MAX_LAYERS + 1}"
    ):
        cr.write_c_model(deep, None, tmp_path / "m.lgrn", precision="fp32")
    other, _, _ = FoldedLGrIN.random(29, 12, 9, pooling="mean")
    with pytest.raises(FoldError, match="paper's configuration only"):
        cr.write_c_model(other, None, tmp_path / "m.lgrn", precision="fp32")
    cr.write_c_model(model, cal, tmp_path / "m.lgrn")
    assert [p.name for p in tmp_path.iterdir()] == ["m.lgrn"]  # no temporary file left behind


def test_library_is_cached_by_source_hash() -> None:
    first = cr.build_library()
    assert cr.build_library() == first
    assert first.exists() and first.stat().st_size > 0


def _gen_kat():
    spec = importlib.util.spec_from_file_location("gen_kat", cr.EXPORT_DIR / "tests" / "gen_kat.py")
    assert spec is not None and spec.loader is not None
    gen_kat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_kat)
    return gen_kat


def _kat_answers(text: str) -> list[np.ndarray]:
    """The number rows of a kat*.txt file after its header line."""
    return [np.array(line.split(), np.float64) for line in text.splitlines()[1:]]


def test_committed_known_answer_models_give_their_recorded_answers(tmp_path: Path) -> None:
    """export/tests/data (used by ctest and the Java test) run in the runtime as the numpy reference said.

    The files are checked by what they compute, never by their bytes: they hold float scales derived
    from float arithmetic, whose last bits differ from one CPU to the next.
    """
    data = cr.EXPORT_DIR / "tests" / "data"
    x, want32, want8, tolerance = _kat_answers((data / "kat.txt").read_text())
    assert tolerance.tolist() == [C_REPRODUCTION]  # what the C and Java tests apply
    m, p, _ = (int(v) for v in (data / "kat.txt").read_text().split("\n")[0].split())
    for name, want in (("kat_fp32.lgrn", want32), ("kat_int8.lgrn", want8), ("kat_spec_int8.lgrn", want8)):
        got = cr.CModel(data / name)(x.reshape(1, m, p).astype(np.float32))[0]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * max(1.0, float(np.abs(want).max())))
    # format version 4 (no spec) still loads; version 5 gives back its spec through lgrin_feature_spec
    assert cr.CModel(data / "kat_int8.lgrn").feature_spec is None
    assert cr.CModel(data / "kat_spec_int8.lgrn").feature_spec == (data / "kat_spec.json").read_text()
    tx, twant, tolerance = _kat_answers((data / "kat_tiles.txt").read_text())
    assert tolerance.tolist() == [C_REPRODUCTION]
    m, p, _, n = (int(v) for v in (data / "kat_tiles.txt").read_text().split("\n")[0].split())
    got = cr.CModel(data / "kat_tiles_int8.lgrn")(tx.reshape(n, m, p).astype(np.float32))
    np.testing.assert_allclose(got.ravel(), twant, rtol=0, atol=1e-5 * float(np.abs(twant).max()))


def test_gen_kat_reproduces_the_committed_answers() -> None:
    """gen_kat.py still describes the committed data: same inputs and shapes, same answers up to fp32
    rounding (on any CPU), so regenerating on another machine changes nothing that matters."""
    data = cr.EXPORT_DIR / "tests" / "data"
    fresh = _gen_kat().kat_files()
    for name in ("kat.txt", "kat_tiles.txt"):
        committed = (data / name).read_text()
        new = fresh[name].decode()
        assert new.split("\n")[0] == committed.split("\n")[0]
        for a, b in zip(_kat_answers(new), _kat_answers(committed), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(b).max())))
    for name in ("kat_fp32.lgrn", "kat_int8.lgrn", "kat_tiles_int8.lgrn", "kat_spec_int8.lgrn"):
        committed = (data / name).read_bytes()
        assert len(fresh[name]) == len(committed) and fresh[name][:8] == committed[:8], name
    assert fresh["kat_spec.json"] == (data / "kat_spec.json").read_bytes()


def test_error_compensated_rounding_runs_exactly_and_int8_files_are_small(tmp_path: Path) -> None:
    model, cal, test = _model(29, 12, 9)
    cr.write_c_model(model, cal, tmp_path / "g.lgrn", rounding="gptq")
    got = cr.CModel(tmp_path / "g.lgrn")(test)
    sim = int8.simulate(int8.quantize(model, cal, rounding="gptq"), test)
    np.testing.assert_allclose(got, sim, rtol=0, atol=1e-5 * np.abs(sim).max())
    # An int8 file holds the classifier in one byte per weight, not four.
    fp32 = len(cr.encode_model(model, precision="fp32"))
    assert (tmp_path / "g.lgrn").stat().st_size < 0.35 * fp32
