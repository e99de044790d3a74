/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_gemm8.c - the int8 MLP layer as a matrix product over all nodes (freestanding: no libc calls).
 *
 * Y = relu(rq(X Wq + bias)) for `rows` rows: X int8 (row stride ldx), Y int8 (row stride ldy). int8 MLP
 * weights are stored in groups of four inputs, (in/4, out, 4), in zero-padded to a multiple of four:
 * each 32-bit word holds one output's weights for four consecutive inputs, the operand of dot-product
 * instructions (x86 VNNI vpdpbusd; Arm sdot). AVX-512 VNNI runs tiles of four rows by 64 outputs, AVX2
 * and NEON tiles of four rows by 8 outputs, WebAssembly SIMD128 four rows by 4 outputs; the portable loop
 * reads the same layout. All give the same integers. */
#include "lgrin_requant.h"

#if LGRIN_VNNI
/* kept out of line: inlined into its caller, gcc spills the 16 accumulators of the 4 x 64 tile */
#define LGRIN_NOINLINE static __attribute__((noinline))

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

/* vpdpbusd multiplies unsigned by signed bytes. A signed input runs as x + 128 (x ^ 0x80), and
 * 128 sum_k w[k][o] comes back out of the bias (into acc); the padded inputs meet zero weights. An input
 * that is a ReLU output is used in place when its rows are already padded to four bytes. */
static void gemm8_vnni(const int8_t *w4, const int32_t *bias, const int32_t *m, const int32_t *s, const int8_t *x,
                       uint32_t ldx, int x_signed, uint32_t rows, uint32_t in, uint32_t out, int8_t *y,
                       uint32_t ldy, uint8_t *xu, int32_t *acc)
{
    const uint32_t in4 = LGRIN_ROUND_UP(in, 4u);
    const uint8_t *xs = (const uint8_t *)x;
    uint32_t i, k, o0, r, ld = ldx;
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
}
#endif

#if LGRIN_AVX2
/* rq() with lo = 0 (the MLP's ReLU) on the eight outputs starting at m, s. */
LGRIN_ALWAYS_INLINE void put8(int8_t *y, __m256i acc, const int32_t *m, const int32_t *s)
{
    rq8x(y, acc, _mm256_loadu_si256((const __m256i *)m), _mm256_loadu_si256((const __m256i *)s),
         _mm256_setzero_si256());
}

/* Four rows (the first one repeated where fewer remain) x 8 outputs. vpmaddubsw multiplies unsigned by
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

/* rows padded to four bytes (zeros) unless they are already */
static void gemm8_avx2(const int8_t *w4, const int32_t *bias, const int32_t *m, const int32_t *s, const int8_t *x,
                       uint32_t ldx, int x_signed, uint32_t rows, uint32_t in, uint32_t out, int8_t *y,
                       uint32_t ldy, uint8_t *xu)
{
    const uint32_t in4 = LGRIN_ROUND_UP(in, 4u);
    const int8_t *xs = x;
    uint32_t i, k, o0, ld = ldx;
    if (ldx != in4) {
        int8_t *xp = (int8_t *)xu;
        for (i = 0; i < rows; i++)
            for (k = 0; k < in4; k++) xp[(size_t)i * in4 + k] = k < in ? x[(size_t)i * ldx + k] : 0;
        xs = xp;
        ld = in4;
    }
    for (i = 0; i < rows; i += 4u)
        for (o0 = 0; o0 < out; o0 += 8u)
            tile_4x8(xs + (size_t)i * ld, ld, rows - i, x_signed, in4, w4, out, o0, bias, m, s, y + (size_t)i * ldy,
                     ldy);
}
#endif

#if LGRIN_NEON
/* Four rows (the first one repeated where fewer remain) x 8 outputs. xw holds each row's inputs as
 * 32-bit words of four bytes, broadcast to all lanes. With sdot, each lane adds the four products of
 * one output; without it, vmull multiplies into int16 (exact: |x w| <= 127 * 128) and vpadal adds pairs
 * into int32, the pairs of each output meeting at the end. */
