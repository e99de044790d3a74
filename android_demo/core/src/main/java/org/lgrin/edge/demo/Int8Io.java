// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.nio.ByteBuffer;

/**
 * Affine int8 quantisation of a model's input and output tensors: real = scale * (q - zeroPoint).
 * A full-int8 .tflite takes and returns int8 tensors; the caller quantises the float input with the input
 * tensor's scale and zero point and dequantises the output with the output tensor's.
 * Rounding is half away from zero, as in TFLite's Quantize kernel; results saturate to [-128, 127].
 */
public final class Int8Io {
    private final float scale;
    private final int zeroPoint;

    public Int8Io(float scale, int zeroPoint) {
        if (!(scale > 0) || Float.isInfinite(scale)) {
            throw new IllegalArgumentException("int8 scale must be positive and finite, got " + scale);
        }
        if (zeroPoint < -128 || zeroPoint > 127) {
            throw new IllegalArgumentException("int8 zero point must lie in [-128, 127], got " + zeroPoint);
        }
        this.scale = scale;
        this.zeroPoint = zeroPoint;
    }

    public float scale() { return scale; }
    public int zeroPoint() { return zeroPoint; }

    public byte quantize(float x) {
        if (Float.isNaN(x)) {
            throw new IllegalArgumentException("cannot quantise NaN");
        }
        float v = x / scale;
        double r = Math.signum(v) * Math.floor(Math.abs((double) v) + 0.5);
        double q = r + zeroPoint;
        return (byte) Math.max(-128, Math.min(127, q));
    }

    public float dequantize(byte q) {
        return scale * (q - zeroPoint);
    }

    /** Writes quantize(x[i]) for every i at out's position, advancing it. */
    public void quantize(float[] x, ByteBuffer out) {
        for (float v : x) {
            out.put(quantize(v));
        }
    }

    /** Reads n int8 values from in's position (advancing it) and dequantises them. */
    public float[] dequantize(ByteBuffer in, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = dequantize(in.get());
        }
        return out;
    }
}
