"""The C front-end (export/src/lgrin_frontend.c, built with the system compiler) against numpy: the same
frames on real speech at every rate and condition, the same streaming, the same known answers, the same
refusals; and the command-line tool lgrin_frontend."""

from __future__ import annotations

import ctypes
import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.signal

from lgrin_edge.export.c_facts import EXPORT_DIR, FRONTEND_SOURCES
from lgrin_edge.export.tolerances import FRONTEND_PARITY as PARITY
from lgrin_edge.frontend import SpeechSpec, frames, wav
from lgrin_edge.frontend.native import CSpec, CStream, _lib, build_library, c_frames, default_spec
from lgrin_edge.native import find_compiler
from tests.frontend import kat
from tests.frontend.test_spec import BAD

pytestmark = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on PATH (cc, gcc or clang)")

SPEC = SpeechSpec.preset("lld16+hnr")
RATES = (8000, 16000, 44100, 48000)
VOICES = {
    "en": "The quick brown fox jumps over the lazy dog.",
    "de": "Zwölf Boxkämpfer jagen Viktor quer über den Sylter Deich.",
    "fr": "Portez ce vieux whisky au juge blond qui fume.",
}
SPEEDS = (120, 175, 260)


def _condition(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """One of the conditions the parity must hold under, by index."""
    match k % 6:
        case 0:
            return x
        case 1:
            return x + rng.normal(0, 0.01, len(x))  # noise
        case 2:
            return 0.03 * x  # quiet
        case 3:
            return np.clip(8.0 * x, -1.0, 1.0)  # loud and clipped
        case 4:
            return x + 0.3  # DC offset
        case _:
            pad = np.zeros(4000)
            return np.concatenate([pad, x, pad])  # silence around the speech


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> list[tuple[str, np.ndarray, int]]:
    """(label, samples, rate): espeak-ng speech in 3 voices x 3 speeds, each at the 4 rates under one of
    the conditions, odd lengths, int16 and float."""
    if shutil.which("espeak-ng") is None:
        pytest.skip(
            "espeak-ng not installed (apt-get install espeak-ng): no speech to compare C and numpy on"
        )
    folder, cases, k = tmp_path_factory.mktemp("speech"), [], 0
    rng = np.random.default_rng(0)
    for voice, text in VOICES.items():
        for speed in SPEEDS:
            path = folder / f"{voice}{speed}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
            x, rate = wav.read(path)
            x = x.astype(np.float64) / 32768
            for out_rate in RATES:
                y = scipy.signal.resample_poly(x, out_rate, rate) if out_rate != rate else x
                y = _condition(y, k, rng)[: len(y) - int(rng.integers(0, 160))]  # odd lengths
                samples = (
                    np.round(np.clip(y, -1, 1) * 32767).astype(np.int16) if k % 2 else y.astype(np.float32)
                )
                cases.append((f"{voice}{speed}@{out_rate}/c{k % 6}/{samples.dtype}", samples, out_rate))
                k += 1
    return cases


def test_c_matches_numpy_on_speech(speech):
    ours, theirs = [], []
    for label, samples, rate in speech:
        a, b = frames(samples, rate, SPEC), c_frames(samples, rate, SPEC)
        assert a.shape == b.shape and len(a) > 100, label
        assert np.array_equal(a[:, 3] > 0, b[:, 3] > 0), f"{label}: a voicing decision differs"
        ours.append(a)
        theirs.append(b)
    spread = np.concatenate(ours).std(axis=0)
    assert np.all(spread > 0)
    worst = np.max([np.abs(a - b).max(axis=0) for a, b in zip(ours, theirs, strict=True)], axis=0)
    bad = np.flatnonzero(worst > PARITY * spread)
    assert not len(bad), [(SPEC.names[i], worst[i], spread[i]) for i in bad]
    for (label, _, _), a, b in zip(speech, ours, theirs, strict=True):  # the padded ends, named
        for row in (0, 1, -2, -1):
            assert np.all(np.abs(a[row] - b[row]) <= PARITY * spread), f"{label}: frame {row}"


def test_c_chunks_give_the_whole_signal_frames(speech):
    rng = np.random.default_rng(1)
    for _, samples, rate in speech[:8]:
        stream, parts, at = CStream(rate, SPEC), [], 0
        while at < len(samples):
            size = int(rng.integers(0, 3000))
            parts.append(stream.push(samples[at : at + size]))
            at += size
        parts.append(stream.flush())
        assert np.array_equal(np.concatenate(parts), c_frames(samples, rate, SPEC))


@pytest.mark.parametrize("preset", ["lld16", "logmel"])
def test_other_descriptor_sets(speech, preset):
    spec = SpeechSpec.preset(preset, delta_window=3)
    _, samples, rate = speech[5]
    a, b = frames(samples, rate, spec), c_frames(samples, rate, spec)
    assert np.all(np.abs(a - b) <= PARITY * a.std(axis=0) + 1e-12)


def test_default_spec_is_speechspec():
    c, ours = default_spec(), CSpec.of(SpeechSpec())
    for name, _ in CSpec._fields_:
        assert (
            list(getattr(c, name)) == list(getattr(ours, name))
            if name == "descriptors"
            else (getattr(c, name) == getattr(ours, name))
        ), name


@pytest.mark.parametrize("change", BAD)
def test_c_refuses_what_speechspec_refuses(change):
    c = CSpec.of(SpeechSpec())
    for name, value in change.items():
        if name == "descriptors":
            codes = {"rms": 0x100, "mfcc13": 0x60D, "mfcc01": 0x600}
            c.n_descriptors = len(value)
            for i, d in enumerate(value):
                c.descriptors[i] = codes[d]
        else:
            setattr(c, name, value)
    assert _lib(build_library()).lgrin_frontend_check(ctypes.byref(c), 16000) == -1
    assert dataclasses.replace(SpeechSpec(), hop=160) == SpeechSpec()  # the default itself passes


@pytest.mark.parametrize("case", kat.cases(), ids=lambda c: c[0].name)
def test_known_answers(case):
    path, expected, count, width, tolerance = case
    samples, rate = wav.read(path)
    got = c_frames(samples, rate)
    want = np.fromfile(expected, "<f4").reshape(count, width)
    assert got.shape == want.shape and np.all(np.abs(got - want) <= tolerance * (1 + np.abs(want)))


def test_status_codes():
    lib = _lib(build_library())
    spec = CSpec.of(SpeechSpec())
    size = lib.lgrin_frontend_state_size(ctypes.byref(spec), 16000)
    state = np.zeros(size // 8 + 2, np.float64)
    base = state.ctypes.data
    assert lib.lgrin_frontend_init(base + 4, size, ctypes.byref(spec), 16000) == -4  # misaligned
    assert lib.lgrin_frontend_init(base, size - 8, ctypes.byref(spec), 16000) == -3  # too small
    assert lib.lgrin_frontend_check(ctypes.byref(spec), 16001) == -2  # 16000 resampling phases
    assert lib.lgrin_frontend_init(base, size, ctypes.byref(spec), 16000) == 0
    x = np.zeros(16000, np.float32)
    out = np.zeros((200, 32), np.float32)
    assert (
        lib.lgrin_frontend_push(base, x.ctypes.data, len(x), out.ctypes.data, 10) == -6
    )  # room for 10 of 98
    x[5] = np.inf
    assert lib.lgrin_frontend_push(base, x.ctypes.data, len(x), out.ctypes.data, 200) == -5
    assert lib.lgrin_frontend_flush(base, out.ctypes.data, 200) == 0  # nothing was used: no frame
    assert lib.lgrin_frontend_push(base, x.ctypes.data, 1, out.ctypes.data, 200) == -7  # after flush
    assert lib.lgrin_frontend_reset(base) == 0
    x[5] = 0
    assert (
        lib.lgrin_frontend_push(base, x.ctypes.data, len(x), out.ctypes.data, 200) == 94
    )  # frame t waits for sample 160 t + 680, then 2 hops
    assert lib.lgrin_frontend_flush(base, out.ctypes.data, 200) == 4


@pytest.fixture(scope="module")
def tool(tmp_path_factory) -> Path:
    """The command-line tool, compiled as CMake would (export/tools/lgrin_frontend.c)."""
    exe = tmp_path_factory.mktemp("tool") / "lgrin_frontend"
    cmd = [
        find_compiler(),
        "-std=c99",
        "-O2",
        "-ffp-contract=off",
        "-I",
        str(EXPORT_DIR / "include"),
        "-I",
        str(EXPORT_DIR / "tools"),
        "-o",
        str(exe),
    ]
    cmd += [
        str(EXPORT_DIR / "tools" / "lgrin_frontend.c"),
        str(EXPORT_DIR / "tools" / "lgrin_wav.c"),
        *(str(EXPORT_DIR / src) for src in FRONTEND_SOURCES),
        "-lm",
    ]
    subprocess.run(cmd, check=True)
    return exe


def test_tool_checks_the_known_answers(tool):
    res = subprocess.run([tool, "--check", kat.LIST], capture_output=True, text=True, check=False)
    assert res.returncode == 0 and "all 2 front-end known answers passed" in res.stdout


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_tool_and_python_command_write_the_same_frames(tool, tmp_path, speech, dtype):
    _, samples, rate = speech[2]
    x = (
        samples
        if samples.dtype == dtype
        else (samples * 32767).astype(np.int16)
        if dtype == np.int16
        else (samples / np.float32(32768))
    )
    wav.write(tmp_path / "in.wav", x, rate)
    res = subprocess.run([tool, tmp_path / "in.wav", tmp_path / "out.f32"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    cmd = [sys.executable, "-m", "lgrin_edge.frontend", tmp_path / "in.wav", "--out", tmp_path / "out.npy"]
    assert subprocess.run(cmd, capture_output=True, check=False).returncode == 0
    ours = np.load(tmp_path / "out.npy")
    theirs = np.fromfile(tmp_path / "out.f32", "<f4").reshape(ours.shape)
    assert f"{len(ours)} frames x 32" in res.stderr
    assert np.all(np.abs(ours - theirs) <= PARITY * ours.std(axis=0))


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"not a wav", "not a WAV file"), (None, "cannot open"), (b"RIFF\x04\x00\x00\x00WAVE", "no fmt  chunk")],
)
def test_tool_refuses_in_one_line(tool, tmp_path, data, message):
    path = tmp_path / "in.wav"
    if data is not None:
        path.write_bytes(data)
    res = subprocess.run([tool, path, tmp_path / "out.f32"], capture_output=True, text=True, check=False)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and message in res.stderr
    assert not (tmp_path / "out.f32").exists()
