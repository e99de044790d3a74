/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_run.c - one inference, int8 or float32, from the kernels of the other files; the workspace
 * layout; softmax (freestanding: no libc calls). */
#include "lgrin_internal.h"

#define R8(n) LGRIN_ROUND_UP((size_t)(n), 8u)

void lgrin_layout_of(const lgrin_model *m, lgrin_layout *w)
{
    const int q = m->precision == LGRIN_INT8;
    const size_t M = m->M, FL = m->F[m->L]; /* feature width only grows with depth */
    const size_t emax = m->eta[0] > m->eta[1] ? m->eta[0] : m->eta[1];
    const size_t act = R8((q ? 1u : 4u) * M * FL);
    w->g = 0;
    w->acc = R8(4u * 3u * FL);
    w->h = w->acc + R8(4u * 2u * FL);
    w->o = w->h + act;
    w->ah = w->o + act;
    w->xu = w->ah + act;
    w->y1 = w->xu + (q ? R8(M * LGRIN_ROUND_UP(FL, 4u)) : 0u);
    w->nz = w->y1 + (q ? R8(M * emax) : R8(4u * emax));
    w->size = w->nz + (q ? R8(4u * M) : 0u);
    w->x = w->size;
    w->logits = w->x + 4u * M * m->P;
    w->total = w->logits + 4u * m->C;
}

size_t lgrin_workspace_size(const lgrin_model *m)
{
    lgrin_layout w;
    if (!m) return 0;
    lgrin_layout_of(m, &w);
    return w.size;
}

size_t lgrin_buffer_size(const lgrin_model *m, size_t *x_offset, size_t *logits_offset)
{
    lgrin_layout w;
    if (!m) return 0;
    lgrin_layout_of(m, &w);
    if (x_offset) *x_offset = w.x;
    if (logits_offset) *logits_offset = w.logits;
    return w.total;
}

/* ---- int8 ---------------------------------------------------------------------------------- */

static int8_t quant_in(float v)
{
    /* !(v >= lo) also catches NaN; the clamp comes first so the conversion is always defined. */
    if (!(v >= -127.0f)) return -127;
    if (v > 127.0f) return 127;
    return (int8_t)(int32_t)(v >= 0.0f ? v + 0.5f : v - 0.5f);
}

/* One inception layer: relu(A) @ H requantised per row, both branch MLPs over all nodes, the maxpool;
 * o receives [G1 | G2 | maxpool] of every node. */
static void layer_int8(const lgrin_model *m, uint32_t l, uint8_t *ws, const lgrin_layout *w, const int8_t *h,
                       int8_t *o)
{
    const lgrin_kernels *k = m->kernels;
    const lgrin_layer *ly = &m->layer[l];
    const uint32_t M = m->M, F = m->F[l], Fo = m->F[l + 1];
    int32_t *acc = (int32_t *)(ws + w->acc);
    int8_t *ah = (int8_t *)(ws + w->ah), *y1 = (int8_t *)(ws + w->y1);
    uint8_t *xu = ws + w->xu;
    uint32_t i, b;
    for (i = 0; i < M; i++) {
        k->adj_row(acc, (const int8_t *)m->adj + (size_t)i * M, h, M, F, (uint32_t *)(ws + w->nz));
        k->rq_row(acc, ly->adj_m[i], ly->adj_s[i], F, ah + (size_t)i * F);
    }
    for (b = 0; b < 2; b++) {
        const lgrin_branch *br = &ly->br[b];
        const uint32_t e = m->eta[b];
        k->gemm8((const int8_t *)br->w1, (const int32_t *)br->b1, br->m1, br->s1, ah, F, 1, M, F, e, y1, e, xu,
                    acc);
        k->gemm8((const int8_t *)br->w2, (const int32_t *)br->b2, br->m2, br->s2, y1, e, 0, M, e, e,
                    o + (b ? m->eta[0] : 0u), Fo, xu, acc);
    }
    for (i = 0; i < M; i++)
        k->maxpool_row(o + (size_t)i * Fo + m->eta[0] + m->eta[1], h, m->nbr + (size_t)i * m->K, m->K, F);
}

/* The graph embedding: max and plain sum in int32 (exact, and vectorisable: no float reduction order to
 * keep), the p-weighted sum in float, each dequantised with the last layer's per-feature scales. */
static void pool_int8(const lgrin_model *m, uint8_t *ws, const lgrin_layout *w, const int8_t *h, float *g)
{
    const lgrin_kernels *k = m->kernels;
    const uint32_t F = m->F[m->L];
    const float *s = m->out_scale;
    float *restrict gp = g + F;
    int32_t *imax = (int32_t *)(ws + w->acc), *isum = imax + F;
    uint32_t f;
    k->max_sum_pool(imax, isum, h, m->M, F);
    k->weighted_pool(gp, m->pool_p, h, m->M, F);
    for (f = 0; f < F; f++) {
        g[f] = (float)imax[f] * s[f];
        gp[f] *= s[f];
        g[2u * F + f] = (float)isum[f] * (s[f] / (float)m->M);
    }
}

static void input_int8(const lgrin_model *m, const float *x, int8_t *h)
{
    uint32_t i, f;
    for (i = 0; i < m->M; i++)
        for (f = 0; f < m->P; f++) h[i * m->P + f] = quant_in(x[i * m->P + f] * m->in_a[f] + m->in_c[f]);
}

