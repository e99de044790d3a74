/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_jni_stream.c - JNI bridge for org.lgrin.edge.LGrinStream (lgrin_stream.h).
 *
 * Memory lives in direct ByteBuffers owned by the Java object; nothing here allocates:
 *   state:     the stream (lgrin_stream_state_size, from nativeConfigure), aligned here (SLACK)
 *   decisions: room for the decisions of one push (nativeDecisionBytes each), grown by Java from the
 *              bound nativeBound gives before the push
 * The model is LGrinNative's store buffer, which the Java object keeps referenced for the stream's life.
 * The stream's config is made from the model's feature spec on the C stack at each of nativeConfigure and
 * nativeInit (the same inputs give the same config). Inputs are read in place (GetPrimitiveArrayCritical:
 * a push runs the model and calls nothing of the JVM), and the decisions are copied out after. */
#include "lgrin_jni.h"

#include "../src/lgrin_json.h" /* the class names, read as lgrin_live reads them */
#include "lgrin_stream.h"

#define MAX_CLASS_NAME 256
#define MAX_MESSAGE 192

/* What nativePush does (LGrinStream's PUSH_* constants). */
enum push_kind { PUSH_I16 = 0, PUSH_F32 = 1, PUSH_MOTION = 2, PUSH_FRAMES = 3, PUSH_FLUSH = 4 };

static void *state_of(JNIEnv *env, jobject state)
{
    void *p = state ? (*env)->GetDirectBufferAddress(env, state) : (void *)0;
    return p ? (void *)align16(p) : (void *)0;
}

/* Appends text to buf at *at (cap bytes, NUL kept). */
static void append(char *buf, size_t cap, size_t *at, const char *text)
{
    while (*text && *at + 1 < cap) buf[(*at)++] = *text++;
    buf[*at] = '\0';
}

/* A stream status as an exception: IllegalStateException for a stream that takes no more input,
 * IllegalArgumentException (the status text, and the spec field at fault where there is one) otherwise. */
static void throw_status(JNIEnv *env, int rc, const char *field)
{
    char message[MAX_MESSAGE];
    size_t at = 0;
    jclass cls;
    append(message, sizeof message, &at, lgrin_stream_strerror(rc));
    if (field && field[0]) {
        append(message, sizeof message, &at, " (");
        append(message, sizeof message, &at, field);
        append(message, sizeof message, &at, ")");
    }
    if (rc != LGRIN_STREAM_E_STATE) {
        throw_illegal_argument(env, message);
        return;
    }
    cls = (*env)->FindClass(env, "java/lang/IllegalStateException");
    if (cls) (*env)->ThrowNew(env, cls, message);
}

/* The config of this model, input rate and overrides; a status (thrown) on failure. */
static int configure(JNIEnv *env, jobject store, jint rate, jdouble window_s, jdouble hop_s, jint smoothing,
                     lgrin_stream_config *cfg)
{
    const lgrin_model *m = model_of(env, store);
    int rc;
    cfg->field[0] = '\0';
    if (!m || rate < 0 || smoothing < 0 || !(window_s >= 0.0) || !(hop_s >= 0.0)) {
        rc = LGRIN_STREAM_E_ARG;
    } else {
        rc = lgrin_stream_config_from_model(m, (uint32_t)rate, cfg);
        if (rc == LGRIN_STREAM_OK) rc = lgrin_stream_config_set(cfg, window_s, hop_s, (uint32_t)smoothing);
    }
    if (rc != LGRIN_STREAM_OK) throw_status(env, rc, cfg->field);
    return rc;
}

/* Fills info with kind, W, H, S, P, C, the input rate, the frame rate and the state bytes (without
 * SLACK). Returns 0, or a status after throwing. */
JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinStream_nativeConfigure(JNIEnv *env, jclass cls, jobject store,
                                                                       jint rate, jdouble window_s, jdouble hop_s,
                                                                       jint smoothing, jdoubleArray info)
{
    lgrin_stream_config cfg;
    jdouble v[9];
    size_t bytes;
    int rc = configure(env, store, rate, window_s, hop_s, smoothing, &cfg);
    (void)cls;
    if (rc != LGRIN_STREAM_OK) return rc;
    bytes = lgrin_stream_state_size(model_of(env, store), &cfg);
    if (!bytes || bytes > 0x7fffffffu - SLACK) {
        throw_status(env, LGRIN_STREAM_E_ARG, "");
        return LGRIN_STREAM_E_ARG;
    }
    v[0] = cfg.kind, v[1] = cfg.window, v[2] = cfg.hop, v[3] = cfg.smoothing, v[4] = cfg.num_features;
    v[5] = cfg.num_classes, v[6] = cfg.input_rate, v[7] = cfg.frame_rate, v[8] = (jdouble)bytes;
    (*env)->SetDoubleArrayRegion(env, info, 0, 9, v);
    return LGRIN_STREAM_OK;
}

