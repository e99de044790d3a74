// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * L-GrIN inference through the C99 runtime (native library {@code lgrin_jni}).
 *
 * <p>The model bytes and the runtime's workspace live in direct buffers owned by this object, so the
 * native side allocates nothing. Calls on one instance are serialised; use one instance per thread for
 * parallel inference.
 */
public final class LGrinNative implements AutoCloseable {
    private ByteBuffer store;
    private ByteBuffer work;
    private final int nodes;
    private final int features;
    private final int classes;
    private final String featureSpec;

    /** Loads {@code liblgrin_jni} from java.library.path (the APK's native library folder on Android). */
    public static void loadLibrary() {
        System.loadLibrary("lgrin_jni");
    }

    /**
     * Validates and loads a model file produced by {@code lgrin_edge} ({@code --target c}).
     *
     * @throws IllegalArgumentException naming the runtime's error if the bytes are not a valid model
     */
    public LGrinNative(byte[] model) {
        if (model == null) {
            throw new IllegalArgumentException("model is null");
        }
        int storeSize = nativeStoreSize(model.length);
        if (storeSize < 0) {
            throw new IllegalArgumentException("model too large: " + model.length + " bytes");
        }
        store = ByteBuffer.allocateDirect(storeSize);
        int workSize = nativeLoad(store, model);
        if (workSize < 0) {
            store = null;
            throw new IllegalArgumentException(
                    "invalid L-GrIN model: " + nativeErrorString(workSize) + " (code " + workSize + ")");
        }
        work = ByteBuffer.allocateDirect(workSize);
        nodes = nativeDim(store, 0);
        features = nativeDim(store, 1);
        classes = nativeDim(store, 2);
        byte[] spec = nativeFeatureSpec(store);
        featureSpec = spec == null ? null : new String(spec, StandardCharsets.UTF_8);
    }

    /**
     * The feature spec the model file carries: JSON saying what input to build (extractor and its
     * parameters, sample rate, channels, feature names and units, how T frames become M nodes, class
     * names); null for a file without one (format version 4).
     */
    public String featureSpec() {
        return featureSpec;
    }

    /** Number of graph nodes M. */
    public int numNodes() {
        return nodes;
    }

    /** Number of features per node P. */
    public int numFeatures() {
        return features;
    }

    /** Number of classes C. */
    public int numClasses() {
        return classes;
    }

    /** Class logits for one input of length M*P (node-major: input[i * P + f]). */
    public float[] logits(float[] input) {
        return run(input, false);
    }

    /** Softmax of {@link #logits(float[])}. */
    public float[] probabilities(float[] input) {
        return run(input, true);
    }

    private synchronized float[] run(float[] input, boolean probabilities) {
        if (store == null) {
            throw new IllegalStateException("LGrinNative is closed");
        }
        if (input == null || input.length != nodes * features) {
            throw new IllegalArgumentException("input must have length M*P = " + nodes + "*" + features + " = "
                    + (nodes * features) + ", got " + (input == null ? "null" : input.length));
        }
        float[] out = new float[classes];
        // an input with NaN or infinity: nativeRun throws IllegalArgumentException itself
        int rc = nativeRun(store, work, input, out, probabilities);
        if (rc != 0) {
            throw new IllegalStateException("L-GrIN runtime error: " + nativeErrorString(rc) + " (code " + rc + ")");
        }
        return out;
    }

    /** The store buffer (the model), for a stream of this model: it keeps the buffer for its own life. */
    synchronized ByteBuffer store() {
        if (store == null) {
            throw new IllegalStateException("LGrinNative is closed");
        }
        return store;
    }

    /**
     * Releases the buffers; later calls throw IllegalStateException. Idempotent. An open {@link LGrinStream}
     * of this model keeps the model's buffer and goes on working.
     */
    @Override
    public synchronized void close() {
        store = null;
        work = null;
    }

    private static native int nativeStoreSize(int modelLength);

    private static native int nativeLoad(ByteBuffer store, byte[] model);

    private static native int nativeDim(ByteBuffer store, int which);

    private static native int nativeRun(ByteBuffer store, ByteBuffer work, float[] input, float[] out,
            boolean probabilities);

    private static native byte[] nativeFeatureSpec(ByteBuffer store);

    private static native String nativeErrorString(int code);
}
