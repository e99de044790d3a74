"""SpeechSpec: defaults, names and units, JSON, and the one-line refusal of impossible specs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lgrin_edge.cli import UserError
from lgrin_edge.frontend.spec import DESCRIPTOR_SETS, SpeechSpec, descriptor_code


def test_default_is_the_is09_family_with_deltas():
    spec = SpeechSpec()
    assert spec.width == 32 and len(spec.names) == len(spec.units) == 32
    assert spec.names[:4] == ("rms", "zcr", "voicing", "f0") and spec.names[16] == "rms_de"
    assert spec.units[3] == "Hz" and spec.units[19] == "Hz/frame"
    assert spec.lag_range == (32, 320) and spec.pitch_fft_size == 2048 and spec.context == (-280, 680)
    assert SpeechSpec.preset("lld16+hnr").width == 34 and SpeechSpec.preset("logmel").width == 52
    assert set(DESCRIPTOR_SETS) == {"lld16", "lld16+hnr", "logmel"}


def test_json_round_trip(tmp_path):
    spec = SpeechSpec.preset("logmel", hop=80)
    path = tmp_path / "spec.json"
    path.write_text(spec.to_json())
    assert SpeechSpec.load(path) == spec
    assert json.loads(spec.to_json())["extractor"] == "lgrin-speech"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "version"),
        ({"extractor": "is09"}, "extractor"),
        ({"unknown": 1}, "unknown field"),
        ({"hop": "160"}, "wrong type"),
        ({"descriptors": ["rms", "pitch"]}, "unknown descriptor 'pitch'"),
    ],
)
def test_from_dict_refuses(change, message):
    d = SpeechSpec().to_dict() | change
    with pytest.raises(UserError, match=message):
        SpeechSpec.from_dict(d)


# Each breaks one rule of SpeechSpec.problem (lgrin_frontend_check in C refuses the same; test_native).
BAD = [
    {"fft_size": 500},
    {"fft_size": 256},
    {"hop": 0},
    {"preemphasis": 1.0},
    {"mel_high_hz": 9000.0},
    {"cepstra": 26},
    {"log_floor": 0.0},
    {"f0_min_hz": 600.0},
    {"pitch_length": 961},
    {"pitch_length": 600},
    {"voicing_threshold": 1.5},
    {"hnr_r_eps": 0.5},
    {"delta_window": 0},
    {"resample_cutoff": 0.0},
    {"resample_kaiser_beta": float("nan")},
    {"descriptors": ("rms", "rms")},
    {"descriptors": ("mfcc13",)},
    {"descriptors": ("mfcc01",)},
    {"fft_size": 64, "frame_length": 64, "hop": 32, "pitch_length": 960},  # the lowest mel bands hold no bin
]


@pytest.mark.parametrize("change", BAD)
def test_impossible_specs_are_refused_in_one_line(change):
    with pytest.raises(UserError) as info:
        dataclasses.replace(SpeechSpec(), **change)
    assert str(info.value).startswith("speech spec: ") and "\n" not in str(info.value)


def test_descriptor_codes():
    spec = SpeechSpec()
    assert descriptor_code("rms", spec) == 0x100 and descriptor_code("mfcc12", spec) == 0x60C
    assert descriptor_code("logmel26", spec) == 0x71A and descriptor_code("logmel27", spec) is None
