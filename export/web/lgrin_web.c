/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/*
 * lgrin_web.c - the WebAssembly module's exports (lgrin.js calls them): the runtime (lgrin.h) and the live
 * stream (lgrin_stream.h) behind handles the module allocates with wasi-libc's malloc, so the page's
 * JavaScript passes only pointers and numbers. Every exported name is marked here with LGW_EXPORT and
 * nowhere else. The module imports nothing: no WASI call is reachable (lgrin_edge/web/build.py checks).
 * JavaScript is single-threaded, so the last status and spec field live in two statics.
 */
#include <stdlib.h>
#include <string.h>

#include "lgrin.h"
#include "lgrin_stream.h"

#define LGW_EXPORT(name) __attribute__((export_name(#name))) /* clang: a WebAssembly export */
#define LGW_E_MEMORY (-100) /* not a runtime or stream status: malloc found no memory to grow into */

static int last_status;
static char last_field[sizeof(((lgrin_stream_config *)0)->field)];

typedef struct lgw_model {
    lgrin_model model;
    void *bytes; /* the model file: the loaded model points into it */
    void *workspace;
    size_t workspace_len;
} lgw_model;

typedef struct lgw_stream {
    lgrin_stream_config config;
    void *state;
    size_t state_len;
    lgrin_stream_decision *out; /* the decisions of the last push or flush */
    size_t room;
} lgw_stream;

static int fail(int status)
{
    last_status = status;
    return status;
}

/* ---- memory, statuses ---- */

LGW_EXPORT(lgw_alloc) void *lgw_alloc(size_t n) { return malloc(n ? n : 1u); }
LGW_EXPORT(lgw_free) void lgw_free(void *p) { free(p); }
/* 1 where the module was built for the SIMD128 proposal (-msimd128): its build name */
LGW_EXPORT(lgw_simd128) int lgw_simd128(void)
{
#if defined(__wasm_simd128__)
    return 1;
#else
    return 0;
#endif
}
LGW_EXPORT(lgw_status) int lgw_status(void) { return last_status; }
LGW_EXPORT(lgw_field) const char *lgw_field(void) { return last_field; }
LGW_EXPORT(lgw_strerror) const char *lgw_strerror(int status)
{
    return status == LGW_E_MEMORY ? "out of memory: the WebAssembly memory cannot grow" : lgrin_strerror(status);
}
LGW_EXPORT(lgw_stream_strerror) const char *lgw_stream_strerror(int status)
{
    return status == LGW_E_MEMORY ? lgw_strerror(status) : lgrin_stream_strerror(status);
}
LGW_EXPORT(lgw_kernel_families) const char *lgw_kernel_families(void) { return lgrin_kernel_families(); }

/* ---- the model ---- */

/* Load the model file at bytes (len bytes from lgw_alloc): the handle owns them from this call on, freeing
 * them on failure too. NULL on failure, lgw_status() then says why. */
LGW_EXPORT(lgw_model_open) lgw_model *lgw_model_open(void *bytes, size_t len)
{
    lgw_model *m = calloc(1u, sizeof *m);
    int rc;
    if (!m) {
        free(bytes);
        fail(LGW_E_MEMORY);
        return NULL;
    }
    m->bytes = bytes;
    rc = lgrin_load(&m->model, bytes, len);
    if (rc == LGRIN_OK) {
        m->workspace_len = lgrin_workspace_size(&m->model);
        m->workspace = malloc(m->workspace_len ? m->workspace_len : 1u);
        if (!m->workspace) rc = LGW_E_MEMORY;
    }
    if (rc != LGRIN_OK) {
        free(m->bytes);
        free(m);
        fail(rc);
        return NULL;
    }
    last_status = LGRIN_OK;
    return m;
}

LGW_EXPORT(lgw_model_free) void lgw_model_free(lgw_model *m)
{
    if (!m) return;
    free(m->workspace);
    free(m->bytes);
    free(m);
}

