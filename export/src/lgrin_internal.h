/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_internal.h - what the runtime's source files share; not part of the public API. */
#ifndef LGRIN_INTERNAL_H
#define LGRIN_INTERNAL_H

#include "lgrin.h"

/* Shared between the runtime's files but kept out of a shared library's exported symbols. */
#if defined(__GNUC__) && !defined(_WIN32)
#define LGRIN_INTERNAL __attribute__((visibility("hidden")))
#else
#define LGRIN_INTERNAL
#endif

/* Which kernel families this build holds (lgrin_family_*.c). By default every family of the target
 * architecture, each compiled for its own instruction set through target pragmas (the build's flags stay
 * those of the baseline CPU) and chosen at lgrin_load from what the CPU reports. With -DLGRIN_SINGLE_FAMILY
 * only the best family the compiler flags themselves target is built (microcontrollers, a known CPU);
 * -DLGRIN_PORTABLE with it builds the portable loops alone. */
#if defined(LGRIN_SINGLE_FAMILY) || !(defined(__GNUC__) || defined(__clang__))
#if defined(LGRIN_PORTABLE)
#define LGRIN_HAS_PORTABLE 1
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__) &&      \
    defined(__AVX512VNNI__) && defined(__AVX2__) && defined(__FMA__) && defined(__BMI2__)
#define LGRIN_HAS_VNNI 1
#elif defined(__AVX2__) && defined(__FMA__) && defined(__BMI2__)
#define LGRIN_HAS_AVX2 1
#elif defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
#define LGRIN_HAS_SDOT 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
#define LGRIN_HAS_NEON 1
#elif defined(__wasm_simd128__)
#define LGRIN_HAS_SIMD128 1
#else
#define LGRIN_HAS_PORTABLE 1
#endif
#elif defined(__x86_64__)
#define LGRIN_HAS_VNNI 1
#define LGRIN_HAS_AVX2 1
#define LGRIN_HAS_PORTABLE 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
#define LGRIN_HAS_SDOT 1
#define LGRIN_HAS_NEON 1
#elif defined(__wasm_simd128__)
/* WebAssembly has no feature detection inside a module: a build with -msimd128 (lgrin_simd128.wasm)
 * only instantiates where the engine runs SIMD128, and holds the portable loops as well, to compare */
#define LGRIN_HAS_SIMD128 1
#define LGRIN_HAS_PORTABLE 1
#else
#define LGRIN_HAS_PORTABLE 1
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

/* ---- kernels: one table per kernel family (lgrin_family_*.c), chosen at lgrin_load (lgrin_dispatch.c) ----
 * Every family computes the same int8 activations and int8-model logits, bit for bit; float dot products
 * (fp32 files) sum in the family's own order. */
typedef struct lgrin_kernels {
    const char *name; /* "vnni", "avx2", "portable", "sdot", "neon" or "simd128" */
    /* Y = relu(rq(X Wq + bias)) for `rows` rows of int8 X (row stride ldx) into int8 Y (ldy). x_signed: X
     * may be negative (else it is a ReLU output). xu: rows * R4(in) bytes of scratch, acc: out int32. */
    void (*gemm8)(const int8_t *w4, const int32_t *bias, const int32_t *m, const int32_t *s, const int8_t *x,
                  uint32_t ldx, int x_signed, uint32_t rows, uint32_t in, uint32_t out, int8_t *y, uint32_t ldy,
                  uint8_t *xu, int32_t *acc);
    /* y[f] = rq(acc[f], m, s), clamped to -127..127, for one row sharing m and s */
    void (*rq_row)(const int32_t *acc, int32_t m, int32_t s, uint32_t n, int8_t *y);
    /* acc[f] = sum_j adj[j] h[j][f] (one row of relu(A) @ H; nz: M entries of scratch) */
    void (*adj_row)(int32_t *acc, const int8_t *adj, const int8_t *h, uint32_t M, size_t F, uint32_t *nz);
    /* row[f] = max_k h[nbr[k]][f] */
    void (*maxpool_row)(int8_t *row, const int8_t *h, const int32_t *nbr, uint32_t K, size_t F);
    /* max and sum over the M nodes (int32), p-weighted sum (float) */
    void (*max_sum_pool)(int32_t *imax, int32_t *isum, const int8_t *h, uint32_t M, size_t F);
    void (*weighted_pool)(float *gp, const float *p, const int8_t *h, uint32_t M, size_t F);
    /* the float graph steps and the three poolings in float */
    void (*adj_row_f)(float *acc, const float *adj, const float *h, uint32_t M, size_t F);
    void (*maxpool_row_f)(float *row, const float *h, const int32_t *nbr, uint32_t K, size_t F);
    void (*pool_f)(float *g, const float *p, const float *h, uint32_t M, size_t F);
    /* float dot products, a float MLP layer y = relu(W x + b), the classifier of both precisions */
    float (*dotf)(const float *a, const float *b, uint32_t n);
    float (*dotq8f)(const int8_t *q, const float *x, uint32_t n);
    void (*linearf)(const float *w, const float *bias, const float *x, uint32_t in, uint32_t out, float *y);
    void (*classify)(const lgrin_model *m, const float *g, float *logits);
} lgrin_kernels;

/* The family tables this build holds (lgrin_family_*.c: a table is defined where its family is built). */
extern LGRIN_INTERNAL const lgrin_kernels lgrin_kernels_vnni, lgrin_kernels_avx2, lgrin_kernels_portable,
    lgrin_kernels_sdot, lgrin_kernels_neon, lgrin_kernels_simd128;

/* lgrin_dispatch.c: the best family this CPU runs (set by lgrin_load), a family by name (NULL where it is
 * not built or this CPU cannot run it). */
LGRIN_INTERNAL const lgrin_kernels *lgrin_best_kernels(void);
LGRIN_INTERNAL const lgrin_kernels *lgrin_kernels_named(const char *name);

#endif /* LGRIN_INTERNAL_H */
