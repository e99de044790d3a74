"""TensorFlow Lite Micro's audio front-end, assembled from its Signal library operators, to be timed
beside lgrin-speech on the same audio (benchmarks/test_frontend.py).

The operators are those of TFLite Micro's micro_speech feature pipeline, in its order and with its
parameters, on one window of int16 PCM at 16 kHz per call: Hann window (12 bits), FFT auto-scale, int16
real FFT (512 points), energy, 40 mel channels over 125-7500 Hz (12-bit weights), square root, spectral
subtraction (noise reduction), PCAN gain control and log (output 40 int16 values). The window and hop
are lgrin-speech's (25 ms, 10 ms; micro_speech uses 30 and 20) so that both do the work of one 10 ms hop.
pip ``tflite-micro`` ships the interpreter with these operators registered but not the TensorFlow ops
that write such a model, so the model is written here as a flatbuffer of custom operators (with
tflite-micro's own model_editor and schema), and its tables (window, mel triangles, PCAN's gain curve)
are computed here from their definitions. The work per hop is the pipeline's; its values are of the
same kind as micro_speech's, not bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lgrin_edge.export.tflite_micro import tflm_status
from lgrin_edge.optional import installed, missing

RATE = 16000
WINDOW = 400  # samples: 25 ms
HOP = 160  # samples: 10 ms
FFT = 512
CHANNELS = 40
BAND_HZ = (125.0, 7500.0)
WEIGHT_BITS = 12  # window and filter-bank weights
CORRECTION_BITS = 9 - WEIGHT_BITS // 2  # log2(FFT) - WEIGHT_BITS / 2: the square root's output scale
LOG_SCALE = 1 << 6
SUBTRACTION_BITS, SMOOTHING_BITS = 14, 10
SMOOTHING = (0.025, 0.06)  # noise estimate's smoothing, even and odd channels
MIN_SIGNAL_REMAINING = 0.05
PCAN_STRENGTH, PCAN_OFFSET, PCAN_GAIN_BITS, PCAN_SNR_SHIFT = 0.95, 80.0, 21, 6
ARENA_BYTES = 64 << 10


def status() -> tuple[bool, str]:
    """Whether the Signal-op front-end can run here, and a one-line reason or what runs it."""
    ok, why = tflm_status()
    if not ok:
        return False, why
    if not installed("flatbuffers"):
        return False, missing("flatbuffers")
    return True, f"{why}, Signal library operators"


def _mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, np.float64) / 700.0)


def hann() -> np.ndarray:
    """The Hann window's WINDOW weights, scaled by 2^WEIGHT_BITS."""
    k = np.arange(WINDOW) + 0.5
    return np.round((1 << WEIGHT_BITS) * (0.5 - 0.5 * np.cos(2 * np.pi * k / WINDOW))).astype(np.int16)


def mel_bank() -> dict[str, np.ndarray | int]:
    """The filter bank's tables for FFT bins [start, end): region r (r = 0..CHANNELS) holds the bins
    between mel edges r and r + 1; a bin's weight counts for channel r - 1 (its falling side) and its
    unweight (1 - weight) for channel r (its rising side), both scaled by 2^WEIGHT_BITS."""
    hz_per_bin = RATE / FFT
    start, end = int(np.ceil(BAND_HZ[0] / hz_per_bin)), int(np.ceil(BAND_HZ[1] / hz_per_bin))
    edges = np.linspace(_mel(BAND_HZ[0]), _mel(BAND_HZ[1]), CHANNELS + 2)
    bins = np.arange(start, end)
    mels = _mel(bins * hz_per_bin)
    freq_starts, weight_starts, widths, weights = [], [], [], []
    for r in range(CHANNELS + 1):
        inside = bins[(mels >= edges[r]) & (mels < edges[r + 1])]
        freq_starts.append(int(inside[0]) if len(inside) else start)
        weight_starts.append(len(weights))
        widths.append(len(inside))
        falling = (edges[r + 1] - _mel(inside * hz_per_bin)) / (edges[r + 1] - edges[r])
        weights += [int(v) for v in np.round(falling * (1 << WEIGHT_BITS))]
    w = np.array(weights, np.int16)
    return {
        "weights": w,
        "unweights": ((1 << WEIGHT_BITS) - w).astype(np.int16),
        "freq_starts": np.array(freq_starts, np.int16),
        "weight_starts": np.array(weight_starts, np.int16),
        "widths": np.array(widths, np.int16),
        "start": start,
        "end": end,
    }


