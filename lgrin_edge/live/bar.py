"""``python -m lgrin_edge.live.bar --out DIR``: the live stream's bar on speech, written to DIR/stream-bar.md.

Per seed: an espeak-ng corpus of three speaking styles (classes) is rendered, its frames extracted
(``python -m lgrin_edge.features wav-dir``), an L-GrIN trained on sliding windows (``--window/--hop``) and
exported for the C runtime and ONNX. Then held-out sentences (texts not in the corpus) of every class are
joined into one WAV, a segment each with silence between, and streamed by the C tool ``lgrin_live`` and by
``python -m lgrin_edge.live`` (c and onnx artifacts). Reported: the share of decisions whose window lies
inside one segment that name its class, how often the Python timelines agree with the C tool's, and the C
tool's wall time as a share of the audio's duration, each as a mean over seeds with its spread.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from lgrin_edge.cli import Parser, UserError, at_least, run

CLASSES = ("high-fast", "low-slow", "neutral")  # espeak-ng's pitch and speed differ most between these
VOICE = "en+m1"
RATE = 16000
EDGE_S = 0.05  # a window counts as inside a segment with this much room: frames reach 25 ms past their start
# Built as CMake's Release build type builds lgrin_live (CMakeLists.txt), without fused multiply-add.
CALIBRATE_ALL = 1_000_000  # export --calibration: more than a run has, so every training graph
TOOL_FLAGS = ("-std=c99", "-O3", "-DNDEBUG", "-ffp-contract=off")


# -- the C tool ----------------------------------------------------------------------------------------


def live_tool(folder: Path, cc: str | None = None) -> Path:
    """export/tools/lgrin_live.c compiled with the stream, runtime, front-end and input libraries into
    ``folder``/lgrin_live (RuntimeError without a C compiler or when it does not build)."""
    from lgrin_edge.export import c_facts as f
    from lgrin_edge.native import find_compiler

    compiler = find_compiler(cc)
    if compiler is None:
        raise RuntimeError("no C compiler found: install gcc or clang, or set CC")
    sources = [f.EXPORT_DIR / "tools" / name for name in ("lgrin_live.c", "lgrin_wav.c")]
    sources += [f.EXPORT_DIR / unit for unit in f.STREAM_PROGRAM_SOURCES]
    exe = folder / "lgrin_live"
    include = [f"-I{f.EXPORT_DIR / 'include'}", f"-I{f.EXPORT_DIR / 'src'}"]  # src: lgrin_json.h
    cmd = [compiler, *TOOL_FLAGS, *include, "-o", str(exe), *map(str, sources), "-lm"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{compiler} could not build lgrin_live: {done.stderr.strip()[-2000:]}")
    return exe


# -- timelines -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """A stream's decisions as printed: time, label and smoothed label of each."""

    times: np.ndarray
    labels: tuple[str, ...]
    smoothed: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Timeline:
        rows = [line.split() for line in text.splitlines() if line.strip()]
        if any(len(r) != 4 for r in rows):
            raise ValueError(f"not a decision line: {next(r for r in rows if len(r) != 4)}")
        return cls(
            np.array([float(r[0]) for r in rows]), tuple(r[1] for r in rows), tuple(r[3] for r in rows)
        )


def run_c(tool: Path, model: Path, signal: Path) -> tuple[Timeline, float]:
    """``lgrin_live MODEL SIGNAL``: its timeline and wall time (the whole process: start, model, input)."""
    start = time.perf_counter()
    done = subprocess.run([str(tool), str(model), str(signal)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"lgrin_live failed ({done.returncode}): {done.stderr.strip()}")
    return Timeline.parse(done.stdout), wall


def run_python(dist: Path, signal: Path, target: str, precision: str, plot: Path) -> Timeline:
    """``python -m lgrin_edge.live --dist DIST --wav|--csv SIGNAL --target T --precision P``: its timeline."""
    from lgrin_edge.live.__main__ import main

    given = "--wav" if signal.suffix == ".wav" else "--csv"
    argv = ["--dist", str(dist), given, str(signal), "--target", target, "--precision", precision]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "--plot", str(plot)])
    if code != 0:
        raise RuntimeError(f"python -m lgrin_edge.live failed ({code}): {err.getvalue().strip()}")
    return Timeline.parse(out.getvalue())


@dataclass(frozen=True)
class Segment:
    """A stretch of the stream of one class, in seconds."""

    start_s: float
    end_s: float
    label: str


def inside(times: np.ndarray, segments: Sequence[Segment], window_s: float) -> np.ndarray:
    """Per decision, the index of the segment its window [t - window_s, t] lies in (-1: none)."""
    out = np.full(len(times), -1)
    for i, seg in enumerate(segments):
        out[(times - window_s >= seg.start_s - 1e-9) & (times + EDGE_S <= seg.end_s + 1e-9)] = i
    return out


