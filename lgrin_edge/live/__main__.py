"""``python -m lgrin_edge.live --dist DIR (--wav F | --csv F | --mic)``: an exported model on a live stream.

Opens one artifact of the export DIR (default: the C int8 file where there is one, else the first
verified one), reads the feature spec it carries, feeds it the input as a device would, in small chunks,
and prints one line per decision: ``time label probability smoothed-label`` (the C tool lgrin_live prints
the same lines). Then a timeline plot (DIR/live-<input>.png) and a summary: duration, decisions, wall
time, real-time factor. Motion CSV: one sample a line, ``time_s,v1,...,vP`` in the spec's channel order,
an optional header line.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lgrin_edge.atomic import check_file_target
from lgrin_edge.cli import Parser, UserError, at_least, finite_float, run
from lgrin_edge.live.stream import Decision, Stream, label_names, make_frontend, plan
from lgrin_edge.spec import FeatureSpec

if TYPE_CHECKING:
    from lgrin_edge.export.runner import Runner

_EXAMPLES = """examples:
  python -m lgrin_edge.live --dist dist/basicmotions --csv walk.csv
  python -m lgrin_edge.live --dist dist/speech --wav talk.wav --target onnx --precision int8
  python -m lgrin_edge.live --dist dist/speech --mic --seconds 30
  arecord -q -f S16_LE -c 1 -r 16000 -t raw | lgrin_live dist/speech/model_int8.lgrn -   (the C tool)
the stream's rules (window, hop, smoothing, utterances): docs/live.md"""
CHUNK_S = 0.1  # seconds of input per push, as a device's audio or sensor callback delivers it
_C_TOOL = "arecord -q -f S16_LE -c 1 -r 16000 -t raw | lgrin_live MODEL.lgrn -"  # the C way, any board


def _parser() -> Parser:
    ap = Parser(
        prog="python -m lgrin_edge.live",
        description=__doc__.split("\n", 1)[1].strip() + "\n\n" + _EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from lgrin_edge.export.targets import PRECISIONS, TARGET_NAMES

    ap.add_argument(
        "--dist", type=Path, required=True, metavar="DIR", help="an export folder (with manifest.json)"
    )
    given = ap.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--wav", type=Path, metavar="F", help="a WAV file (16-bit PCM or 32-bit float, any rate)"
    )
    given.add_argument("--csv", type=Path, metavar="F", help="motion samples: time_s,v1,...,vP a line")
    given.add_argument("--mic", action="store_true", help="the default microphone (sounddevice)")
    ap.add_argument("--target", choices=TARGET_NAMES, help="whose file (default: c where exported)")
    ap.add_argument("--precision", choices=PRECISIONS, help="which of the target's files")
    ap.add_argument("--window", type=finite_float(0, strict=True), metavar="S", help="seconds per decision")
    ap.add_argument("--hop", type=finite_float(0, strict=True), metavar="S", help="seconds between decisions")
    ap.add_argument(
        "--smooth", type=at_least(1), metavar="N", help="decisions averaged (default: the spec's)"
    )
    ap.add_argument(
        "--seconds", type=finite_float(0, strict=True), metavar="S", help="with --mic: stop after S"
    )
    ap.add_argument(
        "--plot", type=Path, metavar="FILE", help="the timeline PNG (default DIR/live-<input>.png)"
    )
    return ap


# -- the model -----------------------------------------------------------------------------------------


def choose_artifact(dist: Path, target: str | None, precision: str | None) -> dict:
    """The manifest entry to run: the verified file of ``target``/``precision`` (the first that fits;
    with neither given the C int8 file where there is one)."""
    import json

    manifest = dist / "manifest.json"
    if not manifest.is_file():
        raise UserError(f"{dist}: no manifest.json (not an export folder: python -m lgrin_edge.export)")
    try:
        entries = [a for a in json.loads(manifest.read_text())["artifacts"] if a.get("verified")]
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{manifest}: not an export manifest ({exc})") from None
    if target is None and precision is None and any(_fits(a, "c", "int8") for a in entries):
        target = "c"
    for entry in entries:
        if _fits(entry, target, precision):
            return entry
    have = ", ".join(f"{a['target']} {a['precision']}" for a in entries) or "none"
    want = " ".join(w for w in (target, precision) if w) or "any"
    raise UserError(f"{manifest}: no verified {want} artifact (verified: {have})")


