// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The live modes' recorded inputs on the desktop JVM (no native library): WAV and motion CSV parsing. */
public final class LiveInputTests {
    private static int failures = 0;

    private static void check(boolean ok, String what) {
        if (!ok) {
            failures++;
            System.err.println("FAIL: " + what);
        }
    }

    /** A WAV file: fmt (encoding, channels, rate, bits) then data. */
    private static byte[] wav(int encoding, int channels, int bits, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(44 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + data.length);
        b.put("WAVEfmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) encoding);
        b.putShort((short) channels).putInt(16000).putInt(16000 * channels * bits / 8);
        b.putShort((short) (channels * bits / 8)).putShort((short) bits);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(data.length).put(data);
        return b.array();
    }

    private static String refusal(Runnable r) {
        try {
            r.run();
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    public static void main(String[] args) {
        byte[] stereo = {1, 0, 2, 0, (byte) 0xff, (byte) 0xff, 4, 0}; // (1, 2), (-1, 4)
        WavReader.Pcm pcm = WavReader.read(wav(1, 2, 16, stereo));
        check(pcm.rate == 16000 && pcm.length() == 2 && pcm.pcm16[0] == 1 && pcm.pcm16[1] == -1,
                "the first channel of 16-bit stereo");
        byte[] one = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.25f).array();
        check(WavReader.read(wav(3, 1, 32, one)).pcmFloat[0] == 0.25f, "32-bit float");
        String msg = refusal(() -> WavReader.read(wav(1, 1, 8, new byte[4])));
        check(msg != null && msg.contains("16-bit PCM or 32-bit float"), "8-bit refused: " + msg);
        msg = refusal(() -> WavReader.read("not a wav file at all".getBytes(StandardCharsets.US_ASCII)));
        check(msg != null && msg.contains("RIFF"), "not a WAV: " + msg);
        byte[] cut = java.util.Arrays.copyOf(wav(1, 1, 16, new byte[8]), 48);
        msg = refusal(() -> WavReader.read(cut));
        check(msg != null && msg.contains("truncated"), "truncated: " + msg);

        MotionCsv m = MotionCsv.parse(List.of("time,a,b", "1.5,2,3", "1.000000001,-1,0.5"), 2);
        check(m.size() == 2 && m.nanos[0] == 1_500_000_000L && m.nanos[1] == 1_000_000_001L, "times in ns");
        check(m.values[2] == -1f && m.values[3] == 0.5f, "values row-major");
        check(1_000_000_001L / 1e9 == Double.parseDouble("1.000000001"), "ns / 1e9 is the parsed double");
        msg = refusal(() -> MotionCsv.parse(List.of("0.1,1,2", "0.2,1"), 2));
        check(msg != null && msg.contains("line 2"), "short line named: " + msg);
        msg = refusal(() -> MotionCsv.parse(List.of("0.1,1,2", "0.1234567891,1,2"), 2));
        check(msg != null && msg.contains("9 decimals"), "sub-nanosecond time refused: " + msg);

        if (failures > 0) {
            System.err.println(failures + " live input check(s) failed");
            System.exit(1);
        }
        System.out.println("all live input tests passed");
    }
}
