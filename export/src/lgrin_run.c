/* lgrin_run.c - L-GrIN inference kernels, int8 and float32 (freestanding: no libc calls). */
#include "lgrin.h"

#define R8(n) (((size_t)(n) + 7u) & ~(size_t)7u)
#define R4(n) (((n) + 3u) & ~3u)

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__) && !defined(LGRIN_PORTABLE)
#include <immintrin.h> /* compiler intrinsics header: no library code is linked */
#define LGRIN_VNNI 1
#else
#define LGRIN_VNNI 0
#endif

size_t lgrin_workspace_size(const lgrin_model *m)
{
    size_t fmax, emax, act;
    if (!m) return 0;
    fmax = m->F[m->L]; /* feature width only grows with depth */
    emax = m->eta[0] > m->eta[1] ? m->eta[0] : m->eta[1];
    /* graph embedding (3 F_L floats) and two int32 rows of accumulators, then per precision: */
    act = R8(4u * 3u * fmax) + R8(4u * 2u * fmax);
    if (m->precision == LGRIN_INT8) /* h, next h, relu(A) @ H, unsigned copy of an MLP input, hidden layer, */
        return act + 3u * R8((size_t)m->M * fmax) + R8((size_t)m->M * R4(m->F[m->L])) + R8((size_t)m->M * emax) +
               R8(4u * (size_t)m->M); /* and the nonzero columns of one row of relu(A) */
    return act + 3u * R8(4u * (size_t)m->M * fmax) + R8(4u * emax); /* the same in float, one hidden row */
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

#if LGRIN_VNNI
#define LGRIN_ALWAYS_INLINE static inline __attribute__((always_inline))
/* kept out of line: inlined into its caller, gcc spills the 16 accumulators of the 4 x 64 tile */
#define LGRIN_NOINLINE static __attribute__((noinline))

/* rq() on the eight 64-bit products p with shifts sh, before the final clamp. */
LGRIN_ALWAYS_INLINE __m512i rq8(__m512i p, __m512i sh)
{
    const __m512i one = _mm512_set1_epi64(1), zero = _mm512_setzero_si512();
    const __mmask8 neg = _mm512_cmplt_epi64_mask(p, zero);
    __m512i u = _mm512_abs_epi64(p);
    u = _mm512_srlv_epi64(_mm512_add_epi64(u, _mm512_sllv_epi64(one, _mm512_sub_epi64(sh, one))), sh);
    u = _mm512_min_epu64(u, _mm512_set1_epi64(128));
    return _mm512_mask_sub_epi64(u, neg, zero, u);
}

/* rq() on 16 lanes (same rounding and saturation), narrowed to int8: even lanes, then odd lanes moved
 * down, as signed 32 x 32 -> 64-bit products. */
LGRIN_ALWAYS_INLINE __m128i rq16(__m512i acc, __m512i m, __m512i s, __m512i lo)
{
    const __m512i low = _mm512_set1_epi64(0xffffffffLL);
    const __m512i ev = rq8(_mm512_mul_epi32(acc, m), _mm512_and_si512(s, low));
    const __m512i od = rq8(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), _mm512_srli_epi64(m, 32)),
                           _mm512_srli_epi64(s, 32));
    acc = _mm512_or_si512(_mm512_and_si512(ev, low), _mm512_slli_epi64(od, 32));
    acc = _mm512_min_epi32(_mm512_max_epi32(acc, lo), _mm512_set1_epi32(127));
    return _mm512_cvtepi32_epi8(acc);
}

/* rq16 with lo = 0 (the MLP's ReLU) on the 16 outputs o0 .. o0 + 15 of one row. */
LGRIN_ALWAYS_INLINE void put16(int8_t *y, const int32_t *m, const int32_t *s, uint32_t o0, __m512i acc)
{
    _mm_storeu_si128((__m128i *)(y + o0), rq16(acc, _mm512_loadu_si512((const void *)(m + o0)),
                                             _mm512_loadu_si512((const void *)(s + o0)), _mm512_setzero_si512()));
}

/* Output tiles of 4 rows x 64 outputs, 1 x 64, 4 x 16 and 1 x 16, written out so that the accumulators
 * are named variables: compilers keep them in registers at -O2 as well as -O3. */
