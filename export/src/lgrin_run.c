/* lgrin_run.c - L-GrIN inference kernels, int8 and float32 (freestanding: no libc calls). */
#include "lgrin.h"

#define R8(n) (((size_t)(n) + 7u) & ~(size_t)7u)
#define R4(n) (((n) + 3u) & ~3u)

/* Vector kernels, chosen at compile time (no CPU dispatch: the library is built for its target): AVX-512
 * VNNI, else AVX2 on x86-64; NEON, with sdot where available, on aarch64; else portable C.
 * -DLGRIN_PORTABLE forces the portable loops. */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__) && !defined(LGRIN_PORTABLE)
#include <immintrin.h> /* compiler intrinsics header: no library code is linked */
#define LGRIN_VNNI 1
#define LGRIN_AVX2 0
#elif defined(__AVX2__) && !defined(LGRIN_PORTABLE)
#include <immintrin.h>
#define LGRIN_VNNI 0
#define LGRIN_AVX2 1
#else
#define LGRIN_VNNI 0
#define LGRIN_AVX2 0
#endif
/* NEON is part of every aarch64 CPU; sdot (Armv8.2 dot product) only where the compiler targets it. */
#if defined(__aarch64__) && defined(__ARM_NEON) && !defined(LGRIN_PORTABLE)
#include <arm_neon.h> /* compiler intrinsics header: no library code is linked */
#define LGRIN_NEON 1
#if defined(__ARM_FEATURE_DOTPROD)
#define LGRIN_SDOT 1
#else
#define LGRIN_SDOT 0
#endif
#else
#define LGRIN_NEON 0
#endif
#if LGRIN_VNNI || LGRIN_AVX2 || LGRIN_NEON
#define LGRIN_ALWAYS_INLINE static inline __attribute__((always_inline))
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
/* kept out of line: inlined into its caller, gcc spills the 16 accumulators of the 4 x 64 tile */
#define LGRIN_NOINLINE static __attribute__((noinline))

/* Masks of the first `left` lanes (all of them once `left` reaches the width): row tails are loaded and
 * stored under a mask, so they never touch memory past the row. */
LGRIN_ALWAYS_INLINE __mmask16 lanes16(size_t left)
{
    return left >= 16u ? (__mmask16)0xffffu : (__mmask16)((1u << left) - 1u);
}

LGRIN_ALWAYS_INLINE __mmask64 lanes64(size_t left)
{
    return left >= 64u ? ~(__mmask64)0 : ((__mmask64)1 << left) - 1u;
}

/* lanes16 for the 16 lanes that start `skip` elements into `left` remaining ones */
LGRIN_ALWAYS_INLINE __mmask16 lanes16_after(size_t left, size_t skip)
{
    return left > skip ? lanes16(left - skip) : 0;
}

LGRIN_ALWAYS_INLINE __m512i load16x8(const int8_t *p, __mmask16 k) /* 16 int8 widened to int32 */
{
    return _mm512_cvtepi8_epi32(_mm512_castsi512_si128(_mm512_maskz_loadu_epi8((__mmask64)k, p)));
}

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

#if LGRIN_AVX2
LGRIN_ALWAYS_INLINE __m256i load8x8(const int8_t *p) /* 8 int8 widened to int32 */
{
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
}

/* rq() on the four 64-bit products p with shifts sh, before the final clamp (AVX2 has no 64-bit abs or
 * min: compare and blend instead). */
LGRIN_ALWAYS_INLINE __m256i rq4(__m256i p, __m256i sh)
{
    const __m256i one = _mm256_set1_epi64x(1), cap = _mm256_set1_epi64x(128);
    const __m256i neg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), p);
    __m256i u = _mm256_sub_epi64(_mm256_xor_si256(p, neg), neg);
    u = _mm256_srlv_epi64(_mm256_add_epi64(u, _mm256_sllv_epi64(one, _mm256_sub_epi64(sh, one))), sh);
    u = _mm256_blendv_epi8(u, cap, _mm256_cmpgt_epi64(u, cap));
    return _mm256_sub_epi64(_mm256_xor_si256(u, neg), neg);
}

