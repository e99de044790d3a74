/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_jni.h - what the JNI bridge's files share: direct buffers are aligned here by rounding their
 * addresses up (the Java side allocates SLACK bytes more than it needs), and the model lives at the start
 * of LGrinNative's store buffer. Static inline: no symbol of the shared library beyond the JNI methods. */
#ifndef LGRIN_JNI_H
#define LGRIN_JNI_H

#include <jni.h>

#include "lgrin.h"

#define SLACK 16u

static inline uintptr_t up16(uintptr_t n) { return (n + (SLACK - 1u)) / SLACK * SLACK; }

static inline uint8_t *align16(void *p) { return (uint8_t *)up16((uintptr_t)p); }

/* The model inside LGrinNative's store buffer, or NULL for a missing buffer. */
static inline lgrin_model *model_of(JNIEnv *env, jobject store)
{
    void *p = store ? (*env)->GetDirectBufferAddress(env, store) : (void *)0;
    return p ? (lgrin_model *)align16(p) : (lgrin_model *)0;
}

/* Throws IllegalArgumentException(text) unless FindClass already threw. */
static inline void throw_illegal_argument(JNIEnv *env, const char *text)
{
    jclass cls = (*env)->FindClass(env, "java/lang/IllegalArgumentException");
    if (cls) (*env)->ThrowNew(env, cls, text);
}

#endif /* LGRIN_JNI_H */
