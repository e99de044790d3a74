/* lgrin_bench - time lgrin_run() on a model file from C, without any language binding.
 *
 *   lgrin_bench MODEL.lgrn [ITERATIONS]
 *
 * Runs one thread on a fixed pseudo-random input (uniform in [-1, 1)) and prints the best of five
 * timed rounds, in microseconds per inference, and the kernel family that ran: lgrin_load's choice, or
 * the one named by the environment variable LGRIN_KERNELS (e.g. LGRIN_KERNELS=portable). Hosted tool
 * (stdio, malloc, getenv, POSIX clock). */
#define _POSIX_C_SOURCE 200112L
#include "lgrin.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* the whole file in a malloc'd buffer (malloc alignment covers the 4 bytes lgrin_load needs), or NULL */
static void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    void *buf;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1u);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
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

int main(int argc, char **argv)
{
    void *buf, *ws;
    float *x, *logits;
    lgrin_model *m;
    size_t n, i, ws_len, len;
    long iters = argc > 2 ? atol(argv[2]) : 10000;
    unsigned seed = 1u;
    const char *family = getenv("LGRIN_KERNELS"); /* unset or empty: lgrin_load's choice */
    double best;
    int rc;
    if (argc < 2 || iters < 1) {
        fprintf(stderr, "usage: %s MODEL.lgrn [ITERATIONS>=1]\n", argv[0]);
        return 2;
    }
    buf = read_all(argv[1], &len);
    m = malloc(lgrin_model_struct_size());
    if (!buf || !m) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        return 1;
    }
    rc = lgrin_load(m, buf, len);
    if (rc != LGRIN_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], lgrin_strerror(rc));
        return 1;
    }
    if (family && *family && (rc = lgrin_use_kernels(m, family)) != LGRIN_OK) {
        fprintf(stderr, "LGRIN_KERNELS=%s: %s (this build: %s)\n", family, lgrin_strerror(rc), lgrin_kernel_families());
        return 1;
    }
    n = (size_t)lgrin_num_nodes(m) * lgrin_num_features(m);
    ws_len = lgrin_workspace_size(m);
    ws = malloc(ws_len);
    x = malloc(n * sizeof *x);
    logits = malloc(lgrin_num_classes(m) * sizeof *logits);
    if (!ws || !x || !logits) return 1;
    for (i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / 8388608.0f - 1.0f;
    }
    best = best_time(m, ws, ws_len, x, logits, iters, &rc);
    if (rc != LGRIN_OK) {
        fprintf(stderr, "lgrin_run: %s\n", lgrin_strerror(rc));
        return 1;
    }
    printf("%s: %.2f us per inference (M=%u, P=%u, %s, %s kernels, best of 5 x %ld)\n", argv[1], best * 1e6,
           lgrin_num_nodes(m), lgrin_num_features(m), lgrin_precision(m) == LGRIN_INT8 ? "int8" : "fp32",
           lgrin_kernel_name(m), iters);
    free(logits);
    free(x);
    free(ws);
    free(m);
    free(buf);
    return 0;
}
