/* lgrin_run.c - L-GrIN inference kernels, int8 and float32 (freestanding: no libc calls). */
#include "lgrin.h"

#define R8(n) (((size_t)(n) + 7u) & ~(size_t)7u)
#define R4(n) (((n) + 3u) & ~3u)

#if defined(__AVX512F__) && defined(__AVX512VNNI__) && !defined(LGRIN_PORTABLE)
#include <immintrin.h> /* compiler intrinsics header: no library code is linked */
#define LGRIN_VNNI 1
#else
#define LGRIN_VNNI 0
#endif

size_t lgrin_workspace_size(const lgrin_model *m)
{
    size_t el, fmax, emax;
    if (!m) return 0;
    el = m->precision == LGRIN_INT8 ? 1u : 4u;
    fmax = m->F[m->L]; /* feature width only grows with depth */
    emax = m->eta[0] > m->eta[1] ? m->eta[0] : m->eta[1];
    /* two ping-pong activation buffers, relu(A) @ H, one MLP hidden row, int32 row accumulator,
     * graph embedding */
    return 3u * R8(el * m->M * fmax) + R8(el * emax) + R8(4u * fmax) + R8(4u * 3u * fmax);
}

/* ---- int8 ---------------------------------------------------------------------------------- */

/* round(acc * m * 2^-s), halves away from zero; unsigned shifts avoid implementation-defined
 * behaviour of >> on negative numbers. |acc| < 2^31 and m < 2^31 keep the product below 2^62. */
static int32_t rq(int32_t acc, int32_t m, int32_t s, int32_t lo)
{
    const int64_t p = (int64_t)acc * m;
    uint64_t u = p < 0 ? (uint64_t)(-p) : (uint64_t)p;
    int64_t r;
    u = (u + ((uint64_t)1 << (s - 1))) >> s;
    if (u > 127u) u = 127u + (p < 0); /* saturate before narrowing */
    r = p < 0 ? -(int64_t)u : (int64_t)u;
    if (r > 127) r = 127;
    if (r < lo) r = lo;
    return (int32_t)r;
}

/* int8 MLP weights are stored in groups of four inputs, (in/4, out, 4), in zero-padded to a multiple of
 * four: each 32-bit word holds one output's weights for four consecutive inputs, the operand of
 * dot-product instructions (x86 VNNI vpdpbusd; Arm sdot). With AVX-512 VNNI available at compile time
 * the kernel uses it (compiler intrinsics, no library); otherwise a portable loop reads the same layout. */
