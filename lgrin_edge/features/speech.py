"""Speech: wav -> Interspeech 2009 emotion-challenge LLDs (opensmile's bundled ``IS09_emotion.conf``).

Per 25 ms frame (10 ms hop) the config yields 16 LLDs, each smoothed by a 3-frame moving average
(``*_sma``): RMS energy, MFCC 1-12, zero-crossing rate, voicing probability, F0; and their 16 first-order
delta-regression coefficients (``*_sma_de``, window 2) computed on the smoothed contours. This matches the
paper's description (Sec. IV-B). Frame t of both streams is centred on the same audio frame; opensmile's
delta level emits extra end-of-input frames, so both streams are cut to the LLD stream's length.

openSMILE is under audEERING's research licence, which also covers the features it extracts and models
trained on them (docs/licences.md); the first extractor built in a process says so on stderr.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from typing import Any

import numpy as np

from lgrin_edge.spec import UNKNOWN, FeatureSpec, Named

from .common import FeatureError, check_input_file, require

N_LLD = 16
FRAME_SIZE_S = 0.025
HOP_S = 0.010
# Units openSMILE documents for its LLDs (F0 in Hz, 0 when unvoiced; the voicing probability in 0..1);
# the others' scale is not published. A delta's unit is its LLD's per frame.
_UNITS = {"F0_sma": "Hz", "voiceProb_sma": "1"}
# Lines of the config that wire components together rather than set what they compute.
_WIRING = ("reader.", "writer.", "copyInputName", "nameAppend", "processArrayFields", "\\{", "instance[")
# "warning:" like the project's other notices, so a refused command still shows one error line.
LICENCE_NOTE = (
    "warning: openSMILE features are under audEERING's research licence, which forbids use in a product "
    "(models and features included) without a commercial licence; see docs/licences.md"
)


def is09_config_path() -> str:
    """Path of ``IS09_emotion.conf`` inside the installed opensmile package."""
    opensmile = require("opensmile")
    path = os.path.join(os.path.dirname(opensmile.__file__), "core", "config", "is09-13", "IS09_emotion.conf")
    if not os.path.isfile(path):
        raise FeatureError(f"opensmile {opensmile.__version__} does not ship IS09_emotion.conf at {path}")
    return path


@functools.cache
def _licence_note() -> None:
    """Print :data:`LICENCE_NOTE` to stderr, once per process."""
    print(LICENCE_NOTE, file=sys.stderr)


@functools.cache
def _smile(level: str) -> Any:
    # Building a Smile instance parses the config (~0.1 s): reuse one per level for the whole run.
    opensmile = require("opensmile")
    _licence_note()
    return opensmile.Smile(feature_set=is09_config_path(), feature_level=level)


def speech_config() -> dict[str, Any]:
    """Everything that changes :func:`is09_frames`' output, for the feature cache key."""
    opensmile = require("opensmile")
    with open(is09_config_path(), "rb") as fh:
        conf_hash = hashlib.sha256(fh.read()).hexdigest()[:16]
    return {"extractor": "is09_lld+de", "opensmile": opensmile.__version__, "conf": conf_hash, "v": 1}


def is09_parameters() -> dict[str, dict[str, str]]:
    """Every setting of the components that compute the LLDs and deltas (``IS09_emotion_core.lld.conf.inc``
    of the installed opensmile), by ``component (type)``: framing, pre-emphasis, window, FFT, mel bands,
    MFCC, pitch, energy, zero-crossings, smoothing, delta regression."""
    path = os.path.join(os.path.dirname(is09_config_path()), "IS09_emotion_core.lld.conf.inc")
    params: dict[str, dict[str, str]] = {}
    section = None
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.split(";")[0].split("//")[0].strip()
            if line.startswith("[") and ":" in line and not line.startswith("[componentInstances"):
                name, kind = line.strip("[]").split(":", 1)
                section = params.setdefault(f"{name} ({kind})", {})
            elif section is not None and "=" in line and not line.startswith(_WIRING):
                key, value = (part.strip() for part in line.split("=", 1))
                section[key] = value
    return params


def feature_spec(names: list[str], sample_rates: set[int]) -> FeatureSpec:
    """The spec of :func:`is09_frames` output (columns ``names``) for audio files of ``sample_rates``."""
    opensmile = require("opensmile")
    with open(is09_config_path(), "rb") as fh:
        conf_hash = hashlib.sha256(fh.read()).hexdigest()

    def unit(name: str) -> str:
        base = _UNITS.get(name.removesuffix("_de"), UNKNOWN)
        return f"{base}/frame" if name.endswith("_de") and base != UNKNOWN else base

    rate = next(iter(sample_rates)) if len(sample_rates) == 1 else UNKNOWN
    return FeatureSpec(
        extractor_id="opensmile-is09",
        extractor_version=f"opensmile {opensmile.__version__}",
        params={
            "config": "IS09_emotion.conf",
            "config_sha256": conf_hash,
            "frame_length_s": FRAME_SIZE_S,
            "hop_s": HOP_S,
            "lld": "16 LLDs, each smoothed by a 3-frame moving average (_sma)",
            "deltas": "first-order delta regression of each smoothed LLD, window 2 (_de)",
            "audio": "frames at the file's own sample rate; several channels are averaged",
            "input_sample_rates_hz": sorted(sample_rates),
            "components": is09_parameters(),
        },
        features=tuple(Named(n, unit(n)) for n in names),
        input_kind="audio",
        sample_rate_hz=rate,
        channels=(Named("mono", "full scale"),),  # soundfile's float samples in [-1, 1]
        frame_rate_hz=1 / HOP_S,
    )


