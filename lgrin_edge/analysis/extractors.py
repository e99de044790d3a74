"""lgrin-speech against openSMILE's IS09 features on one synthetic corpus (docs/extractors.md): how far
each descriptor of the one is from the other's on the same audio, and the accuracy of the same L-GrIN
recipe trained on each.

The corpus is a stand-in, made here by espeak-ng: generated sentences in 4 speaking styles (pitch, rate
and amplitude, each jittered per utterance) by several voices ("speakers"), mostly at 16 kHz, some at
22.05 and 44.1 kHz. --out receives corpus/ (the WAV files), is09.npz and lgrin-speech.npz (the
npz dataset format, speakers as groups), runs/ (one `python -m lgrin_edge.train` run per extractor and
seed, with its log) and extractors.md / extractors.json (the results). openSMILE's features are under
its research licence, which a measurement like this one may use.

Example: python -m lgrin_edge.analysis.extractors --out runs/extractors
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from lgrin_edge import __version__
from lgrin_edge.atomic import check_folder_target, exclusive, staged_folder, write_bytes, write_json
from lgrin_edge.cli import Parser, UserError, at_least, run
from lgrin_edge.measure.threads import cpu_description
from lgrin_edge.optional import first_missing

# -- the corpus --------------------------------------------------------------------------------------

CORPUS_SEED = 20250  # the corpus is the same for every training seed
# Speaking styles: espeak-ng's pitch (-p, 0-99), rate (-s, words per minute) and amplitude (-a).
STYLES: dict[str, tuple[int, int, int]] = {
    "neutral": (50, 160, 100),
    "high-fast": (75, 215, 100),
    "low-slow": (28, 120, 90),
    "loud-fast": (55, 195, 170),
}
JITTER = (8, 15, 12)  # +- uniform per utterance, same units
# Speakers: a language voice with a voice variant (espeak-ng's male m1..m7, female f1..f5).
SPEAKERS = (
    "en+m1", "en+f2", "en-us+m3", "en-us+f1", "en-gb-scotland+m4", "en-gb-x-rp+f3", "en-029+m2",
    "de+m5", "fr+f4", "es+m6", "nl+f5", "it+m7", "pt+f1", "pl+m3", "sv+f2", "en-us+m6",
)  # fmt: skip
ESPEAK_RATE = 22050  # espeak-ng's own output rate
RATES = ((16000, 0.8), (22050, 0.1), (44100, 0.1))  # (file rate, share of utterances)
NOISE_DBFS = -60.0  # white noise added to every file: recordings have no runs of exact zeros
SPOKEN_S = (0.6, 2.2)  # seconds of speech asked of a sentence (espeak-ng adds its pauses)

DETERMINERS = ("the", "a", "my", "your", "this", "that", "one", "every")
ADJECTIVES = (
    "small", "green", "quiet", "heavy", "bright", "old", "cold", "narrow", "careful", "sudden", "wooden",
    "gentle", "distant", "yellow", "broken", "early", "busy", "silver", "empty", "famous",
)  # fmt: skip
NOUNS = (
    "river", "window", "teacher", "garden", "letter", "engine", "village", "doctor", "basket", "mountain",
    "candle", "market", "kitten", "harbour", "ladder", "pencil", "stranger", "bridge", "orchard", "lamp",
    "violin", "sailor", "meadow", "tunnel",
)  # fmt: skip
VERBS = (
    "carried", "found", "painted", "followed", "opened", "watched", "moved", "cleaned", "visited",
    "borrowed", "noticed", "repaired", "passed", "remembered", "covered", "lifted",
)  # fmt: skip
ADVERBS = ("slowly", "again", "today", "quickly", "yesterday", "twice", "at night", "in silence")
PREPOSITIONS = ("near", "behind", "under", "beside", "across", "inside", "beyond", "around")


@dataclass(frozen=True)
class Utterance:
    """One file of the corpus: what it says, who says it, how, and at which rate it is stored."""

    file: str  # relative to the corpus folder
    style: str
    speaker: int
    voice: str
    text: str
    pitch: int
    speed: int
    amplitude: int
    rate: int


def sentence(rng: np.random.Generator, words: int) -> str:
    """A sentence of about ``words`` words (3 at least): subject and verb, then an object and phrases
    until long enough."""

    def noun_phrase() -> list[str]:
        adjective = [str(rng.choice(ADJECTIVES))] if rng.random() < 0.6 else []
        return [str(rng.choice(DETERMINERS)), *adjective, str(rng.choice(NOUNS))]

    out = [*noun_phrase(), str(rng.choice(VERBS))]
    if len(out) < words:
        out += noun_phrase()
    while len(out) < words:
        if rng.random() < 0.7:
            out += [str(rng.choice(PREPOSITIONS)), *noun_phrase()]
        else:
            out += str(rng.choice(ADVERBS)).split()
    return " ".join(out)


def plan(speakers: int, utterances: int) -> list[Utterance]:
    """The corpus: ``utterances`` files spread evenly over ``speakers`` x the styles (round robin), each
    with its own sentence, jittered prosody and file rate."""
    rng = np.random.default_rng(CORPUS_SEED)
    cells = [(s, style) for s in range(speakers) for style in STYLES]
    rates, shares = zip(*RATES, strict=True)
    out = []
    for i in range(utterances):
        speaker, style = cells[i % len(cells)]
        base = STYLES[style]
        pitch, speed, amplitude = (
            int(v + rng.integers(-j, j + 1)) for v, j in zip(base, JITTER, strict=True)
        )
        words = int(np.clip(round(rng.uniform(*SPOKEN_S) * speed / 60), 2, 12))
        rate = int(rng.choice(rates, p=shares))
        out.append(
            Utterance(
                f"{speaker:02d}-{style}-{i:04d}.wav", style, speaker, SPEAKERS[speaker],
                sentence(rng, words), pitch, speed, amplitude, rate,
            )
        )  # fmt: skip
    return out


def render(u: Utterance, folder: Path, rng: np.random.Generator) -> float:
    """Speak ``u`` with espeak-ng into ``folder / u.file`` (16-bit PCM at ``u.rate``, with the noise
    floor); returns its duration in seconds."""
    import soundfile as sf
    from scipy.signal import resample_poly

    raw = folder / f".{u.file}.espeak.wav"
    cmd = ["espeak-ng", "-v", u.voice, "-p", str(u.pitch), "-s", str(u.speed), "-a", str(u.amplitude)]
    done = subprocess.run([*cmd, "-w", str(raw), u.text], capture_output=True, text=True)
    if done.returncode != 0 or not raw.is_file():
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise UserError(f"espeak-ng could not speak with voice {u.voice}: {why}")
    x, rate = sf.read(raw, dtype="float64")
    raw.unlink()
    if rate != ESPEAK_RATE:
        raise UserError(f"espeak-ng wrote {rate} Hz audio, expected {ESPEAK_RATE} Hz")
    # Resampled by scipy's polyphase filter, which neither extractor uses.
    g = np.gcd(u.rate, rate)
    y = resample_poly(x, u.rate // g, rate // g) if u.rate != rate else x
    y = y + rng.normal(0.0, 10 ** (NOISE_DBFS / 20), len(y))
    sf.write(folder / u.file, np.clip(y, -1.0, 32767 / 32768), u.rate, subtype="PCM_16")
    return len(y) / u.rate


# -- features ----------------------------------------------------------------------------------------

# IS09 column of each lgrin-speech descriptor (opensmile's names for IS09_emotion.conf).
IS09_OF = {
    "rms": "pcm_RMSenergy_sma",
    "zcr": "pcm_zcr_sma",
    "voicing": "voiceProb_sma",
    "f0": "F0_sma",
    **{f"mfcc{k}": f"pcm_fftMag_mfcc_sma[{k}]" for k in range(1, 13)},
}
SAME_OCTAVE = 0.3  # |log2(ours / IS09)| below this: the same F0, not another harmonic or subharmonic
LOW_F0_HZ = 150.0  # F0 below this: fewer than 4 periods in a 25 ms frame
EDGE = 2  # frames left out at each end of a file: edge handling of smoothing and deltas is not compared


@dataclass
class Features:
    """Both extractors' frames of every file, in the corpus order."""

    is09: list[np.ndarray]
    ours: list[np.ndarray]
    is09_names: list[str]
    ours_names: list[str]