static void linear8(const int8_t *w4, const int32_t *bias, const int32_t *m, const int32_t *s,
                    const int8_t *x, uint32_t in, uint32_t out, uint8_t *xp, uint8_t *xn, int32_t *acc,
                    int8_t *y)
{
    const uint32_t in4 = R4(in);
    uint32_t o, k;
#if LGRIN_VNNI
    if (out % 64u == 0) {
        uint32_t o0;
        /* vpdpbusd multiplies unsigned by signed bytes: x = max(x, 0) - max(-x, 0). */
        for (k = 0; k < in4; k++) {
            const int32_t v = k < in ? x[k] : 0;
            xp[k] = (uint8_t)(v > 0 ? v : 0);
            xn[k] = (uint8_t)(v < 0 ? -v : 0);
        }
        for (o0 = 0; o0 < out; o0 += 64u) {
            __m512i p0 = _mm512_loadu_si512((const void *)(bias + o0)), p1 = _mm512_loadu_si512((const void *)(bias + o0 + 16u));
            __m512i p2 = _mm512_loadu_si512((const void *)(bias + o0 + 32u)), p3 = _mm512_loadu_si512((const void *)(bias + o0 + 48u));
            __m512i n0 = _mm512_setzero_si512(), n1 = n0, n2 = n0, n3 = n0;
            for (k = 0; k < in4; k += 4u) {
                const uint32_t up = (uint32_t)xp[k] | (uint32_t)xp[k + 1] << 8 | (uint32_t)xp[k + 2] << 16 |
                                    (uint32_t)xp[k + 3] << 24;
                const uint32_t un = (uint32_t)xn[k] | (uint32_t)xn[k + 1] << 8 | (uint32_t)xn[k + 2] << 16 |
                                    (uint32_t)xn[k + 3] << 24;
                const int8_t *wk = w4 + (size_t)k * out + 4u * o0;
                if (up) {
                    const __m512i b = _mm512_set1_epi32((int)up);
                    p0 = _mm512_dpbusd_epi32(p0, b, _mm512_loadu_si512((const void *)wk));
                    p1 = _mm512_dpbusd_epi32(p1, b, _mm512_loadu_si512((const void *)(wk + 64)));
                    p2 = _mm512_dpbusd_epi32(p2, b, _mm512_loadu_si512((const void *)(wk + 128)));
                    p3 = _mm512_dpbusd_epi32(p3, b, _mm512_loadu_si512((const void *)(wk + 192)));
                }
                if (un) {
                    const __m512i b = _mm512_set1_epi32((int)un);
                    n0 = _mm512_dpbusd_epi32(n0, b, _mm512_loadu_si512((const void *)wk));
                    n1 = _mm512_dpbusd_epi32(n1, b, _mm512_loadu_si512((const void *)(wk + 64)));
                    n2 = _mm512_dpbusd_epi32(n2, b, _mm512_loadu_si512((const void *)(wk + 128)));
                    n3 = _mm512_dpbusd_epi32(n3, b, _mm512_loadu_si512((const void *)(wk + 192)));
                }
            }
            _mm512_storeu_si512((void *)(acc + o0), _mm512_sub_epi32(p0, n0));
            _mm512_storeu_si512((void *)(acc + o0 + 16u), _mm512_sub_epi32(p1, n1));
            _mm512_storeu_si512((void *)(acc + o0 + 32u), _mm512_sub_epi32(p2, n2));
            _mm512_storeu_si512((void *)(acc + o0 + 48u), _mm512_sub_epi32(p3, n3));
        }
        for (o = 0; o < out; o++) y[o] = (int8_t)rq(acc[o], m[o], s[o], 0);
        return;
    }
#endif
    (void)xp;
    (void)xn;
    for (o = 0; o < out; o++) acc[o] = bias[o];
    for (k = 0; k < in4; k += 4u) {
        const int32_t x0 = x[k], x1 = k + 1u < in ? x[k + 1] : 0, x2 = k + 2u < in ? x[k + 2] : 0,
                      x3 = k + 3u < in ? x[k + 3] : 0;
        const int8_t *wk = w4 + (size_t)k * out;
        if ((x0 | x1 | x2 | x3) == 0) continue; /* ReLU outputs are often zero */
        for (o = 0; o < out; o++)
            acc[o] += x0 * wk[4u * o] + x1 * wk[4u * o + 1u] + x2 * wk[4u * o + 2u] + x3 * wk[4u * o + 3u];
    }
    for (o = 0; o < out; o++) y[o] = (int8_t)rq(acc[o], m[o], s[o], 0);
}

static int8_t quant_in(float v)
{
    /* !(v >= lo) also catches NaN; the clamp comes first so the conversion is always defined. */
    if (!(v >= -127.0f)) return -127;
    if (v > 127.0f) return 127;
    return (int8_t)(int32_t)(v >= 0.0f ? v + 0.5f : v - 0.5f);
}

static void pool_classify(const lgrin_model *m, float *g, float *logits);