#define LGRIN_TILE_ARGS                                                                                   \
    const uint8_t *xu, uint32_t ldx, uint32_t in4, const int8_t *w4, uint32_t out, uint32_t o0,            \
        const int32_t *corr, const int32_t *m, const int32_t *s, int8_t *y, uint32_t ldy
#define LC(c) _mm512_loadu_si512((const void *)(corr + o0 + 16u * (c)))
#define LW(c) _mm512_loadu_si512((const void *)(wk + 64 * (c)))
#define BX(r) _mm512_broadcastd_epi32(_mm_loadu_si32(xu + (size_t)(r) * ldx + k))
#define DP(a, b, w) a = _mm512_dpbusd_epi32(a, b, w)
#define ROW4(r, a0, a1, a2, a3)                                                                            \
    do {                                                                                                   \
        const __m512i b = BX(r);                                                                           \
        DP(a0, b, w0);                                                                                     \
        DP(a1, b, w1);                                                                                     \
        DP(a2, b, w2);                                                                                     \
        DP(a3, b, w3);                                                                                     \
    } while (0)
#define PUT4(r, a0, a1, a2, a3)                                                                            \
    do {                                                                                                   \
        int8_t *yr = y + (size_t)(r) * ldy;                                                                \
        put16(yr, m, s, o0, a0);                                                                           \
        put16(yr, m, s, o0 + 16u, a1);                                                                     \
        put16(yr, m, s, o0 + 32u, a2);                                                                     \
        put16(yr, m, s, o0 + 48u, a3);                                                                     \
    } while (0)

LGRIN_NOINLINE void tile_4x64(LGRIN_TILE_ARGS)
{
    __m512i a00 = LC(0), a01 = LC(1), a02 = LC(2), a03 = LC(3), a10 = a00, a11 = a01, a12 = a02, a13 = a03;
    __m512i a20 = a00, a21 = a01, a22 = a02, a23 = a03, a30 = a00, a31 = a01, a32 = a02, a33 = a03;
    uint32_t k;
    for (k = 0; k < in4; k += 4u) {
        const int8_t *wk = w4 + (size_t)k * out + 4u * o0;
        const __m512i w0 = LW(0), w1 = LW(1), w2 = LW(2), w3 = LW(3);
        ROW4(0, a00, a01, a02, a03);
        ROW4(1, a10, a11, a12, a13);
        ROW4(2, a20, a21, a22, a23);
        ROW4(3, a30, a31, a32, a33);
    }
    PUT4(0, a00, a01, a02, a03);
    PUT4(1, a10, a11, a12, a13);
    PUT4(2, a20, a21, a22, a23);
    PUT4(3, a30, a31, a32, a33);
}

static void tile_1x64(LGRIN_TILE_ARGS)
{
    __m512i a0 = LC(0), a1 = LC(1), a2 = LC(2), a3 = LC(3);
    uint32_t k;
    (void)ldx;
    for (k = 0; k < in4; k += 4u) {
        const int8_t *wk = w4 + (size_t)k * out + 4u * o0;
        const __m512i w0 = LW(0), w1 = LW(1), w2 = LW(2), w3 = LW(3);
        ROW4(0, a0, a1, a2, a3);
    }
    PUT4(0, a0, a1, a2, a3);
}

static void tile_4x16(LGRIN_TILE_ARGS)
{
    __m512i a0 = LC(0), a1 = a0, a2 = a0, a3 = a0;
    uint32_t k;
    for (k = 0; k < in4; k += 4u) {
        const int8_t *wk = w4 + (size_t)k * out + 4u * o0;
        const __m512i w = LW(0);
        DP(a0, BX(0), w);
        DP(a1, BX(1), w);
        DP(a2, BX(2), w);
        DP(a3, BX(3), w);
    }
    put16(y, m, s, o0, a0);
    put16(y + ldy, m, s, o0, a1);
    put16(y + 2u * ldy, m, s, o0, a2);
    put16(y + 3u * ldy, m, s, o0, a3);
}

static void tile_1x16(LGRIN_TILE_ARGS)
{
    __m512i a0 = LC(0);
    uint32_t k;
    (void)ldx;
    (void)ldy;
    for (k = 0; k < in4; k += 4u) {
        const int8_t *wk = w4 + (size_t)k * out + 4u * o0;
        DP(a0, BX(0), LW(0));
    }
    put16(y, m, s, o0, a0);
}
#undef LGRIN_TILE_ARGS
#undef LC
#undef LW
#undef BX
#undef DP
#undef ROW4
#undef PUT4
#endif

