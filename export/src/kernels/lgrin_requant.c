/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_requant.c - requantisation of one row of relu(A) @ H accumulators (freestanding: no libc calls). */
#include "lgrin_requant.h"

LGRIN_KERNEL void lgrin_rq_row(const int32_t *acc, int32_t m, int32_t s, uint32_t n, int8_t *y)
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
#elif LGRIN_SIMD128
    const v128_t mv = wasm_i32x4_splat(m), lo = wasm_i32x4_splat(-127);
#define RQ(i) rq4w(wasm_v128_load(acc + f + 4 * (i)), mv, s, lo)
    for (; f + 16u <= n; f += 16u) wasm_v128_store(y + f, narrow16(RQ(0), RQ(1), RQ(2), RQ(3)));
    for (; f + 4u <= n; f += 4u) wasm_v128_store32_lane(y + f, narrow16(RQ(0), lo, lo, lo), 0);
#undef RQ
#endif
    for (; f < n; f++) y[f] = (int8_t)rq(acc[f], m, s, -127); /* the portable loop, and the vector tail */
}