def pcan_lut() -> np.ndarray:
    """PCAN's gain 2^gain_bits (x / 2^input_bits + offset)^-strength as the operator reads it: the values
    at x = 0, 1, 2, then per octave [2^(k-1), 2^k) (k = 2..32, 4 entries from index 4k - 6) a quadratic
    a + b f + c f^2 in the position f in [0, 1) within the octave, through f = 0, 1/2 and 1."""
    input_bits = SMOOTHING_BITS - CORRECTION_BITS

    def gain(x: np.ndarray | float) -> np.ndarray:
        g = (1 << PCAN_GAIN_BITS) * (np.asarray(x, np.float64) / (1 << input_bits) + PCAN_OFFSET) ** (
            -PCAN_STRENGTH
        )
        return np.minimum(np.round(g), 32767)

    lut = np.zeros(4 * 32 - 3, np.float64)
    lut[:3] = gain(np.arange(3))
    for k in range(2, 33):
        x0 = float(1 << (k - 1))
        y0, y1, y2 = gain(x0), gain(1.5 * x0), gain(2.0 * x0)
        lut[4 * k - 6 : 4 * k - 3] = (y0, 4 * y1 - 3 * y0 - y2, 2 * y0 - 4 * y1 + 2 * y2)
    return np.clip(lut, -32768, 32767).astype(np.int16)


def signal_model() -> bytes:
    """The pipeline as a .tflite flatbuffer: input int16 [WINDOW], output int16 [CHANNELS]."""
    from flatbuffers import flexbuffers
    from tflite_micro.tensorflow.lite.micro.compression import model_editor as me
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = me.Model()
    graph = model.add_subgraph()

    def tensor(shape: tuple[int, ...], dtype: int, data: np.ndarray | None = None) -> object:
        return graph.add_tensor(shape=shape, dtype=dtype, data=data)

    def op(name: str, inputs: list, outputs: list, **options: int | bool) -> None:
        o = graph.add_operator(
            opcode=schema.BuiltinOperator.CUSTOM, custom_code=name, inputs=inputs, outputs=outputs
        )
        # a flexbuffer map, whose values the operators read in key order; model_editor has no setter for
        # custom options, the OperatorT it wraps holds them
        if options:
            o._fb.customOptions = list(flexbuffers.Dumps(options))

    t = _signal_tensors(tensor, schema.TensorType)
    _spectrum_ops(tensor, op, schema.TensorType, t)
    _channel_ops(tensor, op, schema.TensorType, t)
    graph.inputs, graph.outputs = [t["pcm"]], [t["logged"]]
    return bytes(model.build())


_Tensor = Callable[..., object]
_Op = Callable[..., None]


