/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_dense.c - float dot products: the float MLP layers and the classifier of both precisions
 * (freestanding: no libc calls). */
#include "lgrin_family.h"

/* Eight partial sums: float addition is not associative, so compilers only vectorise a reduction
 * that is already written in parallel form. */
LGRIN_KERNEL float lgrin_dotf(const float *a, const float *b, uint32_t n)
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

/* int8 weights times float inputs, eight partial sums (as the portable lgrin_dotf): the classifier of
 * int8 files computes in float from int8-stored weights, so no activation scale has to serve its
 * concatenated poolings. Every family adds in this order, so all give the same logits bit for bit: the
 * vector loops hold partial sum j in lane j (multiply, then add: no fused multiply-add). Compilers do not
 * vectorise the portable loop's int8-to-float products themselves: the scalar loop was a fifth of a
 * JapaneseVowels inference (perf), which this loop takes from 28.8 to 24.3 us with the vnni kernels. */
LGRIN_KERNEL float lgrin_dotq8f(const int8_t *q, const float *x, uint32_t n)
{
    float p[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    uint32_t k = 0, j;
#if LGRIN_VNNI || LGRIN_AVX2
    __m256 v = _mm256_setzero_ps();
    for (; k + 8u <= n; k += 8u) {
        const __m256 w = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(q + k))));
        v = _mm256_add_ps(v, _mm256_mul_ps(w, _mm256_loadu_ps(x + k)));
    }
    _mm256_storeu_ps(p, v);
#elif LGRIN_NEON
    float32x4_t lo = vdupq_n_f32(0.0f), hi = lo;
    for (; k + 8u <= n; k += 8u) {
        const int16x8_t w = vmovl_s8(vld1_s8(q + k));
        lo = vaddq_f32(lo, vmulq_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(w))), vld1q_f32(x + k)));
        hi = vaddq_f32(hi, vmulq_f32(vcvtq_f32_s32(vmovl_high_s16(w)), vld1q_f32(x + k + 4)));
    }
    vst1q_f32(p, lo);
    vst1q_f32(p + 4, hi);
#elif LGRIN_SIMD128
    v128_t lo = wasm_f32x4_splat(0.0f), hi = lo;
    for (; k + 8u <= n; k += 8u) {
        const v128_t w = wasm_i16x8_load8x8(q + k);
        v128_t wl = wasm_i32x4_extend_low_i16x8(w), wh = wasm_i32x4_extend_high_i16x8(w);
        LGRIN_OPAQUE(wl);
        LGRIN_OPAQUE(wh);
        lo = wasm_f32x4_add(lo, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wl), wasm_v128_load(x + k)));
        hi = wasm_f32x4_add(hi, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wh), wasm_v128_load(x + k + 4)));
    }
    wasm_v128_store(p, lo);
    wasm_v128_store(p + 4, hi);
#endif
    for (; k + 8u <= n; k += 8u)
        for (j = 0; j < 8u; j++) p[j] += (float)q[k + j] * x[k + j];
    for (; k < n; k++) p[0] += (float)q[k] * x[k];
    return ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]));
}

LGRIN_KERNEL void lgrin_linearf(const float *w, const float *bias, const float *x, uint32_t in, uint32_t out, float *y)
{
    uint32_t o;
    for (o = 0; o < out; o++) {
        const float v = lgrin_dotf(w + (size_t)o * in, x, in) + bias[o];
        y[o] = v > 0.0f ? v : 0.0f;
    }
}

LGRIN_KERNEL void lgrin_classify(const lgrin_model *m, const float *g, float *logits)
{
    const uint32_t n = 3u * m->F[m->L];
    uint32_t c;
    for (c = 0; c < m->C; c++) {
        if (m->cls_q)
            logits[c] = m->cls_s[c] * lgrin_dotq8f(m->cls_q + (size_t)c * n, g, n) + m->cls_b[c];
        else
            logits[c] = lgrin_dotf(m->cls_w + (size_t)c * n, g, n) + m->cls_b[c];
    }
}