def sample_rate(path: str) -> int:
    """The sample rate in the audio file's header."""
    return int(require("soundfile").info(path).samplerate)


def feature_names(spontaneity: bool = False) -> list[str]:
    """Column names of :func:`is09_frames` output (plus the spontaneity flag when requested)."""
    lld = list(_smile("lld").feature_names)
    de = list(_smile("lld_de").feature_names)
    return lld + de + (["spontaneity"] if spontaneity else [])


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32; multi-channel audio is averaged over channels."""
    check_input_file(path)
    sf = require("soundfile")
    try:
        signal, sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises its own error types for corrupt or unknown formats
        raise FeatureError(f"unreadable audio file {path}: {exc}") from exc
    if signal.shape[0] == 0:
        raise FeatureError(f"empty audio (0 samples): {path}")
    if not np.isfinite(signal).all():
        raise FeatureError(
            f"audio holds NaN/Inf samples ({int((~np.isfinite(signal)).sum())} of them): {path}"
        )
    return signal.mean(axis=1), int(sr)


def is09_frames(path: str) -> np.ndarray:
    """(T, 32) float32 IS09 frames of one audio file: 16 smoothed LLDs then their 16 deltas."""
    signal, sr = read_wav(path)
    if signal.shape[0] < int(FRAME_SIZE_S * sr):
        raise FeatureError(f"audio shorter than one 25 ms frame ({signal.shape[0]} samples): {path}")
    lld = _smile("lld").process_signal(signal, sr).to_numpy(dtype=np.float32)
    de = _smile("lld_de").process_signal(signal, sr).to_numpy(dtype=np.float32)
    if lld.shape[1] != N_LLD or de.shape[1] != N_LLD:
        raise FeatureError(f"unexpected IS09 output widths {lld.shape[1]}+{de.shape[1]} for {path}")
    n = min(len(lld), len(de))
    if n == 0:
        raise FeatureError(f"opensmile produced no frames for {path}")
    return np.ascontiguousarray(np.concatenate([lld[:n], de[:n]], axis=1))


# The speech extractors: lgrin-speech (lgrin_edge.frontend, Apache-2.0, the same arithmetic in C on the
# device) by default; openSMILE's IS09 configuration for research (its licence forbids use in a product).
EXTRACTORS = ("lgrin-speech", "opensmile-is09")
DEFAULT_EXTRACTOR = "lgrin-speech"
# The packages each extractor imports: lgrin-speech reads WAV files itself (soundfile only for others).
EXTRACTOR_PACKAGES = {"lgrin-speech": (), "opensmile-is09": ("opensmile", "soundfile")}


def first_channel(path: str) -> tuple[np.ndarray, int]:
    """The first channel of an audio file and its sample rate, as the C tool lgrin_frontend reads it:
    WAV (16-bit PCM or 32-bit float) directly, other formats through soundfile."""
    from lgrin_edge.cli import UserError
    from lgrin_edge.frontend import wav

    check_input_file(path)
    if not path.lower().endswith(".wav"):
        sf = require("soundfile")
        try:
            signal, rate = sf.read(path, dtype="float32", always_2d=True)
        except Exception as exc:  # soundfile raises its own error types for corrupt or unknown formats
            raise FeatureError(f"unreadable audio file {path}: {exc}") from exc
        return signal[:, 0], int(rate)
    try:
        return wav.read(path)
    except UserError as exc:
        raise FeatureError(f"unreadable audio file {path}: {exc}") from exc


def lgrin_frames(path: str) -> np.ndarray:
    """(T, P) float32 frames of one audio file by the lgrin-speech front-end (its default spec)."""
    from lgrin_edge.cli import UserError
    from lgrin_edge.frontend import SpeechSpec, frames

    signal, rate = first_channel(path)
    if signal.shape[0] == 0:
        raise FeatureError(f"empty audio (0 samples): {path}")
    if not np.isfinite(signal).all():
        raise FeatureError(
            f"audio holds NaN/Inf samples ({int((~np.isfinite(signal)).sum())} of them): {path}"
        )
    try:
        out = frames(signal, rate, SpeechSpec())
    except UserError as exc:  # a sample rate it cannot resample from
        raise FeatureError(f"{path}: {exc}") from exc
    if out.shape[0] == 0:
        raise FeatureError(f"audio shorter than one 25 ms frame ({signal.shape[0]} samples): {path}")
    return out


def lgrin_config() -> dict[str, Any]:
    """Everything that changes :func:`lgrin_frames`' output, for the feature cache key."""
    from lgrin_edge.frontend import SpeechSpec

    return {"extractor": "lgrin-speech", "spec": SpeechSpec().to_dict()}


def lgrin_names(spontaneity: bool = False) -> list[str]:
    """Column names of :func:`lgrin_frames` output (plus the spontaneity flag when requested)."""
    from lgrin_edge.frontend import SpeechSpec

    return list(SpeechSpec().names) + (["spontaneity"] if spontaneity else [])


def with_static(frames: np.ndarray, static: tuple[float, ...]) -> np.ndarray:
    """Append per-file constant columns (e.g. the spontaneity flag) to every frame."""
    if not static:
        return frames
    cols = np.broadcast_to(np.asarray(static, dtype=np.float32), (frames.shape[0], len(static)))
    return np.concatenate([frames, cols], axis=1)
