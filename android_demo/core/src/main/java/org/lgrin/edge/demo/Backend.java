// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

/** An inference engine for the exported int8 model: float32 graph in, float32 logits out. */
public interface Backend extends AutoCloseable {
    /** A short name for the UI, e.g. "LiteRT int8" or "C99 runtime (JNI)". */
    String name();

    int numNodes();

    int numFeatures();

    int numClasses();

    /** Logits for one graph of numNodes() x numFeatures() floats, row-major. */
    float[] logits(float[] input);

    @Override
    void close();

    /** Throws IllegalArgumentException unless input has numNodes() * numFeatures() elements. */
    static void checkInput(Backend b, float[] input) {
        int expected = b.numNodes() * b.numFeatures();
        if (input == null || input.length != expected) {
            throw new IllegalArgumentException(b.name() + ": input has " + (input == null ? "no" : input.length)
                    + " values, the model takes " + b.numNodes() + " x " + b.numFeatures() + " = " + expected);
        }
    }
}
