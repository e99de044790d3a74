/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_family_simd128.c - the kernels for WebAssembly engines with SIMD128 (builds with -msimd128: every
 * current browser and node); empty elsewhere. */
#define LGRIN_FAMILY_SIMD128 1
#include "kernels/lgrin_family.c"
