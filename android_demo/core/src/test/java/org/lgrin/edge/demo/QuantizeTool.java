// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Quantises every packed sample with {@link Int8Io}, exactly as the app's LiteRT backend feeds the int8
 * .tflite, and writes the int8 bytes (N x M x P) to a file, so that tests/check_litert_io.py can run them in
 * LiteRT's Python binding.   java -cp CLASSES org.lgrin.edge.demo.QuantizeTool ASSETS SCALE ZERO_POINT OUT
 */
public final class QuantizeTool {
    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: QuantizeTool ASSETS_DIR SCALE ZERO_POINT OUT_FILE");
            System.exit(2);
        }
        SampleSet s = DemoAssets.open(AssetSource.directory(new File(args[0]))).samples();
        Int8Io io = new Int8Io(Float.parseFloat(args[1]), Integer.parseInt(args[2]));
        ByteBuffer buf = ByteBuffer.allocate(s.numNodes() * s.numFeatures());
        try (OutputStream out = new FileOutputStream(args[3])) {
            for (int i = 0; i < s.size(); i++) {
                buf.clear();
                io.quantize(s.input(i), buf);
                out.write(buf.array());
            }
        }
    }
}
