"""``python -m lgrin_edge.live`` end to end: a BasicMotions model exported for the C runtime and ONNX, fed
the held-out recordings joined end to end as one motion CSV; every artifact prints the same labels; bad
input is one line before any work."""

from __future__ import annotations

import json
import re
import shutil
import sys

import numpy as np
import pytest

from lgrin_edge.live.__main__ import main

LINE = re.compile(
    r"^\d+\.\d\d (badminton|running|standing|walking) [01]\.\d{3} (badminton|running|standing|walking)$"
)


@pytest.fixture(scope="module")
def dist(basicmotions_dist):
    """BasicMotions' model as the defaults train it, exported for c and onnx (tests/live/conftest.py)."""
    return basicmotions_dist


def write_csv(path, recordings: np.ndarray, header: bool = True) -> None:
    """The (K, T, 6) recordings end to end, one sample every 0.1 s."""
    frames = recordings.reshape(-1, recordings.shape[-1])
    lines = ["time_s,ax,ay,az,gx,gy,gz"] if header else []
    lines += [f"{i / 10:.1f}," + ",".join(repr(float(v)) for v in row) for i, row in enumerate(frames)]
    path.write_text("\n".join(lines) + "\n")


TARGET_FILE = {
    (): "model_int8.lgrn (c int8)",  # the default: the C file
    ("--target", "onnx", "--precision", "fp32"): "model_fp32.onnx (onnx fp32)",
    ("--target", "onnx", "--precision", "int8"): "model_int8.onnx (onnx int8)",
}


