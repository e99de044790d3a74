// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.lgrin.edge.LGrinNative;
import org.lgrin.edge.LGrinStream;
import org.lgrin.edge.LGrinStream.Decision;

/**
 * The live modes below the Activity: microphone PCM chunks or sensor events in, the label timeline out
 * (one line per decision, as lgrin_live prints it), with the time each hop took. Plain Java: the app feeds
 * it from AudioRecord and SensorManager, the desktop (LiveReplay) from a WAV file or a motion CSV.
 *
 * <p>Motion: the model's P channels are the accelerometer's x, y, z (P = 3), then the gyroscope's x, y, z
 * (P = 6), the order of BasicMotions' spec. A sample is made at each accelerometer event (time:
 * SensorEvent.timestamp / 1e9 s) with the latest gyroscope reading; accelerometer events before the first
 * gyroscope reading, or older than the last sample, are dropped. Samples go to the stream in batches of
 * {@link #MOTION_BATCH}: how the input is cut never changes the decisions.
 */
public final class LiveSession implements AutoCloseable {
    /** Motion samples per push: a tenth to a fifth of a second of a phone's sensors. */
    public static final int MOTION_BATCH = 10;

    private final LGrinStream stream;
    private final int channels;
    private final float[] gyro = new float[3];
    private boolean gyroSeen;
    private final double[] time = new double[MOTION_BATCH];
    private final float[] values;
    private int buffered;
    private long lastNanos = Long.MIN_VALUE;
    private long dropped;
    private double lastHopMillis = Double.NaN;

    /** A session on the model's stream; {@code inputRate}: the microphone's sample rate (audio models). */
    public LiveSession(LGrinNative model, int inputRate) {
        stream = LGrinStream.open(model, inputRate);
        channels = stream.numFeatures();
        values = new float[MOTION_BATCH * channels];
        if (stream.kind() == LGrinStream.Kind.MOTION && channels != 3 && channels != 6) {
            stream.close();
            throw new IllegalArgumentException("a motion model of " + channels
                    + " channels: the phone gives 3 (accelerometer) or 6 (accelerometer, gyroscope)");
        }
    }

    /** The stream (its kind, window, hop, class names). */
    public LGrinStream stream() {
        return stream;
    }

    /** The first n samples of a 16-bit PCM buffer (AudioRecord.read's). */
    public List<String> acceptPcm(short[] pcm, int n) {
        return lines(() -> stream.pushPcm(n == pcm.length ? pcm : Arrays.copyOf(pcm, n)));
    }

    /** The first n samples of a float PCM buffer (full scale 1). */
    public List<String> acceptPcm(float[] pcm, int n) {
        return lines(() -> stream.pushPcm(n == pcm.length ? pcm : Arrays.copyOf(pcm, n)));
    }

    /** A gyroscope event (rad/s): held for the next accelerometer event's sample. */
    public void gyroscope(long nanos, float x, float y, float z) {
        gyro[0] = x;
        gyro[1] = y;
        gyro[2] = z;
        gyroSeen = true;
    }

    /** An accelerometer event (m/s²): one sample of the stream, pushed with the batch it completes. */
    public List<String> accelerometer(long nanos, float x, float y, float z) {
        if ((channels == 6 && !gyroSeen) || nanos < lastNanos) {
            dropped++;
            return List.of();
        }
        lastNanos = nanos;
        time[buffered] = nanos / 1e9;
        float[] sample = {x, y, z, gyro[0], gyro[1], gyro[2]};
        System.arraycopy(sample, 0, values, buffered * channels, channels);
        return ++buffered == MOTION_BATCH ? pushBatch() : List.of();
    }

    private List<String> pushBatch() {
        int n = buffered;
        buffered = 0;
        return n == 0 ? List.of()
                : lines(() -> stream.pushMotion(Arrays.copyOf(time, n), Arrays.copyOf(values, n * channels)));
    }

    /** The end of the input: what is buffered, then the stream's flush. */
    public List<String> finish() {
        List<String> out = new ArrayList<>(pushBatch());
        out.addAll(lines(stream::flush));
        return out;
    }

    /** Milliseconds the last push that made decisions took, per decision (NaN before the first). */
    public double lastHopMillis() {
        return lastHopMillis;
    }

    /** Accelerometer events dropped (before the first gyroscope reading, or out of order). */
    public long dropped() {
        return dropped;
    }

    private interface Push {
        List<Decision> run();
    }

    private List<String> lines(Push push) {
        long start = System.nanoTime();
        List<Decision> made = push.run();
        if (!made.isEmpty()) {
            lastHopMillis = (System.nanoTime() - start) / 1e6 / made.size();
        }
        List<String> out = new ArrayList<>(made.size());
        for (Decision d : made) {
            out.add(stream.line(d));
        }
        return out;
    }

    @Override
    public void close() {
        stream.close();
    }
}
