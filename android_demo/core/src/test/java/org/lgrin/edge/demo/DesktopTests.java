// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Desktop-JVM tests of the demo's platform-independent code (no test framework needed: plain java).
 *
 *   java -cp CLASSES [-Djava.library.path=DIR_WITH_liblgrin_jni] org.lgrin.edge.demo.DesktopTests [ASSETS_DIR]
 *
 * Without ASSETS_DIR only the pure-Java tests run. With it (a folder written by pack_assets.py from a real
 * export) the C99 runtime is loaded through JNI and must reproduce the export's Python verification.
 */
public final class DesktopTests {
    // ReferenceCheck's own test: any tolerance far below its 0.5 perturbation (real runs use the export's).
    static final double CHECK_TOLERANCE = 1e-4;

    interface Test { void run() throws Exception; }

    public static void main(String[] args) throws Exception {
        Map<String, Test> tests = new LinkedHashMap<>();
        tests.put("softmax is stable and normalised", DesktopTests::softmax);
        tests.put("int8 quantisation rounds, saturates, validates", DesktopTests::int8);
        tests.put("samples.bin decodes and rejects damage", DesktopTests::sampleSet);
        tests.put("assets are sha256-checked", DesktopTests::assetChecks);
        tests.put("classifier turns logits into a prediction", DesktopTests::classifier);
        tests.put("reference check finds a disagreeing sample", DesktopTests::referenceCheck);
        if (args.length > 0) {
            File dir = new File(args[0]);
            tests.put("C runtime (JNI) reproduces the Python verification", () -> nativeMatchesReference(dir));
            tests.put("C runtime probabilities equal softmax of its logits", () -> nativeProbabilities(dir));
            tests.put("C runtime rejects corrupt and truncated models", () -> nativeRejectsBadModels(dir));
        } else {
            System.out.println("(no assets folder given: JNI tests not run)");
        }
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
        System.out.println((tests.size() - failed) + "/" + tests.size() + " desktop tests passed");
        System.exit(failed == 0 ? 0 : 1);
    }

    // ---------------------------------------------------------------- pure Java

    static void softmax() {
        float[] p = Postprocess.softmax(new float[] {1000f, 1001f, 999f});
        double z = 1 + Math.exp(-1) + Math.exp(-2);
        close(p[1], 1 / z, 1e-6, "p[1]");
        close(p[0], Math.exp(-1) / z, 1e-6, "p[0]");
        close(p[0] + p[1] + p[2], 1, 1e-6, "sum");
        check(Postprocess.argmax(new float[] {0.5f, 2f, 2f, -1f}) == 1, "argmax must take the first maximum");
        throwsIae(() -> Postprocess.softmax(new float[] {1f, Float.NaN}), "NaN logits");
    }

    static void int8() {
        Int8Io io = new Int8Io(0.5f, -3);
        check(io.quantize(1.0f) == -1, "1.0 -> -1");
        check(io.quantize(0.25f) == -2, "0.25/0.5 = 0.5 rounds away from zero to 1 -> -2");
        check(io.quantize(-0.25f) == -4, "-0.5 rounds away from zero to -1 -> -4");
        check(io.quantize(1000f) == 127 && io.quantize(-1000f) == -128, "saturation");
        close(io.dequantize((byte) -1), 1.0, 0, "dequantize");
        for (float x = -60f; x <= 60f; x += 0.37f) {
            close(io.dequantize(io.quantize(x)), x, 0.25 + 1e-6, "round trip of " + x);
        }
        ByteBuffer buf = ByteBuffer.allocate(3);
        io.quantize(new float[] {0f, 1f, -1f}, buf);
        buf.flip();
        float[] back = io.dequantize(buf, 3);
        check(back[0] == 0f && back[1] == 1f && back[2] == -1f, "buffer round trip");
        throwsIae(() -> new Int8Io(0f, 0), "zero scale");
        throwsIae(() -> new Int8Io(0.1f, 128), "zero point out of range");
        throwsIae(() -> io.quantize(Float.NaN), "NaN input");
    }

