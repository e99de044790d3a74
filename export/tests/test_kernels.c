/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* Kernel tests: each kernel of one kernel family of the library (lgrin_test_kernels FAMILY; default: the
 * family lgrin_load chooses) against a scalar reference written here, on shapes that leave partial
 * vector tiles. Integer kernels and the float row helpers must match exactly; the float dot product,
 * whose summation order is the family's own, within rounding. Exits 77 (skipped) where this CPU cannot
 * run the family; checks the library's CPU detection against the compiler runtime's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

#include "lgrin_internal.h"

static int failures = 0;
static const lgrin_kernels *kern; /* the family under test */

#define CHECK(cond, ...)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            if (++failures <= 20) {                                                                        \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                       \
                fprintf(stderr, __VA_ARGS__);                                                              \
                fputc('\n', stderr);                                                                       \
            }                                                                                              \
        }                                                                                                  \
    } while (0)

static uint32_t rng_state = 12345u;

static uint32_t rnd(void) /* xorshift32 */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int32_t rnd_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }

/* int8 in lo..hi, zero with probability zero_pct / 100 (ReLU outputs and relu(A) are often zero) */
static void fill8(int8_t *p, size_t n, int32_t lo, int32_t hi, uint32_t zero_pct)
{
    size_t i;
    for (i = 0; i < n; i++) p[i] = (int8_t)(rnd() % 100u < zero_pct ? 0 : rnd_in(lo, hi));
}

static void fillf(float *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) p[i] = (float)rnd_in(-100000, 100000) / 1000.0f;
}

static void *alloc(size_t n) /* exact size: the sanitizer build flags any access past the end */
{
    void *p = malloc(n ? n : 1u);
    if (!p) exit(2);
    return p;
}

/* ---- requantisation ------------------------------------------------------------------------- */

/* round(acc * m / 2^s) half away from zero, by quotient and remainder rather than the kernels' add and
 * shift, saturated, clamped to lo..127 */
static int32_t ref_rq(int32_t acc, int32_t m, int32_t s, int32_t lo)
{
    const int64_t p = (int64_t)acc * m;
    const uint64_t a = p < 0 ? 0u - (uint64_t)p : (uint64_t)p;
    uint64_t q = a >> s;
    int64_t r;
    if (a - (q << s) >= (uint64_t)1 << (s - 1)) q++;
    if (q > 128u) q = 128u;
    r = p < 0 ? -(int64_t)q : (int64_t)q;
    return (int32_t)(r > 127 ? 127 : r < lo ? lo : r);
}

static void rnd_rq(int32_t *m, int32_t *s)
{
    if (rnd() % 4u == 0) { /* small: exact halves are frequent */
        *m = rnd_in(0, 7);
        *s = rnd_in(1, 4);
    } else {
        *m = (int32_t)(rnd() >> 1);
        *s = rnd_in(20, 62);
    }
}

static void test_rq_row(void)
{
    uint32_t n, f, trial;
    for (trial = 0; trial < 400; trial++) {
        int32_t acc[80], m, s;
        int8_t y[80];
        n = 1u + rnd() % 80u;
        rnd_rq(&m, &s);
        for (f = 0; f < n; f++) acc[f] = (int32_t)rnd() >> (rnd() % 31u);
        if (trial == 0) acc[0] = INT32_MIN;
        kern->rq_row(acc, m, s, n, y);
        for (f = 0; f < n; f++)
            CHECK(y[f] == ref_rq(acc[f], m, s, -127), "rq_row n=%u f=%u acc=%d m=%d s=%d: %d, want %d", n, f,
                  acc[f], m, s, y[f], ref_rq(acc[f], m, s, -127));
    }
}

/* ---- int8 GEMM -------------------------------------------------------------------------------- */

typedef struct gemm_case {
    uint32_t rows, in, out, ldx, ldy;
    int x_signed;
} gemm_case;