/* rq() with the lower clamp lo on eight accumulators (multipliers mv, shifts sv), stored as eight int8. */
LGRIN_ALWAYS_INLINE void rq8x(int8_t *y, __m256i acc, __m256i mv, __m256i sv, __m256i lo)
{
    const __m256i low = _mm256_set1_epi64x(0xffffffffLL);
    const __m256i ev = rq4(_mm256_mul_epi32(acc, mv), _mm256_and_si256(sv, low));
    const __m256i od =
        rq4(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), _mm256_srli_epi64(mv, 32)), _mm256_srli_epi64(sv, 32));
    __m256i v = _mm256_or_si256(_mm256_and_si256(ev, low), _mm256_slli_epi64(od, 32));
    v = _mm256_min_epi32(_mm256_max_epi32(v, lo), _mm256_set1_epi32(127));
    v = _mm256_packs_epi32(v, v); /* in range already: the saturating packs only narrow */
    v = _mm256_packs_epi16(v, v);
    v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
    _mm_storel_epi64((__m128i *)y, _mm256_castsi256_si128(v));
}

/* rq() with lo = 0 (the MLP's ReLU) on the eight outputs starting at m, s. */
LGRIN_ALWAYS_INLINE void put8(int8_t *y, __m256i acc, const int32_t *m, const int32_t *s)
{
    rq8x(y, acc, _mm256_loadu_si256((const __m256i *)m), _mm256_loadu_si256((const __m256i *)s),
         _mm256_setzero_si256());
}

/* Four rows (the last ones repeated where fewer remain) x 8 outputs. vpmaddubsw multiplies unsigned by
 * signed bytes and adds pairs into int16 with saturation; it is exact here because |x| and |w| are at
 * most 127 (the loader rejects -128 weights), so a pair stays within 2 * 127^2 < 2^15. A signed input
 * runs as |x| against the weights with x's sign moved onto them (vpsignb). vpmaddwd with ones then adds
 * the two pairs of each output. */
#define A2_BX(xr) _mm256_broadcastd_epi32(_mm_loadu_si32((xr) + k))
#define A2_UDOT(a, xr) a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(A2_BX(xr), w), ones))
#define A2_SDOT(a, xr)                                                                                     \
    do {                                                                                                   \
        const __m256i xs = A2_BX(xr);                                                                      \
        const __m256i d = _mm256_maddubs_epi16(_mm256_abs_epi8(xs), _mm256_sign_epi8(w, xs));              \
        a = _mm256_add_epi32(a, _mm256_madd_epi16(d, ones));                                               \
    } while (0)

static void tile_4x8(const int8_t *x, uint32_t ldx, uint32_t rows, int x_signed, uint32_t in4, const int8_t *w4,
                     uint32_t out, uint32_t o0, const int32_t *bias, const int32_t *m, const int32_t *s, int8_t *y,
                     uint32_t ldy)
{
    const __m256i ones = _mm256_set1_epi16(1);
    const int8_t *x0 = x, *x1 = x + (rows > 1u ? ldx : 0u), *x2 = x + (rows > 2u ? 2u * ldx : 0u),
                 *x3 = x + (rows > 3u ? 3u * ldx : 0u);
    __m256i a0 = _mm256_loadu_si256((const __m256i *)(bias + o0)), a1 = a0, a2 = a0, a3 = a0;
    uint32_t k;
    /* one loop per input kind, so the choice is not made per step */
#define A2_LOOP(DOT)                                                                                       \
    for (k = 0; k < in4; k += 4u) {                                                                        \
        const __m256i w = _mm256_loadu_si256((const __m256i *)(w4 + (size_t)k * out + 4u * o0));          \
        DOT(a0, x0);                                                                                       \
        DOT(a1, x1);                                                                                       \
        DOT(a2, x2);                                                                                       \
        DOT(a3, x3);                                                                                       \
    }
    if (x_signed) {
        A2_LOOP(A2_SDOT)
    } else {
        A2_LOOP(A2_UDOT)
    }
#undef A2_LOOP
    put8(y + o0, a0, m + o0, s + o0);
    if (rows > 1u) put8(y + ldy + o0, a1, m + o0, s + o0);
    if (rows > 2u) put8(y + 2u * ldy + o0, a2, m + o0, s + o0);
    if (rows > 3u) put8(y + 3u * ldy + o0, a3, m + o0, s + o0);
}
#undef A2_BX
#undef A2_UDOT
#undef A2_SDOT
#endif

