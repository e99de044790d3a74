"""Where each kind of artifact carries the feature spec (under :data:`lgrin_edge.spec.KEY`): the writer
the export puts it in with, the reader ``python -m lgrin_edge.inspect`` takes it out with (standard
library only: no runtime of the artifact has to be installed), and the words the manifest uses. A new file
type gets one :class:`SpecPlace` here.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lgrin_edge.cli import UserError
from lgrin_edge.export.c_facts import HEADER_SIZE, MAGIC, MIN_VERSION, VERSION
from lgrin_edge.spec import KEY, FeatureSpec


class NoSpec(UserError):
    """The file is readable but holds no feature spec, or is not an artifact."""


@dataclass(frozen=True)
class SpecPlace:
    """One file type's place for the spec."""

    suffix: str
    manifest: str  # where, in the manifest's words
    found: str  # where, in inspect's words
    recognise: Callable[[Path, bytes], bool]  # whether the bytes are this file type
    read: Callable[[Path, bytes], str]  # the spec's JSON text
    write: Callable[[Path, str], None]  # put the JSON text inside the file


def no_spec(path: Path, what: str) -> NoSpec:
    """The one line for a file of a known kind that carries no spec."""
    return NoSpec(f"{path}: {what} without a feature spec (made before lgrin-edge recorded one)")


# -- writers (imported when used: each needs its converter's package) --------------------------------


def _write_onnx(path: Path, text: str) -> None:
    from lgrin_edge.export.onnx_graph import add_metadata

    add_metadata(path, KEY, text)


def _write_tflite(path: Path, text: str) -> None:
    from lgrin_edge.export.tflite import add_metadata

    add_metadata(path, KEY, text.encode())


def _write_pte(path: Path, text: str) -> None:
    from lgrin_edge.export.executorch import add_named_data

    add_named_data(path, KEY, text.encode())


def _write_lgrn(path: Path, text: str) -> None:
    from lgrin_edge.export.c_runtime import add_feature_spec

    add_feature_spec(path, text)


# -- readers -------------------------------------------------------------------------------------------


def _lgrn(path: Path, data: bytes) -> str:
    """The C runtime's model file: version 5 and later carry the spec after the payload (export/README.md)."""
    import zlib

    version, total, crc = struct.unpack_from("<III", data, 4)
    if total != len(data) or zlib.crc32(data[16:]) != crc:
        raise UserError(f"{path}: damaged .lgrn (its size or checksum does not match the header)")
    if version == MIN_VERSION:  # the one version without a spec section
        raise no_spec(path, f"a model file of format version {MIN_VERSION}")
    if version != VERSION:
        raise UserError(
            f"{path}: .lgrn format version {version}; this lgrin-edge reads {MIN_VERSION} and {VERSION}"
        )
    n = struct.unpack_from("<I", data, 48)[0]
    start = total - ((n + 4) & ~3)
    if n < 1 or start < HEADER_SIZE:
        raise UserError(f"{path}: damaged .lgrn (feature spec length {n})")
    return data[start : start + n].decode()


def _onnx(path: Path, data: bytes) -> str:
    """The value of metadata_props' entry :data:`KEY` (ModelProto field 14: key 1, value 2)."""
    for number, value in _protobuf(data):
        if number == 14 and isinstance(value, bytes):
            entry = {n: v for n, v in _protobuf(value) if isinstance(v, bytes)}
            if entry.get(1) == KEY.encode():
                return entry.get(2, b"").decode()
    raise no_spec(path, "an ONNX model")