def _fits(entry: dict, target: str | None, precision: str | None) -> bool:
    from lgrin_edge.export.targets import TARGETS

    t = TARGETS.get(entry.get("target", ""))
    return (
        t is not None
        and t.files.get(entry.get("precision", "")) == entry.get("path")
        and target in (None, t.name)
        and precision in (None, entry["precision"])
    )


def load_runner(dist: Path, entry: dict) -> Runner:
    """The runner of the entry's file; one line where its runtime is not installed."""
    from lgrin_edge.export.targets import TARGETS

    target = TARGETS[entry["target"]]
    ok, reason = target.status()
    if not ok:
        raise UserError(f"{target.name}: {reason}")
    return target.load(dist / entry["path"], 1)


# -- the input -----------------------------------------------------------------------------------------


@dataclass
class Signal:
    """What the stream is fed: ``source`` pcm or motion; the whole input where it is a file, the
    recording so far for the microphone (``time``, ``values`` for the plot)."""

    name: str
    source: str
    rate: int | None = None  # PCM's sample rate
    time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    values: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))
    channels: tuple[str, ...] = ("pcm",)
    live: Iterator[np.ndarray] | None = None  # microphone blocks

    @property
    def duration_s(self) -> float:
        if self.source == "pcm":
            return len(self.time) / float(self.rate or 1)
        return float(self.time[-1] - self.time[0]) if len(self.time) else 0.0


def read_wav(path: Path, spec: FeatureSpec) -> Signal:
    from lgrin_edge.frontend import wav

    pcm, rate = wav.read(path)
    make_frontend(spec, "pcm", rate)  # refuses a model that does not take audio, before any work
    if len(pcm) == 0:
        raise UserError(f"{path}: no samples")
    return Signal(path.stem, "pcm", rate, np.arange(len(pcm)) / rate, pcm[:, None])


def read_csv(path: Path, spec: FeatureSpec) -> Signal:
    """Motion samples, every line checked before any work (column count, numbers, finite, time order)."""
    p = spec.num_features
    front = make_frontend(spec, "motion", None)
    if not path.is_file():
        raise UserError(f"motion CSV not found: {path}")
    rows = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        fields = [f.strip() for f in line.split(",")]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not rows and not _number(fields[0]):
            continue  # the header
        if len(fields) != 1 + p:
            raise UserError(f"{path}: line {number} has {len(fields)} columns, expected time + {p} values")
        try:
            row = [float(f) for f in fields]
        except ValueError:
            raise UserError(f"{path}: line {number}: not a number in {line.strip()!r}") from None
        if not np.isfinite(row).all():
            raise UserError(f"{path}: line {number}: NaN or infinity")
        rows.append(row)
    if not rows:
        raise UserError(f"{path}: no samples")
    data = np.array(rows, np.float64)
    front.max_frames(data[:, 0])  # type: ignore[attr-defined]  # refuses times out of order
    names = tuple(f.name for f in spec.features)
    return Signal(path.stem, "motion", None, data[:, 0], data[:, 1:], names)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def microphone(spec: FeatureSpec, seconds: float | None) -> Signal:
    """The default microphone at the spec's sample rate, in blocks of :data:`CHUNK_S` (opened here, so
    a missing library or device is one line before any work)."""
    rate = spec.sample_rate_hz
    make_frontend(spec, "pcm", rate if isinstance(rate, int) else None)
    from lgrin_edge.optional import installed, missing

    if not installed("sounddevice"):
        raise UserError(f"--mic: {missing('sounddevice')}; or, without Python: {_C_TOOL}")
    try:
        import sounddevice
    except OSError as exc:  # the module loads PortAudio, a system library
        raise UserError(
            f"--mic: no microphone library: sounddevice cannot load PortAudio ({exc}; apt-get install "
            f"libportaudio2); or, without Python: {_C_TOOL}"
        ) from None
    block = int(rate * CHUNK_S)  # type: ignore[operator]
    try:
        stream = sounddevice.InputStream(samplerate=rate, channels=1, dtype="int16", blocksize=block)
        stream.start()
    except Exception as exc:  # sounddevice.PortAudioError and the like: no device, device busy
        raise UserError(f"--mic: cannot open the default microphone ({exc})") from None
    return Signal("mic", "pcm", int(rate), live=_blocks(stream, block, seconds, int(rate)))  # type: ignore[arg-type]