def hop_accuracy(line: Timeline, segments: Sequence[Segment], window_s: float) -> tuple[float, int]:
    """The share of decisions with their window inside a segment that name its class, and their count."""
    where = inside(line.times, segments, window_s)
    kept = np.flatnonzero(where >= 0)
    if len(kept) == 0:
        return float("nan"), 0
    right = sum(line.labels[i] == segments[where[i]].label for i in kept)
    return right / len(kept), len(kept)


def agreement(a: Timeline, b: Timeline) -> float:
    """The share of decisions at which two timelines give the same label (decisions one lacks disagree)."""
    n = max(len(a.labels), len(b.labels))
    if n == 0:
        return 1.0
    same = sum(x == y for x, y in zip(a.labels, b.labels, strict=False))
    times_equal = len(a.times) == len(b.times) and np.allclose(a.times, b.times)
    return same / n if times_equal else 0.0


# -- the speech case -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeechSetup:
    """The corpus, the stream and the training of one speech case."""

    per_class: int = 8  # training sentences per class
    segments_per_class: int = 2  # held-out sentences per class in the stream
    words: tuple[int, int] = (6, 11)  # words per sentence: at least, fewer than
    gap_s: float = 0.4  # silence between segments
    window_s: float = 1.0
    hop_s: float = 0.25
    epochs: int = 30
    seed: int = 0


def _utterance(style: str, text: str, rng: np.random.Generator, file: str):
    from lgrin_edge.analysis.extractors import JITTER, STYLES, Utterance

    # Each sentence's prosody is its style's, jittered: a class is a way of speaking, not one setting.
    pitch, speed, amplitude = (
        int(v + rng.integers(-j, j + 1)) for v, j in zip(STYLES[style], JITTER, strict=True)
    )
    return Utterance(file, style, 0, VOICE, text, pitch, speed, amplitude, RATE)


def _texts(rng: np.random.Generator, setup: SpeechSetup, count: int, avoid: set[str]) -> list[str]:
    from lgrin_edge.analysis.extractors import sentence

    out: list[str] = []
    while len(out) < count:
        text = sentence(rng, int(rng.integers(*setup.words)))
        if text not in avoid and text not in out:
            out.append(text)
    return out


def render_corpus(root: Path, setup: SpeechSetup, rng: np.random.Generator) -> set[str]:
    """``root``/<style>/<i>.wav for every class; returns the texts spoken."""
    from lgrin_edge.analysis.extractors import render

    spoken: set[str] = set()
    for style in CLASSES:
        (root / style).mkdir(parents=True)
        for i, text in enumerate(_texts(rng, setup, setup.per_class, spoken)):
            render(_utterance(style, text, rng, f"{i}.wav"), root / style, rng)
            spoken.add(text)
    return spoken


def _order(rng: np.random.Generator, rounds: int) -> list[str]:
    """The classes, each ``rounds`` times, in rounds of a shuffled order; neighbours always differ."""
    out: list[str] = []
    for _ in range(rounds):
        perm = [CLASSES[i] for i in rng.permutation(len(CLASSES))]
        if out and perm[0] == out[-1]:
            perm = perm[1:] + perm[:1]
        out += perm
    return out


def render_stream(path: Path, setup: SpeechSetup, rng: np.random.Generator, avoid: set[str]) -> list[Segment]:
    """One 16-bit WAV of held-out sentences (texts not in ``avoid``), one segment each, silence between
    (the corpus' noise floor); returns the segments."""
    import soundfile as sf

    from lgrin_edge.analysis.extractors import NOISE_DBFS, render

    order = _order(rng, setup.segments_per_class)
    texts = _texts(rng, setup, len(order), avoid)
    scratch = path.parent / f".{path.stem}-parts"
    scratch.mkdir()
    floor = 10 ** (NOISE_DBFS / 20) * 32768
    pieces, segments, at = [], [], 0
    for i, (style, text) in enumerate(zip(order, texts, strict=True)):
        if i:
            pieces.append(np.round(rng.normal(0.0, floor, round(setup.gap_s * RATE))).astype(np.int16))
            at += len(pieces[-1])
        render(_utterance(style, text, rng, f"{i}.wav"), scratch, rng)
        pcm, _ = sf.read(scratch / f"{i}.wav", dtype="int16")
        pieces.append(pcm)
        segments.append(Segment(at / RATE, (at + len(pcm)) / RATE, style))
        at += len(pcm)
    sf.write(path, np.concatenate(pieces), RATE, subtype="PCM_16")
    return segments


