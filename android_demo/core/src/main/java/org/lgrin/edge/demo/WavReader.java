// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A WAV recording's first channel, as the C tools (lgrin_live) and lgrin_edge.frontend.wav read it:
 * 16-bit PCM or 32-bit float (WAVE_FORMAT_EXTENSIBLE's sub-format too), any rate, chunks padded to even
 * lengths. The microphone mode's recorded stand-in on the desktop.
 */
public final class WavReader {
    /** The samples of the first channel: {@code pcm16} for a 16-bit file, {@code pcmFloat} for float. */
    public static final class Pcm {
        public final int rate;
        public final short[] pcm16;
        public final float[] pcmFloat;

        Pcm(int rate, short[] pcm16, float[] pcmFloat) {
            this.rate = rate;
            this.pcm16 = pcm16;
            this.pcmFloat = pcmFloat;
        }

        /** Samples per channel. */
        public int length() {
            return pcm16 != null ? pcm16.length : pcmFloat.length;
        }
    }

    private WavReader() {}

    /** Parses a whole WAV file; IllegalArgumentException naming what is wrong with it. */
    public static Pcm read(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (file.length < 12 || !tag(file, 0).equals("RIFF") || !tag(file, 8).equals("WAVE")) {
            throw new IllegalArgumentException("not a WAV file (no RIFF/WAVE header)");
        }
        int channels = 0;
        int rate = 0;
        int bits = 0;
        boolean isFloat = false;
        boolean fmtSeen = false;
        for (long at = 12; at + 8 <= file.length; ) {
            long size = b.getInt((int) at + 4) & 0xFFFFFFFFL;
            if (size > file.length - at - 8) {
                throw new IllegalArgumentException("truncated: chunk '" + tag(file, (int) at) + "' declares " + size
                        + " bytes, " + (file.length - at - 8) + " remain");
            }
            int c = (int) at;
            if (tag(file, c).equals("fmt ")) {
                if (size < 16) {
                    throw new IllegalArgumentException("fmt chunk of " + size + " bytes, expected at least 16");
                }
                int encoding = b.getShort(c + 8) & 0xFFFF;
                channels = b.getShort(c + 10) & 0xFFFF;
                rate = b.getInt(c + 12);
                bits = b.getShort(c + 22) & 0xFFFF;
                if (encoding == 0xFFFE && size >= 26) {
                    encoding = b.getShort(c + 32) & 0xFFFF; // the sub-format GUID's first two bytes
                }
                if (channels < 1 || rate < 1) {
                    throw new IllegalArgumentException(channels + " channels at " + rate + " Hz");
                }
                if (!((encoding == 1 && bits == 16) || (encoding == 3 && bits == 32))) {
                    throw new IllegalArgumentException(bits + "-bit encoding " + encoding
                            + " samples; the front-end reads 16-bit PCM or 32-bit float WAV");
                }
                isFloat = encoding == 3;
                fmtSeen = true;
            } else if (tag(file, c).equals("data") && fmtSeen) {
                return samples(b, c + 8, size, channels, rate, isFloat);
            } else if (tag(file, c).equals("data")) {
                break;
            }
            at += 8 + size + (size & 1); // chunks are padded to an even length
        }
        throw new IllegalArgumentException("no " + (fmtSeen ? "data" : "fmt ") + " chunk before the end of the file");
    }

    private static Pcm samples(ByteBuffer b, int start, long size, int channels, int rate, boolean isFloat) {
        int frame = channels * (isFloat ? 4 : 2);
        if (size % frame != 0) {
            throw new IllegalArgumentException("data chunk of " + size + " bytes is not a whole number of " + frame
                    + "-byte frames");
        }
        int n = (int) (size / frame);
        short[] pcm16 = isFloat ? null : new short[n];
        float[] pcmFloat = isFloat ? new float[n] : null;
        for (int i = 0; i < n; i++) {
            int at = start + i * frame;
            if (isFloat) {
                pcmFloat[i] = b.getFloat(at);
            } else {
                pcm16[i] = b.getShort(at);
            }
        }
        return new Pcm(rate, pcm16, pcmFloat);
    }

    private static String tag(byte[] file, int at) {
        return new String(file, at, 4, StandardCharsets.ISO_8859_1);
    }
}
