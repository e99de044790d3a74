/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_graph.c - the graph steps: one row of relu(A) @ H, the 1-hop maxpool of one node, and the three
 * graph poolings, int8 and float (freestanding: no libc calls).
 *
 * With AVX-512 the int8 steps use masked loads and stores (the tail of a row never touches memory past
 * it), so short rows vectorise too and -O2 builds, which gcc does not auto-vectorise, run as fast as -O3
 * ones. */
#include "lgrin_family.h"

#if LGRIN_VNNI
/* lanes16 for the 16 lanes that start `skip` elements into `left` remaining ones */
LGRIN_ALWAYS_INLINE __mmask16 lanes16_after(size_t left, size_t skip)
{
    return left > skip ? lanes16(left - skip) : 0;
}
#endif

#if LGRIN_AVX2
LGRIN_ALWAYS_INLINE __m256i load8x8(const int8_t *p) /* 8 int8 widened to int32 */
{
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
}
#endif

#if LGRIN_SIMD128
/* the first w (4, 8 or 16) bytes at p, zeros after */
LGRIN_ALWAYS_INLINE v128_t load_w(const void *p, uint32_t w)
{
    return w == 4u ? wasm_v128_load32_zero(p) : w == 8u ? wasm_v128_load64_zero(p) : wasm_v128_load(p);
}

/* Features f0 .. f0 + w - 1 (w = 4, 8 or 16) of one row of relu(A) @ H, two nonzero columns j, k at a
 * time: their bytes interleaved and widened to int16, so that i32x4.dot adds a_j h_j[f] + a_k h_k[f] in
 * lane f (an odd last column meets itself with weight 0). */
LGRIN_ALWAYS_INLINE void adj_cols(int32_t *acc, const int8_t *adj, const int8_t *h, size_t F, const uint32_t *nz,
                                  uint32_t n, size_t f0, uint32_t w)
{
    v128_t s0 = wasm_i32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
    uint32_t t;
    for (t = 0; t < n; t += 2u) {
        const uint32_t j = nz[t], k = t + 1u < n ? nz[t + 1u] : j;
        const uint32_t ak = t + 1u < n ? (uint16_t)adj[k] : 0u;
        const v128_t a = wasm_i32x4_splat((int32_t)((uint16_t)adj[j] | ak << 16));
        const v128_t u = load_w(h + (size_t)j * F + f0, w), v = load_w(h + (size_t)k * F + f0, w);
        const v128_t z = wasm_i8x16_shuffle(u, v, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        s0 = wasm_i32x4_add(s0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(z), a));
        if (w > 4u) s1 = wasm_i32x4_add(s1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(z), a));
        if (w > 8u) {
            const v128_t zh = wasm_i8x16_shuffle(u, v, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            s2 = wasm_i32x4_add(s2, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(zh), a));
            s3 = wasm_i32x4_add(s3, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(zh), a));
        }
    }
    wasm_v128_store(acc + f0, s0);
    if (w > 4u) wasm_v128_store(acc + f0 + 4, s1);
    if (w > 8u) {
        wasm_v128_store(acc + f0 + 8, s2);
        wasm_v128_store(acc + f0 + 12, s3);
    }
}

/* row[f] = max_k h[nbr[k]][f] for the w (4, 8 or 16) features from f0, in one register */
LGRIN_ALWAYS_INLINE void max_cols(int8_t *row, const int8_t *h, const int32_t *nbr, uint32_t K, size_t F, size_t f0,
                                  uint32_t w)
{
    v128_t r = load_w(h + (size_t)nbr[0] * F + f0, w);
    uint32_t k;
    for (k = 1; k < K; k++) r = wasm_i8x16_max(r, load_w(h + (size_t)nbr[k] * F + f0, w));
    if (w == 16u)
        wasm_v128_store(row + f0, r);
    else if (w == 8u)
        wasm_v128_store64_lane(row + f0, r, 0);
    else
        wasm_v128_store32_lane(row + f0, r, 0);
}
#endif

/* relu(A) is often sparse, so the nonzero columns are listed first (in nz). */
LGRIN_KERNEL void lgrin_adj_row(int32_t *restrict acc, const int8_t *adj, const int8_t *restrict h, uint32_t M, size_t F,
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
#elif LGRIN_SIMD128
    for (; f0 + 16u <= F; f0 += 16u) adj_cols(acc, adj, h, F, nz, n, f0, 16u);
    if (f0 + 8u <= F) adj_cols(acc, adj, h, F, nz, n, f0, 8u), f0 += 8u;
    if (f0 + 4u <= F) adj_cols(acc, adj, h, F, nz, n, f0, 4u), f0 += 4u;
#endif
    for (f = f0; f < F; f++) acc[f] = 0;
    for (t = 0; t < n; t++) {
        const int32_t a = adj[nz[t]];
        const int8_t *restrict hj = h + (size_t)nz[t] * F;
        for (f = f0; f < F; f++) acc[f] += a * hj[f];
    }
#endif
}