static void run_int8(const lgrin_model *m, uint8_t *ws, const float *x, float *logits)
{
    const uint32_t M = m->M, K = m->K;
    const size_t act = R8((size_t)M * m->F[m->L]);
    int8_t *h = (int8_t *)ws, *o = (int8_t *)(ws + act), *ah = (int8_t *)(ws + 2u * act);
    int8_t *y1 = (int8_t *)(ws + 3u * act);
    int32_t *acc = (int32_t *)(ws + 3u * act + R8(m->eta[0] > m->eta[1] ? m->eta[0] : m->eta[1]));
    float *g = (float *)((uint8_t *)acc + R8(4u * (size_t)m->F[m->L]));
    const int8_t *adj = (const int8_t *)m->adj;
    /* The graph-embedding buffer (3 F_L floats) is idle until pooling: it holds the MLPs' split inputs. */
    uint8_t *xp = (uint8_t *)g, *xn = xp + R4(m->F[m->L]);
    uint32_t i, j, f, k, l, b;

    for (i = 0; i < M; i++)
        for (f = 0; f < m->P; f++) h[i * m->P + f] = quant_in(x[i * m->P + f] * m->in_a[f] + m->in_c[f]);

    for (l = 0; l < m->L; l++) {
        const lgrin_layer *ly = &m->layer[l];
        const uint32_t F = m->F[l], Fo = m->F[l + 1];
        int8_t *t;
        for (i = 0; i < M; i++) {
            for (f = 0; f < F; f++) acc[f] = 0;
            for (j = 0; j < M; j++) {
                const int32_t a = adj[(size_t)i * M + j];
                const int8_t *hj = h + (size_t)j * F;
                if (a == 0) continue; /* relu(A) is often sparse */
                for (f = 0; f < F; f++) acc[f] += a * hj[f];
            }
            for (f = 0; f < F; f++) ah[(size_t)i * F + f] = (int8_t)rq(acc[f], ly->adj_m[i], ly->adj_s[i], -127);
        }
        for (i = 0; i < M; i++) {
            int8_t *row = o + (size_t)i * Fo;
            const int8_t *n0 = h + (size_t)m->nbr[(size_t)i * K] * F;
            for (b = 0; b < 2; b++) {
                const lgrin_branch *br = &ly->br[b];
                const uint32_t e = m->eta[b];
                linear8((const int8_t *)br->w1, (const int32_t *)br->b1, br->m1, br->s1, ah + (size_t)i * F, F,
                        e, xp, xn, acc, y1);
                linear8((const int8_t *)br->w2, (const int32_t *)br->b2, br->m2, br->s2, y1, e, e, xp, xn, acc,
                        row);
                row += e;
            }
            for (f = 0; f < F; f++) row[f] = n0[f];
            for (k = 1; k < K; k++) {
                const int8_t *nk = h + (size_t)m->nbr[(size_t)i * K + k] * F;
                for (f = 0; f < F; f++) row[f] = nk[f] > row[f] ? nk[f] : row[f];
            }
        }
        t = h;
        h = o;
        o = t;
    }

    {
        const uint32_t F = m->F[m->L];
        const float *s = m->out_scale;
        for (f = 0; f < F; f++) {
            g[f] = -128.0f;
            g[F + f] = 0.0f;
            g[2u * F + f] = 0.0f;
        }
        for (i = 0; i < M; i++) {
            const int8_t *hi = h + (size_t)i * F;
            const float p = m->pool_p[i];
            for (f = 0; f < F; f++) {
                const float v = (float)hi[f];
                g[f] = v > g[f] ? v : g[f];
                g[F + f] += p * v;
                g[2u * F + f] += v; /* integer-valued and below 2^24: exact */
            }
        }
        for (f = 0; f < F; f++) {
            g[f] *= s[f];
            g[F + f] *= s[f];
            g[2u * F + f] *= s[f] / (float)M;
        }
    }
    pool_classify(m, g, logits);
}

/* ---- float32 ------------------------------------------------------------------------------- */

/* Eight partial sums: float addition is not associative, so compilers only vectorise a reduction
 * that is already written in parallel form. */
static float dotf(const float *a, const float *b, uint32_t n)
{
    float p[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    uint32_t k = 0, j;
    for (; k + 8u <= n; k += 8u)
        for (j = 0; j < 8u; j++) p[j] += a[k + j] * b[k + j];
    for (; k < n; k++) p[0] += a[k] * b[k];
    return ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]));
}

static void linearf(const float *w, const float *bias, const float *x, uint32_t in, uint32_t out, float *y)
{
    uint32_t o;
    for (o = 0; o < out; o++) {
        const float v = dotf(w + (size_t)o * in, x, in) + bias[o];
        y[o] = v > 0.0f ? v : 0.0f;
    }
}

