// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import org.lgrin.edge.LGrinNative;

/** The C99 runtime through its JNI bridge ({@code export/java/org/lgrin/edge/LGrinNative.java}). */
public final class NativeBackend implements Backend {
    private final LGrinNative model;

    /** Loads liblgrin_jni (once) and the int8 model; IllegalArgumentException for a bad model. */
    public NativeBackend(byte[] modelBytes) {
        LGrinNative.loadLibrary();
        this.model = new LGrinNative(modelBytes);
    }

    @Override public String name() { return "C99 runtime (JNI)"; }
    @Override public int numNodes() { return model.numNodes(); }
    @Override public int numFeatures() { return model.numFeatures(); }
    @Override public int numClasses() { return model.numClasses(); }

    @Override
    public float[] logits(float[] input) {
        Backend.checkInput(this, input);
        return model.logits(input);
    }

    /** The runtime's own softmax, for comparison with {@link Postprocess#softmax}. */
    public float[] nativeProbabilities(float[] input) {
        Backend.checkInput(this, input);
        return model.probabilities(input);
    }

    @Override
    public void close() {
        model.close();
    }
}
