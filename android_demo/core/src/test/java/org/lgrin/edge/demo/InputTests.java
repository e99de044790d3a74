// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Desktop-JVM tests of the demo's input rules (GraphRule, MotionResampler, LandmarkFrames) against the
 * known answers Python computed (export/tests/data/input/, written by tests/frontend/test_*.py): every
 * index and every float bit for bit, the motion streams whole and in chunks, and the refusals.
 *
 *   java -cp CLASSES org.lgrin.edge.demo.InputTests export/tests/data/input
 */
public final class InputTests {
    interface Test { void run() throws Exception; }

    public static void main(String[] args) throws Exception {
        if (args.length != 1 || !new File(args[0]).isDirectory()) {
            System.err.println("usage: InputTests DIR  (DIR: export/tests/data/input)");
            System.exit(2);
        }
        File dir = new File(args[0]);
        Map<String, Test> tests = new LinkedHashMap<>();
        tests.put("graph indices, counts and ring gathers equal data/graph.py's", () -> graphs(dir));
        tests.put("graph indices of every T <= 400, M <= 128 fold to Python's digest", () -> graphDigest(dir));
        tests.put("graph rule refuses what has no graph", InputTests::graphRefusals);
        tests.put("MESH_TO_IBUG68 is face.py's", () -> meshTable(dir));
        tests.put("face frames equal numpy's bit for bit", () -> faces(dir));
        tests.put("motion frames equal numpy's bit for bit, whole and in chunks", () -> motion(dir));
        tests.put("motion refuses bad samples and uses nothing of them", InputTests::motionRefusals);
        int failed = 0;
        for (Map.Entry<String, Test> t : tests.entrySet()) {
            try {
                t.getValue().run();
                System.out.println("PASS  " + t.getKey());
            } catch (Throwable e) {
                failed++;
                System.out.println("FAIL  " + t.getKey() + ": " + e);
                e.printStackTrace(System.out);
            }
        }
        System.out.println((tests.size() - failed) + "/" + tests.size() + " input tests passed");
        System.exit(failed == 0 ? 0 : 1);
    }

    // ---------------------------------------------------------------- graph

    static int policy(String name) {
        switch (name) {
            case "truncate": return GraphRule.TRUNCATE;
            case "resample": return GraphRule.RESAMPLE;
            case "chunk": return GraphRule.CHUNK;
            default: throw new IllegalArgumentException("unknown policy " + name);
        }
    }

    static void graphs(File dir) throws IOException {
        int lines = 0;
        for (String[] f : rows(dir, "graph.txt")) {
            if (f[0].equals("digest")) {
                continue;
            }
            int t = Integer.parseInt(f[0]);
            int m = Integer.parseInt(f[1]);
            int p = policy(f[2]);
            int g = Integer.parseInt(f[3]);
            int[] want = new int[m];
            for (int j = 0; j < m; j++) {
                want[j] = Integer.parseInt(f[5 + j]);
            }
            check(GraphRule.count(t, m, p) == Integer.parseInt(f[4]), "count of " + String.join(" ", Arrays.copyOf(f, 4)));
            check(Arrays.equals(GraphRule.indices(t, m, p, g), want), "indices of " + String.join(" ", Arrays.copyOf(f, 4)));
            if (t <= 4096) { // gather: frame i holds i + c / 8 in column c, the ring rotated
                int width = 3;
                float[] ring = new float[t * width];
                float[] out = new float[m * width];
                for (int first = 0; first < t; first += 1 + t / 7) {
                    for (int i = 0; i < t; i++) {
                        for (int c = 0; c < width; c++) {
                            ring[((first + i) % t) * width + c] = (float) i + (float) c / 8.0f;
                        }
                    }
                    GraphRule.gather(ring, t, first, t, width, m, p, g, out);
                    for (int j = 0; j < m; j++) {
                        for (int c = 0; c < width; c++) {
                            check(out[j * width + c] == (float) want[j] + (float) c / 8.0f, "gather at rotation " + first);
                        }
                    }
                }
            }
            lines++;
        }
        check(lines > 100, "graph.txt has " + lines + " cases");
    }