@pytest.fixture(scope="module")
def speech_dist(tmp_path_factory):
    """A small model of lgrin-speech frames (low against high tones), exported to ONNX."""
    from lgrin_edge.export.__main__ import main as export
    from lgrin_edge.frontend import SpeechSpec, frames
    from lgrin_edge.spec import NPZ_KEY, speech_frontend_spec
    from lgrin_edge.train import main as train

    root = tmp_path_factory.mktemp("speech")
    front, classes = SpeechSpec(), ["low", "high"]
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    x = [
        frames(0.3 * np.sin(2 * np.pi * (150 + 600 * (i % 2)) * t) + 0.01 * rng.normal(size=len(t)), 16000)
        for i in range(32)
    ]
    spec = speech_frontend_spec(front.to_dict(), classes)
    np.savez(
        root / "tones.npz",
        x=np.stack(x),
        y=np.arange(32) % 2,
        classes=np.array(classes),
        is_test=np.arange(32) >= 24,
        **{NPZ_KEY: np.array([spec.to_json()])},
    )
    run, out = root / "run", root / "dist"
    assert (
        train(
            [
                "--dataset",
                str(root / "tones.npz"),
                "--epochs",
                "3",
                "--eta",
                "16",
                "8",
                "--out",
                str(run),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert export(["--checkpoint", str(run), "--target", "c", "onnx", "--out", str(out)]) == 0
    return out


def run(capsys, *args: str) -> tuple[int, list[str], str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_every_artifact_prints_the_same_labels(dist, tmp_path, capsys):
    samples = np.load(dist / "samples.npz")
    order = np.argsort(samples["y"], kind="stable")[::5]  # every class, a few recordings of each
    write_csv(tmp_path / "walk.csv", samples["x"][order])
    frames = 100 * len(order) - 1  # a frame needs a sample at or after its end: the last one has none
    want = [100 + 10 * k for k in range((frames - 100) // 10 + 1)]  # W = M = 100, H = 10 frames
    lines = {}
    for target in (
        [],
        ["--target", "onnx", "--precision", "fp32"],
        ["--target", "onnx", "--precision", "int8"],
    ):
        plot = tmp_path / f"{'-'.join(target) or 'default'}.png"
        code, out, err = run(
            capsys, "--dist", str(dist), "--csv", str(tmp_path / "walk.csv"), *target, "--plot", str(plot)
        )
        assert code == 0, err
        assert all(LINE.match(line) for line in out), out[:3]
        assert [round(float(line.split()[0]) * 10) for line in out] == want
        assert f"{frames / 10:.2f} s of input, {len(want)} decisions" in err and "real-time factor" in err
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        lines[tuple(target)] = out
        assert err.startswith(f"{TARGET_FILE[tuple(target)]}: sliding, window 10 s (100 frames), hop 1 s (10")
    reference = lines[("--target", "onnx", "--precision", "fp32")]
    confident = [i for i, line in enumerate(reference) if float(line.split()[2]) > 0.6]
    assert len(confident) > 0.8 * len(reference)
    for out in lines.values():
        assert [out[i].split()[1] for i in confident] == [reference[i].split()[1] for i in confident]
    assert len({line.split()[1] for line in reference}) >= 3, "the recordings' classes should show"


def test_the_default_artifact_plot_and_overrides(dist, tmp_path, capsys):
    samples = np.load(dist / "samples.npz")
    write_csv(tmp_path / "two.csv", samples["x"][:2], header=False)
    code, out, err = run(
        capsys,
        "--dist",
        str(dist),
        "--csv",
        str(tmp_path / "two.csv"),
        "--window",
        "5",
        "--hop",
        "2.5",
        "--smooth",
        "2",
    )
    assert code == 0, err
    assert err.startswith(
        "model_int8.lgrn (c int8): sliding, window 5 s (50 frames), hop 2.5 s (25 frames), mean"
    )
    assert [line.split()[0] for line in out] == ["5.00", "7.50", "10.00", "12.50", "15.00", "17.50"]
    assert (dist / "live-two.png").is_file() and f"plot: {dist / 'live-two.png'}" in err
    (dist / "live-two.png").unlink()


def _one_line(capsys, args: list[str], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == [] and err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err, err


def test_bad_input_is_one_line_before_any_work(dist, tiny_run, tmp_path, capsys):
    d = ["--dist", str(dist)]
    good = np.load(dist / "samples.npz")["x"][:1]
    write_csv(tmp_path / "ok.csv", good)
    (tmp_path / "cols.csv").write_text("0.0,1,2,3\n")
    (tmp_path / "nan.csv").write_text("0.0,1,2,3,4,5,6\n0.1,1,2,nan,4,5,6\n")
    (tmp_path / "back.csv").write_text("0.5,1,2,3,4,5,6\n0.1,1,2,3,4,5,6\n")
    from lgrin_edge.frontend import wav

    wav.write(tmp_path / "tone.wav", np.zeros(1600, np.int16), 16000)
    cases = [
        ([*d, "--csv", str(tmp_path / "none.csv")], "motion CSV not found"),
        (["--dist", str(tmp_path), "--csv", str(tmp_path / "ok.csv")], "no manifest.json"),
        ([*d, "--csv", str(tmp_path / "cols.csv")], "line 1 has 4 columns, expected time + 6 values"),
        ([*d, "--csv", str(tmp_path / "nan.csv")], "line 2: NaN or infinity"),
        ([*d, "--csv", str(tmp_path / "back.csv")], "is before the previous one"),
        ([*d, "--wav", str(tmp_path / "tone.wav")], "not from the lgrin-speech front-end"),
        ([*d, "--csv", str(tmp_path / "ok.csv"), "--target", "tflite"], "no verified tflite artifact"),
        ([*d, "--csv", str(tmp_path / "ok.csv"), "--hop", "0.01"], "a hop of 0.01 s is less than one frame"),
        ([*d, "--csv", str(tmp_path / "ok.csv"), "--plot", str(tmp_path / "p.svg")], "must be a .png file"),
    ]
    for args, message in cases:
        _one_line(capsys, args, message)
    assert not list(tmp_path.glob("*.png")) and not list(dist.glob("live-*.png"))
    # a model whose spec lacks the frame rate (synthetic data)
    from lgrin_edge.export.__main__ import main as export

    assert (
        export(
            [
                "--checkpoint",
                str(tiny_run),
                "--target",
                "onnx",
                "--precision",
                "fp32",
                "--out",
                str(tmp_path / "synthetic"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    _one_line(
        capsys,
        ["--dist", str(tmp_path / "synthetic"), "--csv", str(tmp_path / "ok.csv")],
        "input.frame_rate_hz is 'unknown'; a stream needs",
    )


def test_a_wav_file_through_the_speech_front_end(speech_dist, tmp_path, capsys):
    from lgrin_edge.frontend import wav

    t = np.arange(int(2.5 * 8000)) / 8000  # 8 kHz: the front-end resamples it
    tone = np.where(t < 1.2, np.sin(2 * np.pi * 150 * t), np.sin(2 * np.pi * 750 * t))
    wav.write(tmp_path / "tones.wav", (0.3 * 32767 * tone).astype(np.int16), 8000)
    wav_file = str(tmp_path / "tones.wav")
    # a speech model trained on whole utterances streams utterances by default: one tone run, one decision
    code, out, err = run(capsys, "--dist", str(speech_dist), "--wav", wav_file, "--target", "onnx")
    assert code == 0, err
    assert err.startswith("model_fp32.onnx (onnx fp32): utterance, speech above -40 dB")
    assert len(out) == 1 and "2.50 s of input" in err
    # a window and hop make it a sliding stream
    slide = ["--window", "0.48", "--hop", "0.05"]
    code, out, err = run(capsys, "--dist", str(speech_dist), "--wav", wav_file, "--target", "onnx", *slide)
    assert code == 0, err
    assert err.startswith(
        "model_fp32.onnx (onnx fp32): sliding, window 0.48 s (48 frames), hop 0.05 s (5 frames)"
    )
    times = [float(line.split()[0]) for line in out]
    assert times == [round(0.48 + 0.05 * k, 2) for k in range(len(times))] and len(times) >= 38
    assert "2.50 s of input" in err and (speech_dist / "live-tones.png").is_file()


def test_mic_without_its_library_says_what_to_install(speech_dist, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # as if it were not installed
    _one_line(
        capsys,
        ["--dist", str(speech_dist), "--mic"],
        "sounddevice is not installed (pip install 'lgrin-edge[live]'); or, without Python: arecord",
    )
    _one_line(capsys, ["--dist", str(speech_dist).replace("dist", "nothing"), "--mic"], "no manifest.json")


def test_the_manifest_must_be_one(dist, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(dist, broken)
    (broken / "manifest.json").write_text(json.dumps({"artifacts": 3}))
    _one_line(capsys, ["--dist", str(broken), "--csv", str(tmp_path / "x.csv")], "not an export manifest")


def c_lines(decisions: list[dict], names: list[str]) -> list[str]:
    """The C stream's decisions as lgrin_live prints them."""
    return [
        f"{d['time_s']:.2f} {names[d['label']]} {d['probability']:.3f} {names[d['smoothed']]}"
        for d in decisions
    ]


def test_the_c_stream_prints_the_same_lines(dist, speech_dist, tmp_path, capsys):
    """lgrin_stream_* (C, through ctypes) and this command, on the same recordings: the same lines."""
    from lgrin_edge.frontend import wav
    from lgrin_edge.live.c_stream import CStream

    samples = np.load(dist / "samples.npz")
    write_csv(tmp_path / "m.csv", samples["x"][::7])
    code, out, _ = run(capsys, "--dist", str(dist), "--csv", str(tmp_path / "m.csv"), "--hop", "0.7")
    data = np.loadtxt(tmp_path / "m.csv", delimiter=",", skiprows=1)
    c = CStream(dist / "model_int8.lgrn", hop_s=0.7)
    got = [
        d for lo in range(0, len(data), 9) for d in c.push_motion(data[lo : lo + 9, 0], data[lo : lo + 9, 1:])
    ]
    names = ["badminton", "running", "standing", "walking"]
    assert code == 0 and len(out) > 20 and c_lines(got + c.flush(), names) == out
    rate = 11025
    t = np.arange(int(2.2 * rate)) / rate
    tone = np.where(t < 1.1, np.sin(2 * np.pi * 150 * t), np.sin(2 * np.pi * 750 * t))
    wav.write(tmp_path / "s.wav", (0.3 * 32767 * tone).astype(np.int16), rate)
    args = ["--window", "0.3", "--hop", "0.1", "--smooth", "2"]
    code, out, _ = run(capsys, "--dist", str(speech_dist), "--wav", str(tmp_path / "s.wav"), *args)
    c = CStream(speech_dist / "model_int8.lgrn", input_rate=rate, window_s=0.3, hop_s=0.1, smooth=2)
    pcm, _ = wav.read(tmp_path / "s.wav")
    got = [d for lo in range(0, len(pcm), 1000) for d in c.push_pcm(pcm[lo : lo + 1000])]
    assert code == 0 and len(out) == 19 and c_lines(got + c.flush(), ["low", "high"]) == out
    assert len({line.split()[1] for line in out}) == 2  # both tones recognised: the lines say something