def extract(folder: Path, corpus: list[Utterance], log: Callable[[str], None]) -> Features:
    """IS09 frames (opensmile) and lgrin-speech frames (numpy) of every file."""
    from lgrin_edge.features import speech
    from lgrin_edge.frontend import SpeechSpec, frames

    spec = SpeechSpec()
    out = Features([], [], speech.feature_names(), list(spec.names))
    step = max(1, len(corpus) // 10)
    for i, u in enumerate(corpus):
        path = str(folder / u.file)
        signal, rate = speech.read_wav(path)
        out.is09.append(speech.is09_frames(path))
        out.ours.append(frames(signal, rate, spec))
        if (i + 1) % step == 0 or i + 1 == len(corpus):
            log(f"  extracted {i + 1}/{len(corpus)} files")
    return out


def smooth(lld: np.ndarray) -> np.ndarray:
    """The centred 3-frame moving average of every column (IS09's smaWin = 3); the ends average the
    frames they have."""
    padded = np.concatenate([np.zeros((1, lld.shape[1])), lld, np.zeros((1, lld.shape[1]))])
    count = np.convolve(np.ones(len(lld)), np.ones(3), "same")[:, None]
    return (padded[:-2] + padded[1:-1] + padded[2:]) / count


def smoothed_frames(ours: np.ndarray, lld: int) -> np.ndarray:
    """Our frames as IS09 makes its own: LLDs smoothed, deltas recomputed on the smoothed contours."""
    from lgrin_edge.frontend.speech import deltas

    s = smooth(ours[:, :lld].astype(np.float64))
    w = 2  # IS09's deltawin, also SpeechSpec's delta_window
    padded = np.concatenate([np.repeat(s[:1], w, axis=0), s, np.repeat(s[-1:], w, axis=0)])
    return np.concatenate([s, deltas(padded, w)], axis=1)


# -- agreement ------------------------------------------------------------------------------------------


def agreement(ours: np.ndarray, ref: np.ndarray) -> dict[str, float | int | None]:
    """Pearson r, RMSE / std(ref), and the least-squares scale a of ours ~ a ref + b, over paired values."""
    if len(ref) < 3 or np.std(ref) == 0 or np.std(ours) == 0:
        return {"r": None, "rel_rmse": None, "scale": None, "frames": len(ref)}
    sd = float(np.std(ref))
    return {
        "r": float(np.corrcoef(ours, ref)[0, 1]),
        "rel_rmse": float(np.sqrt(np.mean((ours - ref) ** 2)) / sd),
        "scale": float(np.cov(ours, ref)[0, 1] / np.var(ref, ddof=1)),
        "frames": len(ref),
    }


@dataclass
class _Paired:
    """Paired frames of one group of files, the edges cut: IS09's, ours smoothed, ours as they are."""

    ref: np.ndarray
    smoothed: np.ndarray
    raw: np.ndarray
    interior: np.ndarray  # both call this frame and the two either side voiced (F0 away from boundaries)
    file: np.ndarray  # the corpus index of each frame's file


def _pair(feats: Features, keep: list[int]) -> _Paired:
    cols = [feats.is09_names.index(IS09_OF[d]) for d in feats.ours_names[:16]]
    cols += [feats.is09_names.index(IS09_OF[d].replace("_sma", "_sma_de")) for d in feats.ours_names[:16]]
    f0 = feats.ours_names.index("f0")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("ref", "smoothed", "raw", "interior", "file")}
    for i in keep:
        a, b = feats.is09[i], feats.ours[i]
        n = min(len(a), len(b))
        if n <= 2 * EDGE:
            continue
        ref, sm = a[:n, cols].astype(np.float64), smoothed_frames(b, 16)[:n]
        voiced = (ref[:, f0] > 0) & (sm[:, f0] > 0)
        run = np.convolve(voiced.astype(int), np.ones(2 * EDGE + 1, int), "same") == 2 * EDGE + 1
        cut = slice(EDGE, n - EDGE)
        for key, value in (
            ("ref", ref),
            ("smoothed", sm),
            ("raw", b[:n].astype(np.float64)),
            ("interior", run),
            ("file", np.full(n, i)),
        ):
            parts[key].append(value[cut])
    return _Paired(*(np.concatenate(parts[k]) for k in ("ref", "smoothed", "raw", "interior", "file")))