LGW_EXPORT(lgw_num_nodes) uint32_t lgw_num_nodes(const lgw_model *m) { return lgrin_num_nodes(&m->model); }
LGW_EXPORT(lgw_num_features) uint32_t lgw_num_features(const lgw_model *m)
{
    return lgrin_num_features(&m->model);
}
LGW_EXPORT(lgw_num_classes) uint32_t lgw_num_classes(const lgw_model *m) { return lgrin_num_classes(&m->model); }
LGW_EXPORT(lgw_precision) uint32_t lgw_precision(const lgw_model *m) { return lgrin_precision(&m->model); }
LGW_EXPORT(lgw_kernel_name) const char *lgw_kernel_name(const lgw_model *m)
{
    return lgrin_kernel_name(&m->model);
}
LGW_EXPORT(lgw_use_kernels) int lgw_use_kernels(lgw_model *m, const char *name)
{
    return fail(lgrin_use_kernels(&m->model, name));
}
/* The feature spec's JSON (NUL-terminated) or NULL; lgw_spec_len gives its bytes without the NUL. */
LGW_EXPORT(lgw_spec) const char *lgw_spec(const lgw_model *m) { return lgrin_feature_spec(&m->model, NULL); }
LGW_EXPORT(lgw_spec_len) size_t lgw_spec_len(const lgw_model *m)
{
    size_t len = 0;
    lgrin_feature_spec(&m->model, &len);
    return len;
}

/* n inferences: x n x M x P floats, logits n x C floats; a runtime status. */
LGW_EXPORT(lgw_run) int lgw_run(const lgw_model *m, const float *x, size_t n, float *logits)
{
    return fail(lgrin_run_batch(&m->model, m->workspace, m->workspace_len, x, n, logits));
}

/* ---- the live stream ---- */

/* The stream the model's spec gives for PCM at input_rate (0: the spec's rate), with the caller's window
 * and hop (seconds) and smoothing (decisions) where they are not 0. NULL on failure: lgw_status() is a
 * stream status and lgw_field() the spec field at fault ("" for none). */
LGW_EXPORT(lgw_stream_open)
lgw_stream *lgw_stream_open(const lgw_model *m, uint32_t input_rate, double window_s, double hop_s,
                            uint32_t smoothing)
{
    lgw_stream *s = calloc(1u, sizeof *s);
    int rc;
    last_field[0] = '\0';
    if (!s) return fail(LGW_E_MEMORY), (lgw_stream *)NULL;
    rc = lgrin_stream_config_from_model(&m->model, input_rate, &s->config);
    if (rc == LGRIN_STREAM_OK && (window_s > 0.0 || hop_s > 0.0 || smoothing > 0u))
        rc = lgrin_stream_config_set(&s->config, window_s, hop_s, smoothing);
    if (rc == LGRIN_STREAM_OK) {
        s->state_len = lgrin_stream_state_size(&m->model, &s->config);
        s->state = malloc(s->state_len ? s->state_len : 1u); /* malloc's blocks are 8-byte aligned */
        rc = s->state ? lgrin_stream_init(s->state, s->state_len, &m->model, &s->config) : LGW_E_MEMORY;
    }
    if (rc != LGRIN_STREAM_OK) {
        memcpy(last_field, s->config.field, sizeof last_field);
        last_field[sizeof last_field - 1u] = '\0';
        free(s->state);
        free(s);
        return fail(rc), (lgw_stream *)NULL;
    }
    last_status = LGRIN_STREAM_OK;
    return s;
}

LGW_EXPORT(lgw_stream_free) void lgw_stream_free(lgw_stream *s)
{
    if (!s) return;
    free(s->out);
    free(s->state);
    free(s);
}

LGW_EXPORT(lgw_stream_kind) uint32_t lgw_stream_kind(const lgw_stream *s) { return s->config.kind; }
LGW_EXPORT(lgw_stream_mode) uint32_t lgw_stream_mode(const lgw_stream *s) { return s->config.mode; }
LGW_EXPORT(lgw_stream_window) uint32_t lgw_stream_window(const lgw_stream *s) { return s->config.window; }
LGW_EXPORT(lgw_stream_hop) uint32_t lgw_stream_hop(const lgw_stream *s) { return s->config.hop; }
LGW_EXPORT(lgw_stream_smoothing) uint32_t lgw_stream_smoothing(const lgw_stream *s)
{
    return s->config.smoothing;
}
LGW_EXPORT(lgw_stream_frame_rate) double lgw_stream_frame_rate(const lgw_stream *s)
{
    return s->config.frame_rate;
}
LGW_EXPORT(lgw_stream_channels) uint32_t lgw_stream_channels(const lgw_stream *s)
{
    return s->config.num_features;
}