static void run_fp32(const lgrin_model *m, uint8_t *ws, const float *x, float *logits)
{
    const uint32_t M = m->M, K = m->K;
    const size_t act = R8(4u * (size_t)M * m->F[m->L]);
    const size_t emax = m->eta[0] > m->eta[1] ? m->eta[0] : m->eta[1];
    float *h = (float *)ws, *o = (float *)(ws + act), *ah = (float *)(ws + 2u * act);
    float *y1 = (float *)(ws + 3u * act);
    float *g = (float *)(ws + 3u * act + R8(4u * emax) + R8(4u * (size_t)m->F[m->L]));
    const float *adj = (const float *)m->adj;
    uint32_t i, j, f, k, l, b;

    for (i = 0; i < M; i++)
        for (f = 0; f < m->P; f++) h[i * m->P + f] = x[i * m->P + f] * m->in_a[f] + m->in_c[f];

    for (l = 0; l < m->L; l++) {
        const lgrin_layer *ly = &m->layer[l];
        const uint32_t F = m->F[l], Fo = m->F[l + 1];
        float *t;
        for (i = 0; i < M; i++) {
            float *ai = ah + (size_t)i * F;
            for (f = 0; f < F; f++) ai[f] = 0.0f;
            for (j = 0; j < M; j++) {
                const float a = adj[(size_t)i * M + j];
                const float *hj = h + (size_t)j * F;
                if (a == 0.0f) continue;
                for (f = 0; f < F; f++) ai[f] += a * hj[f];
            }
        }
        for (i = 0; i < M; i++) {
            float *row = o + (size_t)i * Fo;
            const float *n0 = h + (size_t)m->nbr[(size_t)i * K] * F;
            for (b = 0; b < 2; b++) {
                const lgrin_branch *br = &ly->br[b];
                const uint32_t e = m->eta[b];
                linearf((const float *)br->w1, (const float *)br->b1, ah + (size_t)i * F, F, e, y1);
                linearf((const float *)br->w2, (const float *)br->b2, y1, e, e, row);
                row += e;
            }
            for (f = 0; f < F; f++) row[f] = n0[f];
            for (k = 1; k < K; k++) {
                const float *nk = h + (size_t)m->nbr[(size_t)i * K + k] * F;
                for (f = 0; f < F; f++) row[f] = nk[f] > row[f] ? nk[f] : row[f];
            }
        }
        t = h;
        h = o;
        o = t;
    }

    {
        const uint32_t F = m->F[m->L];
        for (f = 0; f < F; f++) {
            g[f] = h[f];
            g[F + f] = 0.0f;
            g[2u * F + f] = 0.0f;
        }
        for (i = 0; i < M; i++) {
            const float *hi = h + (size_t)i * F;
            const float p = m->pool_p[i];
            for (f = 0; f < F; f++) {
                g[f] = hi[f] > g[f] ? hi[f] : g[f];
                g[F + f] += p * hi[f];
                g[2u * F + f] += hi[f];
            }
        }
        for (f = 0; f < F; f++) g[2u * F + f] /= (float)M;
    }
    pool_classify(m, g, logits);
}

/* ---- shared ---------------------------------------------------------------------------------- */

static void pool_classify(const lgrin_model *m, float *g, float *logits)
{
    const uint32_t n = 3u * m->F[m->L];
    uint32_t c;
    for (c = 0; c < m->C; c++) {
        logits[c] = dotf(m->cls_w + (size_t)c * n, g, n) + m->cls_b[c];
    }
}

static int is_finite(float v)
{
    union {
        float f;
        uint32_t u;
    } b;
    b.f = v;
    return (b.u & 0x7f800000u) != 0x7f800000u;
}

int lgrin_run(const lgrin_model *m, void *ws, size_t ws_len, const float *x, float *logits)
{
    size_t i, n;
    if (!m || !ws || !x || !logits) return LGRIN_E_ARG;
    if (((uintptr_t)ws & 3u) != 0u || ((uintptr_t)x & 3u) != 0u || ((uintptr_t)logits & 3u) != 0u)
        return LGRIN_E_ALIGN;
    if (ws_len < lgrin_workspace_size(m)) return LGRIN_E_WORKSPACE;
    n = (size_t)m->M * m->P;
    for (i = 0; i < n; i++)
        if (!is_finite(x[i])) return LGRIN_E_INPUT;
    if (m->precision == LGRIN_INT8)
        run_int8(m, (uint8_t *)ws, x, logits);
    else
        run_fp32(m, (uint8_t *)ws, x, logits);
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
