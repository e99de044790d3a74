"""The live page of a web export (export/web/page) in a real headless Chromium, used as a person uses it:
opened from a served export folder (or its web/ folder alone), its facts read, "Check all samples"
clicked, a WAV or a motion CSV chosen through its file inputs, the microphone played from a WAV by
Chromium's fake capture device. Its decisions are the C tool lgrin_live's, line for line, on the same
input; python -m lgrin_edge.web.screens writes its screenshots."""

from __future__ import annotations

import base64
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.live.bar import Timeline, live_tool
from lgrin_edge.native import find_compiler
from lgrin_edge.web.screens import listen, open_page, page_error, wait_idle

pytestmark = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on PATH (cc, gcc or clang)")

MOTION_HZ = 10.0


# -- fixtures --------------------------------------------------------------------------------------------


def _add_web(dist: Path) -> Path:
    """The web bundle and the model file in ``dist``/web, as a web export lays them out."""
    from lgrin_edge.web.build import wasm_status, write_bundle

    ok, reason = wasm_status()
    if not ok:
        pytest.skip(reason)
    (dist / "web").mkdir(exist_ok=True)
    write_bundle(dist / "web")
    shutil.copyfile(dist / "model_int8.lgrn", dist / "web" / "model_int8.lgrn")
    return dist


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lgrin_live, built as lgrin_edge.live.bar builds it."""
    return live_tool(tmp_path_factory.mktemp("tool"))


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory, chromium: None) -> tuple[Path, Path]:
    """(a web export of a small speech model, a 16-bit WAV of held-out sentences of every class): the
    corpus and training of tests/live/test_speech_stream.py, smaller (seconds on two cores)."""
    import contextlib
    import io

    from lgrin_edge.features.__main__ import main as features
    from lgrin_edge.live.bar import CALIBRATE_ALL, SpeechSetup, render_corpus, render_stream, train_and_export

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng): no speech to train and stream")
    folder = tmp_path_factory.mktemp("speech")
    setup = SpeechSetup(per_class=6, segments_per_class=1, epochs=20, seed=0)
    rng = np.random.default_rng(setup.seed)
    spoken = render_corpus(folder / "corpus", setup, rng)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        argv = ["wav-dir", str(folder / "corpus"), "--out", str(folder / "frames.npz"), "--no-cache"]
        assert features([*argv, "--no-progress"]) == 0
    args = ["--epochs", "20", "--eta", "16", "8", "--folds", "2", "--window", "1.0", "--hop", "0.25"]
    train_and_export(folder / "frames.npz", folder / "run", folder / "dist", args, 0, CALIBRATE_ALL)
    render_stream(folder / "stream.wav", setup, rng, spoken)
    return _add_web(folder / "dist"), folder / "stream.wav"


@pytest.fixture(scope="module")
def motion(tmp_path_factory: pytest.TempPathFactory, chromium: None) -> tuple[Path, Path]:
    """(a web export of BasicMotions' L-GrIN trained 8 epochs on 2 s windows, a CSV of one test recording
    of each class end to end at 10 samples/s), as tests/live/test_motion_stream.py makes them."""
    from lgrin_edge.data.bundled import load_bundled
    from lgrin_edge.live.bar import train_and_export

    folder = tmp_path_factory.mktemp("motion")
    train_and_export(
        Path("basicmotions"),
        folder / "run",
        folder / "dist",
        ["--epochs", "8", "--window", "2", "--hop", "1"],
        0,
    )
    ds = load_bundled("basicmotions")
    test = np.flatnonzero(ds.is_test)
    order = [int(test[ds.y[test] == c][0]) for c in range(len(ds.classes))]
    frames = np.concatenate([ds.x[i, : ds.lengths[i]] for i in order])
    lines = ["time_s,ax,ay,az,gx,gy,gz"]
    lines += [f"{k / MOTION_HZ:.1f}," + ",".join(repr(float(v)) for v in row) for k, row in enumerate(frames)]
    (folder / "walk.csv").write_text("\n".join(lines) + "\n")
    return _add_web(folder / "dist"), folder / "walk.csv"


# -- reading and writing -------------------------------------------------------------------------------


def _c_lines(tool: Path, model: Path, signal: Path) -> list[str]:
    """lgrin_live's decision lines on ``signal``."""
    done = subprocess.run([str(tool), str(model), str(signal)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _page_lines(browser, names: list[str]) -> list[str]:
    """The page's decisions as lgrin_live prints them."""
    decisions = browser.run("return window.lgrinPage.decisions;")
    return [
        f"{d['time']:.2f} {names[d['label']]} {d['probability']:.3f} {names[d['smoothed']]}"
        for d in decisions
    ]


def _names(dist: Path) -> list[str]:
    import json

    return json.loads((dist / "manifest.json").read_text())["model"]["classes"]


def _write_float_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """A mono 32-bit float WAV (format 3), which lgrin_live reads as it is."""
    data = np.ascontiguousarray(samples, dtype="<f4").tobytes()
    fmt = (3).to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
    fmt += (4 * rate).to_bytes(4, "little") + (4).to_bytes(2, "little") + (32).to_bytes(2, "little")
    body = (
        b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt + b"data" + len(data).to_bytes(4, "little")
    )
    path.write_bytes(b"RIFF" + (len(body) + len(data)).to_bytes(4, "little") + body + data)


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


# -- the page --------------------------------------------------------------------------------------------


def test_the_page_shows_the_model(jv_dist: Path, chromium: None) -> None:
    from lgrin_edge.web.browser import Browser

    samples = np.load(jv_dist / "samples.npz")
    m, p = samples["x"].shape[1:]
    with Browser(jv_dist) as b:
        ready = open_page(b)
        facts = b.run("return document.getElementById('facts').innerText;")
        assert ready["build"] in ("simd128", "portable")
        assert f"{m} nodes × {p} features" in facts
        assert ", ".join(_names(jv_dist)) in facts
        assert "int8" in facts and f"lgrin_{ready['build']}.wasm" in facts and "model_int8.lgrn" in facts
        assert page_error(b) == ""
        assert b.console_errors() == []


def test_check_all_samples_reproduces_the_native_logits(jv_dist: Path, chromium: None) -> None:
    from lgrin_edge.web.browser import Browser

    samples = np.load(jv_dist / "samples.npz")
    accuracy = float(np.mean(samples["logits_c"].argmax(1) == samples["y"]))
    with Browser(jv_dist) as b:
        open_page(b)
        got = b.run("return await window.lgrinPage.checkSamples();")
        b.click("#check")  # the button, as a person checks
        wait_idle(b)
        shown = b.run("return document.getElementById('check-result').textContent;")
        assert b.console_errors() == []
    n = len(samples["y"])
    assert (got["n"], got["identical"], got["maxAbsDiff"]) == (n, n, 0)
    assert got["accuracy"] == pytest.approx(accuracy)
    assert f"{n} of {n} logits bit-identical" in shown


def test_served_alone_a_chosen_samples_file_is_checked(jv_dist: Path, chromium: None) -> None:
    """The web/ folder alone: nothing asked of its parent; the samples come from the file input."""
    from lgrin_edge.web.browser import Browser

    n = len(np.load(jv_dist / "samples.npz")["y"])
    with Browser(jv_dist / "web") as b:
        open_page(b, "")
        b.click("#check")
        wait_idle(b, ignore_error=True)
        assert "choose a samples.npz" in page_error(b)
        b.choose_file("#npz", jv_dist / "samples.npz")
        wait_idle(b)
        shown = b.run("return document.getElementById('check-result').textContent;")
        assert f"{n} of {n} logits bit-identical" in shown
        assert b.console_errors() == []


def test_a_chosen_wav_gives_lgrin_live_decisions(speech: tuple[Path, Path], tool: Path) -> None:
    from lgrin_edge.web.browser import Browser

    dist, wav = speech
    want = _c_lines(tool, dist / "model_int8.lgrn", wav)
    with Browser(dist) as b:
        open_page(b)
        b.choose_file("#wav", wav)
        wait_idle(b)
        got = _page_lines(b, _names(dist))
        rows = b.run("return document.getElementById('decisions').children.length;")
        assert b.console_errors() == []
    assert len(want) >= 20
    assert got == want
    assert rows == len(want)


def test_the_microphone_decides_as_lgrin_live_on_what_it_heard(
    speech: tuple[Path, Path], tool: Path, tmp_path: Path
) -> None:
    """Chromium plays the WAV as the microphone (once); the page listens until it has heard it all, then
    Stop. Its decisions are lgrin_live's on what it heard (at the capture rate); how far they are from
    lgrin_live's on the original WAV (resampled, offset by the capture's start) is reported."""
    from lgrin_edge.web.browser import Browser

    dist, wav = speech
    seconds = _wav_seconds(wav)
    with Browser(dist, fake_audio=wav) as b:
        open_page(b)
        listen(b, seconds + 1.0)
        got = _page_lines(b, _names(dist))
        heard = np.frombuffer(base64.b64decode(b.run("return window.lgrinPage.heard();")), "<f4")
        rate = b.run("return window.lgrinPage.heardRate;")
        assert b.console_errors() == []
    _write_float_wav(tmp_path / "heard.wav", heard, int(rate))
    assert len(heard) >= seconds * rate
    assert np.abs(heard).max() > 0.05  # the file was heard, not silence
    assert got == _c_lines(tool, dist / "model_int8.lgrn", tmp_path / "heard.wav")
    original = Timeline.parse("\n".join(_c_lines(tool, dist / "model_int8.lgrn", wav)))
    page = Timeline.parse("\n".join(got))
    same = sum(a == c for a, c in zip(page.labels, original.labels, strict=False)) / max(
        1, len(original.labels)
    )
    print(  # reported, not asserted: capture starts at an arbitrary point of the first 10 ms block
        f"microphone at {rate} Hz: {len(page.labels)} decisions on {len(heard) / rate:.2f} s heard; "
        f"at the time of each of lgrin_live's {len(original.labels)} decisions on the original WAV, the "
        f"nearest page decision has its label at {same:.3f} of them"
    )


def test_a_chosen_csv_gives_lgrin_live_decisions(motion: tuple[Path, Path], tool: Path) -> None:
    from lgrin_edge.web.browser import Browser

    dist, csv = motion
    want = _c_lines(tool, dist / "model_int8.lgrn", csv)
    with Browser(dist) as b:
        assert open_page(b)["kind"] == "motion"
        b.choose_file("#csv", csv)
        wait_idle(b)
        got = _page_lines(b, _names(dist))
        assert b.console_errors() == []
    assert len(want) >= 10
    assert got == want


def _tone(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((3000 * np.sin(np.arange(8000) / 5)).astype("<i2").tobytes())
    return path


def test_a_wav_to_a_motion_model_gets_one_line(motion: tuple[Path, Path], tmp_path: Path) -> None:
    from lgrin_edge.web.browser import Browser

    dist, _ = motion
    bad_csv = tmp_path / "short.csv"
    bad_csv.write_text("time_s,ax\n0.0,1\n0.1,2\n")
    with Browser(dist) as b:
        open_page(b)
        b.choose_file("#wav", _tone(tmp_path / "tone.wav"))
        wait_idle(b, ignore_error=True)
        assert page_error(b).startswith("this model's input is motion, not audio")
        b.choose_file("#csv", bad_csv)
        wait_idle(b, ignore_error=True)
        assert page_error(b) == "short.csv: line 2 is not 'time' and 6 values separated by commas"
        assert b.console_errors() == []


def test_a_file_that_is_no_wav_gets_one_line(speech: tuple[Path, Path], tmp_path: Path) -> None:
    from lgrin_edge.web.browser import Browser

    dist, _ = speech
    (tmp_path / "notes.wav").write_text("not audio")
    with Browser(dist) as b:
        open_page(b)
        b.choose_file("#wav", tmp_path / "notes.wav")
        wait_idle(b, ignore_error=True)
        assert page_error(b) == "notes.wav: not a WAV file (no RIFF/WAVE header)"
        b.choose_file("#csv", tmp_path / "notes.wav")
        wait_idle(b, ignore_error=True)
        assert page_error(b).startswith("this model's input is audio, not motion")
        assert b.console_errors() == []


# -- python -m lgrin_edge.web.screens --------------------------------------------------------------------


def test_screens_writes_the_page_after_a_run(speech: tuple[Path, Path], tmp_path: Path) -> None:
    from lgrin_edge.web.screens import main

    dist, wav = speech
    out = tmp_path / "images"
    assert main(["--dist", str(dist), "--out", str(out), "--wav", str(wav), "--name", "speech"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["web_speech_facts.png", "web_speech_samples.png", "web_speech_wav.png"]
    assert all((out / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)
    assert main(["--dist", str(dist), "--out", str(out), "--wav", str(wav), "--name", "speech"]) == 2


def test_screens_refuses_a_folder_without_the_page(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from lgrin_edge.web.screens import main

    assert main(["--dist", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path} is not a web export folder: web/index.html is missing"]
