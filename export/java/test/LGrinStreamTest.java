// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.lgrin.edge.LGrinNative;
import org.lgrin.edge.LGrinStream;
import org.lgrin.edge.LGrinStream.Decision;

/**
 * Desktop-JVM test of LGrinStream (run by export/ci.sh under -Xcheck:jni): the known-answer motion model
 * over a motion CSV gives, line for line, what lgrin_live printed for the same file.
 *
 * <p>usage: LGrinStreamTest DATA_DIR MOTION.csv LGRIN_LIVE_OUTPUT
 */
public final class LGrinStreamTest {
    private static int failures = 0;

    private static void check(boolean ok, String what) {
        if (!ok) {
            failures++;
            System.err.println("FAIL: " + what);
        }
    }

    /** The CSV's rows (a header line allowed): times into time, the P values of each into values. */
    private static void readCsv(Path csv, int p, List<Double> time, List<Float> values) throws Exception {
        for (String row : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
            String[] f = row.trim().split(",");
            if (f.length != p + 1 || !Character.isDigit(f[0].charAt(0))) {
                continue; // the header
            }
            time.add(Double.parseDouble(f[0]));
            for (int c = 1; c <= p; c++) {
                values.add(Float.parseFloat(f[c]));
            }
        }
    }

    /** Samples [lo, hi) pushed as one chunk; the decisions' lines appended to lines. */
    private static void pushRange(LGrinStream s, double[] t, float[] v, int lo, int hi, List<String> lines) {
        int p = s.numFeatures();
        for (Decision d : s.pushMotion(Arrays.copyOfRange(t, lo, hi), Arrays.copyOfRange(v, lo * p, hi * p))) {
            lines.add(s.line(d));
        }
    }

    /** The CSV through a stream in uneven chunks (1, 2, 3, ... samples), then the flush. */
    private static List<String> timeline(LGrinStream s, double[] t, float[] v) {
        List<String> lines = new ArrayList<>();
        for (int lo = 0, k = 1; lo < t.length; lo += k, k++) {
            pushRange(s, t, v, lo, Math.min(t.length, lo + k), lines);
        }
        for (Decision d : s.flush()) {
            lines.add(s.line(d));
        }
        return lines;
    }

    private static String thrown(Runnable r) {
        try {
            r.run();
            return null;
        } catch (IllegalArgumentException | IllegalStateException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static void checkVectors(LGrinStream s, Decision last) {
        float[] p = s.probabilities();
        float[] mean = s.smoothedProbabilities();
        check(p != null && mean != null && p.length == s.numClasses(), "probabilities after a decision");
        float sum = 0;
        for (float x : p) {
            sum += x;
        }
        check(Math.abs(sum - 1) < 1e-5, "probabilities sum to " + sum);
        check(p[last.label] == last.probability, "the last decision's probability is its vector's");
        check(mean[last.smoothed] == last.smoothedProbability, "the smoothed probability is the mean's");
    }

    private static void checkErrors(LGrinNative model, LGrinNative plain, double[] t, float[] v) {
        String msg = thrown(() -> LGrinStream.open(plain, 0));
        check(msg != null && msg.contains("IllegalArgument") && msg.contains("carries no feature spec"),
                "a model without a spec: " + msg);
        msg = thrown(() -> LGrinStream.open(model, 0, 1e9, 0, 0));
        check(msg != null && msg.contains("(window_s)"), "a window of 2^31 frames and more names window_s: " + msg);
        LGrinStream s = LGrinStream.open(model, 0);
        float[] bad = Arrays.copyOf(v, 3 * s.numFeatures());
        bad[4] = Float.NaN;
        msg = thrown(() -> s.pushMotion(Arrays.copyOf(t, 3), bad));
        check(msg != null && msg.contains("IllegalArgument") && msg.contains("NaN"), "NaN sample: " + msg);
        msg = thrown(() -> s.pushMotion(new double[] {1.0, 0.5}, Arrays.copyOf(v, 2 * s.numFeatures())));
        check(msg != null && msg.contains("out of order"), "time going back: " + msg);
        msg = thrown(() -> s.pushMotion(new double[] {1.0}, new float[1]));
        check(msg != null && msg.contains("time.length * P"), "short values: " + msg);
        msg = thrown(() -> s.pushPcm(new short[16]));
        check(msg != null && msg.contains("IllegalState") && msg.contains("another input kind"), "PCM: " + msg);
        check(s.framesSeen() == 0, "refused input was not used");
        s.flush();
        msg = thrown(() -> s.pushFrames(new float[s.numFeatures()]));
        check(msg != null && msg.contains("already flushed"), "push after flush: " + msg);
        s.reset();
        check(s.pushFrames(new float[s.numFeatures()]).isEmpty() && s.framesSeen() == 1, "reset");
        s.close();
        msg = thrown(() -> s.flush());
        check(msg != null && msg.contains("closed"), "closed stream: " + msg);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        LGrinNative.loadLibrary();
        // lgrin_live writes the class names' UTF-8 bytes: print and compare the same
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        List<String> want = Files.readAllLines(Path.of(args[2]), StandardCharsets.UTF_8);
        try (LGrinNative model = new LGrinNative(Files.readAllBytes(dir.resolve("kat_spec_int8.lgrn")));
                LGrinNative plain = new LGrinNative(Files.readAllBytes(dir.resolve("kat_int8.lgrn")))) {
            LGrinStream s = LGrinStream.open(model, 0);
            check(s.kind() == LGrinStream.Kind.MOTION && s.numFeatures() == model.numFeatures(), "motion, P");
            check(s.stateBytes() > 4L * s.window() * s.numFeatures(), "state bytes " + s.stateBytes());
            List<Double> time = new ArrayList<>();
            List<Float> values = new ArrayList<>();
            readCsv(Path.of(args[1]), s.numFeatures(), time, values);
            double[] t = time.stream().mapToDouble(Double::doubleValue).toArray();
            float[] v = new float[values.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = values.get(i);
            }
            List<String> got = timeline(s, t, v);
            check(!want.isEmpty() && got.equals(want), "the timeline differs from lgrin_live's:\n  java: " + got
                    + "\n  C:    " + want);
            out.println("LGrinStream: " + got.size() + " decisions, as lgrin_live's; first: "
                    + (got.isEmpty() ? "none" : got.get(0)));
            LGrinStream again = LGrinStream.open(model, 0);
            check(again.probabilities() == null, "no probabilities before a decision");
            List<Decision> all = new ArrayList<>(again.pushMotion(t, v));
            all.addAll(again.flush());
            check(all.size() == got.size(), "one push makes the decisions of many");
            if (!all.isEmpty()) {
                checkVectors(again, all.get(all.size() - 1));
            }
            checkErrors(model, plain, t, v);
        }
        if (failures > 0) {
            System.err.println(failures + " Java stream check(s) failed");
            System.exit(1);
        }
        out.println("all Java LGrinStream tests passed");
    }
}