    static void sampleSet() throws Exception {
        float[][] x = {{1f, 2f, 3f, 4f, 5f, 6f}, {-1f, -2f, -3f, -4f, -5f, -6f}};
        float[][] ref = {{0.1f, 0.9f, 0.2f}, {3f, 1f, 2f}};
        byte[] blob = encode(x, new int[] {1, 2}, new String[] {"calm", "happy", "naïve"}, ref, 2, 3);
        SampleSet s = SampleSet.decode(blob);
        check(s.size() == 2 && s.numNodes() == 2 && s.numFeatures() == 3 && s.numClasses() == 3, "dims");
        check(s.classes().get(2).equals("naïve"), "UTF-8 class name");
        check(s.label(1) == 2 && s.input(1)[5] == -6f && s.referenceLogits(0)[1] == 0.9f, "values");
        s.input(0)[0] = 99f;
        check(s.input(0)[0] == 1f, "input() must return a copy");
        expectAsset(() -> SampleSet.decode(java.util.Arrays.copyOf(blob, blob.length - 1)), "expected");
        expectAsset(() -> SampleSet.decode(java.util.Arrays.copyOf(blob, 20)), "truncated");
        byte[] badMagic = blob.clone();
        badMagic[0] = 'X';
        expectAsset(() -> SampleSet.decode(badMagic), "bad magic");
        byte[] badLabel = encode(x, new int[] {1, 3}, new String[] {"a", "b", "c"}, ref, 2, 3);
        expectAsset(() -> SampleSet.decode(badLabel), "label 3");
        SampleSet noRef = SampleSet.decode(encode(x, new int[] {0, 0}, new String[] {"a", "b", "c"}, null, 2, 3));
        check(!noRef.hasReferenceLogits(), "flag bit 0 clear -> no reference logits");
    }

    static void assetChecks() throws Exception {
        Path dir = Files.createTempDirectory("lgrin-assets");
        byte[] model = "int8 model bytes".getBytes(StandardCharsets.US_ASCII);
        byte[] samples = encode(new float[][] {{1f, 2f}}, new int[] {0}, new String[] {"a", "b"}, null, 1, 2);
        Files.write(dir.resolve("m.lgrn"), model);
        Files.write(dir.resolve("samples.bin"), samples);
        String props = "format=1\nnum_nodes=1\nnum_features=2\nnum_classes=2\nc.file=m.lgrn\nc.sha256="
                + DemoAssets.sha256Hex(model) + "\nsamples.file=samples.bin\nsamples.sha256="
                + DemoAssets.sha256Hex(samples) + "\n";
        Files.write(dir.resolve(DemoAssets.PROPERTIES), props.getBytes(StandardCharsets.US_ASCII));
        DemoAssets assets = DemoAssets.open(AssetSource.directory(dir.toFile()));
        check(java.util.Arrays.equals(assets.model(DemoAssets.C_RUNTIME), model), "model bytes");
        check(assets.samples().size() == 1, "samples");
        check(!assets.hasModel(DemoAssets.TFLITE), "no tflite model was packed");
        expectAsset(() -> assets.model(DemoAssets.TFLITE), "no int8 'tflite' model");
        Files.write(dir.resolve("m.lgrn"), "int8 model bytez".getBytes(StandardCharsets.US_ASCII));
        expectAsset(() -> assets.model(DemoAssets.C_RUNTIME), "sha256 mismatch");
        Files.delete(dir.resolve("m.lgrn"));
        expectAsset(() -> assets.model(DemoAssets.C_RUNTIME), "is missing");
        Files.write(dir.resolve(DemoAssets.PROPERTIES), props.replace("num_nodes=1", "num_nodes=4").getBytes(StandardCharsets.US_ASCII));
        expectAsset(() -> DemoAssets.open(AssetSource.directory(dir.toFile())).samples(), "disagree");
        Files.delete(dir.resolve(DemoAssets.PROPERTIES));
        expectAsset(() -> DemoAssets.open(AssetSource.directory(dir.toFile())), "pack_assets.py");
    }