#if LGRIN_NEON
/* rq() on two 64-bit products p, nsh = -shift, before the final clamp: vrshl rounds half up, which on |p|
 * is rounding half away from zero. */
LGRIN_ALWAYS_INLINE int64x2_t rq2(int64x2_t p, int64x2_t nsh)
{
    const uint64x2_t cap = vdupq_n_u64(128);
    uint64x2_t u = vrshlq_u64(vreinterpretq_u64_s64(vabsq_s64(p)), nsh);
    const int64x2_t v = vreinterpretq_s64_u64(vbslq_u64(vcgtq_u64(u, cap), cap, u));
    return vbslq_s64(vcltzq_s64(p), vnegq_s64(v), v);
}

/* rq() with the lower clamp lo on four accumulators. */
LGRIN_ALWAYS_INLINE int32x4_t rq4n(int32x4_t acc, int32x4_t m, int32x4_t s, int32x4_t lo)
{
    const int64x2_t a = rq2(vmull_s32(vget_low_s32(acc), vget_low_s32(m)), vnegq_s64(vmovl_s32(vget_low_s32(s))));
    const int64x2_t b = rq2(vmull_high_s32(acc, m), vnegq_s64(vmovl_high_s32(s)));
    return vminq_s32(vmaxq_s32(vcombine_s32(vmovn_s64(a), vmovn_s64(b)), lo), vdupq_n_s32(127));
}

/* eight values already within -128..127, stored as int8 */
LGRIN_ALWAYS_INLINE void store8n(int8_t *y, int32x4_t r0, int32x4_t r1)
{
    vst1_s8(y, vmovn_s16(vcombine_s16(vmovn_s32(r0), vmovn_s32(r1))));
}

/* eight requantised values (lo = 0, the MLP's ReLU) stored as int8 */
LGRIN_ALWAYS_INLINE void put8n(int8_t *y, int32x4_t a0, int32x4_t a1, const int32_t *m, const int32_t *s)
{
    const int32x4_t zero = vdupq_n_s32(0);
    store8n(y, rq4n(a0, vld1q_s32(m), vld1q_s32(s), zero), rq4n(a1, vld1q_s32(m + 4), vld1q_s32(s + 4), zero));
}

/* Four rows (the last ones repeated where fewer remain) x 8 outputs. xw holds each row's inputs as
 * 32-bit words of four bytes, broadcast to all lanes. With sdot, each lane adds the four products of
 * one output; without it, vmull multiplies into int16 (exact: |x w| <= 127 * 128) and vpadal adds pairs
 * into int32, the pairs of each output meeting at the end. */