#define N_TILE_ARGS                                                                                        \
    const uint32_t *xw, uint32_t n4, uint32_t rows, const int8_t *w4, uint32_t out, uint32_t o0,           \
        const int32_t *bias, const int32_t *m, const int32_t *s, int8_t *y, uint32_t ldy
#define N_TILE_ROWS                                                                                        \
    const uint32_t *x0 = xw, *x1 = xw + (rows > 1u ? n4 : 0u), *x2 = xw + (rows > 2u ? 2u * n4 : 0u),      \
                   *x3 = xw + (rows > 3u ? 3u * n4 : 0u);                                                  \
    const int32x4_t b0 = vld1q_s32(bias + o0), b1 = vld1q_s32(bias + o0 + 4)
#define N_WK                                                                                               \
    const int8_t *wk = w4 + (size_t)k * 4u * out + 4u * o0;                                                \
    const int8x16_t w0 = vld1q_s8(wk), w1 = vld1q_s8(wk + 16)
#define N_XB(xr) vreinterpretq_s8_u32(vdupq_n_u32((xr)[k]))

/* eight requantised values (lo = 0, the MLP's ReLU) of each of the rows that exist, stored as int8 */
LGRIN_ALWAYS_INLINE void put8n(int8_t *y, int32x4_t a0, int32x4_t a1, const int32_t *m, const int32_t *s)
{
    const int32x4_t zero = vdupq_n_s32(0);
    store8n(y, rq4n(a0, vld1q_s32(m), vld1q_s32(s), zero), rq4n(a1, vld1q_s32(m + 4), vld1q_s32(s + 4), zero));
}
#define N_PUT                                                                                              \
    put8n(y + o0, a00, a01, m + o0, s + o0);                                                               \
    if (rows > 1u) put8n(y + ldy + o0, a10, a11, m + o0, s + o0);                                          \
    if (rows > 2u) put8n(y + 2u * ldy + o0, a20, a21, m + o0, s + o0);                                     \
    if (rows > 3u) put8n(y + 3u * ldy + o0, a30, a31, m + o0, s + o0)