    static void graphDigest(File dir) throws IOException {
        for (String[] f : rows(dir, "graph.txt")) {
            if (!f[0].equals("digest")) {
                continue;
            }
            int mMax = Integer.parseInt(f[1]);
            int tMax = Integer.parseInt(f[2]);
            long h = 0; // arithmetic mod 2^64: Java's long wraps as C's uint64_t does
            for (int m = 1; m <= mMax; m++) {
                for (int t = 1; t <= tMax; t++) {
                    for (int v : GraphRule.indices(t, m, GraphRule.RESAMPLE, 0)) {
                        h = h * 1099511628211L + v + 1;
                    }
                }
            }
            check(Long.toUnsignedString(h).equals(f[3]), "digest " + Long.toUnsignedString(h) + " != " + f[3]);
            return;
        }
        throw new AssertionError("graph.txt has no digest line");
    }

    static void graphRefusals() {
        throwsIae(() -> GraphRule.indices(0, 4, GraphRule.RESAMPLE, 0), "T = 0");
        throwsIae(() -> GraphRule.indices(5, 4, 3, 0), "unknown policy");
        throwsIae(() -> GraphRule.indices(9, 4, GraphRule.CHUNK, 3), "graph beyond the count");
        throwsIae(() -> GraphRule.gather(new float[2], 2, 0, 3, 1, 4, GraphRule.RESAMPLE, 0, new float[4]),
                "T above the ring's capacity");
    }

    // ---------------------------------------------------------------- face

    static void meshTable(File dir) throws IOException {
        List<String[]> r = rows(dir, "mesh_to_ibug68.txt");
        int[] want = Arrays.stream(r.get(0)).mapToInt(Integer::parseInt).toArray();
        check(Arrays.equals(LandmarkFrames.meshToIbug68(), want), "table differs from face.py's");
    }

    static void faces(File dir) throws IOException {
        int frames = 0;
        for (String[] f : rows(dir, "face.txt")) {
            int points = Integer.parseInt(f[1]);
            int stride = Integer.parseInt(f[2]);
            int width = Integer.parseInt(f[3]);
            int height = Integer.parseInt(f[4]);
            int count = Integer.parseInt(f[5]);
            float[] mesh = floats(new File(dir, f[0]), count * points * stride);
            float[] want = floats(new File(dir, f[6]), count * LandmarkFrames.WIDTH);
            float[] one = new float[points * stride];
            float[] got = new float[LandmarkFrames.WIDTH];
            for (int k = 0; k < count; k++) {
                System.arraycopy(mesh, k * points * stride, one, 0, one.length);
                LandmarkFrames.frame(one, points, stride, width, height, got);
                sameBits(got, Arrays.copyOfRange(want, k * LandmarkFrames.WIDTH, (k + 1) * LandmarkFrames.WIDTH),
                        f[0] + " frame " + k);
                frames++;
            }
            throwsIae(() -> LandmarkFrames.frame(one, 477, stride, width, height, got), "477 points");
            one[LandmarkFrames.meshToIbug68()[5] * stride + 1] = Float.NaN;
            throwsIae(() -> LandmarkFrames.frame(one, points, stride, width, height, got), "NaN landmark");
        }
        check(frames > 0, "face.txt lists no frames");
    }

    // ---------------------------------------------------------------- motion

    static MotionResampler resampler(String[] f) {
        double rate = Double.parseDouble(f[1]);
        double gap = Double.parseDouble(f[2]);
        int inChannels = Integer.parseInt(f[4]);
        String[] entries = f[5].split(",");
        MotionResampler.Axis[] axes = new MotionResampler.Axis[entries.length];
        for (int c = 0; c < entries.length; c++) {
            String[] e = entries[c].split(":");
            axes[c] = new MotionResampler.Axis(Integer.parseInt(e[0]), Integer.parseInt(e[1]), Double.parseDouble(e[2]));
        }
        return f[3].equals("-") ? new MotionResampler(rate, inChannels, axes, gap)
                                : new MotionResampler(rate, inChannels, axes, gap, Double.parseDouble(f[3]));
    }

