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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lgrin_edge.cli import Parser, UserError, run
from lgrin_edge.export.spec_places import NoSpec, no_spec, read_embedded
from lgrin_edge.spec import NPZ_KEY, FeatureSpec, SpecError

_MAX_BYTES = 1 << 31  # larger files are no artifact of lgrin-edge's (flatbuffers and protobuf stop at 2 GB)


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
    found = read_embedded(path, data)
    if found:
        return found
    if data[:2] == b"PK":
        return _npz(path), f"npz array {NPZ_KEY!r}"
    if path.suffix == ".json" or data[:1] == b"{":
        return _json(path, data)
    raise NoSpec(
        f"{path}: not an artifact of lgrin-edge (.onnx, .tflite, .pte, .lgrn, .npz, .json, a folder)"
    )


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
            raise no_spec(path, "an export manifest")
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
                raise no_spec(path, "an npz file" + (" of graphs" if "x" in f.files else ""))
            array = f[NPZ_KEY]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path}: unreadable npz ({exc})") from None
    if array.dtype.kind != "U" or array.size != 1:
        raise UserError(f"{path}: {NPZ_KEY} is not one string ({array.dtype} {array.shape})")
    return str(array.reshape(-1)[0])


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
    stream = spec.stream.describe(spec.frame_rate_hz) if spec.stream else "none"
    lines.append(f"stream         {stream}")
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
