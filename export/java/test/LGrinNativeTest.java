// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.lgrin.edge.LGrinNative;

/** Desktop-JVM test of LGrinNative against the known-answer data (run by export/ci.sh). */
public final class LGrinNativeTest {
    private static int failures = 0;

    private static void check(boolean ok, String what) {
        if (!ok) {
            failures++;
            System.err.println("FAIL: " + what);
        }
    }

    private static float[] floats(String line) {
        String[] parts = line.trim().split("\\s+");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Float.parseFloat(parts[i]);
        }
        return out;
    }

    private static String rejection(byte[] model) {
        try {
            new LGrinNative(model).close();
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        LGrinNative.loadLibrary();
        List<String> kat = Files.readAllLines(dir.resolve("kat.txt"));
        float[] input = floats(kat.get(1));
        float[] want = floats(kat.get(3));
        float tolerance = Float.parseFloat(kat.get(4).trim()); // gen_kat.py: the export's C_REPRODUCTION
        byte[] model = Files.readAllBytes(dir.resolve("kat_int8.lgrn"));

        LGrinNative net = new LGrinNative(model);
        {
            String[] dims = kat.get(0).trim().split("\\s+");
            check(net.numNodes() == Integer.parseInt(dims[0]), "numNodes");
            check(net.numFeatures() == Integer.parseInt(dims[1]), "numFeatures");
            check(net.numClasses() == Integer.parseInt(dims[2]), "numClasses");
            float[] logits = net.logits(input);
            for (int i = 0; i < want.length; i++) {
                check(Math.abs(logits[i] - want[i]) <= tolerance * (1 + Math.abs(want[i])),
                        "logit " + i + ": " + logits[i] + " vs " + want[i]);
            }
            float[] p = net.probabilities(input);
            float sum = 0;
            int best = 0;
            for (int i = 0; i < p.length; i++) {
                sum += p[i];
                best = p[i] > p[best] ? i : best;
            }
            check(Math.abs(sum - 1) < 1e-5, "probabilities sum to " + sum);
            int bestLogit = 0;
            for (int i = 0; i < logits.length; i++) {
                bestLogit = logits[i] > logits[bestLogit] ? i : bestLogit;
            }
            check(best == bestLogit, "argmax of probabilities and logits agree");
            try {
                net.logits(new float[input.length - 1]);
                check(false, "short input accepted");
            } catch (IllegalArgumentException expected) {
                check(expected.getMessage().contains("length"), "short input message: " + expected.getMessage());
            }
            float[] nan = input.clone();
            nan[0] = Float.NaN;
            try {
                net.logits(nan);
                check(false, "NaN input accepted");
            } catch (IllegalArgumentException expected) {
                check(expected.getMessage().contains("NaN"), "NaN message: " + expected.getMessage());
            }
            net.close();
            try {
                net.logits(input);
                check(false, "closed instance ran");
            } catch (IllegalStateException expected) {
                // closed
            }
        }

        byte[] withSpec = Files.readAllBytes(dir.resolve("kat_spec_int8.lgrn"));
        try (LGrinNative plain = new LGrinNative(model); LGrinNative carrying = new LGrinNative(withSpec)) {
            check(plain.featureSpec() == null, "a version-4 file has no feature spec");
            String spec = Files.readString(dir.resolve("kat_spec.json"), StandardCharsets.UTF_8);
            check(spec.equals(carrying.featureSpec()), "feature spec: " + carrying.featureSpec());
            float[] a = plain.logits(input);
            check(java.util.Arrays.equals(a, carrying.logits(input)), "the same logits with a spec");
        }

        byte[] flipped = model.clone();
        flipped[flipped.length - 3] ^= 0x10;
        String msg = rejection(flipped);
        check(msg != null && msg.contains("checksum"), "flipped byte: " + msg);
        msg = rejection(java.util.Arrays.copyOf(model, 40));
        check(msg != null && msg.contains("truncated"), "truncated: " + msg);
        byte[] magic = model.clone();
        magic[0] = 'X';
        msg = rejection(magic);
        check(msg != null && msg.contains("magic"), "bad magic: " + msg);
        msg = rejection(new byte[0]);
        check(msg != null && msg.contains("truncated"), "empty: " + msg);

        if (failures > 0) {
            System.err.println(failures + " Java check(s) failed");
            System.exit(1);
        }
        System.out.println("all Java LGrinNative tests passed");
    }
}