/* ---- float32 ------------------------------------------------------------------------------- */

/* One inception layer, node by node: its row of relu(A) @ H, both branch MLPs (y1: one hidden row), the
 * maxpool. */
static void layer_fp32(const lgrin_model *m, uint32_t l, uint8_t *ws, const lgrin_layout *w, const float *h,
                       float *o)
{
    const lgrin_kernels *k = m->kernels;
    const lgrin_layer *ly = &m->layer[l];
    const uint32_t M = m->M, F = m->F[l], Fo = m->F[l + 1];
    float *ah = (float *)(ws + w->ah), *y1 = (float *)(ws + w->y1);
    uint32_t i, b;
    for (i = 0; i < M; i++) k->adj_row_f(ah + (size_t)i * F, (const float *)m->adj + (size_t)i * M, h, M, F);
    for (i = 0; i < M; i++) {
        float *row = o + (size_t)i * Fo;
        for (b = 0; b < 2; b++) {
            const lgrin_branch *br = &ly->br[b];
            const uint32_t e = m->eta[b];
            k->linearf((const float *)br->w1, (const float *)br->b1, ah + (size_t)i * F, F, e, y1);
            k->linearf((const float *)br->w2, (const float *)br->b2, y1, e, e, row);
            row += e;
        }
        k->maxpool_row_f(row, h, m->nbr + (size_t)i * m->K, m->K, F);
    }
}

static void input_fp32(const lgrin_model *m, const float *x, float *h)
{
    uint32_t i, f;
    for (i = 0; i < m->M; i++)
        for (f = 0; f < m->P; f++) h[i * m->P + f] = x[i * m->P + f] * m->in_a[f] + m->in_c[f];
}

/* ---- both precisions ------------------------------------------------------------------------ */

/* The input's affine map, the layers (h and o swap places), the graph embedding g, the classifier. */
static void run(const lgrin_model *m, uint8_t *ws, const float *x, float *logits)
{
    const lgrin_kernels *k = m->kernels;
    const int q = m->precision == LGRIN_INT8;
    float *g;
    uint8_t *h, *o;
    uint32_t l;
    lgrin_layout w;
    lgrin_layout_of(m, &w);
    g = (float *)(ws + w.g);
    h = ws + w.h;
    o = ws + w.o;
    if (q)
        input_int8(m, x, (int8_t *)h);
    else
        input_fp32(m, x, (float *)h);
    for (l = 0; l < m->L; l++) {
        uint8_t *t = h;
        if (q)
            layer_int8(m, l, ws, &w, (const int8_t *)h, (int8_t *)o);
        else
            layer_fp32(m, l, ws, &w, (const float *)h, (float *)o);
        h = o;
        o = t;
    }
    if (q)
        pool_int8(m, ws, &w, (const int8_t *)h, g);
    else
        k->pool_f(g, m->pool_p, (const float *)h, m->M, m->F[m->L]);
    k->classify(m, g, logits);
}

/* ---- entry points ---------------------------------------------------------------------------- */

int lgrin_run(const lgrin_model *m, void *ws, size_t ws_len, const float *x, float *logits)
{
    if (!m || !ws || !x || !logits || !m->kernels) return LGRIN_E_ARG;
    if (((uintptr_t)ws & 3u) != 0u || ((uintptr_t)x & 3u) != 0u || ((uintptr_t)logits & 3u) != 0u)
        return LGRIN_E_ALIGN;
    if (ws_len < lgrin_workspace_size(m)) return LGRIN_E_WORKSPACE;
    if (!lgrin_all_finite(x, (uint64_t)m->M * m->P)) return LGRIN_E_INPUT;
    run(m, (uint8_t *)ws, x, logits);
    return LGRIN_OK;
}

int lgrin_run_batch(const lgrin_model *m, void *ws, size_t ws_len, const float *x, size_t n, float *logits)
{
    size_t i;
    if (!m) return LGRIN_E_ARG;
    for (i = 0; i < n; i++) {
        const int rc = lgrin_run(m, ws, ws_len, x + i * m->M * m->P, logits + i * m->C);
        if (rc != LGRIN_OK) return rc;
    }
    return LGRIN_OK;
}

/* exp(x) for x <= 0 without libm: x = n ln2 + r, |r| <= ln2/2, degree-6 Taylor polynomial for e^r
 * (relative error < 2e-7), then 2^n through the exponent bits. */
static float exp_nonpos(float x)
{
    union {
        float f;
        uint32_t u;
    } two_n;
    float r, p;
    int32_t n;
    if (!(x >= -87.0f)) return 0.0f; /* also NaN */
    n = (int32_t)(x * 1.44269504f - 0.5f);
    r = x - (float)n * 0.693145752f - (float)n * 1.42860677e-6f;
    p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
    two_n.u = (uint32_t)(n + 127) << 23;
    return p * two_n.f;
}

void lgrin_softmax(const float *logits, uint32_t n, float *probs)
{
    float mx, sum = 0.0f;
    uint32_t i;
    if (!logits || !probs || n == 0) return;
    mx = logits[0];
    for (i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
    for (i = 0; i < n; i++) {
        probs[i] = exp_nonpos(logits[i] - mx);
        sum += probs[i];
    }
    for (i = 0; i < n; i++) probs[i] /= sum;
}
