/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_family.h - what the kernel files see of the family they are compiled for (one of
 * LGRIN_FAMILY_VNNI, _AVX2, _PORTABLE, _SDOT, _NEON, _SIMD128, defined by the lgrin_family_*.c file that includes
 * kernels/lgrin_family.c). From here on every function is compiled for the family's instruction set:
 * LGRIN_TARGET_BEGIN opens a target pragma that kernels/lgrin_family.c closes. */
#ifndef LGRIN_FAMILY_H
#define LGRIN_FAMILY_H

#include "../lgrin_internal.h"

#if defined(LGRIN_FAMILY_VNNI)
#define LGRIN_FAMILY_BUILT LGRIN_HAS_VNNI
#define LGRIN_FAMILY_TARGET "avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,bmi,bmi2"
#define LGRIN_VNNI 1
#elif defined(LGRIN_FAMILY_AVX2)
#define LGRIN_FAMILY_BUILT LGRIN_HAS_AVX2
#define LGRIN_FAMILY_TARGET "avx2,fma,bmi,bmi2"
#define LGRIN_AVX2 1
#elif defined(LGRIN_FAMILY_SDOT)
#define LGRIN_FAMILY_BUILT LGRIN_HAS_SDOT
#if defined(__clang__)
#define LGRIN_FAMILY_TARGET "dotprod"
#else
#define LGRIN_FAMILY_TARGET "arch=armv8.2-a+dotprod" /* the architecture of arm_neon.h's vdotq_s32 */
#endif
#define LGRIN_NEON 1
#define LGRIN_SDOT 1
#elif defined(LGRIN_FAMILY_NEON)
#define LGRIN_FAMILY_BUILT LGRIN_HAS_NEON
#define LGRIN_NEON 1
#elif defined(LGRIN_FAMILY_SIMD128)
#define LGRIN_FAMILY_BUILT LGRIN_HAS_SIMD128 /* no target pragma: the whole build has -msimd128 */
#define LGRIN_SIMD128 1
#elif defined(LGRIN_FAMILY_PORTABLE)
#define LGRIN_FAMILY_BUILT LGRIN_HAS_PORTABLE
#else
#error "kernels are compiled through one of the lgrin_family_*.c files"
#endif
#ifndef LGRIN_VNNI
#define LGRIN_VNNI 0
#endif
#ifndef LGRIN_AVX2
#define LGRIN_AVX2 0
#endif
#ifndef LGRIN_NEON
#define LGRIN_NEON 0
#endif
#ifndef LGRIN_SDOT
#define LGRIN_SDOT 0
#endif
#ifndef LGRIN_SIMD128
#define LGRIN_SIMD128 0
#endif

#if LGRIN_FAMILY_BUILT
/* compiler intrinsics headers: no library code is linked. Included before the target pragma, so that
 * clang does not add a second target attribute to the intrinsics' own declarations. */
#if LGRIN_VNNI || LGRIN_AVX2
#include <immintrin.h>
#endif
#if LGRIN_NEON
#include <arm_neon.h>
#endif
#if LGRIN_SIMD128
#include <wasm_simd128.h>
#endif

/* _Pragma with the target string expanded first (a macro argument that is not stringised is expanded) */
#define LGRIN_PRAGMA(x) _Pragma(#x)
#if defined(LGRIN_FAMILY_TARGET) && defined(__clang__)
#define LGRIN_CLANG_TARGET(t) LGRIN_PRAGMA(clang attribute push(__attribute__((target(t))), apply_to = function))
#define LGRIN_TARGET_BEGIN LGRIN_CLANG_TARGET(LGRIN_FAMILY_TARGET)
#define LGRIN_TARGET_END LGRIN_PRAGMA(clang attribute pop)
#elif defined(LGRIN_FAMILY_TARGET) && defined(__GNUC__)
#define LGRIN_GCC_TARGET(t) LGRIN_PRAGMA(GCC target(t))
#define LGRIN_TARGET_BEGIN LGRIN_PRAGMA(GCC push_options) LGRIN_GCC_TARGET(LGRIN_FAMILY_TARGET)
#define LGRIN_TARGET_END LGRIN_PRAGMA(GCC pop_options)
#else
#define LGRIN_TARGET_BEGIN
#define LGRIN_TARGET_END
#endif
LGRIN_TARGET_BEGIN

/* Each family's kernels are private to its translation unit; the family's table exports them. */
#define LGRIN_KERNEL static
#define LGRIN_ALWAYS_INLINE static inline __attribute__((always_inline))

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

#if LGRIN_SIMD128
/* clang 14 rewrites some SIMD128 sequences into forms it then lowers lane by lane to scalar code: a splat
 * hoisted out of a loop no longer feeds a widening multiply or a shift as one instruction, and int16
 * lanes widened to int32 and converted to float become eight scalar conversions. An empty volatile asm
 * statement, which stays where it is written, hides where a value comes from. */
#define LGRIN_OPAQUE(v) __asm__ __volatile__("" : "+r"(v))
#endif

#if LGRIN_SDOT
/* a += w . x per 32-bit lane (sdot). clang before 15 declares vdotq_s32 only where the whole file targets
 * the dot product; its builtin (what the intrinsic calls, 34: int32x4) obeys the function's target. */
#if defined(__clang__) && !defined(__ARM_FEATURE_DOTPROD)
#define lgrin_sdot(a, w, x)                                                                                \
    ((int32x4_t)__builtin_neon_vdotq_v((int8x16_t)(a), (int8x16_t)(w), (int8x16_t)(x), 34))
#else
#define lgrin_sdot(a, w, x) vdotq_s32(a, w, x)
#endif
#endif
#endif /* LGRIN_FAMILY_BUILT */

#endif /* LGRIN_FAMILY_H */