def _blocks(stream: Any, block: int, seconds: float | None, rate: int) -> Iterator[np.ndarray]:
    with stream:
        got = 0
        while seconds is None or got < seconds * rate:
            data, _ = stream.read(block)
            got += len(data)
            yield np.array(data[:, 0], np.int16)


# -- the run -------------------------------------------------------------------------------------------


def feed(stream: Stream, signal: Signal, names: Sequence[str]) -> list[Decision]:
    """Push the input chunk by chunk, printing each decision as it comes; the microphone until Ctrl-C
    (or --seconds)."""
    out: list[Decision] = []

    def show(decisions: list[Decision]) -> None:
        for d in decisions:
            print(d.line(names), flush=True)
        out.extend(decisions)

    if signal.live is not None:
        recorded = []
        try:
            for block in signal.live:
                recorded.append(block)
                show(stream.push_pcm(block))
        except KeyboardInterrupt:
            print("stopped (Ctrl-C): the end of the stream", file=sys.stderr)
        pcm = np.concatenate(recorded) if recorded else np.zeros(0, np.int16)
        signal.time, signal.values = np.arange(len(pcm)) / signal.rate, pcm[:, None]  # type: ignore[operator]
    elif signal.source == "pcm":
        step = max(1, int(signal.rate * CHUNK_S))  # type: ignore[operator]
        for at in range(0, len(signal.values), step):
            show(stream.push_pcm(signal.values[at : at + step, 0]))
    else:
        t, v = signal.time, signal.values
        edges = np.searchsorted(t, np.arange(t[0], t[-1] + CHUNK_S, CHUNK_S), side="left")[1:]
        for lo, hi in zip(np.r_[0, edges], np.r_[edges, len(t)], strict=True):
            if hi > lo:
                show(stream.push_motion(t[lo:hi], v[lo:hi]))
    show(stream.flush())
    return out


def _main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.seconds is not None and not args.mic:
        raise UserError("--seconds is the length of a --mic recording; a file is read to its end")
    from lgrin_edge.inspect import read_spec

    entry = choose_artifact(args.dist, args.target, args.precision)
    spec, _ = read_spec(args.dist / entry["path"])
    settings = plan(spec, args.window, args.hop, args.smooth)  # refuses a spec without a stream's needs
    if args.mic:
        signal = microphone(spec, args.seconds)
    else:
        signal = read_wav(args.wav, spec) if args.wav else read_csv(args.csv, spec)
    plot = args.plot or args.dist / f"live-{signal.name}.png"
    check_file_target(plot, ".png")
    runner = load_runner(args.dist, entry)
    names = label_names(spec, runner.num_classes)
    about = f"{entry['path']} ({entry['target']} {entry['precision']})"
    print(f"{about}: {settings.stream.describe(settings.frame_rate_hz)}", file=sys.stderr)
    stream = Stream(spec, runner, signal.rate, args.window, args.hop, args.smooth)
    start = time.perf_counter()
    decisions = feed(stream, signal, names)
    wall = time.perf_counter() - start
    from lgrin_edge.live.plot import timeline

    timeline(plot, decisions, names, signal.time, signal.values, signal.channels, f"{signal.name}: {about}")
    duration = signal.duration_s
    factor = f"{wall / duration:.4f}" if duration > 0 else "n/a"
    print(
        f"{duration:.2f} s of input, {len(decisions)} decisions, {wall:.2f} s wall time, real-time factor "
        f"{factor}; plot: {plot}",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