def compare(feats: Features, rates: list[int], voices: list[str]) -> dict[str, Any]:
    """Per descriptor: agreement of ours (smoothed as IS09 smooths, and as they are) with IS09's, on the
    16 kHz files and on the others; F0 where both call a frame voiced; a lag scan of ZCR for the
    alignment."""
    names = feats.ours_names[:16]
    f0 = names.index("f0")
    groups = {
        "16k": [i for i, r in enumerate(rates) if r == 16000],
        "other": [i for i, r in enumerate(rates) if r != 16000],
    }
    out: dict[str, Any] = {"descriptors": names, "edge_frames_left_out": EDGE}
    for label, keep in groups.items():
        if not keep:
            out[label] = None
            continue
        p = _pair(feats, keep)
        voiced = (p.ref[:, f0] > 0) & (p.smoothed[:, f0] > 0)
        rows = {}
        for j, d in enumerate(names):
            mask = voiced if d == "f0" else slice(None)
            dmask = p.interior if d == "f0" else slice(None)
            rows[d] = {
                "smoothed": agreement(p.smoothed[mask, j], p.ref[mask, j]),
                "raw": agreement(p.raw[mask, j], p.ref[mask, j]),
                "delta": agreement(p.smoothed[dmask, 16 + j], p.ref[dmask, 16 + j]),
                "delta_raw": agreement(p.raw[dmask, 16 + j], p.ref[dmask, 16 + j]),
            }
        out[label] = {
            "files": len(keep),
            "frames": len(p.ref),
            "rows": rows,
            "f0": _f0_stats(p, f0, voices),
        }
    out["zcr_lag_scan"] = _lag_scan(feats, groups["16k"] or groups["other"], names.index("zcr"))
    return out