static void tile_n4x8(const uint32_t *xw, uint32_t n4, uint32_t rows, const int8_t *w4, uint32_t out,
                      uint32_t o0, const int32_t *bias, const int32_t *m, const int32_t *s, int8_t *y, uint32_t ldy)
{
    const uint32_t *x0 = xw, *x1 = xw + (rows > 1u ? n4 : 0u), *x2 = xw + (rows > 2u ? 2u * n4 : 0u),
                   *x3 = xw + (rows > 3u ? 3u * n4 : 0u);
    const int32x4_t b0 = vld1q_s32(bias + o0), b1 = vld1q_s32(bias + o0 + 4);
    uint32_t k;
#if LGRIN_SDOT
    int32x4_t a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
    for (k = 0; k < n4; k++) {
        const int8_t *wk = w4 + (size_t)k * 4u * out + 4u * o0;
        const int8x16_t w0 = vld1q_s8(wk), w1 = vld1q_s8(wk + 16);
#define N_ROW(xr, a0, a1)                                                                                   \
    do {                                                                                                   \
        const int8x16_t xb = vreinterpretq_s8_u32(vdupq_n_u32((xr)[k]));                                   \
        a0 = vdotq_s32(a0, w0, xb);                                                                        \
        a1 = vdotq_s32(a1, w1, xb);                                                                        \
    } while (0)
        N_ROW(x0, a00, a01);
        N_ROW(x1, a10, a11);
        N_ROW(x2, a20, a21);
        N_ROW(x3, a30, a31);
#undef N_ROW
    }
#else
    int32x4_t p[4][4];
    int32x4_t a00, a01, a10, a11, a20, a21, a30, a31;
    uint32_t r, q;
    for (r = 0; r < 4u; r++)
        for (q = 0; q < 4u; q++) p[r][q] = vdupq_n_s32(0);
    for (k = 0; k < n4; k++) {
        const int8_t *wk = w4 + (size_t)k * 4u * out + 4u * o0;
        const int8x16_t w0 = vld1q_s8(wk), w1 = vld1q_s8(wk + 16);
#define N_ROW(xr, pr)                                                                                       \
    do {                                                                                                   \
        const int8x16_t xb = vreinterpretq_s8_u32(vdupq_n_u32((xr)[k]));                                   \
        pr[0] = vpadalq_s16(pr[0], vmull_s8(vget_low_s8(w0), vget_low_s8(xb)));                            \
        pr[1] = vpadalq_s16(pr[1], vmull_high_s8(w0, xb));                                                 \
        pr[2] = vpadalq_s16(pr[2], vmull_s8(vget_low_s8(w1), vget_low_s8(xb)));                            \
        pr[3] = vpadalq_s16(pr[3], vmull_high_s8(w1, xb));                                                 \
    } while (0)
        N_ROW(x0, p[0]);
        N_ROW(x1, p[1]);
        N_ROW(x2, p[2]);
        N_ROW(x3, p[3]);
#undef N_ROW
    }
    a00 = vaddq_s32(b0, vpaddq_s32(p[0][0], p[0][1]));
    a01 = vaddq_s32(b1, vpaddq_s32(p[0][2], p[0][3]));
    a10 = vaddq_s32(b0, vpaddq_s32(p[1][0], p[1][1]));
    a11 = vaddq_s32(b1, vpaddq_s32(p[1][2], p[1][3]));
    a20 = vaddq_s32(b0, vpaddq_s32(p[2][0], p[2][1]));
    a21 = vaddq_s32(b1, vpaddq_s32(p[2][2], p[2][3]));
    a30 = vaddq_s32(b0, vpaddq_s32(p[3][0], p[3][1]));
    a31 = vaddq_s32(b1, vpaddq_s32(p[3][2], p[3][3]));
#endif
    put8n(y + o0, a00, a01, m + o0, s + o0);
    if (rows > 1u) put8n(y + ldy + o0, a10, a11, m + o0, s + o0);
    if (rows > 2u) put8n(y + 2u * ldy + o0, a20, a21, m + o0, s + o0);
    if (rows > 3u) put8n(y + 3u * ldy + o0, a30, a31, m + o0, s + o0);
}
#endif

