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
    for (f = 0; f < F; f++) gp[f] = 0.0f;
    for (i = 0; i < M; i++)
        for (f = 0; f < F; f++) gp[f] += p[i] * (float)h[(size_t)i * F + f];
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
