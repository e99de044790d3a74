/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_requant.h - requantisation of int32 accumulators to int8, one element (portable) and a register
 * of them (each vector family), inlined into the kernels that end in it (GEMM tiles, lgrin_rq_row). */
#ifndef LGRIN_REQUANT_H
#define LGRIN_REQUANT_H

#include "lgrin_family.h"

/* round(acc * m * 2^-s), halves away from zero, clamped to lo..127; unsigned shifts avoid
 * implementation-defined behaviour of >> on negative numbers. |acc| < 2^31 and m < 2^31 keep the product
 * below 2^62. */
static inline int32_t rq(int32_t acc, int32_t m, int32_t s, int32_t lo)
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
#endif

#if LGRIN_AVX2
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
#endif

#if LGRIN_SIMD128
/* rq() on four lanes sharing m and s, clamped to lo..127 (lo > -128): SIMD128 shifts every lane by one
 * count, so callers put values of one requantisation side by side. |acc| m is a product of unsigned
 * 32-bit lanes (i32x4.abs leaves INT32_MIN as 2^31 unsigned), the sign comes from acc alone (the loader
 * allows no negative m), and a nonzero upper half saturates the low one. */
LGRIN_ALWAYS_INLINE v128_t rq4w(v128_t acc, v128_t mv, int32_t s, v128_t lo)
{
    const v128_t a = wasm_i32x4_abs(acc), half = wasm_i64x2_splat((int64_t)1 << (s - 1));
    uint32_t sh = (uint32_t)s;
    v128_t pl, ph, big, u, neg;
    LGRIN_OPAQUE(mv);
    LGRIN_OPAQUE(sh);
    pl = wasm_u64x2_shr(wasm_i64x2_add(wasm_u64x2_extmul_low_u32x4(a, mv), half), sh);
    ph = wasm_u64x2_shr(wasm_i64x2_add(wasm_u64x2_extmul_high_u32x4(a, mv), half), sh);
    big = wasm_i32x4_ne(wasm_i32x4_shuffle(pl, ph, 1, 3, 5, 7), wasm_i32x4_splat(0));
    u = wasm_u32x4_min(wasm_v128_or(wasm_i32x4_shuffle(pl, ph, 0, 2, 4, 6), big), wasm_i32x4_splat(127));
    neg = wasm_i32x4_lt(acc, wasm_i32x4_splat(0));
    return wasm_i32x4_max(wasm_i32x4_sub(wasm_v128_xor(u, neg), neg), lo);
}

/* rq() through float64, where that is exact: for shifts up to LGRIN_F64_SHIFT, acc m 2^-s has at most 53
 * significant bits wherever it is below 2^8 (an |acc m| of 2^53 or more lands at or beyond 2^8, where the
 * result saturates whichever way the product rounds), and so does that plus or minus one half below 2^7.
 * m 2^-s itself is exact (m < 2^31). Two lanes of float64 per vector against four of 64-bit integers,
 * but no shared shift: each lane has its own scale. */
#define LGRIN_F64_SHIFT 45

/* m 2^-s of two requantisations (m and s: two int32 each) as float64 */
LGRIN_ALWAYS_INLINE v128_t scale2(const int32_t *m, const int32_t *s)
{
    const v128_t e = wasm_i64x2_shl(wasm_i64x2_sub(wasm_i64x2_splat(1023), wasm_i64x2_load32x2(s)), 52);
    return wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_v128_load64_zero(m)), e);
}

/* rq() with lo = 0 of the int32 lanes 0 and 1 of acc at scales k (scale2): floor(acc k + 1/2) clamped to
 * 0..127, as an int32 in the low half of each 64-bit lane (the integer, plus 2^52, read as its mantissa). */
LGRIN_ALWAYS_INLINE v128_t rq2f(v128_t acc, v128_t k)
{
    v128_t v = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(acc), k), wasm_f64x2_splat(0.5));
    v = wasm_f64x2_pmin(wasm_f64x2_pmax(v, wasm_f64x2_splat(0.0)), wasm_f64x2_splat(127.0));
    return wasm_f64x2_add(wasm_f64x2_floor(v), wasm_f64x2_splat(4503599627370496.0));
}

/* sixteen int32 lanes already within -128..127 as int8, in order */
LGRIN_ALWAYS_INLINE v128_t narrow16(v128_t r0, v128_t r1, v128_t r2, v128_t r3)
{
    return wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r0, r1), wasm_i16x8_narrow_i32x4(r2, r3));
}
#endif

#endif /* LGRIN_REQUANT_H */
