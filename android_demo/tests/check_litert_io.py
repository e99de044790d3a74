#!/usr/bin/env python3
"""Check the LiteRT backend's int8 I/O on the desktop, with the real int8 .tflite.

    python android_demo/tests/check_litert_io.py ASSETS CLASSES DIST

The app's LiteRtBackend quantises the float graph with the demo's Java Int8Io and the input tensor's scale
and zero point, runs LiteRT's Interpreter, and dequantises the output. The Android Interpreter cannot run
here, so this runs the same interpreter through LiteRT's Python binding (ai-edge-litert) and checks that
  1. the Java quantiser (QuantizeTool) gives exactly the bytes of an independent numpy quantisation, and
  2. those bytes, run in LiteRT and dequantised, reproduce the accuracy the export's verification recorded
     for the int8 .tflite in manifest.json (when all of samples.npz was packed), within one sample.
Exits 0 with a note when the assets hold no .tflite or ai-edge-litert is not installed.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_pack_assets import decode_samples

if TYPE_CHECKING:
    from ai_edge_litert.interpreter import Interpreter


def quantize_reference(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    v = (x.astype(np.float32) / np.float32(scale)).astype(np.float64)
    r = np.sign(v) * np.floor(np.abs(v) + 0.5)  # half away from zero
    return np.clip(r + zero_point, -128, 127).astype(np.int8)


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    assets, classes, dist = (Path(a) for a in sys.argv[1:])
    props = _read_properties(assets / "demo.properties")
    if "tflite.file" not in props:
        print("SKIPPED: the packed export has no int8 .tflite")
        return 0
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        print("SKIPPED: ai-edge-litert is not installed (pip install ai-edge-litert)")
        return 0

    interp = Interpreter(model_path=str(assets / props["tflite.file"]), num_threads=1)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    x, y, _, ref = decode_samples((assets / "samples.bin").read_bytes())
    if inp["dtype"] == np.float32 and out["dtype"] == np.float32:
        # Dynamic-range int8 (the export's default): float I/O, the app passes floats straight through.
        logits = _invoke_each(interp, inp, out, x, np.zeros(inp["shape"], np.float32))
        print("float I/O (dynamic-range int8): no input quantisation needed")
        return _check_accuracy(np.argmax(logits, axis=1), y, ref, dist)
    if inp["dtype"] != np.int8 or out["dtype"] != np.int8:
        print(f"error: expected int8 or float32 I/O, got {inp['dtype']} -> {out['dtype']}", file=sys.stderr)
        return 1
    (s_in, z_in), (s_out, z_out) = inp["quantization"], out["quantization"]

    q_java = _java_quantize(classes, assets, s_in, z_in).reshape(x.shape)
    q_ref = quantize_reference(x, s_in, z_in)
    bad = int((q_java != q_ref).sum())
    if bad:
        print(
            f"error: Java Int8Io differs from the reference quantisation in {bad} of {q_ref.size} values",
            file=sys.stderr,
        )
        return 1

    batch = np.full(inp["shape"], z_in, dtype=np.int8)  # other batch slots hold quantised zeros
    logits = s_out * (_invoke_each(interp, inp, out, q_java, batch).astype(np.float32) - z_out)
    print(f"Java int8 quantisation identical to the reference on {q_ref.size} values")
    return _check_accuracy(np.argmax(logits, axis=1), y, ref, dist)


def _read_properties(path: Path) -> dict[str, str]:
    """``key=value`` lines of a Java properties file (comments skipped)."""
    return dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )


def _invoke_each(
    interp: "Interpreter", inp: dict, out: dict, samples: np.ndarray, batch: np.ndarray
) -> np.ndarray:
    """Row 0 of the output for each sample run alone in slot 0 of ``batch`` (the app's fixed batch)."""
    rows = []
    for sample in samples:
        batch[0] = sample
        interp.set_tensor(inp["index"], batch)
        interp.invoke()
        rows.append(interp.get_tensor(out["index"])[0].copy())
    return np.array(rows)


def _java_quantize(classes: Path, assets: Path, scale: float, zero_point: int) -> np.ndarray:
    """The packed samples quantised by the demo's Java Int8Io (through QuantizeTool), flat int8."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "q.bin"
        subprocess.run(
            [
                "java",
                "-cp",
                str(classes),
                "org.lgrin.edge.demo.QuantizeTool",
                str(assets),
                repr(float(scale)),
                str(int(zero_point)),
                str(raw),
            ],
            check=True,
        )
        return np.fromfile(raw, dtype=np.int8)


def _check_accuracy(pred: np.ndarray, y: np.ndarray, ref: np.ndarray | None, dist: Path) -> int:
    """The packed samples' accuracy in LiteRT against the export's record (within one sample)."""
    acc = float((pred == y).mean())
    line = f"LiteRT int8: accuracy {acc:.4f} on {len(y)} samples"
    if ref is not None:
        line += f", top-1 agreement with the C runtime {float((pred == ref.argmax(1)).mean()):.4f}"
    print(line)

    manifest = json.loads((dist / "manifest.json").read_text())
    entry = next(a for a in manifest["artifacts"] if a["target"] == "tflite" and a["precision"] == "int8")
    with np.load(dist / "samples.npz") as npz:
        complete = len(npz["y"]) == len(y)
    if complete and abs(acc - entry["accuracy"]) > 1.0 / len(y) + 1e-9:
        print(
            f"error: accuracy {acc:.4f} differs from the export's {entry['accuracy']:.4f} by more than one "
            "sample",
            file=sys.stderr,
        )
        return 1
    print(f"export's accuracy {entry['accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