    static void classifier() {
        Backend b = new LinearBackend(new float[][] {{1f, 0f}, {0f, 1f}, {1f, 1f}});
        Classifier c = new Classifier(b, names("x", "y", "both"));
        Prediction p = c.classify(new float[] {2f, 1f});
        check(p.classIndex() == 2 && p.className().equals("both"), "argmax of logits {2,1,3} is 'both'");
        close(p.probabilities()[0], Math.exp(-1) / (1 + Math.exp(-1) + Math.exp(-2)), 1e-6, "probability");
        check(p.inferenceNanos() >= 0 && c.medianNanos(new float[] {2f, 1f}, 5) >= 0, "timings");
        throwsIae(() -> c.classify(new float[] {1f, 2f, 3f}), "wrong input length");
        throwsIae(() -> new Classifier(b, names("x", "y")), "class count mismatch");
    }

    static void referenceCheck() throws Exception {
        float[][] x = {{1f, 0f}, {0f, 1f}, {2f, 3f}};
        float[][] ref = {{1f, 0f, 1f}, {0f, 1f, 1f}, {2f, 3f, 5f}};
        SampleSet s = SampleSet.decode(encode(x, new int[] {0, 1, 2}, new String[] {"a", "b", "c"}, ref, 1, 2));
        Backend b = new LinearBackend(new float[][] {{1f, 0f}, {0f, 1f}, {1f, 1f}});
        ReferenceCheck ok = ReferenceCheck.run(b, s);
        check(ok.passes(CHECK_TOLERANCE) && ok.maxAbsDiff == 0 && ok.correct == 3, "exact backend: " + ok);
        ref[1][2] = 1.5f; // sample 1 now disagrees by 0.5 and its argmax changes from tie(1) to 2
        ReferenceCheck bad = ReferenceCheck.run(b, SampleSet.decode(encode(x, new int[] {0, 1, 2}, new String[] {"a", "b", "c"}, ref, 1, 2)));
        check(!bad.passes(CHECK_TOLERANCE) && bad.worstSample == 1 && Math.abs(bad.maxAbsDiff - 0.5) < 1e-6
                && bad.argmaxAgreements == 2, "perturbed reference: " + bad);
    }

    // ---------------------------------------------------------------- JNI, against the host build

    static void nativeMatchesReference(File dir) throws Exception {
        DemoAssets assets = DemoAssets.open(AssetSource.directory(dir));
        SampleSet s = assets.samples();
        try (NativeBackend b = new NativeBackend(assets.model(DemoAssets.C_RUNTIME))) {
            check(b.numNodes() == s.numNodes() && b.numFeatures() == s.numFeatures() && b.numClasses() == s.numClasses(),
                    "model dims " + b.numNodes() + "x" + b.numFeatures() + "->" + b.numClasses());
            ReferenceCheck r = ReferenceCheck.run(b, s);
            System.out.println("      " + r);
            double tolerance = assets.referenceTolerance();  // the export's, packed by pack_assets.py
            check(r.passes(tolerance), "C runtime through JNI differs from the Python verification (tolerance "
                    + tolerance + "): " + r);
            Prediction p = new Classifier(b, s.classes()).classify(s.input(0));
            System.out.printf(Locale.ROOT, "      sample 0: predicted %s (p=%.3f), true %s, %.1f us%n", p.className(),
                    p.probabilities()[p.classIndex()], s.classes().get(s.label(0)), p.inferenceNanos() / 1e3);
        }
    }

    static void nativeProbabilities(File dir) throws Exception {
        DemoAssets assets = DemoAssets.open(AssetSource.directory(dir));
        SampleSet s = assets.samples();
        try (NativeBackend b = new NativeBackend(assets.model(DemoAssets.C_RUNTIME))) {
            for (int i = 0; i < Math.min(s.size(), 16); i++) {
                float[] mine = Postprocess.softmax(b.logits(s.input(i)));
                float[] theirs = b.nativeProbabilities(s.input(i));
                for (int k = 0; k < mine.length; k++) {
                    close(theirs[k], mine[k], 1e-5, "sample " + i + " class " + k);
                }
            }
            throwsIae(() -> b.logits(new float[3]), "wrong input length");
        }
    }

