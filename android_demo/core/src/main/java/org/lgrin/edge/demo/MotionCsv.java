// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * A recorded motion stream: lines "time,v1,...,vP" (one header line allowed), as lgrin_live reads them.
 * Times are seconds with at most 9 decimals and are kept as nanoseconds, the unit of Android's
 * SensorEvent.timestamp: nanoseconds / 1e9 is then the very double that C's strtod reads from the text.
 */
public final class MotionCsv {
    /** Sample i: {@code nanos[i]} and values {@code values[i * channels + c]}. */
    public final long[] nanos;
    public final float[] values;
    public final int channels;

    private MotionCsv(long[] nanos, float[] values, int channels) {
        this.nanos = nanos;
        this.values = values;
        this.channels = channels;
    }

    /** Parses the lines of a CSV of {@code channels} values per sample; IllegalArgumentException naming the line. */
    public static MotionCsv parse(List<String> lines, int channels) {
        List<long[]> times = new ArrayList<>();
        List<float[]> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String[] f = lines.get(i).trim().split(",", -1);
            long[] t = new long[1];
            float[] v = new float[channels];
            if (!row(f, t, v)) {
                if (i == 0) {
                    continue; // a header line
                }
                throw new IllegalArgumentException("line " + (i + 1) + " is not 'time' (at most 9 decimals) and "
                        + channels + " values separated by commas");
            }
            times.add(t);
            rows.add(v);
        }
        long[] nanos = new long[times.size()];
        float[] values = new float[rows.size() * channels];
        for (int i = 0; i < nanos.length; i++) {
            nanos[i] = times.get(i)[0];
            System.arraycopy(rows.get(i), 0, values, i * channels, channels);
        }
        return new MotionCsv(nanos, values, channels);
    }

    private static boolean row(String[] f, long[] t, float[] v) {
        if (f.length != v.length + 1) {
            return false;
        }
        try {
            t[0] = new BigDecimal(f[0].trim()).movePointRight(9).longValueExact();
            for (int c = 0; c < v.length; c++) {
                v[c] = Float.parseFloat(f[c + 1].trim());
            }
            return true;
        } catch (NumberFormatException | ArithmeticException e) {
            return false;
        }
    }

    /** Samples in the file. */
    public int size() {
        return nanos.length;
    }
}