/* the weights of w[o][k] (out x in) in the file's layout: groups of four inputs, zero-padded */
static void pack_w4(const int8_t *w, uint32_t in, uint32_t out, int8_t *w4)
{
    const uint32_t in4 = LGRIN_ROUND_UP(in, 4u);
    uint32_t o, k;
    for (k = 0; k < in4; k++)
        for (o = 0; o < out; o++)
            w4[(size_t)(k / 4u) * out * 4u + 4u * o + k % 4u] = k < in ? w[(size_t)o * in + k] : (int8_t)0;
}

static void check_gemm(const gemm_case *c, const int8_t *x, const int8_t *w, const int32_t *bias,
                       const int32_t *m, const int32_t *s, const int8_t *y)
{
    uint32_t i, o, k;
    for (i = 0; i < c->rows; i++) {
        const int8_t *yi = y + (size_t)i * c->ldy;
        for (o = 0; o < c->out; o++) {
            int32_t acc = bias[o];
            for (k = 0; k < c->in; k++) acc += x[(size_t)i * c->ldx + k] * w[(size_t)o * c->in + k];
            CHECK(yi[o] == ref_rq(acc, m[o], s[o], 0), "gemm8 rows=%u in=%u out=%u ldx=%u signed=%d: y[%u][%u]=%d",
                  c->rows, c->in, c->out, c->ldx, c->x_signed, i, o, yi[o]);
        }
        for (; o < c->ldy; o++) CHECK(yi[o] == 0x55, "gemm8 wrote into the gap of row stride %u", c->ldy);
    }
}

static void run_gemm(const gemm_case *c)
{
    const uint32_t in4 = LGRIN_ROUND_UP(c->in, 4u);
    int8_t *x = alloc((size_t)c->rows * c->ldx), *w = alloc((size_t)c->out * c->in);
    int8_t *w4 = alloc((size_t)in4 * c->out), *y = alloc((size_t)c->rows * c->ldy);
    int32_t *bias = alloc(4u * c->out), *m = alloc(4u * c->out), *s = alloc(4u * c->out);
    int32_t *acc = alloc(4u * c->out);
    uint8_t *xu = alloc((size_t)c->rows * in4);
    uint32_t o, lg = 0;
    while ((1u << (lg + 1u)) <= c->in) lg++;
    fill8(x, (size_t)c->rows * c->ldx, c->x_signed ? -127 : 0, 127, 30u);
    fill8(w, (size_t)c->out * c->in, -127, 127, 5u);
    pack_w4(w, c->in, c->out, w4);
    for (o = 0; o < c->out; o++) {
        bias[o] = rnd_in(-(1 << 20), 1 << 20);
        m[o] = (int32_t)(0x20000000u + (rnd() & 0x1fffffffu)); /* outputs spread over 0..127 */
        s[o] = (int32_t)(36u + lg / 2u);
        if (rnd() % 8u == 0) rnd_rq(&m[o], &s[o]);
    }
    memset(y, 0x55, (size_t)c->rows * c->ldy);
    kern->gemm8(w4, bias, m, s, x, c->ldx, c->x_signed, c->rows, c->in, c->out, y, c->ldy, xu, acc);
    check_gemm(c, x, w, bias, m, s, y);
    free(x), free(w), free(w4), free(y), free(bias), free(m), free(s), free(acc), free(xu);
}

static void test_gemm8(void)
{
    static const uint32_t rows[] = {1, 2, 3, 4, 5, 8, 9, 30};
    static const uint32_t ins[] = {1, 3, 4, 7, 16, 33, 64, 65, 130};
    static const uint32_t outs[] = {1, 5, 8, 16, 20, 24, 48, 64, 80, 128, 130};
    uint32_t t;
    for (t = 0; t < 300; t++) {
        gemm_case c;
        c.rows = rows[rnd() % 8u];
        c.in = ins[rnd() % 9u];
        c.out = outs[rnd() % 11u];
        c.x_signed = (int)(rnd() % 2u);
        c.ldx = rnd() % 3u == 0 ? LGRIN_ROUND_UP(c.in, 4u) : c.in + (rnd() % 2u) * 5u; /* in place, or copied */
        c.ldy = c.out + (rnd() % 2u) * 3u;
        run_gemm(&c);
    }
}