/* Y = relu(rq(X Wq + bias)) for `rows` rows: X int8 (row stride ldx), Y int8 (row stride ldy).
 * int8 MLP weights are stored in groups of four inputs, (in/4, out, 4), in zero-padded to a multiple of
 * four: each 32-bit word holds one output's weights for four consecutive inputs, the operand of
 * dot-product instructions (x86 VNNI vpdpbusd; Arm sdot). With AVX-512 VNNI available at compile time
 * the kernel uses it (compiler intrinsics, no library) on tiles of four rows by 64 outputs; otherwise a
 * portable loop reads the same layout. Both give the same integers. */
static void gemm8(const int8_t *w4, const int32_t *bias, const int32_t *m, const int32_t *s, const int8_t *x,
                  uint32_t ldx, int x_signed, uint32_t rows, uint32_t in, uint32_t out, int8_t *y, uint32_t ldy,
                  uint8_t *xu, int32_t *acc)
{
    const uint32_t in4 = R4(in);
    uint32_t i, o, k;
#if LGRIN_VNNI
    if (out % 16u == 0) {
        /* vpdpbusd multiplies unsigned by signed bytes. A signed input runs as x + 128 (x ^ 0x80), and
         * 128 sum_k w[k][o] comes back out of the bias; the padded inputs meet zero weights. An input
         * that is a ReLU output is used in place when its rows are already padded to four bytes. */
        const uint8_t *xs = (const uint8_t *)x;
        uint32_t o0, r, ld = ldx;
        if (x_signed || ldx != in4) {
            const __m512i flip = _mm512_set1_epi8(x_signed ? (char)0x80 : 0);
            for (i = 0; i < rows; i++)
                for (k = 0; k < in4; k += 64u) {
                    const __mmask64 ld_mask = in - k >= 64u ? ~(__mmask64)0 : ((__mmask64)1 << (in - k)) - 1u;
                    const __mmask64 st_mask = in4 - k >= 64u ? ~(__mmask64)0 : ((__mmask64)1 << (in4 - k)) - 1u;
                    const __m512i v = _mm512_maskz_loadu_epi8(k < in ? ld_mask : 0, x + (size_t)i * ldx + k);
                    _mm512_mask_storeu_epi8(xu + (size_t)i * in4 + k, st_mask, _mm512_xor_si512(v, flip));
                }
            xs = xu;
            ld = in4;
        }
        for (o0 = 0; o0 < out; o0 += 16u) {
            __m512i c = _mm512_loadu_si512((const void *)(bias + o0));
            if (x_signed) {
                const __m512i b = _mm512_set1_epi32((int)0x80808080u);
                __m512i t = _mm512_setzero_si512();
                for (k = 0; k < in4; k += 4u)
                    t = _mm512_dpbusd_epi32(t, b, _mm512_loadu_si512((const void *)(w4 + (size_t)k * out + 4u * o0)));
                c = _mm512_sub_epi32(c, t);
            }
            _mm512_storeu_si512((void *)(acc + o0), c);
        }
        for (r = 0; r + 4u <= rows; r += 4u) {
            const uint8_t *xr = xs + (size_t)r * ld;
            int8_t *yr = y + (size_t)r * ldy;
            for (o0 = 0; o0 + 64u <= out; o0 += 64u) tile_4x64(xr, ld, in4, w4, out, o0, acc, m, s, yr, ldy);
            for (; o0 < out; o0 += 16u) tile_4x16(xr, ld, in4, w4, out, o0, acc, m, s, yr, ldy);
        }
        for (; r < rows; r++) {
            const uint8_t *xr = xs + (size_t)r * ld;
            int8_t *yr = y + (size_t)r * ldy;
            for (o0 = 0; o0 + 64u <= out; o0 += 64u) tile_1x64(xr, ld, in4, w4, out, o0, acc, m, s, yr, ldy);
            for (; o0 < out; o0 += 16u) tile_1x16(xr, ld, in4, w4, out, o0, acc, m, s, yr, ldy);
        }
        return;
    }
#endif
    (void)xu;
    (void)x_signed;
    for (i = 0; i < rows; i++) {
        const int8_t *xi = x + (size_t)i * ldx;
        int8_t *yi = y + (size_t)i * ldy;
        /* restrict (int8 may alias anything) and a size_t index (a 32-bit one may wrap, which makes
         * the addresses non-affine) let compilers vectorise the inner loop: 2.5x with SSE2 */
        int32_t *restrict a = acc;
        size_t n;
        for (n = 0; n < out; n++) a[n] = bias[n];
        for (k = 0; k < in4; k += 4u) {
            const int32_t x0 = xi[k], x1 = k + 1u < in ? xi[k + 1] : 0, x2 = k + 2u < in ? xi[k + 2] : 0,
                          x3 = k + 3u < in ? xi[k + 3] : 0;
            const int8_t *restrict wk = w4 + (size_t)k * out;
            if ((x0 | x1 | x2 | x3) == 0) continue; /* ReLU outputs are often zero */
            for (n = 0; n < out; n++)
                a[n] += x0 * wk[4 * n] + x1 * wk[4 * n + 1] + x2 * wk[4 * n + 2] + x3 * wk[4 * n + 3];
        }
        for (o = 0; o < out; o++) yi[o] = (int8_t)rq(a[o], m[o], s[o], 0);
    }
}

