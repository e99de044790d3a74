// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo.app;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import org.lgrin.edge.demo.Backend;
import org.lgrin.edge.demo.Int8Io;
import org.tensorflow.lite.DataType;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;

/**
 * LiteRT's Interpreter running the exported int8 .tflite. A full-int8 model takes and returns int8 tensors:
 * the float graph is quantised with the input tensor's scale and zero point, the logits dequantised with the
 * output tensor's (float32 I/O is accepted too). The export fixes the batch; sample 0 of the batch is used.
 */
final class LiteRtBackend implements Backend {
    private final Interpreter interpreter;
    private final int numNodes, numFeatures, numClasses;
    private final ByteBuffer input, output;
    private final Int8Io inQuant, outQuant; // null for float32 tensors

    LiteRtBackend(byte[] model, int numThreads) {
        ByteBuffer buf = ByteBuffer.allocateDirect(model.length).order(ByteOrder.nativeOrder());
        buf.put(model).rewind();
        interpreter = new Interpreter(buf, new Interpreter.Options().setNumThreads(numThreads));
        Tensor in = interpreter.getInputTensor(0);
        Tensor out = interpreter.getOutputTensor(0);
        int[] s = in.shape();
        int[] o = out.shape();
        if (s.length != 3 || o.length != 2 || s[0] != o[0]) {
            interpreter.close();
            throw new IllegalArgumentException("expected input (batch, M, P) and output (batch, C), got "
                    + java.util.Arrays.toString(s) + " and " + java.util.Arrays.toString(o));
        }
        numNodes = s[1];
        numFeatures = s[2];
        numClasses = o[1];
        inQuant = quantisation(in);
        outQuant = quantisation(out);
        input = ByteBuffer.allocateDirect(in.numBytes()).order(ByteOrder.nativeOrder());
        output = ByteBuffer.allocateDirect(out.numBytes()).order(ByteOrder.nativeOrder());
    }

    private Int8Io quantisation(Tensor t) {
        if (t.dataType() == DataType.FLOAT32) {
            return null;
        }
        if (t.dataType() != DataType.INT8) {
            interpreter.close();
            throw new IllegalArgumentException("unsupported tensor type " + t.dataType() + " (int8 or float32 expected)");
        }
        Tensor.QuantizationParams q = t.quantizationParams();
        return new Int8Io(q.getScale(), q.getZeroPoint());
    }

    @Override public String name() { return "LiteRT int8"; }
    @Override public int numNodes() { return numNodes; }
    @Override public int numFeatures() { return numFeatures; }
    @Override public int numClasses() { return numClasses; }

    @Override
    public float[] logits(float[] x) {
        Backend.checkInput(this, x);
        input.clear();
        if (inQuant != null) {
            inQuant.quantize(x, input);
            while (input.hasRemaining()) { // other batch slots: the quantised value of 0.0
                input.put(inQuant.quantize(0f));
            }
        } else {
            input.asFloatBuffer().put(x);
        }
        input.rewind();
        output.clear();
        interpreter.run(input, output);
        output.rewind();
        if (outQuant != null) {
            return outQuant.dequantize(output, numClasses);
        }
        float[] logits = new float[numClasses];
        FloatBuffer fb = output.asFloatBuffer();
        fb.get(logits);
        return logits;
    }

    @Override
    public void close() {
        interpreter.close();
    }
}
