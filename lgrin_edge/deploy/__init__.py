"""The deployable L-GrIN: the folded model as one typed value and the forms that run it.

- ``folded``: :class:`FoldedLGrIN`, made once by folding a trained L-GrIN (or drawn at random);
- ``reference``: its numpy float32 forward, the function every form is checked against;
- ``int8``: the quantiser of the C runtime's model file and a numpy replica of its integer arithmetic;
- ``pytorch``: :class:`DeployLGrIN`, the torch module the ONNX, TFLite and TensorRT exports convert;
- ``xnnpack`` and ``litert``: the same function in the operators ExecuTorch's XNNPACK and LiteRT run fast.

The C runtime's file writer, build and runner are in lgrin_edge/export/c_runtime.py.
"""
