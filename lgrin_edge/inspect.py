"""``python -m lgrin_edge.inspect FILE [--json]``: the feature spec one artifact carries, read from it alone.

FILE is any of: an exported model (``.onnx``, ``.tflite``, ``.pte``, ``.lgrn``), ``samples.npz`` or
``manifest.json`` of an export, a dataset ``.npz``, a checkpoint folder (or its ``config.json``), an export
folder. Prints what the device must feed the model (extractor, input, features, graph rule, classes), or
the spec's JSON with ``--json``; one line where the file holds none. The readers below need nothing but
the standard library and numpy: no runtime of the artifact has to be installed.
"""

from __future__ import annotations

import json
import struct
import sys
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lgrin_edge.cli import Parser, UserError, run
from lgrin_edge.export.c_facts import HEADER_SIZE, MAGIC, MIN_VERSION, VERSION
from lgrin_edge.spec import KEY, NPZ_KEY, FeatureSpec, SpecError

_MAX_BYTES = 1 << 31  # larger files are no artifact of lgrin-edge's (flatbuffers and protobuf stop at 2 GB)


class NoSpec(UserError):
    """The file is readable but holds no feature spec, or is not an artifact."""


def read_spec(path: Path) -> tuple[FeatureSpec, str]:
    """The spec ``path`` holds and where in it; :class:`NoSpec` or :class:`UserError` (one line)."""
    if path.is_dir():
        return _folder(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file or folder")
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise NoSpec(f"{path}: {size} bytes, larger than any artifact")
    data = path.read_bytes()
    try:
        text, where = _embedded(path, data)
    except UserError:
        raise
    except (ValueError, struct.error, IndexError) as exc:  # a damaged file: offsets out of range
        raise UserError(f"{path}: damaged or not what its name says ({exc})") from None
    try:
        return FeatureSpec.from_json(text), where
    except SpecError as exc:
        raise UserError(f"{path}: {where} holds a damaged {exc}") from None


def _embedded(path: Path, data: bytes) -> tuple[str, str]:
    """The spec's JSON text inside the file ``data`` and where it was, by content (then by suffix)."""
    if data[:4] == MAGIC:
        return _lgrn(path, data), "the .lgrn feature spec section"
    if data[4:8] == b"TFL3":
        return _tflite(path, data), f"TFLite Model.metadata {KEY!r}"
    if data[4:6] == b"ET" and data[8:12] == b"eh00":
        return _pte(path, data), f"ExecuTorch named data {KEY!r}"
    if data[:2] == b"PK":
        return _npz(path), f"npz array {NPZ_KEY!r}"
    if path.suffix == ".onnx":
        return _onnx(path, data), f"ONNX metadata_props[{KEY!r}]"
    if path.suffix == ".json" or data[:1] == b"{":
        return _json(path, data)
    raise NoSpec(
        f"{path}: not an artifact of lgrin-edge (.onnx, .tflite, .pte, .lgrn, .npz, .json, a folder)"
    )


def _none(path: Path, what: str) -> NoSpec:
    return NoSpec(f"{path}: {what} without a feature spec (made before lgrin-edge recorded one)")


# -- the file kinds ------------------------------------------------------------------------------------


def _folder(path: Path) -> tuple[FeatureSpec, str]:
    """A checkpoint folder (its config.json) or an export folder (its manifest.json)."""
    for name in ("config.json", "manifest.json"):
        if (path / name).is_file():
            spec, where = read_spec(path / name)
            return spec, f"{name}: {where}"
    raise NoSpec(f"{path}: a folder without config.json (a checkpoint) or manifest.json (an export)")


def _json(path: Path, data: bytes) -> tuple[str, str]:
    """A bare spec, a checkpoint's config.json or an export's manifest.json."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not JSON ({exc})") from None
    if isinstance(doc, dict) and "spec_version" in doc:
        return json.dumps(doc), "a feature spec document"
    if isinstance(doc, dict) and NPZ_KEY in doc:
        kind = "manifest.json" if "artifacts" in doc else "config.json"
        return json.dumps(doc[NPZ_KEY]), f"{kind} key {NPZ_KEY!r}"
    if isinstance(doc, dict) and ("artifacts" in doc or "format_version" in doc):
        if "artifacts" in doc:
            raise _none(path, "an export manifest")
        raise NoSpec(
            f"{path}: a checkpoint config without a feature spec (trained before runs recorded one; "
            "lgrin_edge.export gives its artifacts one of what config.json knows)"
        )
    raise NoSpec(f"{path}: JSON, but not a feature spec, a checkpoint's config.json or a manifest.json")


def _npz(path: Path) -> str:
    """A dataset file or samples.npz: the one-string array under :data:`NPZ_KEY`."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as f:
            if NPZ_KEY not in f.files:
                raise _none(path, "an npz file" + (" of graphs" if "x" in f.files else ""))
            array = f[NPZ_KEY]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path}: unreadable npz ({exc})") from None
    if array.dtype.kind != "U" or array.size != 1:
        raise UserError(f"{path}: {NPZ_KEY} is not one string ({array.dtype} {array.shape})")
    return str(array.reshape(-1)[0])


