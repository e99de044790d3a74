// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.lgrin.edge.LGrinNative;

/**
 * The app's live modes on a recording, on the desktop JVM: a WAV file goes through {@link LiveSession} in
 * 100 ms chunks as AudioRecord delivers them (microphone mode), a motion CSV as sensor events, a gyroscope
 * then an accelerometer event per line (motion mode). Prints the timeline on stdout, exactly as lgrin_live
 * prints it for the same file (android_demo/ci.sh compares the two), and the per-hop time on stderr.
 *
 * <pre>java -Djava.library.path=DIR -cp CLASSES org.lgrin.edge.demo.LiveReplay MODEL.lgrn IN.wav|IN.csv</pre>
 */
public final class LiveReplay {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: LiveReplay MODEL.lgrn IN.wav|IN.csv");
            System.exit(2);
        }
        LGrinNative.loadLibrary();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8); // class names as UTF-8
        List<Double> hops = new ArrayList<>();
        try (LGrinNative model = new LGrinNative(Files.readAllBytes(Path.of(args[0])))) {
            Path in = Path.of(args[1]);
            boolean wav = in.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".wav");
            WavReader.Pcm pcm = wav ? WavReader.read(Files.readAllBytes(in)) : null;
            try (LiveSession session = new LiveSession(model, wav ? pcm.rate : 0)) {
                List<String> lines = wav ? microphone(session, pcm, hops) : sensors(session, in, hops);
                lines.addAll(session.finish());
                lines.forEach(out::println);
                Collections.sort(hops);
                System.err.printf("%d decisions; per-hop time, median of the pushes that decided: %.3f ms%n",
                        lines.size(), hops.isEmpty() ? Double.NaN : hops.get(hops.size() / 2));
            }
        }
    }

    private static List<String> microphone(LiveSession session, WavReader.Pcm pcm, List<Double> hops) {
        List<String> lines = new ArrayList<>();
        int chunk = Math.max(1, pcm.rate / 10);
        for (int at = 0; at < pcm.length(); at += chunk) {
            int n = Math.min(chunk, pcm.length() - at);
            List<String> made = pcm.pcm16 != null
                    ? session.acceptPcm(java.util.Arrays.copyOfRange(pcm.pcm16, at, at + n), n)
                    : session.acceptPcm(java.util.Arrays.copyOfRange(pcm.pcmFloat, at, at + n), n);
            record(session, made, lines, hops);
        }
        return lines;
    }

    private static List<String> sensors(LiveSession session, Path csv, List<Double> hops) throws Exception {
        int p = session.stream().numFeatures();
        MotionCsv m = MotionCsv.parse(Files.readAllLines(csv, StandardCharsets.UTF_8), p);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < m.size(); i++) {
            float[] v = m.values;
            int at = i * p;
            if (p == 6) {
                session.gyroscope(m.nanos[i], v[at + 3], v[at + 4], v[at + 5]);
            }
            record(session, session.accelerometer(m.nanos[i], v[at], v[at + 1], v[at + 2]), lines, hops);
        }
        return lines;
    }

    private static void record(LiveSession session, List<String> made, List<String> lines, List<Double> hops) {
        if (!made.isEmpty()) {
            hops.add(session.lastHopMillis());
        }
        lines.addAll(made);
    }
}
