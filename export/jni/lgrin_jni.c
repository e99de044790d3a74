/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_jni.c - JNI bridge for org.lgrin.edge.LGrinNative.
 *
 * Memory lives in two direct ByteBuffers owned by the Java object, so this file calls no libc function
 * and the Android build can be linked with -nostdlib:
 *   store: [lgrin_model][model file bytes]          (allocated from nativeStoreSize)
 *   work:  [runtime workspace][input M*P][logits C] (lgrin_buffer_size, returned by nativeLoad)
 * Both are aligned here by rounding their addresses up; the sizes include that slack. */
#include "lgrin_jni.h"

static size_t model_bytes(void) { return (size_t)up16(lgrin_model_struct_size()); }

JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinNative_nativeStoreSize(JNIEnv *env, jclass cls, jint len)
{
    (void)env;
    (void)cls;
    if (len < 0 || (size_t)len > (size_t)0x7fffffff - model_bytes() - SLACK) return -1;
    return (jint)(SLACK + model_bytes() + (size_t)len);
}

/* Copies the model into store and validates it. Returns the work buffer size, or a negative status. */
JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinNative_nativeLoad(JNIEnv *env, jclass cls, jobject store,
                                                                  jbyteArray model)
{
    lgrin_model *m = model_of(env, store);
    uint8_t *bytes;
    jsize len;
    size_t work;
    int rc;
    (void)cls;
    if (!m || !model) return LGRIN_E_ARG;
    len = (*env)->GetArrayLength(env, model);
    if ((jlong)(*env)->GetDirectBufferCapacity(env, store) < (jlong)SLACK + (jlong)model_bytes() + len)
        return LGRIN_E_ARG;
    bytes = (uint8_t *)m + model_bytes();
    (*env)->GetByteArrayRegion(env, model, 0, len, (jbyte *)bytes);
    rc = lgrin_load(m, bytes, (size_t)len);
    if (rc != LGRIN_OK) return rc;
    work = SLACK + lgrin_buffer_size(m, (size_t *)0, (size_t *)0);
    return work > 0x7fffffffu ? LGRIN_E_ARG : (jint)work;
}

JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinNative_nativeDim(JNIEnv *env, jclass cls, jobject store, jint which)
{
    const lgrin_model *m = model_of(env, store);
    (void)cls;
    if (!m) return -1;
    switch (which) {
    case 0: return (jint)lgrin_num_nodes(m);
    case 1: return (jint)lgrin_num_features(m);
    case 2: return (jint)lgrin_num_classes(m);
    default: return (jint)lgrin_precision(m);
    }
}

/* Runs one input (length M*P, checked by the Java side) into out (length C). Returns a status code;
 * LGRIN_E_INPUT (NaN or infinity: the caller's mistake) also throws IllegalArgumentException with the
 * runtime's text, so that the Java side restates no status code. */
JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinNative_nativeRun(JNIEnv *env, jclass cls, jobject store,
                                                                 jobject work, jfloatArray input,
                                                                 jfloatArray out, jboolean probabilities)
{
    const lgrin_model *m = model_of(env, store);
    void *w = work ? (*env)->GetDirectBufferAddress(env, work) : (void *)0;
    size_t x_at, y_at, total;
    uint8_t *ws;
    float *x, *y;
    int rc;
    (void)cls;
    if (!m || !w || !input || !out) return LGRIN_E_ARG;
    total = lgrin_buffer_size(m, &x_at, &y_at);
    if ((jlong)(*env)->GetDirectBufferCapacity(env, work) < (jlong)(SLACK + total)) return LGRIN_E_WORKSPACE;
    ws = align16(w);
    x = (float *)(ws + x_at);
    y = (float *)(ws + y_at);
    (*env)->GetFloatArrayRegion(env, input, 0, (jsize)(m->M * m->P), x);
    rc = lgrin_run(m, ws, x_at, x, y);
    if (rc == LGRIN_E_INPUT) throw_illegal_argument(env, lgrin_strerror(LGRIN_E_INPUT));
    if (rc != LGRIN_OK) return rc;
    if (probabilities) lgrin_softmax(y, m->C, y);
    (*env)->SetFloatArrayRegion(env, out, 0, (jsize)m->C, y);
    return LGRIN_OK;
}

/* The feature spec's UTF-8 bytes (decoded on the Java side: JNI strings are modified UTF-8), or null. */
JNIEXPORT jbyteArray JNICALL Java_org_lgrin_edge_LGrinNative_nativeFeatureSpec(JNIEnv *env, jclass cls,
                                                                             jobject store)
{
    size_t n = 0;
    const char *spec = lgrin_feature_spec(model_of(env, store), &n);
    jbyteArray out;
    (void)cls;
    if (!spec) return (jbyteArray)0;
    out = (*env)->NewByteArray(env, (jsize)n);
    if (out) (*env)->SetByteArrayRegion(env, out, 0, (jsize)n, (const jbyte *)spec);
    return out;
}

JNIEXPORT jstring JNICALL Java_org_lgrin_edge_LGrinNative_nativeErrorString(JNIEnv *env, jclass cls, jint code)
{
    (void)cls;
    return (*env)->NewStringUTF(env, lgrin_strerror(code));
}
