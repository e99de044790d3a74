/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* WAV and whole-file reading shared by the hosted tools (lgrin_frontend, lgrin_live). */
#ifndef LGRIN_WAV_H
#define LGRIN_WAV_H

#include <stddef.h>
#include <stdint.h>

typedef struct wav {
    unsigned char *bytes; /* the whole file */
    const unsigned char *data;
    uint32_t rate, channels, bits, is_float;
    size_t frames;
} wav;

/* Little-endian 16- and 32-bit fields. */
static inline uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t le32(const unsigned char *p) { return le16(p) | le16(p + 2) << 16; }

/* The whole of a regular file (malloc'd), or NULL after one line on stderr. */
unsigned char *read_file(const char *path, size_t *len);

/* Parse a WAV file as lgrin_edge/frontend/wav.py does (16-bit PCM or 32-bit float, WAVE_FORMAT_EXTENSIBLE
 * too); 0, or 2 after one line on stderr. Free w->bytes in either case. */
int read_wav(const char *path, wav *w);

/* Samples start .. start + n - 1 of the first channel, into fx (float files) or ix (16-bit files). */
void decode_block(const wav *w, size_t start, size_t n, float *fx, int16_t *ix);

#endif /* LGRIN_WAV_H */
