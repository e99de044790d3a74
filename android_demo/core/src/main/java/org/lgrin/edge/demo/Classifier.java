// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Runs a backend on one graph and turns its logits into a {@link Prediction}. */
public final class Classifier {
    private final Backend backend;
    private final List<String> classes;

    public Classifier(Backend backend, List<String> classes) {
        if (backend.numClasses() != classes.size()) {
            throw new IllegalArgumentException(backend.name() + " has " + backend.numClasses()
                    + " outputs but the samples name " + classes.size() + " classes");
        }
        this.backend = backend;
        this.classes = new ArrayList<>(classes);
    }

    public Backend backend() { return backend; }

    public Prediction classify(float[] input) {
        long t0 = System.nanoTime();
        float[] logits = backend.logits(input);
        long elapsed = System.nanoTime() - t0;
        float[] probs = Postprocess.softmax(logits);
        int best = Postprocess.argmax(logits);
        return new Prediction(best, classes.get(best), logits, probs, elapsed);
    }

    /** Median wall time of {@code runs} backend calls after one warm-up call. */
    public long medianNanos(float[] input, int runs) {
        if (runs < 1) {
            throw new IllegalArgumentException("runs must be at least 1");
        }
        backend.logits(input);
        long[] t = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            backend.logits(input);
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        return t[runs / 2];
    }
}
