// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

/**
 * Motion samples at any rate, regular or not, to model frames at the model's frame rate: the rule of
 * lgrin_edge/frontend/motion.py and lgrin_input.h's lgrin_motion_*, in the same double arithmetic and order,
 * so all three give the same float frames bit for bit (InputTests checks Python's known answers).
 *
 * <p>Each sample is mapped to the model's channels (channel c = sign x (scale x value[source])); the
 * signal is the straight line between samples (held at the first value before it); frame k is that
 * signal's mean over [t0 + k / rate, t0 + (k + 1) / rate), out as soon as a sample at or after the frame's
 * end arrives. Chunking never changes the frames. Android's SensorManager reports the accelerometer and
 * gyroscope as separate events: use one resampler per sensor with the same {@code start} (e.g. the first
 * event's time of either), and frame k of each covers the same interval. BasicMotions' accelerometer has
 * gravity removed (Sensor.TYPE_LINEAR_ACCELERATION, m/s^2); its gyroscope reads rad/s.
 *
 * <p>Timestamps are seconds as double: SensorEvent.timestamp / 1e9.
 */
public final class MotionResampler {
    public static final int MAX_CHANNELS = 16;
    public static final double MAX_RATE = 10000.0;
    public static final double MAX_SCALE = 1e6;
    /** m/s^2 per g: the scale for an accelerometer that reports g. */
    public static final double STANDARD_GRAVITY = 9.80665;
    /** pi / 180: the scale for a gyroscope that reports deg/s. */
    public static final double RAD_PER_DEG = 0.017453292519943295;
    private static final double MAX_SPAN = 4503599627370496.0; // 2^52

    /** Model channel = sign x (scale x device value {@code source}). */
    public static final class Axis {
        public final int source;
        public final int sign;
        public final double scale;

        public Axis(int source, int sign, double scale) {
            if (source < 0 || (sign != 1 && sign != -1) || !(scale > 0 && scale <= MAX_SCALE)) {
                throw new IllegalArgumentException("axis needs source >= 0, sign 1 or -1 and scale in (0, 1e6], got "
                        + source + ", " + sign + ", " + scale);
            }
            this.source = source;
            this.sign = sign;
            this.scale = scale;
        }

        /** The device's value {@code source} as it comes. */
        public static Axis of(int source) {
            return new Axis(source, 1, 1.0);
        }
    }

    private final double rate;
    private final double maxGap;
    private final boolean hasStart;
    private final double start;
    private final int inChannels;
    private final Axis[] axes;
    // the stream
    private boolean started;
    private double t0;
    private double prevU;
    private long k;
    private double[] prevX;
    private double[] nextX;
    private final double[] acc;

    /** BasicMotions' frames: 10 per second, 6 values in the model's order and units, gaps up to 0.5 s. */
    public static MotionResampler basicMotions() {
        Axis[] axes = new Axis[6];
        for (int c = 0; c < 6; c++) {
            axes[c] = Axis.of(c);
        }
        return new MotionResampler(10.0, 6, axes, 0.5);
    }

    /** Frames from the first sample's time on; maxGap 0: any gap is bridged. */
    public MotionResampler(double frameRate, int inChannels, Axis[] axes, double maxGap) {
        this(frameRate, inChannels, axes, maxGap, false, 0.0);
    }

    /** Frame 0 starts at {@code start} seconds (the signal is held at the first value back to it). */
    public MotionResampler(double frameRate, int inChannels, Axis[] axes, double maxGap, double start) {
        this(frameRate, inChannels, axes, maxGap, true, start);
    }

    private MotionResampler(double frameRate, int inChannels, Axis[] axes, double maxGap, boolean hasStart,
                            double start) {
        if (!(frameRate > 0 && frameRate <= MAX_RATE)) {
            throw new IllegalArgumentException("frame rate must lie in (0, 10000] Hz, got " + frameRate);
        }
        if (!(maxGap >= 0) || Double.isInfinite(maxGap) || (hasStart && !Double.isFinite(start))) {
            throw new IllegalArgumentException("max gap must be 0 or a positive number of seconds and the start"
                    + " finite, got " + maxGap + ", " + start);
        }
        if (inChannels < 1 || inChannels > MAX_CHANNELS || axes.length < 1 || axes.length > MAX_CHANNELS) {
            throw new IllegalArgumentException("1..16 input values and model channels, got " + inChannels + " and "
                    + axes.length);
        }
        for (int c = 0; c < axes.length; c++) {
            if (axes[c].source >= inChannels) {
                throw new IllegalArgumentException("axis " + c + ": source " + axes[c].source + " is not one of the "
                        + inChannels + " input values");
            }
        }
        this.rate = frameRate;
        this.maxGap = maxGap;
        this.hasStart = hasStart;
        this.start = start;
        this.inChannels = inChannels;
        this.axes = axes.clone();
        this.prevX = new double[axes.length];
        this.nextX = new double[axes.length];
        this.acc = new double[axes.length];
        reset();
    }

    /** Floats per frame. */
    public int channels() {
        return axes.length;
    }

    /** Start a new stream. */
    public void reset() {
        started = false;
        t0 = hasStart ? start : 0.0;
        prevU = 0.0;
        k = 0;
        java.util.Arrays.fill(prevX, 0.0);
        java.util.Arrays.fill(acc, 0.0);
    }