/* ---- graph steps ------------------------------------------------------------------------------ */

static const uint32_t widths[] = {1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 130};
#define N_WIDTHS (sizeof widths / sizeof widths[0])

static void test_adj_row(void)
{
    uint32_t t, j, f;
    for (t = 0; t < 150; t++) {
        const uint32_t M = 1u + rnd() % 40u, F = widths[rnd() % N_WIDTHS];
        int8_t *adj = alloc(M), *h = alloc((size_t)M * F);
        int32_t *acc = alloc(4u * F);
        uint32_t *nz = alloc(4u * M);
        fill8(adj, M, 1, 127, rnd() % 101u);
        fill8(h, (size_t)M * F, -127, 127, 20u);
        kern->adj_row(acc, adj, h, M, F, nz);
        for (f = 0; f < F; f++) {
            int32_t want = 0;
            for (j = 0; j < M; j++) want += adj[j] * h[(size_t)j * F + f];
            CHECK(acc[f] == want, "adj_row M=%u F=%u f=%u: %d, want %d", M, F, f, acc[f], want);
        }
        free(adj), free(h), free(acc), free(nz);
    }
}

static void test_maxpool_row(void)
{
    uint32_t t, k, f;
    for (t = 0; t < 150; t++) {
        const uint32_t M = 1u + rnd() % 20u, K = 1u + rnd() % 9u, F = widths[rnd() % N_WIDTHS];
        int8_t *h = alloc((size_t)M * F), *row = alloc(F);
        int32_t *nbr = alloc(4u * K);
        fill8(h, (size_t)M * F, -127, 127, 20u);
        for (k = 0; k < K; k++) nbr[k] = (int32_t)(rnd() % M);
        kern->maxpool_row(row, h, nbr, K, F);
        for (f = 0; f < F; f++) {
            int32_t want = -128;
            for (k = 0; k < K; k++) want = h[(size_t)nbr[k] * F + f] > want ? h[(size_t)nbr[k] * F + f] : want;
            CHECK(row[f] == want, "maxpool_row M=%u K=%u F=%u f=%u: %d, want %d", M, K, F, f, row[f], want);
        }
        free(h), free(row), free(nbr);
    }
}

static void test_pools_int8(void)
{
    uint32_t t, i, f;
    for (t = 0; t < 100; t++) {
        const uint32_t M = 1u + rnd() % 40u, F = widths[rnd() % N_WIDTHS];
        int8_t *h = alloc((size_t)M * F);
        int32_t *imax = alloc(4u * F), *isum = alloc(4u * F);
        float *p = alloc(4u * M), *gp = alloc(4u * F);
        fill8(h, (size_t)M * F, -127, 127, 20u);
        fillf(p, M);
        kern->max_sum_pool(imax, isum, h, M, F);
        kern->weighted_pool(gp, p, h, M, F);
        for (f = 0; f < F; f++) {
            int32_t mx = -128, sum = 0;
            float wsum = 0.0f;
            for (i = 0; i < M; i++) {
                const int8_t v = h[(size_t)i * F + f];
                mx = v > mx ? v : mx;
                sum += v;
                wsum += p[i] * (float)v; /* node order, as the kernels promise */
            }
            CHECK(imax[f] == mx && isum[f] == sum, "max_sum_pool M=%u F=%u f=%u", M, F, f);
            CHECK(gp[f] == wsum, "weighted_pool M=%u F=%u f=%u: %.9g, want %.9g", M, F, f, gp[f], wsum);
        }
        free(h), free(imax), free(isum), free(p), free(gp);
    }
}