    static void motion(File dir) throws IOException {
        int cases = 0;
        for (String[] f : rows(dir, "motion.txt")) {
            int inChannels = Integer.parseInt(f[4]);
            int n = Integer.parseInt(f[6]);
            int frames = Integer.parseInt(f[7]);
            double[] time = doubles(new File(dir, f[0] + ".time.f64"), n);
            float[] values = floats(new File(dir, f[0] + ".values.f32"), n * inChannels);
            MotionResampler r = resampler(f);
            float[] want = floats(new File(dir, f[0] + ".frames.f32"), frames * r.channels());
            for (int chunk = 0; chunk <= 7; chunk++) {
                r.reset();
                float[] got = new float[want.length];
                int made = 0;
                for (int at = 0; at < n;) {
                    int k = chunk == 0 ? n - at : Math.min(chunk, n - at);
                    double[] t = Arrays.copyOfRange(time, at, at + k);
                    float[] x = Arrays.copyOfRange(values, at * inChannels, (at + k) * inChannels);
                    int expected = r.maxFrames(t, k);
                    float[] out = new float[expected * r.channels()];
                    int m = r.push(t, x, k, out);
                    check(m == expected, f[0] + ": push made " + m + " frames, maxFrames said " + expected);
                    check(made + m <= frames, f[0] + ": more frames than Python's " + frames);
                    System.arraycopy(out, 0, got, made * r.channels(), m * r.channels());
                    made += m;
                    at += k;
                    check(made == onTime(f, time, at), f[0] + ": a frame out early or late at sample " + at);
                }
                check(made == frames, f[0] + " in chunks of " + chunk + ": " + made + " frames, Python " + frames);
                sameBits(got, want, f[0] + " in chunks of " + chunk);
            }
            cases++;
        }
        check(cases > 0, "motion.txt lists no recordings");
    }

    /** Frames ended once samples [0, n) are in: the j >= 1 with j / rate <= t[n - 1] - t0 (the rule's
     *  definition, counted apart from MotionResampler). */
    static int onTime(String[] f, double[] time, int n) {
        double rate = Double.parseDouble(f[1]);
        double u = time[n - 1] - (f[3].equals("-") ? time[0] : Double.parseDouble(f[3]));
        int j = 0;
        while ((double) (j + 1) / rate <= u) {
            j++;
        }
        return j;
    }

    static void motionRefusals() {
        MotionResampler r = MotionResampler.basicMotions();
        double[] t = {0.0, 0.05, 0.1};
        float[] x = new float[18];
        float[] out = new float[48];
        t[1] = -0.01;
        throwsIae(() -> r.push(t, x, 3, out), "time going back");
        t[1] = 0.05;
        t[2] = 0.7;
        throwsIae(() -> r.push(t, x, 3, out), "gap above max gap");
        t[2] = 0.1;
        x[7] = Float.NaN;
        throwsIae(() -> r.push(t, x, 3, out), "NaN value");
        x[7] = 0f;
        t[2] = 0.25;
        check(r.maxFrames(t, 3) == 2, "maxFrames");
        throwsIae(() -> r.push(t, x, 3, new float[6]), "output room");
        check(r.push(t, x, 3, out) == 2, "push after refusals");
        throwsIae(() -> new MotionResampler.Axis(0, 0, 1.0), "sign 0");
        throwsIae(() -> new MotionResampler(10.0, 3, new MotionResampler.Axis[] {MotionResampler.Axis.of(3)}, 0.5),
                "source beyond the input");
        throwsIae(() -> new MotionResampler(0.0, 1, new MotionResampler.Axis[] {MotionResampler.Axis.of(0)}, 0.5),
                "frame rate 0");
    }

    // ---------------------------------------------------------------- helpers

    /** The whitespace-separated fields of each line that is not a comment. */
    static List<String[]> rows(File dir, String name) throws IOException {
        List<String[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(new File(dir, name).toPath(), StandardCharsets.UTF_8)) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                out.add(line.trim().split("\\s+"));
            }
        }
        return out;
    }

    static ByteBuffer bytes(File f, int expected) throws IOException {
        byte[] b = Files.readAllBytes(f.toPath());
        check(b.length == expected, f + ": " + b.length + " bytes, expected " + expected);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    static float[] floats(File f, int n) throws IOException {
        float[] out = new float[n];
        bytes(f, 4 * n).asFloatBuffer().get(out);
        return out;
    }

    static double[] doubles(File f, int n) throws IOException {
        double[] out = new double[n];
        bytes(f, 8 * n).asDoubleBuffer().get(out);
        return out;
    }

    static void sameBits(float[] got, float[] want, String what) {
        check(got.length == want.length, what + ": " + got.length + " floats, expected " + want.length);
        for (int i = 0; i < got.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                throw new AssertionError(what + ": float " + i + " is " + got[i] + ", Python " + want[i]);
            }
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static void throwsIae(Test t, String what) {
        try {
            t.run();
        } catch (IllegalArgumentException e) {
            return;
        } catch (Exception e) {
            throw new AssertionError(what + ": threw " + e);
        }
        throw new AssertionError(what + ": no IllegalArgumentException");
    }
}