def train_and_export(
    data: Path, run_dir: Path, dist: Path, args: Sequence[str], seed: int, calibration: int | None = None
) -> None:
    """``python -m lgrin_edge.train --dataset DATA ARGS`` (on the CPU), then ``export --target c onnx``."""
    from lgrin_edge.export.__main__ import main as export
    from lgrin_edge.train import main as train

    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        argv = ["--dataset", str(data), *args, "--seed", str(seed), "--out", str(run_dir), "--device", "cpu"]
        if train(argv) != 0:
            raise RuntimeError(f"training failed: {quiet.getvalue()[-2000:]}")
        argv = ["--checkpoint", str(run_dir), "--target", "c", "onnx"]
        argv += ["--calibration", str(calibration)] if calibration else []
        if export([*argv, "--out", str(dist)]) != 0:
            raise ExportRefused(dist, quiet.getvalue())


class ExportRefused(RuntimeError):
    """An artifact missed its tolerance, so the export wrote no file of it: ``why`` names it."""

    def __init__(self, dist: Path, log: str) -> None:
        import json

        try:
            failed = json.loads((dist / "manifest.json").read_text())["failed"]
            self.why = "; ".join(
                f"{f['target']} {f['precision']}: top-1 agreement {f['top1_agreement']:.4f} < "
                f"{f['tolerance']['min_agreement']}"
                for f in failed
            )
        except (OSError, ValueError, KeyError, TypeError):
            self.why = log.strip()[-2000:]
        super().__init__(f"export refused: {self.why}")


def speech_case(folder: Path, setup: SpeechSetup, tool: Path) -> dict[str, float]:
    """One seed of the speech case in ``folder`` (empty): the measures of :func:`measure`."""
    from lgrin_edge.features.__main__ import main as features

    rng = np.random.default_rng(setup.seed)
    spoken = render_corpus(folder / "corpus", setup, rng)
    npz = folder / "frames.npz"
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        code = features(["wav-dir", str(folder / "corpus"), "--out", str(npz), "--no-cache", "--no-progress"])
    if code != 0:
        raise RuntimeError(f"feature extraction failed: {quiet.getvalue()[-2000:]}")
    window = ["--window", str(setup.window_s), "--hop", str(setup.hop_s)]
    train_args = ["--epochs", str(setup.epochs), "--eta", "16", "8", "--folds", "2", *window]
    # int8 calibrated on every training window (not the default 256): the windows of a few sentences are
    # alike, and ranges from a few of them leave the C file further below its 99% agreement
    train_and_export(npz, folder / "run", folder / "dist", train_args, setup.seed, CALIBRATE_ALL)
    segments = render_stream(folder / "stream.wav", setup, rng, spoken)
    return measure(folder / "dist", folder / "stream.wav", segments, setup.window_s, tool)


def measure(dist: Path, signal: Path, segments: Sequence[Segment], window_s: float, tool: Path) -> dict:
    """C tool and Python (c int8, onnx int8, onnx fp32) on one stream: hop accuracy inside segments (C),
    agreement with the C tool, the C tool's wall time over the input's duration."""
    c, wall = run_c(tool, dist / "model_int8.lgrn", signal)
    py = {
        f"{t}-{p}": run_python(dist, signal, t, p, dist / f"live-{t}-{p}.png")
        for t, p in (("c", "int8"), ("onnx", "int8"), ("onnx", "fp32"))
    }
    accuracy, count = hop_accuracy(c, segments, window_s)
    duration = _duration(signal)
    return {
        "hop_accuracy": accuracy,
        "hops_inside": count,
        "decisions": len(c.labels),
        **{f"agree_{k}": agreement(line, c) for k, line in py.items()},
        "c_wall_s": wall,
        "duration_s": duration,
        "c_wall_share": wall / duration,
    }


def _duration(signal: Path) -> float:
    if signal.suffix == ".wav":
        import soundfile as sf

        return float(sf.info(signal).duration)
    times = np.loadtxt(signal, delimiter=",", skiprows=1, usecols=0, ndmin=1)
    return float(times[-1] - times[0])


# -- the report ----------------------------------------------------------------------------------------

ROWS = (
    ("hop_accuracy", "C decisions inside a segment naming its class", "{:.3f}"),
    ("agree_c-int8", "Python (c int8) agrees with the C tool", "{:.3f}"),
    ("agree_onnx-int8", "Python (onnx int8) agrees with the C tool", "{:.3f}"),
    ("agree_onnx-fp32", "Python (onnx fp32) agrees with the C tool", "{:.3f}"),
    ("c_wall_share", "C tool wall time / audio duration", "{:.4f}"),
    ("c_wall_s", "C tool wall time (s)", "{:.3f}"),
    ("duration_s", "audio duration (s)", "{:.1f}"),
    ("hops_inside", "decisions with the window inside a segment", "{:.0f}"),
    ("decisions", "decisions", "{:.0f}"),
)