/* the float helpers of the float32 path: same operations in the same order, so exact */
static void test_graph_float(void)
{
    uint32_t t, i, f, k;
    for (t = 0; t < 60; t++) {
        const uint32_t M = 1u + rnd() % 30u, K = 1u + rnd() % 5u, F = widths[rnd() % N_WIDTHS];
        float *adj = alloc(4u * M), *h = alloc(4u * M * F), *acc = alloc(4u * F), *row = alloc(4u * F);
        float *p = alloc(4u * M), *g = alloc(12u * F);
        int32_t *nbr = alloc(4u * K);
        fillf(adj, M), fillf(h, (size_t)M * F), fillf(p, M);
        for (i = 0; i < M; i++) adj[i] = rnd() % 2u ? 0.0f : adj[i];
        for (k = 0; k < K; k++) nbr[k] = (int32_t)(rnd() % M);
        kern->adj_row_f(acc, adj, h, M, F);
        kern->maxpool_row_f(row, h, nbr, K, F);
        kern->pool_f(g, p, h, M, F);
        for (f = 0; f < F; f++) {
            float a = 0.0f, mx = h[(size_t)nbr[0] * F + f], gmax = h[f], gp = 0.0f, gs = 0.0f;
            for (i = 0; i < M; i++) {
                const float v = h[(size_t)i * F + f];
                a += adj[i] == 0.0f ? 0.0f : adj[i] * v;
                gmax = v > gmax ? v : gmax;
                gp += p[i] * v;
                gs += v;
            }
            for (k = 1; k < K; k++) mx = h[(size_t)nbr[k] * F + f] > mx ? h[(size_t)nbr[k] * F + f] : mx;
            CHECK(acc[f] == a, "adj_row_f M=%u F=%u f=%u: %.9g, want %.9g", M, F, f, acc[f], a);
            CHECK(row[f] == mx, "maxpool_row_f M=%u F=%u f=%u", M, F, f);
            CHECK(g[f] == gmax && g[F + f] == gp && g[2u * F + f] == gs / (float)M, "pool_f M=%u F=%u f=%u", M, F,
                  f);
        }
        free(adj), free(h), free(acc), free(row), free(p), free(g), free(nbr);
    }
}

/* ---- float dense layers ------------------------------------------------------------------------- */

static void test_dense(void)
{
    uint32_t t, i;
    for (t = 0; t < 200; t++) {
        const uint32_t n = rnd() % 200u;
        float *a = alloc(4u * n), *b = alloc(4u * n), y, part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int8_t *q = alloc(n);
        double want = 0.0, mag = 0.0;
        fillf(a, n), fillf(b, n), fill8(q, n, -127, 127, 10u);
        for (i = 0; i < n; i++) {
            want += (double)a[i] * b[i];
            mag += fabs((double)a[i] * b[i]);
            part[i < n - n % 8u ? i % 8u : 0] += (float)q[i] * b[i]; /* eight partial sums, tail on the first */
        }
        CHECK(fabs(kern->dotf(a, b, n) - want) <= 1e-5 * mag + 1e-30, "dotf n=%u: %.9g, want %.9g", n,
              kern->dotf(a, b, n), want);
        y = ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
        CHECK(kern->dotq8f(q, b, n) == y, "dotq8f n=%u: %.9g, want %.9g", n, kern->dotq8f(q, b, n), y);
        if (n > 0) {
            const float bias = -(float)(want / 2.0), out0 = (float)fmax(want + bias, 0.0);
            kern->linearf(a, &bias, b, n, 1u, &y);
            CHECK(fabs(y - out0) <= 1e-5 * mag + 1e-30, "linearf n=%u: %.9g, want %.9g", n, y, out0);
        }
        free(a), free(b), free(q);
    }
}

/* ---- shared helpers ----------------------------------------------------------------------------- */

