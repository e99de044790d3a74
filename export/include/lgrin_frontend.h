/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/*
 * lgrin_frontend.h - the lgrin-speech front-end: PCM in, one feature frame per 10 ms hop out.
 *
 * The same definition as the Python package's lgrin_edge.frontend (SpeechSpec, extractor "lgrin-speech",
 * version 1), in the same double-precision arithmetic and operation order, so both give the same frames
 * (the tests hold them to 1e-3 of each feature's spread; in practice they agree to ~1e-15 in double).
 * Per frame: the descriptors the spec names (default: RMS energy, zero-crossing rate, voicing
 * probability, F0, MFCC 1-12), then their delta-regression coefficients: P = 2 x descriptors floats.
 *
 * Streaming, no allocation: the caller provides lgrin_frontend_state_size() bytes (8-byte aligned) to
 * lgrin_frontend_init(), then pushes samples in chunks of any size and finally flushes. Chunking never
 * changes the frames. Dependencies: <stddef.h>, <stdint.h> and libm (sqrt, log, log10, log2, sin, cos).
 *
 * Latency: frame t covers samples [160 t, 160 t + 400) at 16 kHz; it is emitted once sample
 * 160 t + 680 has arrived (the 60 ms pitch window shares the frame's centre) plus two more hops for the
 * deltas: 37.5 ms after the frame's end (plus half the resampler's filter at other input rates).
 *
 * Build with -ffp-contract=off (export/CMakeLists.txt does) for bit-parity with numpy; fused
 * multiply-adds change results at the 1e-15 level only. -DLGRIN_FRONTEND_FLOAT32 computes frames in
 * float instead of double (for FPUs without double; not parity-tested; tables are still built in double).
 */
#ifndef LGRIN_FRONTEND_H
#define LGRIN_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LGRIN_FE_EXTRACTOR "lgrin-speech"
#define LGRIN_FE_VERSION 1u
#define LGRIN_FE_MAX_DESCRIPTORS 64u
#define LGRIN_FE_MAX_FFT 65536u
#define LGRIN_FE_MAX_PHASES 1024u /* resampler: 16000 / gcd(16000, rate) polyphase filters at most */

/* Descriptor codes: LGRIN_FE_DESC(kind, index); index counts from 1 for MFCC and LOGMEL, else 0. */
enum lgrin_fe_kind {
    LGRIN_FE_RMS = 1,     /* full scale */
    LGRIN_FE_ZCR = 2,     /* crossings per sample */
    LGRIN_FE_VOICING = 3, /* 0..1 */
    LGRIN_FE_F0 = 4,      /* Hz, 0 when unvoiced */
    LGRIN_FE_HNR = 5,     /* dB */
    LGRIN_FE_MFCC = 6,    /* c1..c_cepstra */
    LGRIN_FE_LOGMEL = 7   /* ln mel energy 1..mel_bands */
};
#define LGRIN_FE_DESC(kind, index) ((uint16_t)(((unsigned)(kind) << 8) | (unsigned)(index)))

enum lgrin_fe_status {
    LGRIN_FE_OK = 0,
    LGRIN_FE_E_ARG = -1,    /* null pointer, or a spec field out of range (see lgrin_frontend_check) */
    LGRIN_FE_E_RATE = -2,   /* input rate 0, above 192000, or needing more than LGRIN_FE_MAX_PHASES */
    LGRIN_FE_E_SPACE = -3,  /* state smaller than lgrin_frontend_state_size() */
    LGRIN_FE_E_ALIGN = -4,  /* state not 8-byte aligned */
    LGRIN_FE_E_INPUT = -5,  /* a sample is NaN or infinite (nothing of the chunk was used) */
    LGRIN_FE_E_OUTPUT = -6, /* max_frames below lgrin_frontend_max_frames() (nothing was used) */
    LGRIN_FE_E_STATE = -7   /* state not initialised, or already flushed (lgrin_frontend_reset) */
};

/* Every parameter; the meaning of each is documented in lgrin_edge/frontend/spec.py (SpeechSpec). */
typedef struct lgrin_frontend_spec {
    uint32_t version; /* LGRIN_FE_VERSION; windows are Hamming (frame) and Hann (pitch) in version 1 */
    uint32_t sample_rate, frame_length, hop, fft_size;
    double preemphasis;
    uint32_t mel_bands, cepstra;
    double mel_low_hz, mel_high_hz, lifter, log_floor;
    uint32_t pitch_length, delta_window;
    double f0_min_hz, f0_max_hz, voicing_threshold, octave_cost, silence_rms, hnr_r_eps;
    uint32_t resample_zero_crossings, n_descriptors;
    double resample_cutoff, resample_kaiser_beta;
    uint16_t descriptors[LGRIN_FE_MAX_DESCRIPTORS];
} lgrin_frontend_spec;

/* The defaults: 16 kHz, 25 ms frames, 10 ms hop, 26 mel bands, 12 MFCC, F0 50-500 Hz, 16 descriptors. */
void lgrin_frontend_default_spec(lgrin_frontend_spec *spec);

/* LGRIN_FE_OK, or LGRIN_FE_E_ARG for a spec no frame can be computed with, or LGRIN_FE_E_RATE. */
int lgrin_frontend_check(const lgrin_frontend_spec *spec, uint32_t input_rate);

/* Bytes of state for this spec and input rate (Hz); 0 when lgrin_frontend_check() fails. */
size_t lgrin_frontend_state_size(const lgrin_frontend_spec *spec, uint32_t input_rate);

/* Build the tables and start a stream in `state` (size bytes, 8-byte aligned). The spec is copied. */
int lgrin_frontend_init(void *state, size_t size, const lgrin_frontend_spec *spec, uint32_t input_rate);

/* Start a new stream with the same tables (no recomputation). */
int lgrin_frontend_reset(void *state);

/* Floats per frame (P = 2 x n_descriptors); 0 for a state that is not initialised. */
uint32_t lgrin_frontend_width(const void *state);

/* The most frames lgrin_frontend_push() of n more samples can emit, and also the most the flush after
 * that push can emit. */
size_t lgrin_frontend_max_frames(const void *state, size_t n);

/* Feed n samples (float, full scale +-1; or int16, divided by 32768). Writes the frames that became
 * complete to out (frames x P floats, row-major) and returns how many; negative lgrin_fe_status on
 * error, before anything is used. */
ptrdiff_t lgrin_frontend_push(void *state, const float *pcm, size_t n, float *out, size_t max_frames);
ptrdiff_t lgrin_frontend_push_i16(void *state, const int16_t *pcm, size_t n, float *out, size_t max_frames);

/* End of the stream: pads with zeros to finish every frame whose 25 ms lie inside the signal (a last
 * partial frame is dropped), replicates the last frame for the deltas, and emits the rest. Further
 * pushes fail with LGRIN_FE_E_STATE until lgrin_frontend_reset(). */
ptrdiff_t lgrin_frontend_flush(void *state, float *out, size_t max_frames);

/* Static English text for a status code. */
const char *lgrin_frontend_strerror(int status);

#ifdef __cplusplus
}
#endif

#endif /* LGRIN_FRONTEND_H */
