"""The WAV reader: the encodings it takes, the first channel, and one line for what it refuses."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from lgrin_edge.cli import UserError
from lgrin_edge.frontend import wav


def _riff(fmt: bytes, data: bytes, extra: bytes = b"") -> bytes:
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + extra
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_round_trip(tmp_path, dtype):
    x = (np.random.default_rng(0).uniform(-0.5, 0.5, 1001) * (32767 if dtype == np.int16 else 1)).astype(
        dtype
    )
    wav.write(tmp_path / "a.wav", x, 22050)
    got, rate = wav.read(tmp_path / "a.wav")
    assert rate == 22050 and got.dtype == dtype and np.array_equal(got, x)


def test_first_channel_of_extensible_stereo_after_another_chunk():
    left, right = np.arange(-5, 5, dtype=np.int16), np.full(10, 7, np.int16)
    fmt = struct.pack("<HHIIHHHHIH14s", 0xFFFE, 2, 8000, 32000, 4, 16, 22, 16, 3, 1, b"\0" * 14)
    odd = b"LIST" + struct.pack("<I", 3) + b"abc" + b"\0"  # an odd-sized chunk and its pad byte
    samples, rate = wav.parse(_riff(fmt, np.stack([left, right], 1).astype("<i2").tobytes(), odd))
    assert rate == 8000 and np.array_equal(samples, left)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"RIFX0000WAVE", "not a WAV file"),
        (_riff(struct.pack("<HHIIHH", 1, 1, 16000, 48000, 3, 24), b"\0" * 6), "24-bit integer PCM"),
        (
            _riff(struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16), b"\0" * 5),
            "whole number of 2-byte frames",
        ),
        (_riff(struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16), b"\0" * 8)[:-4], "truncated"),
        (b"RIFF\4\0\0\0WAVE", "no fmt  chunk"),
    ],
)
def test_refusals(data, message):
    with pytest.raises(UserError, match=message):
        wav.parse(data)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(UserError, match="not found"):
        wav.read(tmp_path / "none.wav")
    with pytest.raises(UserError, match="is a folder"):
        wav.read(tmp_path)