/* The float row skips the zero entries in place: its workspace has no room for the list. */
LGRIN_KERNEL void lgrin_adj_row_f(float *restrict acc, const float *adj, const float *restrict h, uint32_t M, size_t F)
{
    uint32_t j;
    size_t f;
    for (f = 0; f < F; f++) acc[f] = 0.0f;
    for (j = 0; j < M; j++) {
        const float a = adj[j];
        const float *restrict hj = h + (size_t)j * F;
        if (a == 0.0f) continue;
        for (f = 0; f < F; f++) acc[f] += a * hj[f];
    }
}

LGRIN_KERNEL void lgrin_maxpool_row(int8_t *restrict row, const int8_t *restrict h, const int32_t *nbr, uint32_t K, size_t F)
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
#elif LGRIN_SIMD128
    for (; f0 + 16u <= F; f0 += 16u) max_cols(row, h, nbr, K, F, f0, 16u);
    if (f0 + 8u <= F) max_cols(row, h, nbr, K, F, f0, 8u), f0 += 8u;
    if (f0 + 4u <= F) max_cols(row, h, nbr, K, F, f0, 4u), f0 += 4u;
#endif
    for (f = f0; f < F; f++) row[f] = h[(size_t)nbr[0] * F + f];
    for (k = 1; k < K; k++) {
        const int8_t *restrict hk = h + (size_t)nbr[k] * F;
        for (f = f0; f < F; f++) row[f] = hk[f] > row[f] ? hk[f] : row[f];
    }
#endif
}

LGRIN_KERNEL void lgrin_maxpool_row_f(float *restrict row, const float *restrict h, const int32_t *nbr, uint32_t K, size_t F)
{
    uint32_t k;
    size_t f;
    for (f = 0; f < F; f++) row[f] = h[(size_t)nbr[0] * F + f];
    for (k = 1; k < K; k++) {
        const float *restrict hk = h + (size_t)nbr[k] * F;
        for (f = 0; f < F; f++) row[f] = hk[f] > row[f] ? hk[f] : row[f];
    }
}

/* exact in int32 */
LGRIN_KERNEL void lgrin_max_sum_pool(int32_t *restrict imax, int32_t *restrict isum, const int8_t *restrict h, uint32_t M,
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

/* in float, nodes in order (each lane sums in the scalar order) */
LGRIN_KERNEL void lgrin_weighted_pool(float *restrict gp, const float *p, const int8_t *restrict h, uint32_t M, size_t F)
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
    size_t f0 = 0;
#if LGRIN_SIMD128
    for (; f0 + 4u <= F; f0 += 4u) { /* four features in a register over all nodes; the tail below */
        v128_t v = wasm_f32x4_splat(0.0f);
        for (i = 0; i < M; i++) {
            v128_t x = wasm_i32x4_extend_low_i16x8(wasm_i16x8_extend_low_i8x16(load_w(h + (size_t)i * F + f0, 4u)));
            LGRIN_OPAQUE(x); /* keeps the conversion one instruction */
            v = wasm_f32x4_add(v, wasm_f32x4_mul(wasm_f32x4_splat(p[i]), wasm_f32x4_convert_i32x4(x)));
        }
        wasm_v128_store(gp + f0, v);
    }
#endif
    for (f = f0; f < F; f++) gp[f] = 0.0f;
    for (i = 0; i < M; i++)
        for (f = f0; f < F; f++) gp[f] += p[i] * (float)h[(size_t)i * F + f];
#endif
}

/* g = [max over nodes | p-weighted sum | mean over nodes], F each, summed in node order */
LGRIN_KERNEL void lgrin_pool_f(float *g, const float *p, const float *h, uint32_t M, size_t F)
{
    uint32_t i;
    size_t f;
    for (f = 0; f < F; f++) {
        g[f] = h[f];
        g[F + f] = 0.0f;
        g[2u * F + f] = 0.0f;
    }
    for (i = 0; i < M; i++) {
        const float *hi = h + (size_t)i * F;
        for (f = 0; f < F; f++) {
            g[f] = hi[f] > g[f] ? hi[f] : g[f];
            g[F + f] += p[i] * hi[f];
            g[2u * F + f] += hi[f];
        }
    }
    for (f = 0; f < F; f++) g[2u * F + f] /= (float)M;
}
