// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Properties;

/**
 * The assets written by {@code android_demo/pack_assets.py}: {@code demo.properties}, the int8 models and
 * {@code samples.bin}. Every file is checked against the sha256 recorded in demo.properties when it is read,
 * so a model corrupted in the APK (or replaced by hand) is refused, not run.
 */
public final class DemoAssets {
    public static final String PROPERTIES = "demo.properties";
    /** Backend keys in demo.properties: the LiteRT .tflite model and the C99 runtime model. */
    public static final String TFLITE = "tflite";
    public static final String C_RUNTIME = "c";

    private final AssetSource source;
    private final Properties props;

    private DemoAssets(AssetSource source, Properties props) {
        this.source = source;
        this.props = props;
    }

    public static DemoAssets open(AssetSource source) throws IOException {
        Properties props = new Properties();
        try (InputStream in = source.open(PROPERTIES)) {
            props.load(new InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (FileNotFoundException e) {
            throw new AssetException(PROPERTIES + " is missing: run `python android_demo/pack_assets.py --dist <export folder>`", e);
        }
        if (!"1".equals(props.getProperty("format"))) {
            throw new AssetException(PROPERTIES + ": unsupported format " + props.getProperty("format"));
        }
        return new DemoAssets(source, props);
    }

    /** Whether the export provided a model for this backend key ({@link #TFLITE} or {@link #C_RUNTIME}). */
    public boolean hasModel(String backend) {
        return props.getProperty(backend + ".file") != null;
    }

    public String modelFile(String backend) throws AssetException {
        String name = props.getProperty(backend + ".file");
        if (name == null) {
            throw new AssetException("the packed export has no int8 '" + backend + "' model (see pack_assets.py's warning)");
        }
        return name;
    }

    /** The model bytes for a backend, sha256-checked. */
    public byte[] model(String backend) throws IOException {
        return readChecked(modelFile(backend), backend + ".sha256");
    }

    public SampleSet samples() throws IOException {
        SampleSet s = SampleSet.decode(readChecked(props.getProperty("samples.file", "samples.bin"), "samples.sha256"));
        if (s.numNodes() != intProperty("num_nodes") || s.numFeatures() != intProperty("num_features")
                || s.numClasses() != intProperty("num_classes")) {
            throw new AssetException("samples.bin dimensions disagree with " + PROPERTIES);
        }
        return s;
    }

    /** How closely a backend must reproduce the packed reference logits: the export's own tolerance. */
    public double referenceTolerance() throws AssetException {
        String v = props.getProperty("reference.tolerance");
        try {
            return Double.parseDouble(v);
        } catch (NullPointerException | NumberFormatException e) {
            throw new AssetException(PROPERTIES + ": 'reference.tolerance' is missing or not a number: " + v);
        }
    }

    public int intProperty(String key) throws AssetException {
        String v = props.getProperty(key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new AssetException(PROPERTIES + ": '" + key + "' is missing or not an integer: " + v);
        }
    }

    private byte[] readChecked(String name, String shaKey) throws IOException {
        String expected = props.getProperty(shaKey);
        if (expected == null) {
            throw new AssetException(PROPERTIES + " has no " + shaKey);
        }
        byte[] data;
        try (InputStream in = source.open(name)) {
            data = readAll(in);
        } catch (FileNotFoundException e) {
            throw new AssetException("asset " + name + " is missing: pack the assets again", e);
        }
        String actual = sha256Hex(data);
        if (!actual.equalsIgnoreCase(expected)) {
            throw new AssetException("asset " + name + ": sha256 mismatch (" + actual + ", expected " + expected
                    + "): pack the assets again");
        }
        return data;
    }

    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] block = new byte[1 << 16];
        for (int k; (k = in.read(block)) > 0; ) {
            out.write(block, 0, k);
        }
        return out.toByteArray();
    }

    public static String sha256Hex(byte[] data) {
        try {
            StringBuilder sb = new StringBuilder(64);
            for (byte b : MessageDigest.getInstance("SHA-256").digest(data)) {
                sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e); // every Java and Android runtime has it
        }
    }
}