/* Y = relu(rq(X Wq + bias)) for `rows` rows: X int8 (row stride ldx), Y int8 (row stride ldy).
 * int8 MLP weights are stored in groups of four inputs, (in/4, out, 4), in zero-padded to a multiple of
 * four: each 32-bit word holds one output's weights for four consecutive inputs, the operand of
 * dot-product instructions (x86 VNNI vpdpbusd; Arm sdot). With AVX-512 VNNI available at compile time
 * the kernel uses it (compiler intrinsics, no library) on tiles of four rows by 64 outputs, with AVX2 on
 * tiles of four rows by 8 outputs; otherwise a portable loop reads the same layout. All give the same
 * integers. */
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
                    const __m512i v = _mm512_maskz_loadu_epi8(lanes64(k < in ? in - k : 0u), x + (size_t)i * ldx + k);
                    _mm512_mask_storeu_epi8(xu + (size_t)i * in4 + k, lanes64(in4 - k), _mm512_xor_si512(v, flip));
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
#elif LGRIN_AVX2
    if (out % 8u == 0) {
        /* rows padded to four bytes (zeros) unless they are already */
        const int8_t *xs = x;
        uint32_t o0, ld = ldx;
        if (ldx != in4) {
            int8_t *xp = (int8_t *)xu;
            for (i = 0; i < rows; i++)
                for (k = 0; k < in4; k++) xp[(size_t)i * in4 + k] = k < in ? x[(size_t)i * ldx + k] : 0;
            xs = xp;
            ld = in4;
        }
        for (i = 0; i < rows; i += 4u)
            for (o0 = 0; o0 < out; o0 += 8u)
                tile_4x8(xs + (size_t)i * ld, ld, rows - i, x_signed, in4, w4, out, o0, bias, m, s,
                         y + (size_t)i * ldy, ldy);
        return;
    }
#elif LGRIN_NEON
    if (out % 8u == 0) {
        /* rows as 32-bit words of four inputs (little-endian: the loader refuses big-endian hosts),
         * zero-padded; written as words, so the tiles read them with their own type */
        uint32_t *xw = (uint32_t *)(void *)xu, o0, j;
        const uint32_t n4 = in4 / 4u;
        for (i = 0; i < rows; i++)
            for (k = 0; k < n4; k++) {
                uint32_t v = 0;
                for (j = 0; j < 4u && 4u * k + j < in; j++)
                    v |= (uint32_t)(uint8_t)x[(size_t)i * ldx + 4u * k + j] << (8u * j);
                xw[(size_t)i * n4 + k] = v;
            }
        for (i = 0; i < rows; i += 4u)
            for (o0 = 0; o0 < out; o0 += 8u)
                tile_n4x8(xw + (size_t)i * n4, n4, rows - i, w4, out, o0, bias, m, s, y + (size_t)i * ldy, ldy);
        (void)x_signed; /* sdot and vmull multiply signed by signed: no offset needed */
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
#elif LGRIN_AVX2
    const __m256i mv = _mm256_set1_epi32(m), sv = _mm256_set1_epi32(s), lo = _mm256_set1_epi32(-127);
    for (; f + 8u <= n; f += 8u) rq8x(y + f, _mm256_loadu_si256((const __m256i *)(acc + f)), mv, sv, lo);
#elif LGRIN_NEON
    const int32x4_t mv = vdupq_n_s32(m), sv = vdupq_n_s32(s), lo = vdupq_n_s32(-127);
    for (; f + 8u <= n; f += 8u)
        store8n(y + f, rq4n(vld1q_s32(acc + f), mv, sv, lo), rq4n(vld1q_s32(acc + f + 4), mv, sv, lo));
#endif
    for (; f < n; f++) y[f] = (int8_t)rq(acc[f], m, s, -127);
}

/* Row helpers of the graph steps. With AVX-512 they use masked loads and stores (the tail of a row
 * never touches memory past it), so short rows vectorise too and -O2 builds, which gcc does not
 * auto-vectorise, run as fast as -O3 ones. */

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
        const __mmask16 k0 = lanes16(F - f), k1 = lanes16_after(F - f, 16u), k2 = lanes16_after(F - f, 32u),
                        k3 = lanes16_after(F - f, 48u);
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
    size_t f0 = 0;
