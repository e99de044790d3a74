/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_bench - time lgrin_run() on a model file from C, without any language binding.
 *
 *   lgrin_bench MODEL.lgrn [ITERATIONS]
 *
 * Runs one thread on a fixed pseudo-random input (uniform in [-1, 1)) and prints the best of five
 * timed rounds, in microseconds per inference, and the kernel family that ran: lgrin_load's choice, or
 * the one named by the environment variable LGRIN_KERNELS (e.g. LGRIN_KERNELS=portable). Exit code 2
 * for bad input (no such file, a folder, not a valid model) with one line on stderr, 1 when the run
 * fails. Hosted tool (stdio, malloc, getenv, POSIX clock and stat). */
#define _POSIX_C_SOURCE 200112L
#include "lgrin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Larger than any model the exporter writes (about 100 KB each): a file this big is not a model. */
#define MAX_MODEL_BYTES (1024L * 1024L * 1024L)

/* The whole of a regular file of at most MAX_MODEL_BYTES in a malloc'd buffer (malloc alignment covers
 * the 4 bytes lgrin_load needs), or NULL after one line on stderr naming what is wrong. */
static void *read_all(const char *path, size_t *len)
{
    struct stat st;
    void *buf;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "error: %s: cannot open (%s)\n", path, strerror(errno));
        return NULL;
    }
    /* fopen opens a folder too, and its "size" would be malloc'd: look at what was opened first */
    if (fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "error: %s: cannot read (%s)\n", path, strerror(errno));
        fclose(f);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "error: %s: %s, not a model file (.lgrn)\n", path,
                S_ISDIR(st.st_mode) ? "is a folder" : "a device, pipe or socket");
        fclose(f);
        return NULL;
    }
    if (st.st_size > MAX_MODEL_BYTES) {
        fprintf(stderr, "error: %s: %lld bytes, larger than any model file (.lgrn, at most %ld bytes)\n", path,
                (long long)st.st_size, MAX_MODEL_BYTES);
        fclose(f);
        return NULL;
    }
    *len = (size_t)st.st_size;
    buf = malloc(*len + 1u);
    if (!buf) {
        fprintf(stderr, "error: %s: out of memory for %lu bytes\n", path, (unsigned long)*len);
    } else if (fread(buf, 1, *len, f) != *len) {
        fprintf(stderr, "error: %s: read failed (%s)\n", path, ferror(f) ? strerror(errno) : "file shrank");
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* seconds per inference, best of five rounds of iters after a warm-up; *rc collects the status codes */
static double best_time(const lgrin_model *m, void *ws, size_t ws_len, const float *x, float *logits, long iters,
                        int *rc)
{
    double best = 1e30;
    long it;
    int round;
    for (it = 0; it < iters / 10 + 1; it++) lgrin_run(m, ws, ws_len, x, logits); /* warm-up */
    for (round = 0; round < 5; round++) {
        const double t0 = now();
        double t;
        for (it = 0; it < iters; it++) *rc |= lgrin_run(m, ws, ws_len, x, logits);
        t = (now() - t0) / (double)iters;
        best = t < best ? t : best;
    }
    return best;
}

/* ITERATIONS: a whole number >= 1, or -1 */
static long parse_iterations(const char *text)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(text, &end, 10);
    return (errno == 0 && end != text && *end == '\0' && v >= 1) ? v : -1;
}

/* The model in buf (len bytes read from path), running the kernel family LGRIN_KERNELS names when set and
 * not empty; NULL after one line on stderr, with *status the exit status that failure calls for. */
static lgrin_model *load(const char *path, const void *buf, size_t len, int *status)
{
    const char *family = getenv("LGRIN_KERNELS"); /* unset or empty: lgrin_load's choice */
    lgrin_model *m = malloc(lgrin_model_struct_size());
    int rc;
    if (!m) {
        fprintf(stderr, "error: out of memory\n");
        *status = 1;
        return NULL;
    }
    rc = lgrin_load(m, buf, len);
    if (rc != LGRIN_OK) {
        fprintf(stderr, "error: %s: %s\n", path, lgrin_strerror(rc));
        free(m);
        return NULL;
    }
    if (family && *family && (rc = lgrin_use_kernels(m, family)) != LGRIN_OK) {
        fprintf(stderr, "error: LGRIN_KERNELS=%s: %s (this build: %s)\n", family, lgrin_strerror(rc),
                lgrin_kernel_families());
        free(m);
        return NULL;
    }
    return m;
}

int main(int argc, char **argv)
{
    void *buf = NULL, *ws = NULL;
    float *x = NULL, *logits = NULL;
    lgrin_model *m = NULL;
    size_t n, i, ws_len, len = 0;
    long iters = argc > 2 ? parse_iterations(argv[2]) : 10000;
    unsigned seed = 1u;
    double best;
    int rc, status = 2; /* bad input until the model has loaded */
    if (argc < 2 || argc > 3 || iters < 1) {
        fprintf(stderr, "usage: %s MODEL.lgrn [ITERATIONS>=1]\n", argv[0]);
        return 2;
    }
    buf = read_all(argv[1], &len);
    if (!buf) goto done;
    m = load(argv[1], buf, len, &status);
    if (!m) goto done;
    status = 1; /* from here on a failure is the run's, not the input's */
    n = (size_t)lgrin_num_nodes(m) * lgrin_num_features(m);
    ws_len = lgrin_workspace_size(m);
    ws = malloc(ws_len);
    x = malloc(n * sizeof *x);
    logits = malloc(lgrin_num_classes(m) * sizeof *logits);
    if (!ws || !x || !logits) {
        fprintf(stderr, "error: out of memory for the %lu-byte workspace\n", (unsigned long)ws_len);
        goto done;
    }
    for (i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / 8388608.0f - 1.0f;
    }
    rc = LGRIN_OK; /* best_time ors every run's status into it */
    best = best_time(m, ws, ws_len, x, logits, iters, &rc);
    if (rc != LGRIN_OK) {
        fprintf(stderr, "error: lgrin_run: %s\n", lgrin_strerror(rc));
        goto done;
    }
    printf("%s: %.2f us per inference (M=%u, P=%u, %s, %s kernels, best of 5 x %ld)\n", argv[1], best * 1e6,
           lgrin_num_nodes(m), lgrin_num_features(m), lgrin_precision(m) == LGRIN_INT8 ? "int8" : "fp32",
           lgrin_kernel_name(m), iters);
    status = 0;
done:
    free(logits);
    free(x);
    free(ws);
    free(m);
    free(buf);
    return status;
}
