/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_family_neon.c - the kernels for every aarch64 CPU (NEON). */
#define LGRIN_FAMILY_NEON 1
#include "kernels/lgrin_family.c"