def _f0_stats(p: _Paired, f0: int, voices: list[str]) -> dict[str, Any]:
    """Where the two F0 tracks part: the voicing decisions, octave jumps away from voicing boundaries,
    how often IS09 finds voicing where ours finds a low or a higher F0, and all that per voice."""
    ref, ours, raw, inner = p.ref[:, f0], p.smoothed[:, f0], p.raw[:, f0], p.interior
    octaves = np.log2(ours[inner] / ref[inner])
    same = np.abs(octaves) < SAME_OCTAVE
    low, high = (raw > 0) & (raw < LOW_F0_HZ), raw >= LOW_F0_HZ

    def share(mask: np.ndarray) -> float | None:
        return float(np.mean(mask)) if len(mask) else None

    def median(values: np.ndarray) -> float | None:
        return float(np.median(values)) if len(values) else None

    per_voice = {}
    for voice in sorted(set(voices)):
        m = np.asarray([voices[i] == voice for i in p.file])
        mi = m & inner
        per_voice[voice] = {
            "ours_voiced_frames": int((m & (raw > 0)).sum()),
            "is09_voiced_share_of_them": share(ref[m & (raw > 0)] > 0),
            "both_voiced_interior_frames": int(mi.sum()),
            "median_f0_ours_hz": median(ours[mi]),
            "median_f0_is09_hz": median(ref[mi]),
        }
    return {
        "decisions_agree": share((ref > 0) == (ours > 0)),
        "voiced_is09": share(ref > 0),
        "voiced_ours": share(ours > 0),
        "both_voiced_frames": int(((ref > 0) & (ours > 0)).sum()),
        "interior_frames": int(inner.sum()),
        "interior_within_octave_margin": share(same),
        "interior_within_octave_margin_agreement": agreement(ours[inner][same], ref[inner][same]),
        "interior_agreement": agreement(ours[inner], ref[inner]),
        "is09_voiced_where_ours_low": share(ref[low] > 0),
        "is09_voiced_where_ours_high": share(ref[high] > 0),
        "octave_margin": SAME_OCTAVE,
        "low_f0_hz": LOW_F0_HZ,
        "per_voice": per_voice,
    }


def _lag_scan(feats: Features, keep: list[int], column: int, lags: range = range(-2, 3)) -> dict[str, float]:
    """r of IS09's ZCR at frame t against ours (smoothed) at frame t + lag: the alignment's check."""
    ref_col = feats.is09_names.index(IS09_OF["zcr"])
    out = {}
    for lag in lags:
        a_all, b_all = [], []
        for i in keep:
            a, b = feats.is09[i][:, ref_col], smooth(feats.ours[i][:, :16].astype(np.float64))[:, column]
            n = min(len(a), len(b))
            t = np.arange(EDGE, n - EDGE)
            t = t[(t + lag >= 0) & (t + lag < n)]
            a_all.append(a[t])
            b_all.append(b[t + lag])
        out[str(lag)] = float(np.corrcoef(np.concatenate(a_all), np.concatenate(b_all))[0, 1])
    return out


