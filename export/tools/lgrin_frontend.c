/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_frontend - the lgrin-speech front-end (lgrin_frontend.h) on a WAV file, with the default spec.
 *
 *   lgrin_frontend IN.wav OUT.f32     frames x P little-endian float32, row-major; "T frames x P" on stderr
 *   lgrin_frontend --check KAT.txt    the known answers KAT.txt lists (export/tests/data/frontend/)
 *
 * Reads 16-bit PCM or 32-bit float WAV (WAVE_FORMAT_EXTENSIBLE too), any rate the front-end resamples,
 * the first channel; streams it through lgrin_frontend_push in blocks. OUT is written beside its final
 * name and renamed into place when complete. Exit code 2 for bad input with one line on stderr, 1 when a
 * known answer differs. Hosted tool (stdio, malloc, POSIX stat). */
#define _POSIX_C_SOURCE 200112L
#include "lgrin_frontend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BLOCK 4096
#define MAX_WAV_BYTES 2147483647L

typedef struct wav {
    unsigned char *bytes; /* the whole file */
    const unsigned char *data;
    uint32_t rate, channels, bits, is_float;
    size_t frames;
} wav;

static uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const unsigned char *p) { return le16(p) | le16(p + 2) << 16; }

/* The whole of a regular file, or NULL after one line on stderr. */
static unsigned char *read_file(const char *path, size_t *len)
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
static int read_wav(const char *path, wav *w)
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
static void decode_block(const wav *w, size_t start, size_t n, float *fx, int16_t *ix)
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

/* Frames of the whole file (malloc'd, *count x P), with the default spec; NULL after one line on stderr. */
static float *run(const char *path, const wav *w, size_t *count, uint32_t *width)
{
    lgrin_frontend_spec spec;
    size_t size, total = 0, start;
    void *state;
    float *frames;
    ptrdiff_t got;
    int rc;
    lgrin_frontend_default_spec(&spec);
    size = lgrin_frontend_state_size(&spec, w->rate);
    if (!size) {
        fprintf(stderr, "error: %s: %s (%u Hz)\n", path, lgrin_frontend_strerror(lgrin_frontend_check(&spec, w->rate)),
                (unsigned)w->rate);
        return NULL;
    }
    state = malloc(size); /* malloc's alignment covers the 8 bytes the state needs */
    if (!state || (rc = lgrin_frontend_init(state, size, &spec, w->rate)) != LGRIN_FE_OK) {
        fprintf(stderr, "error: %s\n", state ? lgrin_frontend_strerror(rc) : "out of memory");
        free(state);
        return NULL;
    }
    *width = lgrin_frontend_width(state);
    frames = (float *)malloc((lgrin_frontend_max_frames(state, w->frames) + 1) * *width * sizeof(float));
    if (!frames) {
        fprintf(stderr, "error: out of memory\n");
        free(state);
        return NULL;
    }
    for (start = 0; start < w->frames; start += BLOCK) {
        size_t n = w->frames - start < BLOCK ? w->frames - start : BLOCK;
        float fx[BLOCK];
        int16_t ix[BLOCK];
        size_t room = lgrin_frontend_max_frames(state, n);
        decode_block(w, start, n, fx, ix);
        got = w->is_float ? lgrin_frontend_push(state, fx, n, frames + total * *width, room)
                          : lgrin_frontend_push_i16(state, ix, n, frames + total * *width, room);
        if (got < 0) {
            fprintf(stderr, "error: %s: %s\n", path, lgrin_frontend_strerror((int)got));
            free(frames);
            free(state);
            return NULL;
        }
        total += (size_t)got;
    }
    got = lgrin_frontend_flush(state, frames + total * *width, lgrin_frontend_max_frames(state, 0));
    free(state);
    if (got < 0) {
        fprintf(stderr, "error: %s: %s\n", path, lgrin_frontend_strerror((int)got));
        free(frames);
        return NULL;
    }
    *count = total + (size_t)got;
    return frames;
}

static int write_frames(const char *path, const float *frames, size_t values)
{
    char tmp[4096];
    size_t i;
    FILE *f;
    if (strlen(path) + 6 > sizeof tmp) {
        fprintf(stderr, "error: %s: path too long\n", path);
        return 2;
    }
    sprintf(tmp, "%s.part", path);
    if (!(f = fopen(tmp, "wb"))) {
        fprintf(stderr, "error: %s: cannot write (%s)\n", tmp, strerror(errno));
        return 2;
    }
    for (i = 0; i < values; i++) {
        uint32_t u;
        unsigned char b[4];
        memcpy(&u, &frames[i], sizeof u);
        b[0] = (unsigned char)u, b[1] = (unsigned char)(u >> 8), b[2] = (unsigned char)(u >> 16);
        b[3] = (unsigned char)(u >> 24);
        if (fwrite(b, 1, 4, f) != 4)
            break;
    }
    if (fclose(f) != 0 || i < values || rename(tmp, path) != 0) {
        fprintf(stderr, "error: %s: cannot write (%s)\n", path, strerror(errno));
        remove(tmp);
        return 2;
    }
    return 0;
}