/* y[f] = rq(acc[f], m, s, -127) for one row that shares its multiplier and shift. */
static void rq_row(const int32_t *acc, int32_t m, int32_t s, uint32_t n, int8_t *y)
{
    uint32_t f = 0;
#if LGRIN_VNNI
    const __m512i mv = _mm512_set1_epi32(m), sv = _mm512_set1_epi32(s), lo = _mm512_set1_epi32(-127);
    for (; f + 16u <= n; f += 16u)
        _mm_storeu_si128((__m128i *)(y + f), rq16(_mm512_loadu_si512((const void *)(acc + f)), mv, sv, lo));
#endif
    for (; f < n; f++) y[f] = (int8_t)rq(acc[f], m, s, -127);
}

/* Row helpers of the graph steps. With AVX-512 they use masked loads and stores (the tail of a row
 * never touches memory past it), so short rows vectorise too and -O2 builds, which gcc does not
 * auto-vectorise, run as fast as -O3 ones. */
#if LGRIN_VNNI
LGRIN_ALWAYS_INLINE __mmask16 lanes16(size_t left)
{
    return left >= 16u ? (__mmask16)0xffffu : (__mmask16)((1u << left) - 1u);
}

LGRIN_ALWAYS_INLINE __m512i load16x8(const int8_t *p, __mmask16 k) /* 16 int8 widened to int32 */
{
    return _mm512_cvtepi8_epi32(_mm512_castsi512_si128(_mm512_maskz_loadu_epi8((__mmask64)k, p)));
}
#endif

/* acc[f] = sum_j adj[j] h[j][f], f < F: one row of relu(A) @ H before requantisation. relu(A) is
 * often sparse, so the nonzero columns are listed first (nz: M entries of workspace). */
static void adj_row(int32_t *restrict acc, const int8_t *adj, const int8_t *restrict h, uint32_t M, size_t F,
                    uint32_t *nz)
{
    uint32_t j, n = 0, t;
    size_t f;
    for (j = 0; j < M; j++)
        if (adj[j] != 0) nz[n++] = j;
#if LGRIN_VNNI
    /* 64 features at a time in four register accumulators, one store per row */
    for (f = 0; f < F; f += 64u) {
        const __mmask16 k0 = lanes16(F - f), k1 = F - f > 16u ? lanes16(F - f - 16u) : 0,
                        k2 = F - f > 32u ? lanes16(F - f - 32u) : 0, k3 = F - f > 48u ? lanes16(F - f - 48u) : 0;
        __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
        for (t = 0; t < n; t++) {
            const int8_t *hj = h + (size_t)nz[t] * F + f;
            const __m512i a = _mm512_set1_epi32(adj[nz[t]]);
            s0 = _mm512_add_epi32(s0, _mm512_mullo_epi32(load16x8(hj, k0), a));
            s1 = _mm512_add_epi32(s1, _mm512_mullo_epi32(load16x8(hj + 16, k1), a));
            s2 = _mm512_add_epi32(s2, _mm512_mullo_epi32(load16x8(hj + 32, k2), a));
            s3 = _mm512_add_epi32(s3, _mm512_mullo_epi32(load16x8(hj + 48, k3), a));
        }
        _mm512_mask_storeu_epi32(acc + f, k0, s0);
        _mm512_mask_storeu_epi32(acc + f + 16, k1, s1);
        _mm512_mask_storeu_epi32(acc + f + 32, k2, s2);
        _mm512_mask_storeu_epi32(acc + f + 48, k3, s3);
    }
#else
    for (f = 0; f < F; f++) acc[f] = 0;
    for (t = 0; t < n; t++) {
        const int32_t a = adj[nz[t]];
        const int8_t *restrict hj = h + (size_t)nz[t] * F;
        for (f = 0; f < F; f++) acc[f] += a * hj[f];
    }
#endif
}

