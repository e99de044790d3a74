"""WAV files for the front-end: 16-bit PCM or 32-bit float, the first channel, as the C tool reads them.

RIFF/WAVE chunks (Microsoft's 'Multimedia Programming Interface and Data Specifications 1.0', with
WAVE_FORMAT_EXTENSIBLE): 'fmt ' gives the encoding, 'data' the interleaved little-endian samples.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from lgrin_edge.atomic import write_bytes
from lgrin_edge.cli import UserError

PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE


def read(path: str | Path) -> tuple[np.ndarray, int]:
    """(samples of the first channel: int16 or float32, sample rate in Hz)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a WAV file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"audio file not found: {path}") from None
    return parse(data, str(path))


def parse(data: bytes, name: str = "WAV") -> tuple[np.ndarray, int]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise UserError(f"{name}: not a WAV file (no RIFF/WAVE header)")
    fmt, samples, at = None, None, 12
    while at + 8 <= len(data):
        tag, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        body = data[at + 8 : at + 8 + size]
        if len(body) < size:
            raise UserError(
                f"{name}: truncated: chunk {tag.decode('latin-1')!r} declares {size} bytes, "
                f"{len(body)} remain"
            )
        if tag == b"fmt ":
            fmt = _format(body, name)
        elif tag == b"data":
            samples = body
            break
        at += 8 + size + (size & 1)  # chunks are padded to an even length
    if fmt is None or samples is None:
        raise UserError(f"{name}: no {'fmt ' if fmt is None else 'data'} chunk before the end of the file")
    encoding, channels, rate, bits = fmt
    frame = channels * bits // 8
    if len(samples) % frame:
        raise UserError(
            f"{name}: data chunk of {len(samples)} bytes is not a whole number of {frame}-byte frames"
        )
    dtype = np.dtype("<i2") if encoding == PCM else np.dtype("<f4")
    values = np.frombuffer(samples, dtype).reshape(-1, channels)[:, 0]
    return values.astype(np.int16 if encoding == PCM else np.float32), rate


def _format(body: bytes, name: str) -> tuple[int, int, int, int]:
    if len(body) < 16:
        raise UserError(f"{name}: fmt chunk of {len(body)} bytes, expected at least 16")
    encoding, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if encoding == EXTENSIBLE and len(body) >= 26:
        encoding = struct.unpack_from("<H", body, 24)[0]  # the sub-format GUID's first two bytes
    if channels < 1 or rate < 1:
        raise UserError(f"{name}: {channels} channels at {rate} Hz")
    if (encoding, bits) not in ((PCM, 16), (FLOAT, 32)):
        kind = {PCM: "integer PCM", FLOAT: "float"}.get(encoding, f"encoding {encoding}")
        raise UserError(
            f"{name}: {bits}-bit {kind} samples; the front-end reads 16-bit PCM or 32-bit float WAV"
        )
    return encoding, channels, rate, bits


def write(path: str | Path, samples: np.ndarray, rate: int) -> None:
    """A mono WAV of int16 (PCM) or float32 samples (tests and known answers write theirs so)."""
    x = np.asarray(samples)
    encoding = PCM if x.dtype == np.int16 else FLOAT
    body = x.astype("<i2" if encoding == PCM else "<f4").tobytes()
    bits = 16 if encoding == PCM else 32
    fmt = struct.pack("<HHIIHH", encoding, 1, rate, rate * bits // 8, bits // 8, bits)
    riff = (
        b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(body)) + body
    )
    write_bytes(path, b"RIFF" + struct.pack("<I", len(riff)) + riff)
