// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

/** One classified graph: the predicted class, the probabilities over all classes and the inference time. */
public final class Prediction {
    private final int classIndex;
    private final String className;
    private final float[] logits;
    private final float[] probabilities;
    private final long inferenceNanos;

    Prediction(int classIndex, String className, float[] logits, float[] probabilities, long inferenceNanos) {
        this.classIndex = classIndex;
        this.className = className;
        this.logits = logits;
        this.probabilities = probabilities;
        this.inferenceNanos = inferenceNanos;
    }

    public int classIndex() { return classIndex; }
    public String className() { return className; }
    public float[] logits() { return logits.clone(); }
    public float[] probabilities() { return probabilities.clone(); }
    /** Wall time of the backend call alone (no softmax, no asset reading). */
    public long inferenceNanos() { return inferenceNanos; }
}
