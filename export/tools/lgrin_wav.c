/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* WAV and whole-file reading shared by the hosted tools (lgrin_wav.h). Hosted: stdio, malloc, POSIX stat. */
#define _POSIX_C_SOURCE 200112L
#include "lgrin_wav.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_WAV_BYTES 2147483647L

/* The whole of a regular file, or NULL after one line on stderr. */
unsigned char *read_file(const char *path, size_t *len)
{
    struct stat st;
    unsigned char *buf;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "error: %s: cannot open (%s)\n", path, strerror(errno));
        return NULL;
    }
    /* fopen opens a folder too: look at what was opened first */
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "error: %s: not a regular file\n", path);
        fclose(f);
        return NULL;
    }
    if (st.st_size > MAX_WAV_BYTES) {
        fprintf(stderr, "error: %s: %lld bytes, more than this tool reads (%ld)\n", path, (long long)st.st_size,
                MAX_WAV_BYTES);
        fclose(f);
        return NULL;
    }
    buf = (unsigned char *)malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fprintf(stderr, "error: %s: cannot read\n", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)st.st_size;
    return buf;
}

/* Parse a WAV file as lgrin_edge/frontend/wav.py does; 0, or 2 after one line on stderr. */
int read_wav(const char *path, wav *w)
{
    size_t len = 0, at = 12, fmt_seen = 0;
    memset(w, 0, sizeof *w);
    if (!(w->bytes = read_file(path, &len)))
        return 2;
    if (len < 12 || memcmp(w->bytes, "RIFF", 4) || memcmp(w->bytes + 8, "WAVE", 4)) {
        fprintf(stderr, "error: %s: not a WAV file (no RIFF/WAVE header)\n", path);
        return 2;
    }
    while (at + 8 <= len) {
        const unsigned char *c = w->bytes + at;
        size_t size = le32(c + 4);
        if (size > len - at - 8) {
            fprintf(stderr, "error: %s: truncated: chunk '%.4s' declares %lu bytes, %lu remain\n", path,
                    (const char *)c, (unsigned long)size, (unsigned long)(len - at - 8));
            return 2;
        }
        if (!memcmp(c, "fmt ", 4)) {
            uint32_t encoding;
            if (size < 16) {
                fprintf(stderr, "error: %s: fmt chunk of %lu bytes, expected at least 16\n", path, (unsigned long)size);
                return 2;
            }
            encoding = le16(c + 8);
            w->channels = le16(c + 10);
            w->rate = le32(c + 12);
            w->bits = le16(c + 22);
            if (encoding == 0xFFFEu && size >= 26)
                encoding = le16(c + 32); /* the sub-format GUID's first two bytes */
            if (w->channels < 1 || w->rate < 1) {
                fprintf(stderr, "error: %s: %u channels at %u Hz\n", path, (unsigned)w->channels, (unsigned)w->rate);
                return 2;
            }
            if (!((encoding == 1 && w->bits == 16) || (encoding == 3 && w->bits == 32))) {
                fprintf(stderr, "error: %s: %u-bit encoding %u samples; the front-end reads 16-bit PCM or 32-bit "
                        "float WAV\n", path, (unsigned)w->bits, (unsigned)encoding);
                return 2;
            }
            w->is_float = encoding == 3;
            fmt_seen = 1;
        } else if (!memcmp(c, "data", 4)) {
            size_t frame;
            if (!fmt_seen)
                break;
            frame = (size_t)w->channels * w->bits / 8;
            if (size % frame) {
                fprintf(stderr, "error: %s: data chunk of %lu bytes is not a whole number of %lu-byte frames\n", path,
                        (unsigned long)size, (unsigned long)frame);
                return 2;
            }
            w->data = c + 8;
            w->frames = size / frame;
            return 0;
        }
        at += 8 + size + (size & 1); /* chunks are padded to an even length */
    }
    fprintf(stderr, "error: %s: no %s chunk before the end of the file\n", path, fmt_seen ? "data" : "fmt ");
    return 2;
}

/* Samples start .. start + n - 1 of the first channel, into fx (float files) or ix (16-bit files). */
void decode_block(const wav *w, size_t start, size_t n, float *fx, int16_t *ix)
{
    size_t i;
    for (i = 0; i < n; i++) {
        const unsigned char *p = w->data + (start + i) * w->channels * (w->bits / 8);
        if (w->is_float) {
            uint32_t u = le32(p);
            memcpy(&fx[i], &u, sizeof u);
        } else {
            long v = (long)le16(p);
            ix[i] = (int16_t)(v >= 32768 ? v - 65536 : v); /* two's complement, read portably */
        }
    }
}
