/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_family_sdot.c - the kernels for aarch64 CPUs with the Armv8.2 dot product (sdot: Cortex-A55/A75 and later, Apple M1). */
#define LGRIN_FAMILY_SDOT 1
#include "kernels/lgrin_family.c"