#if LGRIN_AVX2
    for (; f0 + 32u <= F; f0 += 32u) { /* the same, 32 features at a time; the tail below */
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
        for (t = 0; t < n; t++) {
            const int8_t *hj = h + (size_t)nz[t] * F + f0;
            const __m256i a = _mm256_set1_epi32(adj[nz[t]]);
            s0 = _mm256_add_epi32(s0, _mm256_mullo_epi32(load8x8(hj), a));
            s1 = _mm256_add_epi32(s1, _mm256_mullo_epi32(load8x8(hj + 8), a));
            s2 = _mm256_add_epi32(s2, _mm256_mullo_epi32(load8x8(hj + 16), a));
            s3 = _mm256_add_epi32(s3, _mm256_mullo_epi32(load8x8(hj + 24), a));
        }
        _mm256_storeu_si256((__m256i *)(acc + f0), s0);
        _mm256_storeu_si256((__m256i *)(acc + f0 + 8), s1);
        _mm256_storeu_si256((__m256i *)(acc + f0 + 16), s2);
        _mm256_storeu_si256((__m256i *)(acc + f0 + 24), s3);
    }
#endif
    for (f = f0; f < F; f++) acc[f] = 0;
    for (t = 0; t < n; t++) {
        const int32_t a = adj[nz[t]];
        const int8_t *restrict hj = h + (size_t)nz[t] * F;
        for (f = f0; f < F; f++) acc[f] += a * hj[f];
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
        const __mmask64 km = lanes64(F - f);
        __m512i r = _mm512_maskz_loadu_epi8(km, h + (size_t)nbr[0] * F + f);
        for (k = 1; k < K; k++) r = _mm512_max_epi8(r, _mm512_maskz_loadu_epi8(km, h + (size_t)nbr[k] * F + f));
        _mm512_mask_storeu_epi8(row + f, km, r);
    }
#else
    size_t f0 = 0;
#if LGRIN_AVX2
    for (; f0 + 32u <= F; f0 += 32u) { /* 32 features in a register over all neighbours; the tail below */
        __m256i r = _mm256_loadu_si256((const __m256i *)(h + (size_t)nbr[0] * F + f0));
        for (k = 1; k < K; k++)
            r = _mm256_max_epi8(r, _mm256_loadu_si256((const __m256i *)(h + (size_t)nbr[k] * F + f0)));
        _mm256_storeu_si256((__m256i *)(row + f0), r);
    }
#endif
    for (f = f0; f < F; f++) row[f] = h[(size_t)nbr[0] * F + f];
    for (k = 1; k < K; k++) {
        const int8_t *restrict hk = h + (size_t)nbr[k] * F;
        for (f = f0; f < F; f++) row[f] = hk[f] > row[f] ? hk[f] : row[f];
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

/* int8 weights times float inputs, eight partial sums (as dotf): the classifier of int8 files computes
 * in float from int8-stored weights, so no activation scale has to serve its concatenated poolings. */
static float dotq8f(const int8_t *q, const float *x, uint32_t n)
{
    float p[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    uint32_t k = 0, j;
    for (; k + 8u <= n; k += 8u)
        for (j = 0; j < 8u; j++) p[j] += (float)q[k + j] * x[k + j];
    for (; k < n; k++) p[0] += (float)q[k] * x[k];
    return ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]));
}

static void pool_classify(const lgrin_model *m, float *g, float *logits)
{
    const uint32_t n = 3u * m->F[m->L];
    uint32_t c;
    for (c = 0; c < m->C; c++) {
        if (m->cls_q)
            logits[c] = m->cls_s[c] * dotq8f(m->cls_q + (size_t)c * n, g, n) + m->cls_b[c];
        else
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
