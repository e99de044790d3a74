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
#include "lgrin_wav.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BLOCK 4096

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