def _lgrn(path: Path, data: bytes) -> str:
    """The C runtime's model file: version 5 and later carry the spec after the payload (export/README.md)."""
    import zlib

    version, total, crc = struct.unpack_from("<III", data, 4)
    if total != len(data) or zlib.crc32(data[16:]) != crc:
        raise UserError(f"{path}: damaged .lgrn (its size or checksum does not match the header)")
    if version == MIN_VERSION:  # the one version without a spec section
        raise _none(path, f"a model file of format version {MIN_VERSION}")
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
    raise _none(path, "an ONNX model")


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
    raise _none(path, "a TFLite model")


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
    raise _none(path, "an ExecuTorch program")


# -- the summary ---------------------------------------------------------------------------------------


def summary(spec: FeatureSpec) -> str:
    """What a device programmer needs, in reading order."""
    d = spec.to_dict()
    ext, inp = d["extractor"], d["input"]
    lines = [f"extractor      {ext['id']} ({ext['version']})"]
    lines += [f"  {line}" for line in _params(ext["params"])]
    channels = inp["channels"]
    listed = (
        channels if isinstance(channels, str) else ", ".join(f"{c['name']} [{c['unit']}]" for c in channels)
    )
    lines.append(
        f"input          {inp['kind']}, sample rate {_hz(inp['sample_rate_hz'])}; channels: {listed}"
    )
    lines.append(f"frame rate     {_hz(inp['frame_rate_hz'])} (one frame is one node)")
    width = max(len(f["name"]) for f in d["features"])
    lines.append(f"features       P = {len(d['features'])}, in this order:")
    lines += [f"  {i:4d}  {f['name']:<{width}}  {f['unit']}" for i, f in enumerate(d["features"])]
    graph = d["graph"]
    if graph is None:
        lines.append("graph          not yet chosen (a dataset: training sets M and the rule)")
    else:
        lines.append(f"graph          M = {graph['num_nodes']} nodes per input")
        lines.append(f"  shorter: {graph['shorter']}: {graph['shorter_rule']}")
        lines.append(f"  longer:  {graph['longer']}: {graph['longer_rule']}")
    norm = d["normalisation"] or "not yet known (a dataset)"
    lines.append(
        f"normalisation  {norm}" + (f": {d['normalisation_rule']}" if d["normalisation_rule"] else "")
    )
    classes = d["classes"]
    lines.append(
        f"classes        C = {len(classes)}: {', '.join(classes)}" if classes else "classes        none"
    )
    lines.append("stream         none")
    return "\n".join(lines)


def _hz(value: object) -> str:
    return f"{value:g} Hz" if isinstance(value, int | float) else str(value)


def _params(params: dict[str, Any], indent: str = "") -> list[str]:
    """``key: value`` lines, nested objects indented under their key."""
    out = []
    for key, value in params.items():
        if isinstance(value, dict):
            out.append(f"{indent}{key}:")
            out += _params(value, indent + "  ")
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            out.append(f"{indent}{key}: {shown}")
    return out


def _parser() -> Parser:
    ap = Parser(prog="python -m lgrin_edge.inspect", description=__doc__.splitlines()[0].split(": ", 1)[1])
    ap.add_argument(
        "file", metavar="FILE", type=Path, help="an artifact, dataset, checkpoint or export folder"
    )
    ap.add_argument("--json", action="store_true", help="print the spec's JSON instead of the summary")
    return ap


def _main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    spec, where = read_spec(args.file)
    if args.json:
        print(json.dumps(spec.to_dict(), indent=1, ensure_ascii=False))
        return 0
    print(f"{args.file}: feature spec, from {where}")
    print(summary(spec))
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