static void test_helpers(void)
{
    static const uint32_t dims[][6] = {{6, 3, 4, 2, 5, 3}, {30, 7, 5, 2, 48, 20}, {90, 136, 6, 2, 128, 64}};
    float v[4] = {1.0f, -0.0f, 1e-40f, 3e38f};
    uint32_t d, l, prec;
    CHECK(lgrin_all_finite(v, 4u) && lgrin_all_finite(v, 0u), "finite values");
    v[2] = NAN;
    CHECK(!lgrin_all_finite(v, 4u) && lgrin_all_finite(v, 2u), "NaN");
    v[2] = -INFINITY;
    CHECK(!lgrin_all_finite(v, 4u), "infinity");
    CHECK(LGRIN_ROUND_UP(0u, 8u) == 0u && LGRIN_ROUND_UP(9u, 8u) == 16u && LGRIN_ROUND_UP(16u, 8u) == 16u &&
              LGRIN_ROUND_UP((uint64_t)0xfffffffdu, 4u) == 0x100000000ull,
          "round up");
    for (d = 0; d < 3; d++)
        for (prec = 0; prec < 2; prec++) {
            lgrin_model m;
            lgrin_layout w;
            size_t x_at, y_at, total;
            const size_t e = prec ? 1u : 4u;
            memset(&m, 0, sizeof m);
            m.precision = prec, m.M = dims[d][0], m.P = dims[d][1], m.C = dims[d][2], m.L = dims[d][3];
            m.eta[0] = dims[d][4], m.eta[1] = dims[d][5], m.F[0] = m.P;
            for (l = 0; l < m.L; l++) m.F[l + 1] = m.F[l] + m.eta[0] + m.eta[1];
            lgrin_layout_of(&m, &w);
            total = lgrin_buffer_size(&m, &x_at, &y_at);
            CHECK(w.size == lgrin_workspace_size(&m) && x_at == w.size && y_at == x_at + 4u * m.M * m.P &&
                      total == y_at + 4u * m.C,
                  "buffer layout");
            CHECK(w.acc >= 12u * m.F[m.L] && w.h >= w.acc + 8u * m.F[m.L] && w.o >= w.h + e * m.M * m.F[m.L] &&
                      w.ah >= w.o + e * m.M * m.F[m.L] && w.xu >= w.ah + e * m.M * m.F[m.L] && w.size % 8u == 0,
                  "workspace regions overlap");
        }
    CHECK(lgrin_buffer_size(NULL, NULL, NULL) == 0u, "buffer size of NULL");
}

/* whether this CPU runs a family, as the compiler's runtime (libgcc, auxv) sees it: an oracle for the
 * library's own detection */
static int cpu_runs(const char *family)
{
    (void)family; /* unused where no family depends on the CPU (WebAssembly) */
#if defined(__x86_64__) || defined(__i386__)
    if (strcmp(family, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
    if (strcmp(family, "vnni") == 0)
        return cpu_runs("avx2") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512vnni");
#endif
#if defined(__aarch64__) && defined(__linux__)
    if (strcmp(family, "sdot") == 0) return (getauxval(AT_HWCAP) & (1ul << 20)) != 0; /* HWCAP_ASIMDDP */
#endif
    return 1;
}

/* every family of the build is found by name exactly where the oracle says this CPU runs it */
static void test_detection(void)
{
    char list[64];
    char *name;
    strncpy(list, lgrin_kernel_families(), sizeof list - 1u);
    list[sizeof list - 1u] = '\0';
    for (name = strtok(list, " "); name; name = strtok(NULL, " "))
        CHECK((lgrin_kernels_named(name) != NULL) == cpu_runs(name), "detection of %s: library %d, CPU %d", name,
              lgrin_kernels_named(name) != NULL, cpu_runs(name));
    CHECK(lgrin_best_kernels() != NULL && cpu_runs(lgrin_best_kernels()->name), "best family");
}

int main(int argc, char **argv)
{
    const char *family = argc > 1 ? argv[1] : lgrin_best_kernels()->name;
    test_detection();
    if (!strstr(lgrin_kernel_families(), family)) {
        fprintf(stderr, "the %s kernels are not in this build (%s)\n", family, lgrin_kernel_families());
        return 1;
    }
    kern = lgrin_kernels_named(family);
    if (!kern) {
        printf("skipped: this CPU does not run the %s kernels\n", family);
        return failures ? 1 : 77;
    }
    test_rq_row();
    test_gemm8();
    test_adj_row();
    test_maxpool_row();
    test_pools_int8();
    test_graph_float();
    test_dense();
    test_helpers();
    if (failures) {
        fprintf(stderr, "%s kernels: %d check(s) failed\n", family, failures);
        return 1;
    }
    printf("%s kernels: all kernel tests passed\n", family);
    return 0;
}
