// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A live stream of a model (the C runtime's {@code lgrin_stream}, native library {@code lgrin_jni}): PCM,
 * timestamped motion samples or ready frames in, one {@link Decision} per hop out.
 *
 * <p>The stream is the model's feature spec's: frames from the model's front-end (audio: the lgrin-speech
 * front-end at the PCM's own rate; motion: the spec's channels at its frame rate), a ring of the latest W
 * frames, a decision each time the frames so far reach W + k H, the label of the mean of the last S
 * decisions' probabilities beside each decision's own. Splitting the input into pushes never changes
 * the decisions. The state lives in a direct buffer of {@link #stateBytes()} bytes owned by this object;
 * the native side allocates nothing. Calls on one instance are serialised; open one stream per thread
 * (several may share one model).
 */
public final class LGrinStream implements AutoCloseable {
    /** What a stream is fed. Frames ({@link #pushFrames}) may be pushed to a stream of any kind. */
    public enum Kind {
        /** PCM: {@link #pushPcm(short[])} or {@link #pushPcm(float[])}. */
        AUDIO,
        /** Timestamped samples of the spec's channels: {@link #pushMotion}. */
        MOTION,
        /** The model's input is neither: ready frames only. */
        FRAMES
    }

    /** One decision: the window ending at {@code timeS}, its label and that of the smoothed mean. */
    public static final class Decision {
        /** Seconds of frames so far (frames / frame rate): the end of the window's last frame. */
        public final double timeS;
        /** Argmax of the window's probabilities (the first on ties), and that probability. */
        public final int label;
        public final float probability;
        /** Argmax of the mean of the last S decisions' probabilities, and that mean probability. */
        public final int smoothed;
        public final float smoothedProbability;

        Decision(double timeS, int label, float probability, int smoothed, float smoothedProbability) {
            this.timeS = timeS;
            this.label = label;
            this.probability = probability;
            this.smoothed = smoothed;
            this.smoothedProbability = smoothedProbability;
        }

        @Override
        public String toString() {
            return "Decision(" + timeS + " s, " + label + " " + probability + ", smoothed " + smoothed + " "
                    + smoothedProbability + ")";
        }
    }

    // what nativePush does (lgrin_jni_stream.c's push_kind)
    private static final int PUSH_I16 = 0;
    private static final int PUSH_F32 = 1;
    private static final int PUSH_MOTION = 2;
    private static final int PUSH_FRAMES = 3;
    private static final int PUSH_FLUSH = 4;
    private static final int SLACK = 16; // bytes to align a direct buffer's address (lgrin_jni.h)

    private final ByteBuffer store; // the model: kept referenced while the stream points into it
    private ByteBuffer state;
    private ByteBuffer decisions;
    private final Kind kind;
    private final int window;
    private final int hop;
    private final int smoothing;
    private final int features;
    private final int classes;
    private final int inputRate;
    private final double frameRate;
    private final long stateBytes;
    private final String[] classNames;

    /** The spec's stream of {@code model}; {@code inputRate}: the PCM's sample rate (0: the spec's). */
    public static LGrinStream open(LGrinNative model, int inputRate) {
        return open(model, inputRate, 0, 0, 0);
    }

    /**
     * The spec's stream with overrides: {@code windowS} and {@code hopS} in seconds, {@code smoothing} in
     * decisions; 0 keeps the spec's value.
     *
     * @throws IllegalArgumentException naming the runtime's reason and the spec field at fault (a model
     *     without a feature spec, a spec without a frame rate or node count, an input rate the front-end
     *     refuses, an override that gives no stream)
     */
    public static LGrinStream open(LGrinNative model, int inputRate, double windowS, double hopS, int smoothing) {
        if (model == null) {
            throw new IllegalArgumentException("model is null");
        }
        return new LGrinStream(model.store(), inputRate, windowS, hopS, smoothing);
    }

    private LGrinStream(ByteBuffer store, int inputRate, double windowS, double hopS, int smoothing) {
        this.store = store;
        double[] info = new double[9];
        nativeConfigure(store, inputRate, windowS, hopS, smoothing, info); // throws on a bad spec or input
        kind = Kind.values()[(int) info[0]];
        window = (int) info[1];
        hop = (int) info[2];
        this.smoothing = (int) info[3];
        features = (int) info[4];
        classes = (int) info[5];
        this.inputRate = (int) info[6];
        frameRate = info[7];
        stateBytes = (long) info[8];
        state = ByteBuffer.allocateDirect((int) stateBytes + SLACK);
        nativeInit(store, state, inputRate, windowS, hopS, smoothing);
        decisions = ByteBuffer.allocateDirect(SLACK + 16 * nativeDecisionBytes());
        classNames = new String[classes];
        for (int c = 0; c < classes; c++) {
            byte[] name = nativeClassName(store, c);
            classNames[c] = name == null ? Integer.toString(c) : new String(name, StandardCharsets.UTF_8);
        }
    }

    /** 16-bit PCM (mono, {@link #inputRate()} Hz) through the front-end. */
    public List<Decision> pushPcm(short[] pcm) {
        return push(PUSH_I16, pcm, null, checked(pcm).length);
    }

    /** Float PCM (mono, full scale 1) through the front-end; NaN or infinity is refused before any is used. */
    public List<Decision> pushPcm(float[] pcm) {
        return push(PUSH_F32, pcm, null, checked(pcm).length);
    }

    /**
     * Motion samples: {@code time[i]} seconds (non-decreasing across pushes) and {@code values[i * P + c]}
     * the spec's channel c, P = {@link #numFeatures()}.
     */
    public List<Decision> pushMotion(double[] time, float[] values) {
        if (time == null || values == null || values.length != (long) time.length * features) {
            throw new IllegalArgumentException("values must hold time.length * P = " + lengthOf(time) + " * "
                    + features + " floats, got " + lengthOf(values));
        }
        return push(PUSH_MOTION, values, time, time.length);
    }

    /** Ready frames of P = {@link #numFeatures()} floats each, row-major. */
    public List<Decision> pushFrames(float[] frames) {
        if (checked(frames).length % features != 0) {
            throw new IllegalArgumentException("frames must hold a multiple of P = " + features + " floats, got "
                    + frames.length);
        }
        return push(PUSH_FRAMES, frames, null, frames.length / features);
    }

    /**
     * The end of the stream: the front-end's last frames, and one decision over the frames held if the
     * stream made none. Later pushes throw IllegalStateException until {@link #reset()}.
     */
    public List<Decision> flush() {
        return push(PUSH_FLUSH, null, null, 0);
    }

    // a push of another kind than the stream's: the native side throws IllegalStateException
    private synchronized List<Decision> push(int what, Object data, double[] time, int n) {
        ByteBuffer s = live();
        int bound = what == PUSH_MOTION ? nativeBoundMotion(s, time) : nativeBound(s, n);
        int need = SLACK + bound * nativeDecisionBytes();
        if (decisions.capacity() < need) {
            decisions = ByteBuffer.allocateDirect(need);
        }
        double[] times = new double[bound];
        int[] labels = new int[2 * bound];
        float[] probs = new float[2 * bound];
        int made = nativePush(s, decisions, what, data, time, n, times, labels, probs); // throws on failure
        List<Decision> out = new ArrayList<>(made);
        for (int i = 0; i < made; i++) {
            out.add(new Decision(times[i], labels[2 * i], probs[2 * i], labels[2 * i + 1], probs[2 * i + 1]));
        }
        return Collections.unmodifiableList(out);
    }

    /** The last decision's C probabilities; null before the first decision. */
    public synchronized float[] probabilities() {
        return vector(false);
    }

    /** The mean of the last S decisions' probabilities; null before the first decision. */
    public synchronized float[] smoothedProbabilities() {
        return vector(true);
    }

    private float[] vector(boolean smoothed) {
        float[] out = new float[classes];
        return nativeProbabilities(live(), smoothed, out) ? out : null;
    }

    /** Starts the stream anew (same model and settings). */
    public synchronized void reset() {
        nativeReset(live());
    }

    /** Frames so far (n). */
    public synchronized long framesSeen() {
        return nativeCount(live(), 0);
    }

    /** Decisions so far. */
    public synchronized long decisionsMade() {
        return nativeCount(live(), 1);
    }

    public Kind kind() {
        return kind;
    }

    /** W: frames per decision. */
    public int window() {
        return window;
    }

    /** H: frames between decisions. */
    public int hop() {
        return hop;
    }

    /** S: decisions averaged into the smoothed label. */
    public int smoothing() {
        return smoothing;
    }

    /** P: floats per frame (motion: values per sample). */
    public int numFeatures() {
        return features;
    }

    /** C: classes. */
    public int numClasses() {
        return classes;
    }

    /** The PCM's sample rate in Hz (audio). */
    public int inputRate() {
        return inputRate;
    }

    /** Frames per second: a decision's time is frames / frame rate. */
    public double frameRate() {
        return frameRate;
    }

    /** Bytes of the stream's state (lgrin_stream_state_size), fixed for its life. */
    public long stateBytes() {
        return stateBytes;
    }

    /** The spec's name of class c (its index where the spec names none). */
    public String className(int c) {
        return classNames[c];
    }

    /**
     * The stream definition's line for a decision, as {@code lgrin_live} and {@code python -m
     * lgrin_edge.live} print it: time (2 decimals), label, probability (3 decimals), smoothed label. The
     * numbers are rounded as C's printf rounds: the exact binary value, half to even.
     */
    public String line(Decision d) {
        return fixed(d.timeS, 2) + " " + className(d.label) + " " + fixed(d.probability, 3) + " "
                + className(d.smoothed);
    }

    private static String fixed(double v, int decimals) {
        return new BigDecimal(v).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    }

    /** Releases the state; later calls throw IllegalStateException. Idempotent. */
    @Override
    public synchronized void close() {
        state = null;
        decisions = null;
    }

    private ByteBuffer live() {
        if (state == null) {
            throw new IllegalStateException("LGrinStream is closed");
        }
        return state;
    }

    private static <T> T checked(T array) {
        if (array == null) {
            throw new IllegalArgumentException("input is null");
        }
        return array;
    }

    private static String lengthOf(Object array) {
        return array == null ? "null" : Integer.toString(java.lang.reflect.Array.getLength(array));
    }

    private static native int nativeConfigure(ByteBuffer store, int rate, double windowS, double hopS,
            int smoothing, double[] info);

    private static native int nativeInit(ByteBuffer store, ByteBuffer state, int rate, double windowS,
            double hopS, int smoothing);

    private static native int nativeDecisionBytes();

    private static native int nativeBound(ByteBuffer state, int n);

    private static native int nativeBoundMotion(ByteBuffer state, double[] time);

    private static native int nativePush(ByteBuffer state, ByteBuffer decisions, int what, Object data,
            double[] time, int n, double[] times, int[] labels, float[] probs);

    private static native boolean nativeProbabilities(ByteBuffer state, boolean smoothed, float[] out);

    private static native long nativeCount(ByteBuffer state, int which);

    private static native int nativeReset(ByteBuffer state);

    private static native byte[] nativeClassName(ByteBuffer store, int index);
}