/* row[f] = max over the K neighbours nbr[k] of h[nbr[k]][f], f < F: the 1-hop maxpool of one node */
static void maxpool_row(int8_t *restrict row, const int8_t *restrict h, const int32_t *nbr, uint32_t K, size_t F)
{
    uint32_t k;
    size_t f;
#if LGRIN_VNNI
    for (f = 0; f < F; f += 64u) {
        const __mmask64 km = F - f >= 64u ? ~(__mmask64)0 : ((__mmask64)1 << (F - f)) - 1u;
        __m512i r = _mm512_maskz_loadu_epi8(km, h + (size_t)nbr[0] * F + f);
        for (k = 1; k < K; k++) r = _mm512_max_epi8(r, _mm512_maskz_loadu_epi8(km, h + (size_t)nbr[k] * F + f));
        _mm512_mask_storeu_epi8(row + f, km, r);
    }
#else
    for (f = 0; f < F; f++) row[f] = h[(size_t)nbr[0] * F + f];
    for (k = 1; k < K; k++) {
        const int8_t *restrict hk = h + (size_t)nbr[k] * F;
        for (f = 0; f < F; f++) row[f] = hk[f] > row[f] ? hk[f] : row[f];
    }
#endif
}

/* imax[f] = max_i h[i][f] and isum[f] = sum_i h[i][f] over the M nodes, f < F (exact in int32) */
static void max_sum_pool(int32_t *restrict imax, int32_t *restrict isum, const int8_t *restrict h, uint32_t M,
                         size_t F)
{
    uint32_t i;
    size_t f;
#if LGRIN_VNNI
    for (f = 0; f < F; f += 16u) {
        const __mmask16 k = lanes16(F - f);
        __m512i vmax = _mm512_set1_epi32(-128), vsum = _mm512_setzero_si512();
        for (i = 0; i < M; i++) {
            const __m512i v = load16x8(h + (size_t)i * F + f, k);
            vmax = _mm512_max_epi32(vmax, v);
            vsum = _mm512_add_epi32(vsum, v);
        }
        _mm512_mask_storeu_epi32(imax + f, k, vmax);
        _mm512_mask_storeu_epi32(isum + f, k, vsum);
    }
#else
    for (f = 0; f < F; f++) {
        imax[f] = -128;
        isum[f] = 0;
    }
    for (i = 0; i < M; i++) {
        const int8_t *restrict hi = h + (size_t)i * F;
        for (f = 0; f < F; f++) {
            imax[f] = hi[f] > imax[f] ? hi[f] : imax[f];
            isum[f] += hi[f];
        }
    }
#endif
}

/* gp[f] = sum_i p[i] h[i][f] in float, nodes in order (each lane sums in the scalar order) */
static void weighted_pool(float *restrict gp, const float *p, const int8_t *restrict h, uint32_t M, size_t F)
{
    uint32_t i;
    size_t f;
#if LGRIN_VNNI
    for (f = 0; f < F; f += 16u) {
        const __mmask16 k = lanes16(F - f);
        __m512 v = _mm512_setzero_ps();
        for (i = 0; i < M; i++) /* mul then add: no fused multiply-add, like -ffp-contract=off */
            v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_set1_ps(p[i]),
                                               _mm512_cvtepi32_ps(load16x8(h + (size_t)i * F + f, k))));
        _mm512_mask_storeu_ps(gp + f, k, v);
    }
#else
    for (f = 0; f < F; f++) gp[f] = 0.0f;
    for (i = 0; i < M; i++)
        for (f = 0; f < F; f++) gp[f] += p[i] * (float)h[(size_t)i * F + f];