    static void nativeRejectsBadModels(File dir) throws Exception {
        byte[] model = DemoAssets.open(AssetSource.directory(dir)).model(DemoAssets.C_RUNTIME);
        byte[] flipped = model.clone();
        flipped[model.length / 2] ^= 0x5A;
        throwsIae(() -> new NativeBackend(flipped), "model with one corrupted byte");
        throwsIae(() -> new NativeBackend(java.util.Arrays.copyOf(model, model.length / 2)), "truncated model");
        throwsIae(() -> new NativeBackend(new byte[0]), "empty model");
        new NativeBackend(model).close(); // the original still loads
    }

    // ---------------------------------------------------------------- helpers

    /** A pure-Java backend: logits = W x, for testing the code around the backend. */
    static final class LinearBackend implements Backend {
        final float[][] w;
        LinearBackend(float[][] w) { this.w = w; }
        public String name() { return "linear"; }
        public int numNodes() { return 1; }
        public int numFeatures() { return w[0].length; }
        public int numClasses() { return w.length; }
        public float[] logits(float[] x) {
            Backend.checkInput(this, x);
            float[] out = new float[w.length];
            for (int k = 0; k < w.length; k++) {
                for (int j = 0; j < x.length; j++) {
                    out[k] += w[k][j] * x[j];
                }
            }
            return out;
        }
        public void close() {}
    }

    /** Writes samples.bin as pack_assets.py does (see its docstring), independently of SampleSet. */
    static byte[] encode(float[][] x, int[] y, String[] classes, float[][] ref, int m, int p) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        head.put("LGSAMPL1".getBytes(StandardCharsets.US_ASCII)).putInt(ref == null ? 0 : 1)
                .putInt(x.length).putInt(m).putInt(p).putInt(classes.length);
        out.write(head.array(), 0, 28);
        for (String c : classes) {
            byte[] raw = c.getBytes(StandardCharsets.UTF_8);
            out.write(raw.length & 0xFF);
            out.write(raw.length >> 8);
            out.write(raw, 0, raw.length);
        }
        for (int i = 0; i < x.length; i++) {
            ByteBuffer b = ByteBuffer.allocate(4 + 4 * x[i].length + (ref == null ? 0 : 4 * classes.length))
                    .order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(y[i]);
            for (float v : x[i]) b.putFloat(v);
            if (ref != null) for (float v : ref[i]) b.putFloat(v);
            out.write(b.array(), 0, b.capacity());
        }
        return out.toByteArray();
    }

    static List<String> names(String... n) {
        List<String> l = new ArrayList<>();
        for (String s : n) l.add(s);
        return l;
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    static void close(double got, double want, double tol, String what) {
        if (!(Math.abs(got - want) <= tol)) throw new AssertionError(what + ": got " + got + ", want " + want + " +- " + tol);
    }

    static void throwsIae(Test t, String what) {
        try {
            t.run();
        } catch (IllegalArgumentException expected) {
            return;
        } catch (Exception e) {
            throw new AssertionError(what + ": expected IllegalArgumentException, got " + e, e);
        }
        throw new AssertionError(what + ": expected IllegalArgumentException, nothing thrown");
    }

    static void expectAsset(Test t, String messagePart) {
        try {
            t.run();
        } catch (AssetException e) {
            if (!e.getMessage().contains(messagePart)) {
                throw new AssertionError("AssetException message '" + e.getMessage() + "' lacks '" + messagePart + "'");
            }
            return;
        } catch (Exception e) {
            throw new AssertionError("expected AssetException (" + messagePart + "), got " + e, e);
        }
        throw new AssertionError("expected AssetException (" + messagePart + "), nothing thrown");
    }
}
