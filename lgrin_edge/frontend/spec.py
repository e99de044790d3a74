"""SpeechSpec: every parameter of the lgrin-speech front-end, JSON-serialisable and versioned.

The numpy (:mod:`.speech`) and C (``export/src/lgrin_frontend.c``) implementations read the same values;
``lgrin_frontend_default_spec()`` in C fills the defaults written here. Lengths are in samples at
``sample_rate``; other input rates are resampled first (:mod:`.resample`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lgrin_edge.cli import UserError

from .mel import triangles

EXTRACTOR = "lgrin-speech"
VERSION = 1
# Keys a dataset's extractor.params may hold beside the front-end's own: how the corpus was cut and which
# per-file columns it added (features wav-dir), not how a frame is computed; readers pass over them.
RECORD_KEYS = ("max_frames", "per_file_columns")

# Unit of each low-level descriptor (LLD); its first-order delta is "<name>_de" in "<unit>/frame".
_BASE_UNITS = {
    "rms": "full scale",  # sqrt of the frame's mean square, samples in [-1, 1]
    "zcr": "crossings/sample",
    "voicing": "1",  # normalised autocorrelation peak, 0..1
    "f0": "Hz",  # 0 when unvoiced
    "hnr": "dB",
}
MFCC_UNIT = "1"  # DCT of natural-log mel energies
LOGMEL_UNIT = "ln(power)"

IS09_FAMILY = ("rms", "zcr", "voicing", "f0", *(f"mfcc{k}" for k in range(1, 13)))
DESCRIPTOR_SETS: dict[str, tuple[str, ...]] = {
    "lld16": IS09_FAMILY,
    "lld16+hnr": (*IS09_FAMILY, "hnr"),
    "logmel": tuple(f"logmel{k}" for k in range(1, 27)),
}

MAX_DESCRIPTORS = 64  # LGRIN_FE_MAX_DESCRIPTORS in lgrin_frontend.h
MAX_FFT = 65536  # LGRIN_FE_MAX_FFT
MAX_PHASES = 1024  # LGRIN_FE_MAX_PHASES: polyphase filters of the resampler (table of MAX_PHASES x taps)


@dataclass(frozen=True)
class SpeechSpec:
    """The front-end's definition. Each field says which published definition it parameterises."""

    extractor: str = EXTRACTOR
    version: int = VERSION
    sample_rate: int = 16000  # analysis rate (Hz); other rates are resampled to it
    frame_length: int = 400  # 25 ms analysis frame
    hop: int = 160  # 10 ms
    preemphasis: float = 0.97  # y[n] = x[n] - a x[n-1] over the whole signal, x[-1] = 0 (MFCC path only)
    window: str = "hamming"  # 0.54 - 0.46 cos(2 pi n / (N - 1)), Rabiner & Schafer
    fft_size: int = 512
    mel_bands: int = 26  # triangles on the HTK mel scale 2595 log10(1 + f / 700) (Davis & Mermelstein)
    mel_low_hz: float = 20.0
    mel_high_hz: float = 8000.0
    cepstra: int = 12  # c1..c12: orthonormal DCT-II of the log mel energies (= HTK's sqrt(2/M) for k >= 1)
    lifter: float = 22.0  # HTK's sinusoidal lifter 1 + L/2 sin(pi k / L); 0 = none
    log_floor: float = 1e-10  # mel energies are floored here before the log (silence stays finite)
    # Pitch (Boersma 1993): autocorrelation of a longer Hann window of 3 periods of f0_min, centred on the
    # frame, divided by the window's own autocorrelation; parabolic interpolation of the chosen peak.
    pitch_window: str = "hann"  # 0.5 - 0.5 cos(2 pi n / (N - 1))
    pitch_length: int = 960  # 60 ms = 3 / f0_min
    f0_min_hz: float = 50.0
    f0_max_hz: float = 500.0
    voicing_threshold: float = 0.45  # voiced when the peak's r >= this (Boersma's default)
    octave_cost: float = 0.01  # peak strength r(tau) - cost log2(f0_min tau / rate): favours the shorter lag
    silence_rms: float = 1e-5  # windowed RMS (full scale) below which a frame is silent: voicing 0, F0 0
    hnr_r_eps: float = 1e-6  # HNR = 10 log10(r / (1 - r)) with r clipped to [eps, 1 - eps]
    delta_window: int = 2  # HTK delta regression, edges replicate the first/last frame
    # Other input rates: windowed-sinc polyphase FIR (Kaiser window), unity DC gain.
    resample_zero_crossings: int = 16  # sinc half-length, in samples of the lower of the two rates
    resample_cutoff: float = 0.9  # -6 dB point, as a fraction of the lower rate's Nyquist frequency
    resample_kaiser_beta: float = 8.0
    descriptors: tuple[str, ...] = IS09_FAMILY

    def __post_init__(self) -> None:
        object.__setattr__(self, "descriptors", tuple(self.descriptors))
        problem = self.problem()
        if problem:
            raise UserError(f"speech spec: {problem}")

    # -- derived geometry (the C library derives the same in lgrin_frontend_init) -----------------

    @property
    def lag_range(self) -> tuple[int, int]:
        """(shortest, longest) autocorrelation lag searched: ceil(rate / f0_max), floor(rate / f0_min)."""
        return math.ceil(self.sample_rate / self.f0_max_hz), math.floor(self.sample_rate / self.f0_min_hz)

    @property
    def pitch_fft_size(self) -> int:
        """Power of two >= pitch_length + longest lag + 2, so lags up to longest + 1 do not wrap."""
        return _pow2_at_least(self.pitch_length + self.lag_range[1] + 2)

    @property
    def pitch_offset(self) -> int:
        """Start of the pitch window relative to the frame's first sample (both share a centre)."""
        return -((self.pitch_length - self.frame_length) // 2)

    @property
    def context(self) -> tuple[int, int]:
        """Samples [first + lo, first + hi) a frame reads, relative to its first sample: one before it for
        the pre-emphasis, and the pitch window around it."""
        return min(-1, self.pitch_offset), max(self.frame_length, self.pitch_offset + self.pitch_length)

    @property
    def needs_pitch(self) -> bool:
        return any(d in ("voicing", "f0", "hnr") for d in self.descriptors)

    @property
    def names(self) -> tuple[str, ...]:
        """Column names of a frame: the descriptors, then their deltas."""
        return (*self.descriptors, *(f"{d}_de" for d in self.descriptors))

    @property
    def units(self) -> tuple[str, ...]:
        base = tuple(descriptor_unit(d) for d in self.descriptors)
        return (*base, *(f"{u}/frame" for u in base))

    @property
    def width(self) -> int:
        """P, values per frame."""
        return 2 * len(self.descriptors)

    # -- JSON ------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["descriptors"] = list(self.descriptors)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpeechSpec:
        if not isinstance(d, dict):
            raise UserError("speech spec: expected a JSON object")
        if d.get("extractor") != EXTRACTOR or d.get("version") != VERSION:
            raise UserError(
                f"speech spec: extractor {d.get('extractor')!r} version {d.get('version')!r} is not "
                f"{EXTRACTOR!r} version {VERSION}"
            )
        fields = {f.name: f for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k not in RECORD_KEYS}
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise UserError(f"speech spec: unknown field(s) {', '.join(unknown)}")
        for name, value in d.items():
            want = fields[name].type
            ok = {
                "int": isinstance(value, int) and not isinstance(value, bool),
                "float": isinstance(value, (int, float)) and not isinstance(value, bool),
                "str": isinstance(value, str),
            }.get(str(want), isinstance(value, list) and all(isinstance(v, str) for v in value))
            if not ok:
                raise UserError(f"speech spec: field {name!r} has the wrong type ({type(value).__name__})")
        return cls(**{k: (float(v) if fields[k].type == "float" else v) for k, v in d.items()})

    @classmethod
    def load(cls, path: str | Path) -> SpeechSpec:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"speech spec file not found: {path}") from None
        except IsADirectoryError:
            raise UserError(f"{path} is a folder; --spec takes a JSON file") from None
        try:
            d = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: not a JSON speech spec ({exc})") from None
        return cls.from_dict(d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    # -- validation (derive() in lgrin_frontend.c checks the same) ----------------------------------------

    def problem(self) -> str:
        """What makes this spec impossible, or ''."""
        return self._framing_problem() or self._pitch_problem() or self._descriptor_problem()

    def _framing_problem(self) -> str:
        """The extractor, windows, rates, framing and mel bands."""
        if self.extractor != EXTRACTOR or self.version != VERSION:
            return (
                f"extractor {self.extractor!r} version {self.version} is not {EXTRACTOR!r} version {VERSION}"
            )
        if self.window != "hamming" or self.pitch_window != "hann":
            return "version 1 has window 'hamming' and pitch_window 'hann' only"
        reals = [f.name for f in dataclasses.fields(self) if f.type == "float"]
        if not all(math.isfinite(getattr(self, name)) for name in reals):
            return "every number must be finite"
        if not 1000 <= self.sample_rate <= 192000:
            return f"sample_rate {self.sample_rate} Hz outside 1000..192000"
        if not 2 <= self.frame_length <= self.fft_size <= MAX_FFT or self.fft_size & (self.fft_size - 1):
            return (
                f"need 2 <= frame_length ({self.frame_length}) <= fft_size ({self.fft_size}) <= {MAX_FFT}, "
                "fft_size a power of two"
            )
        if not 1 <= self.hop <= self.frame_length:
            return f"hop {self.hop} must be 1..frame_length"
        if not 0 <= self.preemphasis < 1:
            return f"preemphasis {self.preemphasis} must be in [0, 1)"
        if not 0 <= self.mel_low_hz < self.mel_high_hz <= self.sample_rate / 2:
            return f"need 0 <= mel_low_hz < mel_high_hz <= {self.sample_rate / 2} (Nyquist)"
        if not 2 <= self.mel_bands <= 128 or not 1 <= self.cepstra < self.mel_bands:
            return (
                f"need 2 <= mel_bands ({self.mel_bands}) <= 128 and 1 <= cepstra ({self.cepstra}) < mel_bands"
            )
        return ""

    def _pitch_problem(self) -> str:
        """The cepstra's lifter, the pitch and voicing settings, deltas and resampling."""
        if self.lifter < 0 or self.log_floor <= 0:
            return "lifter must be >= 0 and log_floor > 0"
        tmin, tmax = (0, 0) if self.f0_min_hz <= 0 or self.f0_max_hz <= 0 else self.lag_range
        if not 0 < self.f0_min_hz < self.f0_max_hz or not 2 <= tmin < tmax:
            return f"need 0 < f0_min_hz < f0_max_hz <= sample_rate / 2 (lags {tmin}..{tmax})"
        if self.pitch_length < self.frame_length or (self.pitch_length - self.frame_length) % 2:
            return "pitch_length must be >= frame_length and differ from it by an even number"
        if 2 * (tmax + 1) > self.pitch_length or self.pitch_fft_size > MAX_FFT:
            return f"pitch_length {self.pitch_length} must hold two periods of f0_min (>= {2 * (tmax + 1)})"
        if not 0 <= self.voicing_threshold <= 1 or self.octave_cost < 0 or self.silence_rms < 0:
            return "need 0 <= voicing_threshold <= 1, octave_cost >= 0, silence_rms >= 0"
        if not 0 < self.hnr_r_eps < 0.5:
            return "hnr_r_eps must be in (0, 0.5)"
        if not 1 <= self.delta_window <= 8:
            return f"delta_window {self.delta_window} must be 1..8"
        if not 1 <= self.resample_zero_crossings <= 64 or not 0 < self.resample_cutoff <= 1:
            return "need 1 <= resample_zero_crossings <= 64 and 0 < resample_cutoff <= 1"
        if not 0 <= self.resample_kaiser_beta <= 30:
            return "resample_kaiser_beta must be in [0, 30]"
        return ""

    def _descriptor_problem(self) -> str:
        """The descriptor names and the mel bands they read."""
        count = len(self.descriptors)
        if not 1 <= count <= MAX_DESCRIPTORS or len(set(self.descriptors)) != count:
            return f"descriptors: 1..{MAX_DESCRIPTORS} names, no repeats"
        for d in self.descriptors:
            if descriptor_code(d, self) is None:
                return (
                    f"unknown descriptor {d!r} (rms, zcr, voicing, f0, hnr, mfcc1..mfcc{self.cepstra}, "
                    f"logmel1..logmel{self.mel_bands})"
                )
        mel = triangles(self.sample_rate, self.fft_size, self.mel_bands, self.mel_low_hz, self.mel_high_hz)
        empty = np.flatnonzero(~mel.any(axis=0))
        if len(empty):
            return f"mel band {empty[0] + 1} holds no FFT bin; use a larger fft_size or fewer mel_bands"
        return ""

    @classmethod
    def preset(cls, name: str, **changes: Any) -> SpeechSpec:
        """The default spec with one of :data:`DESCRIPTOR_SETS`."""
        if name not in DESCRIPTOR_SETS:
            raise UserError(f"unknown descriptor set {name!r}: use one of {', '.join(DESCRIPTOR_SETS)}")
        return cls(descriptors=DESCRIPTOR_SETS[name], **changes)


# Descriptor codes shared with C (LGRIN_FE_DESC(kind, index) in lgrin_frontend.h): kind << 8 | index.
KINDS = {"rms": 1, "zcr": 2, "voicing": 3, "f0": 4, "hnr": 5, "mfcc": 6, "logmel": 7}


def descriptor_code(name: str, spec: SpeechSpec) -> int | None:
    """The C code of descriptor ``name`` under ``spec``, or None when it names nothing."""
    if name in _BASE_UNITS:
        return KINDS[name] << 8
    for kind, limit in (("mfcc", spec.cepstra), ("logmel", spec.mel_bands)):
        index = name[len(kind) :]
        if name.startswith(kind) and index.isdigit() and index[0] != "0" and int(index) <= limit:
            return KINDS[kind] << 8 | int(index)
    return None


def descriptor_unit(name: str) -> str:
    if name in _BASE_UNITS:
        return _BASE_UNITS[name]
    return MFCC_UNIT if name.startswith("mfcc") else LOGMEL_UNIT


def _pow2_at_least(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())
