/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_family_vnni.c - the kernels for x86-64 CPUs with AVX-512 F/BW/DQ/VL and VNNI (Intel Ice Lake,
 * Sapphire Rapids; AMD Zen 4 and later). */
#define LGRIN_FAMILY_VNNI 1
#include "kernels/lgrin_family.c"