#if LGRIN_SDOT
static void tile_n4x8(N_TILE_ARGS)
{
    N_TILE_ROWS;
    int32x4_t a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
    uint32_t k;
    for (k = 0; k < n4; k++) {
        N_WK;
#define N_ROW(xr, a0, a1)                                                                                   \
    do {                                                                                                   \
        const int8x16_t xb = N_XB(xr);                                                                     \
        a0 = lgrin_sdot(a0, w0, xb);                                                                        \
        a1 = lgrin_sdot(a1, w1, xb);                                                                        \
    } while (0)
        N_ROW(x0, a00, a01);
        N_ROW(x1, a10, a11);
        N_ROW(x2, a20, a21);
        N_ROW(x3, a30, a31);
#undef N_ROW
    }
    N_PUT;
}
#else
static void tile_n4x8(N_TILE_ARGS)
{
    N_TILE_ROWS;
    int32x4_t p[4][4];
    int32x4_t a00, a01, a10, a11, a20, a21, a30, a31;
    uint32_t k, r, q;
    for (r = 0; r < 4u; r++)
        for (q = 0; q < 4u; q++) p[r][q] = vdupq_n_s32(0);
    for (k = 0; k < n4; k++) {
        N_WK;
#define N_ROW(xr, pr)                                                                                       \
    do {                                                                                                   \
        const int8x16_t xb = N_XB(xr);                                                                     \
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
    N_PUT;
}
#endif
#undef N_TILE_ARGS
#undef N_TILE_ROWS
#undef N_WK
#undef N_XB
#undef N_PUT

/* Rows as 32-bit words of four inputs (little-endian: the loader refuses big-endian hosts), zero-padded;
 * written as words, so the tiles read them with their own type. sdot and vmull multiply signed by
 * signed: no offset is needed for a signed input. */
static void gemm8_neon(const int8_t *w4, const int32_t *bias, const int32_t *m, const int32_t *s, const int8_t *x,
                       uint32_t ldx, uint32_t rows, uint32_t in, uint32_t out, int8_t *y, uint32_t ldy, uint8_t *xu)
{
    uint32_t *xw = (uint32_t *)(void *)xu, i, k, o0, j;
    const uint32_t n4 = LGRIN_ROUND_UP(in, 4u) / 4u;
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
}
#endif

#if LGRIN_SIMD128
/* SIMD128 shifts all lanes by one count, so here the lanes are rows: a vector of four rows of one output
 * shares its m and s (rq4w). The rows go into xu in blocks of four, word k of each row of a block side by
 * side (16 bytes per k; 4 nr bytes for a last block of nr < 4 rows), zero-padded past `in`. */
static void interleave_rows(const int8_t *x, uint32_t ldx, uint32_t rows, uint32_t in, uint8_t *xu)
{
    const uint32_t n4 = LGRIN_ROUND_UP(in, 4u) / 4u;
    uint32_t i, k, j;
    for (i = 0; i < rows; i++) {
        const uint32_t b = i & ~3u, nr = rows - b < 4u ? rows - b : 4u;
        const int8_t *xi = x + (size_t)i * ldx;
        uint8_t *d = xu + (size_t)b * 4u * n4 + 4u * (i - b);
        for (k = 0; k < n4; k++, d += 4u * nr) {
            if (4u * k + 4u <= in)
                wasm_v128_store32_lane(d, wasm_v128_load32_zero(xi + 4u * k), 0);
            else
                for (j = 0; j < 4u; j++) d[j] = 4u * k + j < in ? (uint8_t)xi[4u * k + j] : 0u;
        }
    }
}

/* word k of the nr rows of a block, zeros in the lanes of missing rows */
LGRIN_ALWAYS_INLINE v128_t load_block(const uint8_t *p, uint32_t nr)
{
    v128_t v;
    if (nr == 4u) return wasm_v128_load(p);
    if (nr == 1u) return wasm_v128_load32_zero(p);
    v = wasm_v128_load64_zero(p);
    return nr == 3u ? wasm_v128_load32_lane(p + 8, v, 2) : v;
}

/* The words k of a block that are not zero in every row, in ks; their count. ReLU outputs are often zero,
 * and so are whole words of them: the tiles skip those. */
static uint32_t nonzero_words(const uint8_t *xb, uint32_t nr, uint32_t n4, uint16_t *ks)
{
    uint32_t k, n = 0;
    for (k = 0; k < n4; k++) {
        ks[n] = (uint16_t)k;
        n += (uint32_t)wasm_v128_any_true(load_block(xb + 4u * nr * k, nr));
    }
    return n;
}

/* Four outputs o0 .. o0 + 3 of the nr rows of one block, summed over the words ks[0 .. nk) (all n4 words
 * where ks is NULL): int16 pairs multiplied and each pair added (i32x4.dot). The block's word k widened
 * (x01: rows 0, 1; x23: rows 2, 3) meets the weights of two outputs (o, o + 1; eight bytes widened), and
 * again with its two rows swapped (x10, x32): lanes 0, 1 of x01 . w hold row 0 of o, lanes 2, 3 row 1 of
 * o + 1; x10 . w holds row 1 of o and row 0 of o + 1. a[4 p .. 4 p + 3] are those products of pair p. */
LGRIN_ALWAYS_INLINE void tile_sums(const uint8_t *xb, uint32_t nr, const uint16_t *ks, uint32_t nk,
                                   const int8_t *w4, uint32_t out, uint32_t o0, v128_t *a)
{
    uint32_t j, p;
    for (p = 0; p < 8u; p++) a[p] = wasm_i32x4_splat(0);
    for (j = 0; j < nk; j++) {
        const uint32_t k = ks ? ks[j] : j;
        const uint8_t *xk = xb + 4u * nr * k;
        const int8_t *wk = w4 + (size_t)k * 4u * out + 4u * o0;
        v128_t x01, x23, x10, x32;
        if (nr == 4u) { /* widened as loaded */
            x01 = wasm_i16x8_load8x8(xk);
            x23 = wasm_i16x8_load8x8(xk + 8);
        } else {
            const v128_t b = load_block(xk, nr);
            x01 = wasm_i16x8_extend_low_i8x16(b);
            x23 = wasm_i16x8_extend_high_i8x16(b);
        }
        x10 = wasm_i32x4_shuffle(x01, x01, 2, 3, 0, 1);
        x32 = wasm_i32x4_shuffle(x23, x23, 2, 3, 0, 1);
        for (p = 0; p < 2u; p++) {
            const v128_t w = wasm_i16x8_load8x8(wk + 8u * p);
            a[4u * p] = wasm_i32x4_add(a[4u * p], wasm_i32x4_dot_i16x8(x01, w));
            a[4u * p + 1u] = wasm_i32x4_add(a[4u * p + 1u], wasm_i32x4_dot_i16x8(x10, w));
            a[4u * p + 2u] = wasm_i32x4_add(a[4u * p + 2u], wasm_i32x4_dot_i16x8(x23, w));
            a[4u * p + 3u] = wasm_i32x4_add(a[4u * p + 3u], wasm_i32x4_dot_i16x8(x32, w));
        }
    }
}

/* rows r, r + 1 of outputs o, o + 1 from u = x_{r, r+1} . w and v = x_{r+1, r} . w, pairs added, plus the
 * bias: [r o, r o + 1, r + 1 o, r + 1 o + 1] */
LGRIN_ALWAYS_INLINE v128_t cells(v128_t u, v128_t v, const int32_t *bias)
{
    const v128_t a = wasm_i32x4_add(wasm_i32x4_shuffle(u, v, 0, 6, 4, 2), wasm_i32x4_shuffle(u, v, 1, 7, 5, 3));
    return wasm_i32x4_add(a, wasm_v128_load64_splat(bias));
}

/* rq() (lo = 0, the MLP's ReLU) of the cells c01 (rows 0, 1) and c23 (rows 2, 3) of outputs o, o + 1, in
 * place. f64: through float64 (every shift of the layer is at most LGRIN_F64_SHIFT); else with 64-bit
 * integers, rows side by side as rq4w wants them. */
LGRIN_ALWAYS_INLINE void rq_cells(v128_t *c01, v128_t *c23, const int32_t *m, const int32_t *s, int f64)
{
    if (f64) {
        const v128_t k = scale2(m, s);
#define RQ_ROWS(c) wasm_i32x4_shuffle(rq2f(c, k), rq2f(wasm_i32x4_shuffle(c, c, 2, 3, 2, 3), k), 0, 2, 4, 6)
        *c01 = RQ_ROWS(*c01);
        *c23 = RQ_ROWS(*c23);
#undef RQ_ROWS
    } else {
        const v128_t zero = wasm_i32x4_splat(0);
        const v128_t yo = rq4w(wasm_i32x4_shuffle(*c01, *c23, 0, 2, 4, 6), wasm_i32x4_splat(m[0]), s[0], zero);
        const v128_t yp = rq4w(wasm_i32x4_shuffle(*c01, *c23, 1, 3, 5, 7), wasm_i32x4_splat(m[1]), s[1], zero);
        *c01 = wasm_i32x4_shuffle(yo, yp, 0, 4, 1, 5);
        *c23 = wasm_i32x4_shuffle(yo, yp, 2, 6, 3, 7);
    }
}

/* Four outputs of the nr rows of one block, requantised and stored. */
LGRIN_ALWAYS_INLINE void tile_w4x4(const uint8_t *xb, uint32_t nr, const uint16_t *ks, uint32_t nk,
                                   const int8_t *w4, uint32_t out, uint32_t o0, const int32_t *bias,
                                   const int32_t *m, const int32_t *s, int f64, int8_t *y, uint32_t ldy)
{
    v128_t a[8], c0, c1, c2, c3, r;
    tile_sums(xb, nr, ks, nk, w4, out, o0, a);
    /* written out, not looped: the cells stay in registers */
    c0 = cells(a[0], a[1], bias + o0);
    c1 = cells(a[2], a[3], bias + o0);
    c2 = cells(a[4], a[5], bias + o0 + 2u);
    c3 = cells(a[6], a[7], bias + o0 + 2u);
    rq_cells(&c0, &c1, m + o0, s + o0, f64);
    rq_cells(&c2, &c3, m + o0 + 2u, s + o0 + 2u, f64);
    /* [rows 0..3 of outputs 0, 1 | of outputs 2, 3] as bytes, to [row 0: outputs 0..3 | row 1 | ...] */
    r = narrow16(c0, c1, c2, c3);
    r = wasm_i8x16_shuffle(r, r, 0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
    wasm_v128_store32_lane(y + o0, r, 0);
    if (nr > 1u) wasm_v128_store32_lane(y + ldy + o0, r, 1);
    if (nr > 2u) wasm_v128_store32_lane(y + 2u * ldy + o0, r, 2);
    if (nr > 3u) wasm_v128_store32_lane(y + 3u * ldy + o0, r, 3);
}

/* The skip list of a block goes into acc (uint16, 2 out of them) where it fits; else every word runs. The
 * full blocks and the last one are functions of their own: the block load is chosen once. */
#define W_BLOCK_LIST                                                                                       \
    const uint16_t *ks = NULL;                                                                             \
    uint32_t nk = n4, o0;                                                                                  \
    if (n4 <= 2u * out) {                                                                                  \
        nk = nonzero_words(xb, NR, n4, (uint16_t *)(void *)acc);                                           \
        ks = (const uint16_t *)(void *)acc;                                                                \
    }
#define W_BLOCK_ARGS                                                                                       \
    const uint8_t *xb, uint32_t n4, const int8_t *w4, uint32_t out, const int32_t *bias, const int32_t *m, \
        const int32_t *s, int f64, int8_t *y, uint32_t ldy, int32_t *acc
static void block_full(W_BLOCK_ARGS)
{
#define NR 4u
    W_BLOCK_LIST
    for (o0 = 0; o0 < out; o0 += 4u) tile_w4x4(xb, 4u, ks, nk, w4, out, o0, bias, m, s, f64, y, ldy);
#undef NR
}

static void block_part(uint32_t nr, W_BLOCK_ARGS)
{
#define NR nr
    W_BLOCK_LIST
    for (o0 = 0; o0 < out; o0 += 4u) tile_w4x4(xb, nr, ks, nk, w4, out, o0, bias, m, s, f64, y, ldy);
#undef NR
}
#undef W_BLOCK_LIST

/* A last block of one row, which tile_w4x4 would compute at the cost of four: lanes are outputs here,
 * the row's word k broadcast against four outputs' weights, and the per-output rq() scalar. */
static void row_w(W_BLOCK_ARGS)
{
    uint32_t o0, k, j;
    (void)ldy;
    (void)acc;
    for (o0 = 0; o0 < out; o0 += 4u) {
        v128_t a0 = wasm_i32x4_splat(0), a1 = a0;
        for (k = 0; k < n4; k++) {
            const v128_t x = wasm_i16x8_extend_low_i8x16(wasm_v128_load32_splat(xb + 4u * k));
            const v128_t w = wasm_v128_load(w4 + (size_t)k * 4u * out + 4u * o0);
            a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w), x));
            a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w), x));
        }
        a0 = wasm_i32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 2, 4, 6), wasm_i32x4_shuffle(a0, a1, 1, 3, 5, 7));
        a0 = wasm_i32x4_add(a0, wasm_v128_load(bias + o0));
        if (f64) {
            a1 = wasm_i32x4_shuffle(a0, a0, 2, 3, 2, 3);
            a0 = wasm_i32x4_shuffle(rq2f(a0, scale2(m + o0, s + o0)), rq2f(a1, scale2(m + o0 + 2, s + o0 + 2)), 0,
                                    2, 4, 6);
            wasm_v128_store32_lane(y + o0, narrow16(a0, a0, a0, a0), 0);
        } else {
            int32_t t[4];
            wasm_v128_store(t, a0);
            for (j = 0; j < 4u; j++) y[o0 + j] = (int8_t)rq(t[j], m[o0 + j], s[o0 + j], 0);
        }
    }
}
#undef W_BLOCK_ARGS

