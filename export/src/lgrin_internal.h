/* lgrin_internal.h - what the runtime's source files share; not part of the public API. */
#ifndef LGRIN_INTERNAL_H
#define LGRIN_INTERNAL_H

#include "lgrin.h"

/* Kernel family, chosen at compile time (no CPU dispatch: the library is built for its target): AVX-512
 * VNNI, else AVX2 on x86-64; NEON, with sdot where available, on aarch64; else portable C.
 * -DLGRIN_PORTABLE forces the portable loops. Each kernel file holds the variants of every family. */
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
#define LGRIN_SDOT 0
#endif
#if LGRIN_VNNI || LGRIN_AVX2 || LGRIN_NEON
#define LGRIN_ALWAYS_INLINE static inline __attribute__((always_inline))
#endif

/* Shared between the runtime's files but kept out of a shared library's exported symbols. */
#if defined(__GNUC__) && !defined(_WIN32)
#define LGRIN_INTERNAL __attribute__((visibility("hidden")))
#else
#define LGRIN_INTERNAL
#endif

/* n rounded up to a multiple of a (a power of two), in n's own unsigned type whatever its width. */
#define LGRIN_ROUND_UP(n, a) (((n) + ((a) - 1u)) / (a) * (a))

/* Byte offsets of one inference's workspace (g .. size) and, past it, of the input and logits of
 * lgrin_buffer_size(): the one place this layout is written. */
typedef struct lgrin_layout {
    size_t g;        /* graph embedding, 3 F_L floats */
    size_t acc;      /* two int32 rows of F_L accumulators */
    size_t h, o, ah; /* node features, the next layer's, relu(A) @ H: M x F_L each */
    size_t xu;       /* int8: an MLP input with rows padded to four bytes */
    size_t y1;       /* the MLP's hidden layer: M rows (int8), one row (float) */
    size_t nz;       /* int8: the nonzero columns of one row of relu(A) */
    size_t size;     /* end of the workspace: lgrin_workspace_size() */
    size_t x, logits, total;
} lgrin_layout;

LGRIN_INTERNAL void lgrin_layout_of(const lgrin_model *m, lgrin_layout *w);

/* 1 if none of the n floats is NaN or infinite (exponent bits tested: no libm) */
LGRIN_INTERNAL int lgrin_all_finite(const float *x, uint64_t n);

/* "portable", "avx2", "vnni", "neon" or "sdot": the family this build runs */
LGRIN_INTERNAL const char *lgrin_kernel_family(void);

/* ---- kernels, one file each; lgrin_requant.h holds the element-level requantisation ---- */

/* lgrin_gemm8.c: Y = relu(rq(X Wq + bias)) for `rows` rows of int8 X (row stride ldx) into int8 Y (ldy).
 * x_signed: X may be negative (else it is a ReLU output). xu: rows * R4(in) bytes of scratch, acc: out
 * int32 of scratch. */
LGRIN_INTERNAL void lgrin_gemm8(const int8_t *w4, const int32_t *bias, const int32_t *m, const int32_t *s,
                                const int8_t *x, uint32_t ldx, int x_signed, uint32_t rows, uint32_t in,
                                uint32_t out, int8_t *y, uint32_t ldy, uint8_t *xu, int32_t *acc);

/* lgrin_requant.c: y[f] = rq(acc[f], m, s), clamped to -127..127, for one row sharing m and s */
LGRIN_INTERNAL void lgrin_rq_row(const int32_t *acc, int32_t m, int32_t s, uint32_t n, int8_t *y);

/* lgrin_graph.c: the graph steps, int8 and float. adj_row: acc[f] = sum_j adj[j] h[j][f] (one row of
 * relu(A) @ H; nz: M entries of scratch); maxpool_row: row[f] = max_k h[nbr[k]][f]; max_sum_pool and
 * weighted_pool: max, sum and p-weighted sum over the M nodes; pool_f: the three poolings in float. */
LGRIN_INTERNAL void lgrin_adj_row(int32_t *acc, const int8_t *adj, const int8_t *h, uint32_t M, size_t F,
                                  uint32_t *nz);
LGRIN_INTERNAL void lgrin_maxpool_row(int8_t *row, const int8_t *h, const int32_t *nbr, uint32_t K, size_t F);
LGRIN_INTERNAL void lgrin_max_sum_pool(int32_t *imax, int32_t *isum, const int8_t *h, uint32_t M, size_t F);
LGRIN_INTERNAL void lgrin_weighted_pool(float *gp, const float *p, const int8_t *h, uint32_t M, size_t F);
LGRIN_INTERNAL void lgrin_adj_row_f(float *acc, const float *adj, const float *h, uint32_t M, size_t F);
LGRIN_INTERNAL void lgrin_maxpool_row_f(float *row, const float *h, const int32_t *nbr, uint32_t K, size_t F);
LGRIN_INTERNAL void lgrin_pool_f(float *g, const float *p, const float *h, uint32_t M, size_t F);

/* lgrin_dense.c: float dot products, a float MLP layer y = relu(W x + b), the classifier of both
 * precisions on the graph embedding g (3 F_L floats) */
LGRIN_INTERNAL float lgrin_dotf(const float *a, const float *b, uint32_t n);
LGRIN_INTERNAL float lgrin_dotq8f(const int8_t *q, const float *x, uint32_t n);
LGRIN_INTERNAL void lgrin_linearf(const float *w, const float *bias, const float *x, uint32_t in, uint32_t out,
                                  float *y);
LGRIN_INTERNAL void lgrin_classify(const lgrin_model *m, const float *g, float *logits);

#if LGRIN_VNNI
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

LGRIN_ALWAYS_INLINE __m512i load16x8(const int8_t *p, __mmask16 k) /* 16 int8 widened to int32 */
{
    return _mm512_cvtepi8_epi32(_mm512_castsi512_si128(_mm512_maskz_loadu_epi8((__mmask64)k, p)));
}
#endif

#endif /* LGRIN_INTERNAL_H */
