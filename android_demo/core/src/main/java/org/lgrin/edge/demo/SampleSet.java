// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Held-out sample graphs decoded from {@code samples.bin} (format in {@code android_demo/pack_assets.py}):
 * each sample is an M x P graph (row-major float32), its true label and, when present, the logits that the
 * export's Python verification computed with the C runtime.
 */
public final class SampleSet {
    static final byte[] MAGIC = "LGSAMPL1".getBytes(StandardCharsets.US_ASCII);
    static final int FLAG_REFERENCE_LOGITS = 1;
    private static final int MAX_DIM = 1 << 20;

    private final int numNodes;
    private final int numFeatures;
    private final List<String> classes;
    private final float[][] inputs;
    private final int[] labels;
    private final float[][] referenceLogits; // null when the export had no C-runtime logits

    private SampleSet(int m, int p, List<String> classes, float[][] inputs, int[] labels, float[][] ref) {
        this.numNodes = m;
        this.numFeatures = p;
        this.classes = classes;
        this.inputs = inputs;
        this.labels = labels;
        this.referenceLogits = ref;
    }

    /** Decodes samples.bin; any inconsistency (magic, sizes, truncation, trailing bytes) is an AssetException. */
    public static SampleSet decode(byte[] data) throws AssetException {
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        try {
            byte[] magic = new byte[MAGIC.length];
            buf.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new AssetException("samples.bin: bad magic (not written by pack_assets.py)");
            }
            int flags = buf.getInt();
            int n = dim(buf, "N");
            int m = dim(buf, "M");
            int p = dim(buf, "P");
            int c = dim(buf, "C");
            if ((flags & ~FLAG_REFERENCE_LOGITS) != 0) {
                throw new AssetException("samples.bin: unknown flags " + flags);
            }
            boolean hasRef = (flags & FLAG_REFERENCE_LOGITS) != 0;
            List<String> names = new ArrayList<>(c);
            for (int k = 0; k < c; k++) {
                byte[] raw = new byte[buf.getShort() & 0xFFFF];
                buf.get(raw);
                names.add(new String(raw, StandardCharsets.UTF_8));
            }
            long perSample = 4L + 4L * m * p + (hasRef ? 4L * c : 0L);
            if (perSample * n != buf.remaining()) {
                throw new AssetException("samples.bin: " + buf.remaining() + " bytes of samples, expected "
                        + perSample * n + " for N=" + n + ", M=" + m + ", P=" + p + ", C=" + c);
            }
            float[][] xs = new float[n][m * p];
            int[] ys = new int[n];
            float[][] refs = hasRef ? new float[n][c] : null;
            for (int i = 0; i < n; i++) {
                ys[i] = buf.getInt();
                if (ys[i] < 0 || ys[i] >= c) {
                    throw new AssetException("samples.bin: sample " + i + " has label " + ys[i] + " outside 0.." + (c - 1));
                }
                buf.asFloatBuffer().get(xs[i]);
                buf.position(buf.position() + 4 * m * p);
                if (hasRef) {
                    buf.asFloatBuffer().get(refs[i]);
                    buf.position(buf.position() + 4 * c);
                }
            }
            return new SampleSet(m, p, Collections.unmodifiableList(names), xs, ys, refs);
        } catch (BufferUnderflowException e) {
            throw new AssetException("samples.bin is truncated", e);
        }
    }

    private static int dim(ByteBuffer buf, String name) throws AssetException {
        int v = buf.getInt();
        if (v <= 0 || v > MAX_DIM) {
            throw new AssetException("samples.bin: " + name + " = " + Integer.toUnsignedString(v) + " is out of range");
        }
        return v;
    }

    public int size() { return inputs.length; }
    public int numNodes() { return numNodes; }
    public int numFeatures() { return numFeatures; }
    public int numClasses() { return classes.size(); }
    public List<String> classes() { return classes; }
    public int label(int i) { return labels[i]; }
    public boolean hasReferenceLogits() { return referenceLogits != null; }

    /** Sample i as the model's input: M x P floats, row-major (node-major). A copy. */
    public float[] input(int i) { return inputs[i].clone(); }

    /** The C runtime's logits for sample i from the export's Python verification. */
    public float[] referenceLogits(int i) {
        if (referenceLogits == null) {
            throw new IllegalStateException("samples.bin holds no reference logits");
        }
        return referenceLogits[i].clone();
    }
}