# -- datasets and training -----------------------------------------------------------------------------

EXTRACTORS = ("is09", "lgrin-speech")


def write_datasets(stage: Path, corpus: list[Utterance], feats: Features) -> dict[str, Path]:
    """One npz per extractor: the same files in the same order, speakers as groups."""
    from lgrin_edge.features.npz_writer import write_dataset_npz as write_npz
    from lgrin_edge.features.speech import feature_spec
    from lgrin_edge.frontend import SpeechSpec
    from lgrin_edge.spec import speech_frontend_spec

    classes = list(STYLES)
    y = [classes.index(u.style) for u in corpus]
    groups = [u.speaker for u in corpus]
    extra = {
        "files": [f"corpus/{u.file}" for u in corpus],
        "speakers": [u.voice for u in corpus],
        "sample_rates": np.asarray([u.rate for u in corpus], np.int64),
    }
    is09_spec = replace(feature_spec(feats.is09_names, {u.rate for u in corpus}), classes=tuple(classes))
    ours_spec = speech_frontend_spec(SpeechSpec().to_dict(), classes)
    paths = {}
    for name, seqs, names, spec in (
        ("is09", feats.is09, feats.is09_names, is09_spec),
        ("lgrin-speech", feats.ours, feats.ours_names, ours_spec),
    ):
        paths[name] = stage / f"{name}.npz"
        write_npz(
            paths[name], seqs, y, groups=groups, classes=classes,
            extra={**extra, "feature_names": names}, spec=spec,
        )  # fmt: skip
    return paths