/* int8 times int8 in either sign: no offset for a signed input */
static void gemm8_simd128(const int8_t *w4, const int32_t *bias, const int32_t *m, const int32_t *s,
                          const int8_t *x, uint32_t ldx, uint32_t rows, uint32_t in, uint32_t out, int8_t *y,
                          uint32_t ldy, uint8_t *xu, int32_t *acc)
{
    const uint32_t n4 = LGRIN_ROUND_UP(in, 4u) / 4u;
    uint32_t r, o;
    int f64 = 1;
    for (o = 0; o < out; o++) f64 &= s[o] <= LGRIN_F64_SHIFT;
    interleave_rows(x, ldx, rows, in, xu);
    for (r = 0; r + 4u <= rows; r += 4u)
        block_full(xu + (size_t)r * 4u * n4, n4, w4, out, bias, m, s, f64, y + (size_t)r * ldy, ldy, acc);
    if (r + 1u == rows)
        row_w(xu + (size_t)r * 4u * n4, n4, w4, out, bias, m, s, f64, y + (size_t)r * ldy, ldy, acc);
    else if (r < rows)
        block_part(rows - r, xu + (size_t)r * 4u * n4, n4, w4, out, bias, m, s, f64, y + (size_t)r * ldy, ldy,
                   acc);
}
#endif