/* Starts the stream in state (nativeConfigure's bytes plus SLACK). Returns 0, or a status after throwing. */
JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinStream_nativeInit(JNIEnv *env, jclass cls, jobject store,
                                                                  jobject state, jint rate, jdouble window_s,
                                                                  jdouble hop_s, jint smoothing)
{
    lgrin_stream_config cfg;
    void *s = state_of(env, state);
    jlong capacity = state ? (*env)->GetDirectBufferCapacity(env, state) : 0;
    int rc = configure(env, store, rate, window_s, hop_s, smoothing, &cfg);
    (void)cls;
    if (rc != LGRIN_STREAM_OK) return rc;
    rc = s && capacity > (jlong)SLACK
             ? lgrin_stream_init(s, (size_t)(capacity - SLACK), model_of(env, store), &cfg)
             : LGRIN_STREAM_E_ARG;
    if (rc != LGRIN_STREAM_OK) throw_status(env, rc, "");
    return rc;
}

JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinStream_nativeDecisionBytes(JNIEnv *env, jclass cls)
{
    (void)env;
    (void)cls;
    return (jint)sizeof(lgrin_stream_decision);
}

/* The most decisions a push of n samples or frames (and the flush after it) makes; at least 1, which
 * also covers a motion stream's flush. */
JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinStream_nativeBound(JNIEnv *env, jclass cls, jobject state,
                                                                   jint n)
{
    size_t b = lgrin_stream_max_decisions(state_of(env, state), n < 0 ? 0u : (size_t)n);
    (void)cls;
    return b < 1 ? 1 : b > 0x7fffffffu ? 0x7fffffff : (jint)b;
}

/* The most decisions a push of these motion samples makes; a status after throwing. */
JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinStream_nativeBoundMotion(JNIEnv *env, jclass cls, jobject state,
                                                                         jdoubleArray time)
{
    const void *s = state_of(env, state);
    jsize n = time ? (*env)->GetArrayLength(env, time) : 0;
    double *t = n ? (double *)(*env)->GetPrimitiveArrayCritical(env, time, (jboolean *)0) : (double *)0;
    ptrdiff_t b;
    (void)cls;
    if (n && !t) return LGRIN_STREAM_E_ARG; /* the JVM threw */
    b = lgrin_stream_max_decisions_motion(s, t, (size_t)n);
    if (t) (*env)->ReleasePrimitiveArrayCritical(env, time, t, JNI_ABORT);
    if (b < 0) throw_status(env, (int)b, "");
    return b < 0 ? (jint)b : b > 0x7fffffff ? 0x7fffffff : (jint)b;
}

/* One push (or the flush) with the inputs in place: n samples, motion samples or frames. */
static ptrdiff_t push(void *s, jint kind, const void *data, const double *time, size_t n,
                      lgrin_stream_decision *out, size_t room)
{
    switch (kind) {
    case PUSH_I16: return lgrin_stream_push_i16(s, (const int16_t *)data, n, out, room);
    case PUSH_F32: return lgrin_stream_push_f32(s, (const float *)data, n, out, room);
    case PUSH_MOTION: return lgrin_stream_push_motion(s, time, (const float *)data, n, out, room);
    case PUSH_FRAMES: return lgrin_stream_push_frames(s, (const float *)data, n, out, room);
    default: return lgrin_stream_flush(s, out, room);
    }
}

/* Decision i into the Java arrays: times[i]; labels[2i], labels[2i+1] (label, smoothed); probs likewise. */
static void copy_out(JNIEnv *env, const lgrin_stream_decision *d, jsize i, jdoubleArray times, jintArray labels,
                     jfloatArray probs)
{
    jint l[2];
    jfloat p[2];
    l[0] = (jint)d->label, l[1] = (jint)d->smoothed;
    p[0] = d->probability, p[1] = d->smoothed_probability;
    (*env)->SetDoubleArrayRegion(env, times, i, 1, &d->time_s);
    (*env)->SetIntArrayRegion(env, labels, 2 * i, 2, l);
    (*env)->SetFloatArrayRegion(env, probs, 2 * i, 2, p);
}

/* Pushes n items of data (kind: PUSH_*; time for motion) and copies the decisions into times, labels and
 * probs (room for nativeBound's count). Returns the number of decisions, or a status after throwing. */
JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinStream_nativePush(JNIEnv *env, jclass cls, jobject state,
                                                                  jobject decisions, jint kind, jarray data,
                                                                  jdoubleArray time, jint n, jdoubleArray times,
                                                                  jintArray labels, jfloatArray probs)
{
    void *s = state_of(env, state);
    void *room_at = decisions ? (*env)->GetDirectBufferAddress(env, decisions) : (void *)0;
    jlong capacity = room_at ? (*env)->GetDirectBufferCapacity(env, decisions) : 0;
    lgrin_stream_decision *out = (lgrin_stream_decision *)align16(room_at);
    size_t room = capacity > (jlong)SLACK ? (size_t)(capacity - SLACK) / sizeof *out : 0;
    void *x = (void *)0, *t = (void *)0;
    ptrdiff_t made;
    jsize i, cap = times ? (*env)->GetArrayLength(env, times) : 0;
    (void)cls;
    if (room > (size_t)cap) room = (size_t)cap; /* no more than the Java arrays hold */
    if (n > 0 && data && !(x = (*env)->GetPrimitiveArrayCritical(env, data, (jboolean *)0))) return LGRIN_STREAM_E_ARG;
    if (n > 0 && time && !(t = (*env)->GetPrimitiveArrayCritical(env, time, (jboolean *)0))) {
        if (x) (*env)->ReleasePrimitiveArrayCritical(env, data, x, JNI_ABORT);
        return LGRIN_STREAM_E_ARG;
    }
    made = s && room_at ? push(s, kind, x, (const double *)t, n < 0 ? 0u : (size_t)n, out, room) : LGRIN_STREAM_E_ARG;
    if (t) (*env)->ReleasePrimitiveArrayCritical(env, time, t, JNI_ABORT);
    if (x) (*env)->ReleasePrimitiveArrayCritical(env, data, x, JNI_ABORT);
    if (made < 0) {
        throw_status(env, (int)made, "");
        return (jint)made;
    }
    for (i = 0; i < (jsize)made; i++) copy_out(env, &out[i], i, times, labels, probs);
    return (jint)made;
}

/* The last decision's probabilities (smoothed: their mean over the last S) into out; false before the
 * first decision. */
JNIEXPORT jboolean JNICALL Java_org_lgrin_edge_LGrinStream_nativeProbabilities(JNIEnv *env, jclass cls,
                                                                               jobject state, jboolean smoothed,
                                                                               jfloatArray out)
{
    const void *s = state_of(env, state);
    const float *p = smoothed ? lgrin_stream_smoothed(s) : lgrin_stream_probabilities(s);
    (void)cls;
    if (!p) return JNI_FALSE;
    (*env)->SetFloatArrayRegion(env, out, 0, (*env)->GetArrayLength(env, out), p);
    return JNI_TRUE;
}

/* Frames so far (which 0) or decisions so far (which 1). */
JNIEXPORT jlong JNICALL Java_org_lgrin_edge_LGrinStream_nativeCount(JNIEnv *env, jclass cls, jobject state,
                                                                    jint which)
{
    const void *s = state_of(env, state);
    (void)cls;
    return (jlong)(which ? lgrin_stream_decisions_made(s) : lgrin_stream_frames_seen(s));
}

JNIEXPORT jint JNICALL Java_org_lgrin_edge_LGrinStream_nativeReset(JNIEnv *env, jclass cls, jobject state)
{
    int rc = lgrin_stream_reset(state_of(env, state));
    (void)cls;
    if (rc != LGRIN_STREAM_OK) throw_status(env, rc, "");
    return rc;
}

/* Class i's name (UTF-8; decoded on the Java side: JNI strings are modified UTF-8) from the feature spec's
 * "classes", or null where the spec names none (the Java side then uses the index). */
JNIEXPORT jbyteArray JNICALL Java_org_lgrin_edge_LGrinStream_nativeClassName(JNIEnv *env, jclass cls,
                                                                             jobject store, jint index)
{
    char name[MAX_CLASS_NAME];
    size_t n = 0, pos = 0, len = 0;
    const char *spec = lgrin_feature_spec(model_of(env, store), &n);
    lgrin_json root, classes, key, item;
    jint j = 0;
    jbyteArray out;
    (void)cls;
    if (!spec || lgrin_json_parse(spec, n, &root) != LGRIN_JSON_OK ||
        lgrin_json_member(root, "classes", &classes) != LGRIN_JSON_OK)
        return (jbyteArray)0;
    while (lgrin_json_next(classes, &pos, &key, &item) == 1)
        if (j++ == index) {
            if (lgrin_json_string(item, name, sizeof name, &len) != LGRIN_JSON_OK) return (jbyteArray)0;
            out = (*env)->NewByteArray(env, (jsize)len);
            if (out) (*env)->SetByteArrayRegion(env, out, 0, (jsize)len, (const jbyte *)name);
            return out;
        }
    return (jbyteArray)0;
}