def _signal_tensors(tensor: _Tensor, types: Any) -> dict[str, object]:
    """The pipeline's input, intermediate and output tensors by name, made in the model's tensor order."""
    t: dict[str, object] = {name: tensor((WINDOW,), types.INT16) for name in ("pcm", "windowed", "scaled")}
    t["shift"] = tensor((), types.INT32)
    t["spectrum"], t["energy"] = tensor((FFT + 2,), types.INT16), tensor((FFT // 2 + 1,), types.UINT32)
    for name, dtype in zip(
        ("summed", "rooted", "cleaned", "noise"),
        (types.UINT64, types.UINT32, types.UINT32, types.UINT32),
        strict=True,
    ):
        t[name] = tensor((CHANNELS,), dtype)
    t["gained"], t["logged"] = tensor((CHANNELS,), types.UINT32), tensor((CHANNELS,), types.INT16)
    return t


def _spectrum_ops(tensor: _Tensor, op: _Op, types: Any, t: dict[str, object]) -> None:
    """Window, FFT, energy and mel filter bank: pcm -> summed (and the FFT's scale shift)."""
    bank = mel_bank()
    op("SignalWindow", [t["pcm"], tensor((WINDOW,), types.INT16, hann())], [t["windowed"]], shift=WEIGHT_BITS)
    op("SignalFftAutoScale", [t["windowed"]], [t["scaled"], t["shift"]])
    op("SignalRfft", [t["scaled"]], [t["spectrum"]], T=types.INT16, fft_length=FFT)
    op("SignalEnergy", [t["spectrum"]], [t["energy"]], end_index=bank["end"], start_index=bank["start"])
    tables = [bank[name] for name in ("weights", "unweights", "freq_starts", "weight_starts", "widths")]
    op(
        "SignalFilterBank",
        [t["energy"], *(tensor((len(v),), types.INT16, v) for v in tables)],
        [t["summed"]],
        num_channels=CHANNELS,
    )


def _channel_ops(tensor: _Tensor, op: _Op, types: Any, t: dict[str, object]) -> None:
    """Square root, noise subtraction, PCAN gain and log per channel: summed -> logged."""
    op("SignalFilterBankSquareRoot", [t["summed"], t["shift"]], [t["rooted"]])
    one = 1 << SUBTRACTION_BITS
    even, odd = (round(s * one) for s in SMOOTHING)
    op(
        "SignalFilterBankSpectralSubtraction",
        [t["rooted"]],
        [t["cleaned"], t["noise"]],
        alternate_one_minus_smoothing=one - odd,
        alternate_smoothing=odd,
        clamping=False,
        min_signal_remaining=round(MIN_SIGNAL_REMAINING * one),
        num_channels=CHANNELS,
        one_minus_smoothing=one - even,
        smoothing=even,
        smoothing_bits=SMOOTHING_BITS,
        spectral_subtraction_bits=SUBTRACTION_BITS,
    )
    lut = pcan_lut()
    op(
        "SignalPCAN",
        [t["cleaned"], t["noise"], tensor((len(lut),), types.INT16, lut)],
        [t["gained"]],
        snr_shift=PCAN_SNR_SHIFT,
    )
    op(
        "SignalFilterBankLog",
        [t["gained"]],
        [t["logged"]],
        input_correction_bits=CORRECTION_BITS,
        output_scale=LOG_SCALE,
    )


class SignalFrontend:
    """The pipeline in TFLite Micro's interpreter: one call, one 25 ms window, 40 log channels out."""

    def __init__(self, model: bytes | None = None, arena_bytes: int = ARENA_BYTES) -> None:
        from tflite_micro.python.tflite_micro import runtime

        self.model = model or signal_model()
        self._interpreter = runtime.Interpreter.from_bytes(self.model, arena_size=arena_bytes)

    def window(self, pcm: np.ndarray) -> np.ndarray:
        """The 40 int16 log channels of one window of WINDOW int16 samples."""
        self._interpreter.set_input(pcm, 0)
        self._interpreter.invoke()
        return self._interpreter.get_output(0)

    def frames(self, signal: np.ndarray) -> np.ndarray:
        """(T, CHANNELS) int16: every whole window of an int16 signal, HOP apart."""
        x = np.ascontiguousarray(signal, np.int16)
        starts = range(0, len(x) - WINDOW + 1, HOP)
        return np.array([self.window(x[s : s + WINDOW]) for s in starts], np.int16).reshape(-1, CHANNELS)