def train(npz: Path, seed: int, folds: int, epochs: int, out: Path) -> dict[str, Any]:
    """`python -m lgrin_edge.train` on ``npz`` (the default L-GrIN recipe, one CPU thread); its output
    goes to ``out``.log. Returns the run's metrics.json."""
    cmd = [
        sys.executable, "-m", "lgrin_edge.train", "--dataset", str(npz), "--folds", str(folds),
        "--seed", str(seed), "--epochs", str(epochs), "--device", "cpu", "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    log = out.with_name(out.name + ".log")
    with open(log, "w", encoding="utf-8") as fh:
        done = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, text=True)
    if done.returncode != 0:
        lines = [ln for ln in log.read_text(encoding="utf-8").splitlines() if ln.strip()]
        raise UserError(
            f"training on {npz.name} (seed {seed}) failed: {lines[-1] if lines else done.returncode}"
        )
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def _sample_std(values: list[float]) -> float:
    """The sample standard deviation (n - 1), as the sweep tables give it; 0 for one value."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def accuracy_summary(results: dict[str, dict[int, dict[str, Any]]]) -> dict[str, Any]:
    """Per extractor: each seed's accuracy (mean over folds) and mean +- std over seeds; the paired
    difference lgrin-speech - IS09."""
    out: dict[str, Any] = {}
    for name, by_seed in results.items():
        acc = {s: float(m["accuracy"]) for s, m in by_seed.items()}
        out[name] = {
            "per_seed": acc,
            "mean": float(np.mean(list(acc.values()))),
            "std": _sample_std(list(acc.values())),
            "folds": {s: [f["accuracy"] for f in m["folds"]] for s, m in by_seed.items()},
            "fold_test_sizes": {s: [f["n_test"] for f in m["folds"]] for s, m in by_seed.items()},
        }
    seeds = sorted(set(results["is09"]) & set(results["lgrin-speech"]))
    diff = {s: out["lgrin-speech"]["per_seed"][s] - out["is09"]["per_seed"][s] for s in seeds}
    out["difference"] = {
        "per_seed": diff,
        "mean": float(np.mean(list(diff.values()))),
        "std": _sample_std(list(diff.values())),
    }
    out["same_folds"] = all(
        out["is09"]["fold_test_sizes"][s] == out["lgrin-speech"]["fold_test_sizes"][s] for s in seeds
    )
    return out


# -- the report ------------------------------------------------------------------------------------------


def _num(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def markdown(summary: dict[str, Any]) -> str:
    """extractors.md: the corpus, the per-descriptor table, F0 in detail, the accuracies."""
    c, cmp, t = summary["corpus"], summary["comparison"], summary["time"]
    rates = ", ".join(f"{n} at {int(r) / 1000:g} kHz" for r, n in c["files_per_rate"].items())
    lines = [
        "# lgrin-speech against openSMILE IS09 (synthetic stand-in corpus)",
        "",
        f"Command: `{summary['command']}`",
        "",
        f"CPU: {summary['cpu']}; wall time {t['wall_s'] / 60:.1f} min (corpus {t['render_s']:.0f} s, "
        f"features {t['extract_s']:.0f} s, training {t['train_s']:.0f} s), CPU time {t['cpu_s'] / 60:.1f} "
        f"min; lgrin-edge {summary['lgrin_edge']}, opensmile {summary['opensmile']}.",
        "",
        f"Corpus: {c['files']} espeak-ng utterances ({', '.join(c['styles'])}) by {c['speakers']} voices, "
        f"{c['seconds_min']:.1f}-{c['seconds_max']:.1f} s (median {c['seconds_median']:.1f} s), {rates}. "
        "A synthetic stand-in, not emotional speech: docs/extractors.md says what it can and cannot show.",
        "",
        *_descriptor_lines(cmp),
        "",
        *_accuracy_lines(summary),
    ]
    return "\n".join(lines) + "\n"


def _descriptor_lines(cmp: dict[str, Any]) -> list[str]:
    label = "16k" if cmp["16k"] else "other"
    main, other = cmp[label], (cmp["other"] if label == "16k" else None)
    where = "at 16 kHz" if label == "16k" else "at 22.05/44.1 kHz (none at 16 kHz)"
    lines = [
        "## Per descriptor, on the same audio",
        "",
        f"{main['files']} files {where}, {main['frames']} frames (frame t of both starts at t x 10 ms; the "
        f"first and last {cmp['edge_frames_left_out']} frames of each file left out). Ours smoothed by "
        "IS09's centred 3-frame average, deltas recomputed on the smoothed contours. r: Pearson "
        "correlation; RMSE/sd: RMSE of ours - IS09 over the IS09 feature's standard deviation; scale: "
        "least-squares a of ours ~ a IS09 + b. F0 on frames both call voiced; its delta on frames both "
        "call voiced with two voiced frames either side.",
        "",
        "| descriptor | IS09 | r | RMSE/sd | scale | delta r | delta RMSE/sd | r, 22.05/44.1 kHz files |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for d in cmp["descriptors"]:
        row, far = main["rows"][d], (other["rows"][d]["smoothed"]["r"] if other else None)
        s, de = row["smoothed"], row["delta"]
        lines.append(
            f"| {d} | `{IS09_OF[d]}` | {_num(s['r'])} | {_num(s['rel_rmse'])} | {_num(s['scale'])} | "
            f"{_num(de['r'])} | {_num(de['rel_rmse'])} | {_num(far)} |"
        )
    mfcc = [main["rows"][d]["delta"]["r"] for d in cmp["descriptors"] if d.startswith("mfcc")]
    med = {
        key: float(np.median([main["rows"][d][key]["r"] for d in cmp["descriptors"]]))
        for key in ("smoothed", "raw", "delta", "delta_raw")
    }
    lines += [
        "",
        f"- Deltas: median r over the 16 {med['delta']:.3f}; MFCC deltas r {min(mfcc):.3f}-{max(mfcc):.3f}.",
        f"- Without the smoothing (ours as the front-end gives them): median r over the 16 descriptors "
        f"{med['raw']:.3f} (smoothed {med['smoothed']:.3f}), over the deltas {med['delta_raw']:.3f}.",
        "- Alignment: r of IS09's ZCR at frame t with ours at t + lag, lags "
        + ", ".join(f"{k}: {val:.3f}" for k, val in cmp["zcr_lag_scan"].items())
        + ".",
        "",
        *_f0_lines(main["f0"]),
    ]
    return lines


def _f0_lines(f: dict[str, Any]) -> list[str]:
    same, inner = f["interior_within_octave_margin_agreement"], f["interior_agreement"]
    low = f"{f['low_f0_hz']:g} Hz"
    lines = [
        "### F0",
        "",
        f"- Voiced (F0 > 0) or not: the two agree on {_pct(f['decisions_agree'])} of frames; IS09 calls "
        f"{_pct(f['voiced_is09'])} voiced, ours {_pct(f['voiced_ours'])}. Where ours finds F0 below {low}, "
        f"IS09 calls {_pct(f['is09_voiced_where_ours_low'])} of the frames voiced; from {low} up, "
        f"{_pct(f['is09_voiced_where_ours_high'])}.",
        f"- Away from voicing boundaries ({f['interior_frames']} frames both call voiced, with two voiced "
        f"frames either side): r {_num(inner['r'])}. {_pct(f['interior_within_octave_margin'])} of them lie "
        f"within {f['octave_margin']:g} octave of each other, and there r {_num(same['r'])}, RMSE/sd "
        f"{_num(same['rel_rmse'])}; the others lie further apart.",
        "",
        "| voice | frames ours calls voiced | IS09 calls voiced | both voiced, away from boundaries | "
        "median F0 ours (Hz) | median F0 IS09 (Hz) |",
        "|---|---|---|---|---|---|",
    ]
    for voice, v in f["per_voice"].items():
        lines.append(
            f"| {voice} | {v['ours_voiced_frames']} | {_pct(v['is09_voiced_share_of_them'])} | "
            f"{v['both_voiced_interior_frames']} | {_num(v['median_f0_ours_hz'], 0)} | "
            f"{_num(v['median_f0_is09_hz'], 0)} |"
        )
    return lines


def _accuracy_lines(summary: dict[str, Any]) -> list[str]:
    acc, seeds = summary["accuracy"], summary["seeds"]
    lines = [
        "## Accuracy of the same recipe",
        "",
        f"L-GrIN, `--recipe default`, {summary['epochs']} epochs, `--folds {summary['folds']}` (group-aware: "
        f"no speaker in two folds; the same folds for both extractors: {'yes' if acc['same_folds'] else 'NO'}"
        "), one CPU thread per run. Accuracy (%): mean over the folds of one seed; mean +- sample std "
        "over seeds.",
        "",
        "| features | mean +- std | " + " | ".join(f"seed {s}" for s in seeds) + " |",
        "|---|---|" + "---|" * len(seeds),
    ]
    for name, head in (
        ("is09", "openSMILE IS09"),
        ("lgrin-speech", "lgrin-speech"),
        ("difference", "difference (lgrin-speech - IS09)"),
    ):
        a, sign = acc[name], "+" if name == "difference" else ""
        cells = " | ".join(f"{100 * a['per_seed'][s]:{sign}.2f}" for s in seeds)
        lines.append(f"| {head} | {100 * a['mean']:{sign}.2f} +- {100 * a['std']:.2f} | {cells} |")
    return lines


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


# -- the command -------------------------------------------------------------------------------------------

OWN_FILES = {"corpus", "is09.npz", "lgrin-speech.npz", "runs", "extractors.md", "extractors.json"}


def build_parser() -> Parser:
    p = Parser(
        prog="python -m lgrin_edge.analysis.extractors",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--out", type=Path, required=True, help="folder for the corpus, datasets, runs and results"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an earlier study in --out")
    p.add_argument("--seeds", type=at_least(0), nargs="+", default=[0, 1, 2, 3, 4], help="training seeds")
    p.add_argument("--epochs", type=at_least(1), default=60, help="training epochs (both extractors)")
    p.add_argument("--folds", type=at_least(2), default=5, help="group-aware folds (at most --speakers)")
    p.add_argument(
        "--speakers", type=at_least(1), default=12, help=f"voices of the corpus (1..{len(SPEAKERS)})"
    )
    p.add_argument("--utterances", type=at_least(1), default=240, help="files of the corpus")
    return p


def _check(args: argparse.Namespace) -> None:
    """Every option and tool, before any work."""
    if args.speakers > len(SPEAKERS):
        raise UserError(f"--speakers {args.speakers}: the corpus has {len(SPEAKERS)} voices at most")
    if args.folds > args.speakers:
        raise UserError(f"--folds {args.folds} needs as many speakers; --speakers is {args.speakers}")
    cells = args.speakers * len(STYLES)
    if args.utterances < cells:
        raise UserError(
            f"--utterances {args.utterances}: every speaker needs every style once ({cells} at least)"
        )
    if len(set(args.seeds)) != len(args.seeds):
        raise UserError("--seeds: each seed once")
    why = first_missing("opensmile", "soundfile", "scipy")
    if why:
        raise UserError(why)
    if shutil.which("espeak-ng") is None:
        raise UserError("espeak-ng is not installed (apt-get install espeak-ng); it speaks the corpus")
    check_folder_target(args.out, OWN_FILES, args.overwrite, "study of extractors", "--overwrite")


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _train_all(
    args: argparse.Namespace, paths: dict[str, Path], runs: Path, log: Callable[[str], None]
) -> dict[str, dict[int, dict[str, Any]]]:
    """Extractor -> seed -> the metrics of one training on that extractor's dataset, each run in ``runs``."""
    results: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in EXTRACTORS}
    total, done = len(args.seeds) * len(EXTRACTORS), 0
    for seed in args.seeds:
        for name in EXTRACTORS:
            t0 = time.time()
            metrics = train(paths[name], seed, args.folds, args.epochs, runs / f"{name}-seed{seed}")
            results[name][seed] = metrics
            done += 1
            log(
                f"  trained {name} seed {seed} ({done}/{total}): accuracy {100 * metrics['accuracy']:.2f}% "
                f"in {time.time() - t0:.0f} s"
            )
    return results


