/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_family_portable.c - the kernels for any CPU: plain C loops, which compilers vectorise for the build's baseline. */
#define LGRIN_FAMILY_PORTABLE 1
#include "kernels/lgrin_family.c"