/* One known answer: got (count x width frames) against expect (len bytes of float32); prints ok or FAIL
 * and returns whether it failed. */
static int compare(const char *wav_name, const float *got, size_t count, uint32_t width,
                   const unsigned char *expect, size_t len, unsigned long want_frames, unsigned long want_p,
                   double tol)
{
    double worst = 0;
    size_t i;
    if (count != want_frames || width != want_p || len != count * width * 4) {
        printf("FAIL %s: %lu frames x %u, expected %lu x %lu (%lu bytes)\n", wav_name, (unsigned long)count,
               (unsigned)width, want_frames, want_p, (unsigned long)len);
        return 1;
    }
    for (i = 0; i < count * width; i++) {
        uint32_t u = le32(expect + 4 * i);
        float e;
        double diff;
        memcpy(&e, &u, sizeof e);
        diff = (got[i] > e ? got[i] - e : e - got[i]) / (1.0 + (e < 0 ? -e : e));
        worst = diff > worst ? diff : worst;
    }
    printf("%s %s: %lu frames x %u, worst |got - expected| / (1 + |expected|) = %.3g (tolerance %.3g)\n",
           worst <= tol ? "ok" : "FAIL", wav_name, (unsigned long)count, (unsigned)width, worst, tol);
    return !(worst <= tol);
}

/* Each line of KAT.txt: WAV EXPECTED.f32 FRAMES P TOLERANCE (paths relative to KAT.txt's folder); a frame
 * value passes when |got - expected| <= TOLERANCE x (1 + |expected|). */
static int check(const char *kat)
{
    char line[1024], dir[1024], wav_name[256], f32_name[256], path[1536];
    const char *slash = strrchr(kat, '/');
    size_t dir_len = slash ? (size_t)(slash - kat + 1) : 0;
    unsigned long want_frames, want_p;
    double tol;
    int cases = 0, failed = 0;
    FILE *f = fopen(kat, "r");
    if (!f || dir_len >= sizeof dir) {
        fprintf(stderr, "error: %s: cannot open\n", kat);
        return 2;
    }
    memcpy(dir, kat, dir_len);
    dir[dir_len] = 0;
    while (fgets(line, sizeof line, f)) {
        wav w;
        float *got;
        unsigned char *expect;
        size_t count = 0, len = 0;
        uint32_t width = 0;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%255s %255s %lu %lu %lf", wav_name, f32_name, &want_frames, &want_p, &tol) != 5) {
            fprintf(stderr, "error: %s: unreadable line: %s", kat, line);
            fclose(f);
            return 2;
        }
        sprintf(path, "%s%s", dir, wav_name);
        if (read_wav(path, &w) || !(got = run(path, &w, &count, &width))) {
            free(w.bytes);
            fclose(f);
            return 2;
        }
        free(w.bytes);
        sprintf(path, "%s%s", dir, f32_name);
        if (!(expect = read_file(path, &len))) {
            free(got);
            fclose(f);
            return 2;
        }
        failed += compare(wav_name, got, count, width, expect, len, want_frames, want_p, tol);
        cases++;
        free(got);
        free(expect);
    }
    fclose(f);
    if (!cases) {
        fprintf(stderr, "error: %s: no known answers listed\n", kat);
        return 2;
    }
    if (!failed)
        printf("all %d front-end known answers passed\n", cases);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    wav w;
    float *frames;
    size_t count = 0;
    uint32_t width = 0;
    int rc;
    if (argc == 3 && !strcmp(argv[1], "--check"))
        return check(argv[2]);
    if (argc != 3 || argv[1][0] == '-') {
        fprintf(stderr, "usage: lgrin_frontend IN.wav OUT.f32 | lgrin_frontend --check KAT.txt\n");
        return 2;
    }
    if (read_wav(argv[1], &w)) {
        free(w.bytes);
        return 2;
    }
    frames = run(argv[1], &w, &count, &width);
    free(w.bytes);
    if (!frames)
        return 2;
    rc = write_frames(argv[2], frames, count * width);
    free(frames);
    if (!rc)
        fprintf(stderr, "%lu frames x %u (%s, %u Hz)\n", (unsigned long)count, (unsigned)width, argv[1],
                (unsigned)w.rate);
    return rc;
}