def _protobuf(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of a message's fields: varints as int, length-delimited as bytes."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
            yield number, value
        elif wire == 2:
            n, i = _varint(data, i)
            if i + n > len(data):
                raise ValueError("a field runs past the end")
            yield number, data[i : i + n]
            i += n
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise ValueError(f"protobuf wire type {wire}")


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if byte < 0x80:
            return value, i
        if shift > 63:
            raise ValueError("a varint longer than 10 bytes")


class _Flat:
    """Bounds-checked reading of flatbuffer tables (tables and vectors are found through offsets)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def num(self, fmt: str, at: int) -> int:
        if at < 0 or at + struct.calcsize(fmt) > len(self.data):
            raise ValueError(f"offset {at} outside the file")
        return struct.unpack_from(fmt, self.data, at)[0]

    def field(self, table: int, slot: int) -> int | None:
        """Where field ``slot`` of the table at ``table`` is, or None where it is absent."""
        vtable = table - self.num("<i", table)
        at = 4 + 2 * slot
        if at + 2 > self.num("<H", vtable):
            return None
        off = self.num("<H", vtable + at)
        return table + off if off else None

    def ref(self, table: int, slot: int) -> int | None:
        """The table, vector or string field ``slot`` points to."""
        at = self.field(table, slot)
        return None if at is None else at + self.num("<I", at)

    def scalar(self, table: int, slot: int, fmt: str) -> int:
        at = self.field(table, slot)
        return 0 if at is None else self.num(fmt, at)

    def tables(self, table: int, slot: int) -> list[int]:
        vector = self.ref(table, slot)
        n = 0 if vector is None else self.num("<I", vector)
        return [vector + 4 + 4 * j + self.num("<I", vector + 4 + 4 * j) for j in range(n)]  # type: ignore[operator]

    def bytes(self, table: int, slot: int) -> bytes:
        vector = self.ref(table, slot)
        if vector is None:
            return b""
        n = self.num("<I", vector)
        if vector + 4 + n > len(self.data):
            raise ValueError("a vector runs past the end")
        return self.data[vector + 4 : vector + 4 + n]


def _tflite(path: Path, data: bytes) -> str:
    """Model.metadata (slot 6: name 0, buffer 1) entry :data:`KEY`, its buffer (Model.buffers, slot 4:
    data 0, or offset 1 and size 2 for data kept after the flatbuffer)."""
    fb = _Flat(data)
    model = fb.num("<I", 0)
    for meta in fb.tables(model, 6):
        if fb.bytes(meta, 0) == KEY.encode():
            buffer = fb.tables(model, 4)[fb.scalar(meta, 1, "<I")]
            offset, size = fb.scalar(buffer, 1, "<Q"), fb.scalar(buffer, 2, "<Q")
            return (data[offset : offset + size] if offset > 1 else fb.bytes(buffer, 0)).decode()
    raise no_spec(path, "a TFLite model")


def _pte(path: Path, data: bytes) -> str:
    """Program.named_data (slot 7: key 0, segment_index 1) entry :data:`KEY`, its segment (Program.segments,
    slot 4: offset 0, size 1, from the extended header's segment base)."""
    fb = _Flat(data)
    base = fb.num("<Q", 24)  # extended header at 8: magic, length, program size, segment base offset
    program = fb.num("<I", 0)
    for named in fb.tables(program, 7):
        if fb.bytes(named, 0) == KEY.encode():
            segment = fb.tables(program, 4)[fb.scalar(named, 1, "<I")]
            start = base + fb.scalar(segment, 0, "<Q")
            end = start + fb.scalar(segment, 1, "<Q")
            if end > len(data):
                raise ValueError("a segment runs past the end")
            return data[start:end].decode()
    raise no_spec(path, "an ExecuTorch program")


PLACES: tuple[SpecPlace, ...] = (
    SpecPlace(
        ".lgrn",
        "the feature spec section (format version 5; lgrin_feature_spec())",
        "the .lgrn feature spec section",
        lambda path, data: data[:4] == MAGIC,
        _lgrn,
        _write_lgrn,
    ),
    SpecPlace(
        ".tflite",
        f"Model.metadata {KEY!r} (its own buffer)",
        f"TFLite Model.metadata {KEY!r}",
        lambda path, data: data[4:8] == b"TFL3",
        _tflite,
        _write_tflite,
    ),
    SpecPlace(
        ".pte",
        f"named data {KEY!r} (Program.named_data, a segment)",
        f"ExecuTorch named data {KEY!r}",
        lambda path, data: data[4:6] == b"ET" and data[8:12] == b"eh00",
        _pte,
        _write_pte,
    ),
    # protobuf has no magic: an ONNX file is known by its name, after every kind with a magic
    SpecPlace(
        ".onnx",
        f"metadata_props[{KEY!r}]",
        f"ONNX metadata_props[{KEY!r}]",
        lambda path, data: path.suffix == ".onnx" and data[:2] != b"PK",
        _onnx,
        _write_onnx,
    ),
)
NO_SPEC_PLACE = {
    ".engine": "not inside: a TensorRT engine has no place for it; the Q/DQ ONNX it is built from holds it"
}


def read_embedded(path: Path, data: bytes) -> tuple[str, str] | None:
    """The spec's JSON text inside the artifact ``data`` and where it was, or None for another kind."""
    for place in PLACES:
        if place.recognise(path, data):
            return place.read(path, data), place.found
    return None


def embed_spec(path: Path, spec: FeatureSpec) -> str:
    """Put ``spec``'s JSON inside the artifact at ``path`` (by suffix) and say where; the artifact is then
    verified as it is shipped."""
    for place in PLACES:
        if place.suffix == path.suffix:
            place.write(path, spec.to_json())
    return spec_place(path.name)


def spec_place(name: str) -> str:
    """Where the artifact file ``name`` carries the feature spec, or why it does not."""
    suffix = Path(name).suffix
    manifest = {place.suffix: place.manifest for place in PLACES}
    return manifest.get(suffix) or NO_SPEC_PLACE.get(
        suffix, "not inside: this kind of file has no place for it"
    )