def _corpus_record(args: argparse.Namespace, corpus: list[Utterance], seconds: list[float]) -> dict[str, Any]:
    """extractors.json's "corpus": how the files were spoken, their rates and durations."""
    by_rate = {str(r): sum(u.rate == r for u in corpus) for r, _ in RATES}
    return {
        "files": len(corpus),
        "speakers": args.speakers,
        "voices": list(SPEAKERS[: args.speakers]),
        "styles": {k: {"pitch": p, "speed_wpm": s, "amplitude": a} for k, (p, s, a) in STYLES.items()},
        "jitter": dict(zip(("pitch", "speed_wpm", "amplitude"), JITTER, strict=True)),
        "noise_dbfs": NOISE_DBFS,
        "files_per_rate": by_rate,
        "seconds_min": float(np.min(seconds)),
        "seconds_median": float(np.median(seconds)),
        "seconds_max": float(np.max(seconds)),
        "utterances": [asdict(u) for u in corpus],
    }


def study(args: argparse.Namespace, stage: Path, command: str) -> dict[str, Any]:
    """The whole study into ``stage``; returns extractors.json's contents."""
    import opensmile

    def log(line: str) -> None:
        print(line, flush=True)

    began, cpu0 = time.time(), _cpu_seconds()
    corpus = plan(args.speakers, args.utterances)
    folder = stage / "corpus"
    folder.mkdir()
    log(f"speaking {len(corpus)} utterances ({args.speakers} voices x {len(STYLES)} styles) with espeak-ng")
    rng = np.random.default_rng(CORPUS_SEED + 1)
    seconds = [render(u, folder, rng) for u in corpus]
    rendered = time.time()
    log(f"extracting IS09 (openSMILE) and lgrin-speech frames of {len(corpus)} files")
    feats = extract(folder, corpus, log)
    paths = write_datasets(stage, corpus, feats)
    comparison = compare(feats, [u.rate for u in corpus], [u.voice for u in corpus])
    extracted = time.time()
    rows = (comparison["16k"] or comparison["other"])["rows"]
    med = np.median([rows[d]["smoothed"]["r"] for d in comparison["descriptors"]])
    log(f"  median r of the 16 descriptors against IS09's (ours smoothed): {med:.3f}")
    runs = stage / "runs"
    runs.mkdir()
    results = _train_all(args, paths, runs, log)
    ended = time.time()
    return {
        "lgrin_edge": __version__,
        "opensmile": opensmile.__version__,
        "command": command,
        "cpu": cpu_description(),
        "seeds": list(args.seeds),
        "epochs": args.epochs,
        "folds": args.folds,
        "recipe": "default",
        "corpus": _corpus_record(args, corpus, seconds),
        "comparison": comparison,
        "accuracy": accuracy_summary(results),
        "time": {
            "wall_s": ended - began,
            "render_s": rendered - began,
            "extract_s": extracted - rendered,
            "train_s": ended - extracted,
            "cpu_s": _cpu_seconds() - cpu0,
        },
    }


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _check(args)
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["python", "-m", "lgrin_edge.analysis.extractors", *given])
    with exclusive(args.out, "study of extractors"):
        check_folder_target(args.out, OWN_FILES, args.overwrite, "study of extractors", "--overwrite")
        with staged_folder(args.out) as stage:
            summary = study(args, stage, command)
            text = markdown(summary)
            write_json(stage / "extractors.json", summary)
            write_bytes(stage / "extractors.md", text.encode())
    print(text)
    print(f"wrote {args.out / 'extractors.md'} and extractors.json")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, None if argv is None else list(argv))


if __name__ == "__main__":
    sys.exit(main())
