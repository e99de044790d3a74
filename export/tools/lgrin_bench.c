/* lgrin_bench - time lgrin_run() on a model file from C, without any language binding.
 *
 *   lgrin_bench MODEL.lgrn [ITERATIONS]
 *
 * Runs one thread on a fixed pseudo-random input (uniform in [-1, 1)) and prints the best of five
 * timed rounds, in microseconds per inference. Hosted tool (stdio, malloc, POSIX clock). */
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

int main(int argc, char **argv)
{
    FILE *f;
    long len;
    void *buf, *ws;
    float *x, *logits;
    lgrin_model *m;
    size_t n, i, ws_len;
    long iters = argc > 2 ? atol(argv[2]) : 10000, it;
    unsigned seed = 1u;
    double best = 1e30;
    int rc, round;
    if (argc < 2 || iters < 1) {
        fprintf(stderr, "usage: %s MODEL.lgrn [ITERATIONS>=1]\n", argv[0]);
        return 2;
    }
    f = fopen(argv[1], "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        return 1;
    }
    buf = malloc((size_t)len + 1u); /* malloc alignment covers the 4 bytes lgrin_load needs */
    m = malloc(lgrin_model_struct_size());
    if (!buf || !m || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        return 1;
    }
    fclose(f);
    rc = lgrin_load(m, buf, (size_t)len);
    if (rc != LGRIN_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], lgrin_strerror(rc));
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
    for (it = 0; it < iters / 10 + 1; it++) lgrin_run(m, ws, ws_len, x, logits); /* warm-up */
    for (round = 0; round < 5; round++) {
        const double t0 = now();
        double t;
        for (it = 0; it < iters; it++) rc |= lgrin_run(m, ws, ws_len, x, logits);
        t = (now() - t0) / (double)iters;
        best = t < best ? t : best;
    }
    if (rc != LGRIN_OK) {
        fprintf(stderr, "lgrin_run: %s\n", lgrin_strerror(rc));
        return 1;
    }
    printf("%s: %.2f us per inference (M=%u, P=%u, %s, best of 5 x %ld)\n", argv[1], best * 1e6,
           lgrin_num_nodes(m), lgrin_num_features(m), lgrin_precision(m) == LGRIN_INT8 ? "int8" : "fp32",
           iters);
    free(logits);
    free(x);
    free(ws);
    free(m);
    free(buf);
    return 0;
}
