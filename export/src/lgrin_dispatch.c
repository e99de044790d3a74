/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_dispatch.c - which kernel family runs: the best one this build holds that the CPU reports
 * (x86-64: CPUID and XGETBV; aarch64: NEON always, the dot product from the ID register that Linux
 * exposes; WebAssembly: SIMD128 wherever the module holds it), or one the caller names (freestanding: no
 * libc calls). */
#include "lgrin_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(LGRIN_SINGLE_FAMILY)
#include <cpuid.h> /* compiler header: inline assembly, no library code */

/* XCR0, the register states the OS saves on a context switch (bit 1 SSE, 2 AVX, 5-7 AVX-512). xgetbv is
 * written as bytes: an assembler for the baseline CPU need not know the mnemonic. */
static uint64_t xcr0(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0u));
    return ((uint64_t)hi << 32) | lo;
}

/* 2: AVX-512 VNNI family, 1: AVX2 family, 0: neither (CPU or OS lacks a part of it) */
static int x86_level(void)
{
    unsigned a, b, c, d, b7, c7;
    uint64_t x;
    int level = 0;
    if (!__get_cpuid(1u, &a, &b, &c, &d)) return 0;
    /* FMA (bit 12), OSXSAVE (27: XGETBV usable), AVX (28) */
    if ((c & (1u << 12)) == 0 || (c & (1u << 27)) == 0 || (c & (1u << 28)) == 0) return 0;
    if (!__get_cpuid_count(7u, 0u, &a, &b7, &c7, &d)) return 0;
    x = xcr0();
    /* AVX2 (EBX bit 5), BMI1 (3), BMI2 (8); the OS saves the YMM state */
    if ((b7 & (1u << 5)) && (b7 & (1u << 3)) && (b7 & (1u << 8)) && (x & 0x6u) == 0x6u) level = 1;
    /* AVX-512 F (16), DQ (17), BW (30), VL (31), VNNI (ECX bit 11); the OS saves the ZMM and mask state */
    if (level && (b7 & (1u << 16)) && (b7 & (1u << 17)) && (b7 & (1u << 30)) && (b7 & (1u << 31)) &&
        (c7 & (1u << 11)) && (x & 0xe6u) == 0xe6u)
        level = 2;
    return level;
}
#endif

#if defined(__aarch64__) && !defined(LGRIN_SINGLE_FAMILY)
/* The Armv8.2 dot product: known at compile time where the build targets it; otherwise read from
 * ID_AA64ISAR0_EL1 (field DP, bits 44-47), which Linux (4.11 and later) emulates for user space. Builds
 * for other systems, or for older kernels (-DLGRIN_NO_ID_REGS), run the NEON kernels. */
static int arm_dotprod(void)
{
#if defined(__ARM_FEATURE_DOTPROD)
    return 1;
#elif defined(__linux__) && !defined(LGRIN_NO_ID_REGS)
    uint64_t isar0;
    __asm__ __volatile__("mrs %0, ID_AA64ISAR0_EL1" : "=r"(isar0));
    return ((isar0 >> 44) & 0xfu) >= 1u;
#else
    return 0;
#endif
}
#endif

/* The families this build holds, best first. */
static const lgrin_kernels *const families[] = {
#if LGRIN_HAS_SIMD128
    &lgrin_kernels_simd128,
#endif
#if LGRIN_HAS_VNNI
    &lgrin_kernels_vnni,
#endif
#if LGRIN_HAS_AVX2
    &lgrin_kernels_avx2,
#endif
#if LGRIN_HAS_SDOT
    &lgrin_kernels_sdot,
#endif
#if LGRIN_HAS_NEON
    &lgrin_kernels_neon,
#endif
#if LGRIN_HAS_PORTABLE
    &lgrin_kernels_portable,
#endif
};
#define N_FAMILIES (sizeof families / sizeof families[0])

static int same(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* whether this CPU runs family k (a single-family build targets its CPU: it runs there by definition) */
static int cpu_runs(const lgrin_kernels *k)
{
#if defined(LGRIN_SINGLE_FAMILY)
    (void)k;
    return 1;
#else
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (same(k->name, "vnni")) return x86_level() >= 2;
    if (same(k->name, "avx2")) return x86_level() >= 1;
#endif
#if defined(__aarch64__)
    if (same(k->name, "sdot")) return arm_dotprod();
#endif
    (void)k; /* elsewhere every family of the build runs (wasm: the module validated) */
    return 1;
#endif
}

const lgrin_kernels *lgrin_best_kernels(void)
{
    size_t i;
    for (i = 0; i + 1u < N_FAMILIES; i++)
        if (cpu_runs(families[i])) return families[i];
    return families[N_FAMILIES - 1u]; /* the baseline family of the architecture */
}

const lgrin_kernels *lgrin_kernels_named(const char *name)
{
    size_t i;
    for (i = 0; name && i < N_FAMILIES; i++)
        if (same(families[i]->name, name)) return cpu_runs(families[i]) ? families[i] : (const lgrin_kernels *)0;
    return (const lgrin_kernels *)0;
}

const char *lgrin_kernel_name(const lgrin_model *m) { return m && m->kernels ? m->kernels->name : (const char *)0; }

int lgrin_use_kernels(lgrin_model *m, const char *name)
{
    const lgrin_kernels *k = lgrin_kernels_named(name);
    if (!m || !name) return LGRIN_E_ARG;
    if (!k) return LGRIN_E_KERNEL;
    m->kernels = k;
    return LGRIN_OK;
}

const char *lgrin_kernel_families(void)
{
    /* string literals in the order of families[], each after a space; the first space is skipped */
    static const char list[] = ""
#if LGRIN_HAS_SIMD128
                               " simd128"
#endif
#if LGRIN_HAS_VNNI
                               " vnni"
#endif
#if LGRIN_HAS_AVX2
                               " avx2"
#endif
#if LGRIN_HAS_SDOT
                               " sdot"
#endif
#if LGRIN_HAS_NEON
                               " neon"
#endif
#if LGRIN_HAS_PORTABLE
                               " portable"
#endif
        ;
    return list + 1;
}