/* Room for `room` decisions in s->out; 0 or LGW_E_MEMORY. */
static int make_room(lgw_stream *s, size_t room)
{
    lgrin_stream_decision *out;
    if (room <= s->room && s->out) return 0;
    out = realloc(s->out, (room ? room : 1u) * sizeof *out);
    if (!out) return LGW_E_MEMORY;
    s->out = out;
    s->room = room ? room : 1u;
    return 0;
}

/* The pushes and the flush: the number of decisions made (read at lgw_stream_decisions), or a negative
 * stream status. */
LGW_EXPORT(lgw_stream_push_f32) ptrdiff_t lgw_stream_push_f32(lgw_stream *s, const float *pcm, size_t n)
{
    if (make_room(s, lgrin_stream_max_decisions(s->state, n))) return fail(LGW_E_MEMORY);
    return lgrin_stream_push_f32(s->state, pcm, n, s->out, s->room);
}

LGW_EXPORT(lgw_stream_push_i16) ptrdiff_t lgw_stream_push_i16(lgw_stream *s, const int16_t *pcm, size_t n)
{
    if (make_room(s, lgrin_stream_max_decisions(s->state, n))) return fail(LGW_E_MEMORY);
    return lgrin_stream_push_i16(s->state, pcm, n, s->out, s->room);
}

/* time: n seconds, non-decreasing; values: n x channels floats */
LGW_EXPORT(lgw_stream_push_motion)
ptrdiff_t lgw_stream_push_motion(lgw_stream *s, const double *time, const float *values, size_t n)
{
    ptrdiff_t room = lgrin_stream_max_decisions_motion(s->state, time, n);
    if (room < 0) return room;
    if (make_room(s, (size_t)room)) return fail(LGW_E_MEMORY);
    return lgrin_stream_push_motion(s->state, time, values, n, s->out, s->room);
}

LGW_EXPORT(lgw_stream_push_frames)
ptrdiff_t lgw_stream_push_frames(lgw_stream *s, const float *frames, size_t n)
{
    if (make_room(s, n + 1u)) return fail(LGW_E_MEMORY);
    return lgrin_stream_push_frames(s->state, frames, n, s->out, s->room);
}

LGW_EXPORT(lgw_stream_flush) ptrdiff_t lgw_stream_flush(lgw_stream *s)
{
    size_t room = lgrin_stream_max_decisions(s->state, 0u);
    if (make_room(s, room ? room : 1u)) return fail(LGW_E_MEMORY); /* motion: 0 here, the end rule's 1 */
    return lgrin_stream_flush(s->state, s->out, s->room);
}

LGW_EXPORT(lgw_stream_reset) int lgw_stream_reset(lgw_stream *s) { return lgrin_stream_reset(s->state); }
LGW_EXPORT(lgw_stream_decisions) const lgrin_stream_decision *lgw_stream_decisions(const lgw_stream *s)
{
    return s->out;
}

/* struct lgrin_stream_decision's layout, so lgrin.js reads the decisions without restating it: its size,
 * then the byte offsets of time_s, label, smoothed, probability and smoothed_probability. */
LGW_EXPORT(lgw_decision_layout) const uint32_t *lgw_decision_layout(void)
{
    static const uint32_t layout[] = {
        sizeof(lgrin_stream_decision),
        offsetof(lgrin_stream_decision, time_s),
        offsetof(lgrin_stream_decision, label),
        offsetof(lgrin_stream_decision, smoothed),
        offsetof(lgrin_stream_decision, probability),
        offsetof(lgrin_stream_decision, smoothed_probability),
    };
    return layout;
}
