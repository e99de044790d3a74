// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

/**
 * Runs a backend over every bundled sample and compares it with the export's Python verification:
 * the C runtime's logits recorded in samples.bin, and the true labels.
 */
public final class ReferenceCheck {
    public final int samples;
    public final int argmaxAgreements; // backend argmax == argmax of the reference logits
    public final int correct;          // backend argmax == true label
    public final double maxAbsDiff;    // largest |backend logit - reference logit|
    public final int worstSample;

    private ReferenceCheck(int samples, int agree, int correct, double maxAbsDiff, int worst) {
        this.samples = samples;
        this.argmaxAgreements = agree;
        this.correct = correct;
        this.maxAbsDiff = maxAbsDiff;
        this.worstSample = worst;
    }

    public static ReferenceCheck run(Backend backend, SampleSet set) {
        if (!set.hasReferenceLogits()) {
            throw new IllegalStateException("the packed samples hold no reference logits");
        }
        if (backend.numNodes() != set.numNodes() || backend.numFeatures() != set.numFeatures()
                || backend.numClasses() != set.numClasses()) {
            throw new IllegalArgumentException(backend.name() + " model is " + backend.numNodes() + "x"
                    + backend.numFeatures() + "->" + backend.numClasses() + " but the samples are "
                    + set.numNodes() + "x" + set.numFeatures() + "->" + set.numClasses());
        }
        int agree = 0, correct = 0, worst = 0;
        double maxDiff = 0;
        for (int i = 0; i < set.size(); i++) {
            float[] got = backend.logits(set.input(i));
            float[] ref = set.referenceLogits(i);
            for (int k = 0; k < ref.length; k++) {
                double d = Math.abs((double) got[k] - ref[k]);
                if (!(d <= maxDiff)) { // also catches NaN
                    maxDiff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
                    worst = i;
                }
            }
            int top = Postprocess.argmax(got);
            agree += top == Postprocess.argmax(ref) ? 1 : 0;
            correct += top == set.label(i) ? 1 : 0;
        }
        return new ReferenceCheck(set.size(), agree, correct, maxDiff, worst);
    }

    public boolean passes(double tolerance) {
        return argmaxAgreements == samples && maxAbsDiff <= tolerance;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "%d samples: argmax agrees on %d, max |logit diff| %.3g (sample %d), accuracy %.1f%%",
                samples, argmaxAgreements, maxAbsDiff, worstSample, 100.0 * correct / samples);
    }
}