/* The portable loop: any out, and the vector families' fallback for widths their tiles do not cover. */
static void gemm8_portable(const int8_t *w4, const int32_t *bias, const int32_t *m, const int32_t *s,
                           const int8_t *x, uint32_t ldx, uint32_t rows, uint32_t in, uint32_t out, int8_t *y,
                           uint32_t ldy, int32_t *acc)
{
    const uint32_t in4 = LGRIN_ROUND_UP(in, 4u);
    uint32_t i, o, k;
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

LGRIN_KERNEL void lgrin_gemm8(const int8_t *w4, const int32_t *bias, const int32_t *m, const int32_t *s, const int8_t *x,
                 uint32_t ldx, int x_signed, uint32_t rows, uint32_t in, uint32_t out, int8_t *y, uint32_t ldy,
                 uint8_t *xu, int32_t *acc)
{
#if LGRIN_VNNI
    if (out % 16u == 0) {
        gemm8_vnni(w4, bias, m, s, x, ldx, x_signed, rows, in, out, y, ldy, xu, acc);
        return;
    }
#elif LGRIN_AVX2
    if (out % 8u == 0) {
        gemm8_avx2(w4, bias, m, s, x, ldx, x_signed, rows, in, out, y, ldy, xu);
        return;
    }
#elif LGRIN_NEON
    if (out % 8u == 0) {
        gemm8_neon(w4, bias, m, s, x, ldx, rows, in, out, y, ldy, xu);
        return;
    }
#elif LGRIN_SIMD128
    if (out % 4u == 0) {
        gemm8_simd128(w4, bias, m, s, x, ldx, rows, in, out, y, ldy, xu, acc);
        return;
    }
#endif
    (void)xu;
    (void)x_signed;
    gemm8_portable(w4, bias, m, s, x, ldx, rows, in, out, y, ldy, acc);
}
