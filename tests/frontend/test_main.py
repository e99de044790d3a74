"""python -m lgrin_edge.frontend: a WAV file -> .npy frames; one line and exit 2 for what it refuses."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lgrin_edge.frontend import SpeechSpec, frames, wav
from lgrin_edge.frontend.__main__ import main


@pytest.fixture
def tone(tmp_path):
    t = np.arange(12345) / 22050
    x = (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    wav.write(tmp_path / "in.wav", x, 22050)
    return tmp_path / "in.wav", x


def test_writes_the_frames(tone, tmp_path, capsys):
    path, x = tone
    assert main([str(path), "--out", str(tmp_path / "f.npy")]) == 0
    got = np.load(tmp_path / "f.npy")
    assert got.dtype == np.float32 and np.array_equal(got, frames(x, 22050))
    assert f"{len(got)} frames x 32" in capsys.readouterr().err


def test_spec_file_and_descriptor_sets(tone, tmp_path, capsys):
    path, _ = tone
    assert main(["--print-spec", "--descriptors", "logmel"]) == 0
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(capsys.readouterr().out)
    assert SpeechSpec.load(spec_file) == SpeechSpec.preset("logmel")
    assert main([str(path), "--out", str(tmp_path / "f.npy"), "--spec", str(spec_file)]) == 0
    assert np.load(tmp_path / "f.npy").shape[1] == 52


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{dir}/none.wav", "--out", "{dir}/f.npy"], "audio file not found"),
        (["{wav}", "--out", "{dir}/f.txt"], "must be a .npy file"),
        (["{wav}", "--out", "{dir}/f.npy", "--spec", "{dir}/s.json", "--descriptors", "logmel"], "not both"),
        (["{wav}", "--out", "{dir}/f.npy", "--spec", "{dir}/bad.json"], "unknown field"),
        (["{odd}", "--out", "{dir}/f.npy"], "polyphase filters"),
        (["{wav}"], "name the input WAV file and --out"),
    ],
)
def test_refusals_are_one_line(tone, tmp_path, capsys, args, message):
    (tmp_path / "bad.json").write_text(json.dumps(SpeechSpec().to_dict() | {"hop_ms": 10}))
    wav.write(tmp_path / "odd.wav", np.zeros(1000, np.int16), 16001)
    args = [a.format(dir=tmp_path, wav=tone[0], odd=tmp_path / "odd.wav") for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "f.npy").exists()