    /** Exactly how many frames push() of these n timestamps returns. */
    public int maxFrames(double[] time, int n) {
        checkTimes(time, n);
        if (n == 0) {
            return 0;
        }
        long ended = endedBy(time[n - 1] - chunkT0(time), rate);
        if (ended - k > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("this push would make " + (ended - k) + " frames: more than an array holds");
        }
        return ended > k ? (int) (ended - k) : 0;
    }

    /**
     * Feeds n samples: time[i] in seconds (non-decreasing), values row-major n x inChannels. Writes the
     * frames that became complete to out (frames x channels, row-major) and returns how many. Bad input
     * (IllegalArgumentException) is refused before anything of it is used.
     */
    public int push(double[] time, float[] values, int n, float[] out) {
        int frames = maxFrames(time, n);
        int width = axes.length;
        if (values.length < (long) n * inChannels) {
            throw new IllegalArgumentException(n + " samples need " + (long) n * inChannels + " values, got "
                    + values.length);
        }
        if (out.length < (long) frames * width) {
            throw new IllegalArgumentException("out holds " + out.length + " floats; this push makes " + frames
                    + " frames of " + width);
        }
        for (int i = 0; i < n; i++) {
            map(values, i, nextX);
            for (int c = 0; c < width; c++) {
                if (!Double.isFinite(nextX[c])) {
                    throw new IllegalArgumentException("motion sample " + i + " of the chunk holds NaN or infinity");
                }
            }
        }
        long before = k;
        int[] at = {0};
        for (int i = 0; i < n; i++) {
            if (!started) {
                if (!hasStart) {
                    t0 = time[0];
                }
                double u = time[i] - t0;
                prevU = u < 0.0 ? u : 0.0;
                map(values, i, prevX);
                started = true;
            }
            map(values, i, nextX);
            segment(time[i] - t0, out, at);
        }
        return (int) (k - before);
    }

    private double chunkT0(double[] time) {
        return started || hasStart ? t0 : time[0];
    }

    private void checkTimes(double[] time, int n) {
        if (n < 0 || time.length < n) {
            throw new IllegalArgumentException(n + " samples, " + time.length + " timestamps");
        }
        if (n == 0) {
            return;
        }
        double t0c = chunkT0(time);
        double prev = prevU;
        for (int i = 0; i < n; i++) {
            double u = time[i] - t0c;
            if (!Double.isFinite(time[i]) || !Double.isFinite(u) || !(u * rate < MAX_SPAN) || !(u * rate > -MAX_SPAN)) {
                throw new IllegalArgumentException("motion timestamp " + i + " of the chunk is " + time[i]
                        + ": not finite or too far from the start");
            }
            if (i == 0 && !started) {
                prev = u < 0.0 ? u : 0.0;
            }
            if (u < prev) {
                throw new IllegalArgumentException("motion timestamp " + i + " of the chunk (" + time[i]
                        + " s) is before the previous one");
            }
            if (maxGap > 0 && u - prev > maxGap) {
                throw new IllegalArgumentException("motion samples " + (u - prev) + " s apart before timestamp " + i
                        + " of the chunk, more than max gap " + maxGap + " s: reset the stream");
            }
            prev = u;
        }
    }

    private void map(float[] values, int i, double[] x) {
        for (int c = 0; c < axes.length; c++) {
            double v = (double) values[i * inChannels + axes[c].source] * axes[c].scale;
            x[c] = axes[c].sign < 0 ? -v : v;
        }
    }

    private static double edge(long frame, double rate) {
        return (double) frame / rate;
    }

    private static long endedBy(double u, double rate) {
        if (!(u > 0.0)) {
            return 0;
        }
        long j = (long) (u * rate);
        while (j > 0 && edge(j, rate) > u) {
            j--;
        }
        while (edge(j + 1, rate) <= u) {
            j++;
        }
        return j;
    }

    /** The segment from the newest sample to (u1, nextX): completes every frame that ends by u1. */
    private void segment(double u1, float[] out, int[] at) {
        double a = prevU > edge(k, rate) ? prevU : edge(k, rate);
        while (edge(k + 1, rate) <= u1) {
            double e = edge(k + 1, rate);
            double width = e - edge(k, rate);
            if (e > a) {
                piece(u1, a, e);
            }
            for (int c = 0; c < acc.length; c++) {
                out[at[0]++] = (float) (acc[c] / width);
                acc[c] = 0.0;
            }
            k++;
            a = e;
        }
        if (u1 > a) {
            piece(u1, a, u1);
        }
        prevU = u1;
        double[] t = prevX;
        prevX = nextX;
        nextX = t;
    }

    /** Adds the signal's integral over [a, e] of the current segment (trapezoid). */
    private void piece(double u1, double a, double e) {
        double fa = (a - prevU) / (u1 - prevU);
        double fe = (e - prevU) / (u1 - prevU);
        double w = (e - a) * 0.5;
        for (int c = 0; c < acc.length; c++) {
            double d = nextX[c] - prevX[c];
            double va = prevX[c] + d * fa;
            double ve = e == u1 ? nextX[c] : prevX[c] + d * fe;
            acc[c] = acc[c] + w * (va + ve);
        }
    }
}
