#!/usr/bin/env python3
"""Build a TensorRT engine from an lgrin-edge ONNX file, on the device that will run it.

Needs only TensorRT's Python bindings (JetPack ships them as python3-libnvinfer; elsewhere
``pip install tensorrt``). Engines are specific to the GPU and TensorRT version they are built with,
so run this on the Jetson itself:

    python3 build_engine.py model.int8.tensorrt.onnx model.engine --max-batch 64
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile


def build(onnx_path: str, engine_path: str, min_batch: int, opt_batch: int, max_batch: int) -> int:
    """Parse, build and write the engine atomically; returns its size in bytes."""
    import tensorrt as trt

    if not os.path.isfile(onnx_path):
        raise FileNotFoundError(f"ONNX file not found: {onnx_path}")
    if not 1 <= min_batch <= opt_batch <= max_batch:
        raise ValueError(f"need 1 <= min <= opt <= max batch, got {min_batch}, {opt_batch}, {max_batch}")
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = trt.NetworkDefinitionCreationFlag.__members__
    # Q/DQ (explicit quantisation) networks are built strongly typed from TensorRT 10 on; TensorRT 8.x
    # wants an explicit-batch network plus the INT8 builder flag instead.
    strongly_typed = "STRONGLY_TYPED" in flags
    flag = flags["STRONGLY_TYPED"] if strongly_typed else flags["EXPLICIT_BATCH"]
    network = builder.create_network(1 << int(flag))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(onnx_path):
        errors = "\n  ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT's ONNX parser rejected {onnx_path}:\n  {errors}")
    config = builder.create_builder_config()
    if not strongly_typed:
        config.set_flag(trt.BuilderFlag.INT8)
    inp = network.get_input(0)
    shape = tuple(inp.shape)
    if shape[0] == -1:  # dynamic batch: one optimisation profile covering min..max
        rest = shape[1:]
        profile = builder.create_optimization_profile()
        profile.set_shape(inp.name, (min_batch, *rest), (opt_batch, *rest), (max_batch, *rest))
        config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError("TensorRT failed to build the engine (see the log above)")
    data = bytes(serialized)
    folder = os.path.dirname(os.path.abspath(engine_path))
    fd, tmp = tempfile.mkstemp(prefix=".engine.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, engine_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return len(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("onnx", help="ONNX file (fp32, or the int8 'tensorrt' flavour)")
    ap.add_argument("engine", help="where to write the serialized engine")
    ap.add_argument("--min-batch", type=int, default=1)
    ap.add_argument("--opt-batch", type=int, default=1)
    ap.add_argument("--max-batch", type=int, default=64)
    args = ap.parse_args(argv)
    try:
        size = build(args.onnx, args.engine, args.min_batch, args.opt_batch, args.max_batch)
    except ImportError:
        print(
            "error: TensorRT's Python bindings are not installed (JetPack: python3-libnvinfer; "
            "elsewhere: pip install tensorrt)",
            file=sys.stderr,
        )
        return 2
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.engine} ({size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
