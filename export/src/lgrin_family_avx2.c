/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_family_avx2.c - the kernels for x86-64 CPUs with AVX2, FMA and BMI2 (Intel Haswell, AMD Zen and later). */
#define LGRIN_FAMILY_AVX2 1
#include "kernels/lgrin_family.c"
