/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_family.c - one kernel family's translation unit: every kernel compiled for the family's
 * instruction set, and the family's table (lgrin_kernels_<family>), which lgrin_load chooses from. Not
 * compiled on its own: each lgrin_family_*.c file defines its family and includes this file. */
#include "lgrin_family.h"

#if LGRIN_FAMILY_BUILT
#include "lgrin_requant.c"
#include "lgrin_gemm8.c"
#include "lgrin_graph.c"
#include "lgrin_dense.c"

#if LGRIN_SIMD128
#define LGRIN_FAMILY_NAME "simd128"
#define LGRIN_FAMILY_TABLE lgrin_kernels_simd128
#elif LGRIN_VNNI
#define LGRIN_FAMILY_NAME "vnni"
#define LGRIN_FAMILY_TABLE lgrin_kernels_vnni
#elif LGRIN_AVX2
#define LGRIN_FAMILY_NAME "avx2"
#define LGRIN_FAMILY_TABLE lgrin_kernels_avx2
#elif LGRIN_SDOT
#define LGRIN_FAMILY_NAME "sdot"
#define LGRIN_FAMILY_TABLE lgrin_kernels_sdot
#elif LGRIN_NEON
#define LGRIN_FAMILY_NAME "neon"
#define LGRIN_FAMILY_TABLE lgrin_kernels_neon
#else
#define LGRIN_FAMILY_NAME "portable"
#define LGRIN_FAMILY_TABLE lgrin_kernels_portable
#endif

LGRIN_INTERNAL const lgrin_kernels LGRIN_FAMILY_TABLE = {
    LGRIN_FAMILY_NAME, lgrin_gemm8,     lgrin_rq_row,  lgrin_adj_row,       lgrin_maxpool_row,
    lgrin_max_sum_pool, lgrin_weighted_pool, lgrin_adj_row_f, lgrin_maxpool_row_f, lgrin_pool_f,
    lgrin_dotf,         lgrin_dotq8f,   lgrin_linearf, lgrin_classify,
};
LGRIN_TARGET_END
#else
typedef int lgrin_family_not_built; /* ISO C: a translation unit declares something */
#endif