#endif
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
    const uint32_t M = m->M, K = m->K, FL = m->F[m->L];
    const size_t act = R8((size_t)M * FL);
    float *g = (float *)ws;
    int32_t *acc = (int32_t *)(ws + R8(4u * 3u * FL));
    int8_t *h = (int8_t *)((uint8_t *)acc + R8(4u * 2u * FL)), *o = h + act, *ah = o + act;
    uint8_t *xu = (uint8_t *)(ah + act);
    int8_t *y1 = (int8_t *)(xu + R8((size_t)M * R4(FL)));
    uint32_t *nz = (uint32_t *)(y1 + R8((size_t)M * (m->eta[0] > m->eta[1] ? m->eta[0] : m->eta[1])));
    const int8_t *adj = (const int8_t *)m->adj;
    uint32_t i, f, l, b;

    for (i = 0; i < M; i++)
        for (f = 0; f < m->P; f++) h[i * m->P + f] = quant_in(x[i * m->P + f] * m->in_a[f] + m->in_c[f]);

    for (l = 0; l < m->L; l++) {
        const lgrin_layer *ly = &m->layer[l];
        const uint32_t F = m->F[l], Fo = m->F[l + 1];
        int8_t *t;
        for (i = 0; i < M; i++) {
            adj_row(acc, adj + (size_t)i * M, h, M, F, nz);
            rq_row(acc, ly->adj_m[i], ly->adj_s[i], F, ah + (size_t)i * F);
        }
        for (b = 0; b < 2; b++) {
            const lgrin_branch *br = &ly->br[b];
            const uint32_t e = m->eta[b];
            gemm8((const int8_t *)br->w1, (const int32_t *)br->b1, br->m1, br->s1, ah, F, 1, M, F, e, y1, e, xu,
                  acc);
            gemm8((const int8_t *)br->w2, (const int32_t *)br->b2, br->m2, br->s2, y1, e, 0, M, e, e,
                  o + (b ? m->eta[0] : 0u), Fo, xu, acc);
        }
        for (i = 0; i < M; i++)
            maxpool_row(o + (size_t)i * Fo + m->eta[0] + m->eta[1], h, m->nbr + (size_t)i * K, K, F);
        t = h;
        h = o;
        o = t;
    }

    {
        /* max and plain sum in int32 (exact, and vectorisable: no float reduction order to keep) */
        const uint32_t F = m->F[m->L];
        const float *s = m->out_scale;
        float *restrict gp = g + F;
        int32_t *imax = acc, *isum = acc + F;
        max_sum_pool(imax, isum, h, M, F);
        weighted_pool(gp, m->pool_p, h, M, F);
        for (f = 0; f < F; f++) {
            g[f] = (float)imax[f] * s[f];
            gp[f] *= s[f];
            g[2u * F + f] = (float)isum[f] * (s[f] / (float)M);
        }
    }
    pool_classify(m, g, logits);
}

/* ---- float32 ------------------------------------------------------------------------------- */

/* Eight partial sums: float addition is not associative, so compilers only vectorise a reduction
 * that is already written in parallel form. */
static float dotf(const float *a, const float *b, uint32_t n)
{
#if LGRIN_VNNI
    /* gcc -O3 turns the portable loop below into shuffles; the intrinsic form is 4x faster */
    __m512 v0 = _mm512_setzero_ps(), v1 = v0;
    uint32_t i = 0;
    float t;
    for (; i + 32u <= n; i += 32u) {
        v0 = _mm512_add_ps(v0, _mm512_mul_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
        v1 = _mm512_add_ps(v1, _mm512_mul_ps(_mm512_loadu_ps(a + i + 16u), _mm512_loadu_ps(b + i + 16u)));
    }
    t = _mm512_reduce_add_ps(_mm512_add_ps(v0, v1));
    for (; i < n; i++) t += a[i] * b[i];
    return t;
#else
    float p[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    uint32_t k = 0, j;
    for (; k + 8u <= n; k += 8u)
        for (j = 0; j < 8u; j++) p[j] += a[k + j] * b[k + j];
    for (; k < n; k++) p[0] += a[k] * b[k];
    return ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]));
#endif
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
    const uint32_t M = m->M, K = m->K, FL = m->F[m->L];
    const size_t act = R8(4u * (size_t)M * FL) / 4u;
    float *g = (float *)ws;
    float *h = (float *)(ws + R8(4u * 3u * FL) + R8(4u * 2u * FL)), *o = h + act, *ah = o + act;
    float *y1 = ah + act;
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