def markdown(results: Sequence[dict], refused: dict, setup: SpeechSetup, cpu: str, seconds: float) -> str:
    """The report: setup, a table of means and spreads over the streamed seeds, every seed's numbers, and
    the seeds whose export wrote no C file (``refused``: seed -> why)."""
    seeds = sorted([r["seed"] for r in results] + list(refused))
    lines = [
        "# The live stream's bar: speech",
        "",
        "Made by `python -m lgrin_edge.live.bar` (lgrin_edge/live/bar.py; its docstring describes the case).",
        "",
        f"- CPU: {cpu}",
        f"- seeds: {', '.join(map(str, seeds))} ({seconds:.0f} s in all)",
        f"- setup: {', '.join(f'{k} {v}' for k, v in asdict(setup).items() if k != 'seed')}",
        f"- classes: {', '.join(CLASSES)} (espeak-ng voice {VOICE}, {RATE} Hz); C tool built with "
        f"{' '.join(TOOL_FLAGS)}",
        "",
        f"Means over the {len(results)} seeds streamed:",
        "",
        "| measure | mean | std | min | max |",
        "|---|---|---|---|---|",
    ]
    for key, name, form in ROWS:
        v = np.array([r[key] for r in results], float)
        spread = np.std(v, ddof=1) if len(v) > 1 else 0.0
        lines.append(
            f"| {name} | {' | '.join(form.format(x) for x in (v.mean(), spread, v.min(), v.max()))} |"
        )
    lines += ["", "Per seed:", "", "| seed | " + " | ".join(k for k, _, _ in ROWS) + " |"]
    lines.append("|---" * (len(ROWS) + 1) + "|")
    for r in results:
        lines.append(f"| {r['seed']} | " + " | ".join(f.format(r[k]) for k, _, f in ROWS) + " |")
    if refused:
        lines += ["", f"Seeds not streamed: the export wrote no C file ({len(refused)} of {len(seeds)}):", ""]
        lines += [f"- seed {seed}: {why}" for seed, why in sorted(refused.items())]
    return "\n".join(lines) + "\n"


def _parser() -> Parser:
    ap = Parser(prog="python -m lgrin_edge.live.bar", description=__doc__.splitlines()[0].split(": ", 1)[1])
    ap.add_argument("--out", type=Path, required=True, metavar="DIR", help="where stream-bar.md is written")
    ap.add_argument("--seeds", type=at_least(1), default=5, metavar="N", help="seeds 0..N-1 (default 5)")
    ap.add_argument(
        "--per-class", type=at_least(2), default=12, metavar="N", help="training sentences a class"
    )
    ap.add_argument("--segments", type=at_least(1), default=3, metavar="N", help="held-out segments a class")
    ap.add_argument("--epochs", type=at_least(1), default=30, metavar="N", help="training epochs")
    ap.add_argument("--overwrite", action="store_true", help="replace an earlier DIR/stream-bar.md")
    return ap


def _main(argv: Sequence[str] | None = None) -> int:
    import shutil
    import tempfile

    from lgrin_edge.atomic import check_file_target, write_bytes
    from lgrin_edge.measure.threads import cpu_description

    args = _parser().parse_args(argv)
    report = args.out / "stream-bar.md"
    check_file_target(report, ".md")
    if report.exists() and not args.overwrite:
        raise UserError(f"{report} exists; pass --overwrite to replace it, or choose another --out")
    if shutil.which("espeak-ng") is None:
        raise UserError("espeak-ng not installed (apt-get install espeak-ng): the corpus is spoken by it")
    setup = SpeechSetup(per_class=args.per_class, segments_per_class=args.segments, epochs=args.epochs)
    start, results, refused = time.perf_counter(), [], {}
    with tempfile.TemporaryDirectory(prefix="lgrin-stream-bar-") as tmp:
        tool = live_tool(Path(tmp))
        for seed in range(args.seeds):
            (Path(tmp) / str(seed)).mkdir()
            try:
                r = speech_case(Path(tmp) / str(seed), replace(setup, seed=seed), tool)
            except ExportRefused as exc:  # no C file: nothing to stream, and the report says so
                refused[seed] = exc.why
                print(f"seed {seed}: {exc}", file=sys.stderr)
                continue
            results.append({"seed": seed, **r})
            print(f"seed {seed}: " + ", ".join(f"{k} {v:.4g}" for k, v in r.items()), file=sys.stderr)
    if not results:
        raise RuntimeError(f"no seed gave a verified C file: {refused}")
    text = markdown(results, refused, setup, cpu_description(), time.perf_counter() - start)
    write_bytes(report, text.encode())
    print(text, end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
