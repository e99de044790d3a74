/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/*
 * lgrin_input.c - a model's input on the device (lgrin_input.h). Each function computes what its Python
 * definition computes, operation for operation in double: lgrin_edge/frontend/motion.py (Stream),
 * lgrin_edge/features/face.py (video_landmarks), lgrin_edge/data/graph.py (sequence_to_graphs).
 * No allocation and no library calls; structures are filled field by field, since a struct copy can
 * become a memcpy call that a freestanding build lacks.
 */
#include "lgrin_input.h"

#define MO_MAGIC 0x4f4d474cu /* "LGMO" */
#define MO_MAX_SPAN 4503599627370496.0 /* 2^52: (time - start) x frame_rate stays below it */

typedef struct mo_state {
    uint32_t magic, started;
    lgrin_motion_spec spec;
    double t0;     /* the start: frame k covers [t0 + k / rate, t0 + (k + 1) / rate) */
    double prev_u; /* the newest sample's time minus t0 */
    uint64_t k;    /* the frame being accumulated */
    uint32_t newest; /* x[newest]: the newest sample, mapped; the next one is mapped into the other row
                        (no copying: a copy loop may become a memcpy call) */
    double x[2][LGRIN_MOTION_MAX_CHANNELS];
    double acc[LGRIN_MOTION_MAX_CHANNELS];    /* integral of the curve from frame k's start to prev_u */
} mo_state;

/* C99 has no static_assert: a negative array size stops the build instead */
typedef char mo_state_fits[sizeof(mo_state) <= LGRIN_MOTION_STATE_BYTES ? 1 : -1];

static int is_finite(double v) { return v - v == 0.0; }

const char *lgrin_input_strerror(int status)
{
    switch (status) {
    case LGRIN_IN_OK: return "ok";
    case LGRIN_IN_E_ARG: return "invalid argument or motion spec";
    case LGRIN_IN_E_SPACE: return "state smaller than lgrin_motion_state_size()";
    case LGRIN_IN_E_ALIGN: return "state not 8-byte aligned";
    case LGRIN_IN_E_INPUT: return "input contains NaN or infinity, a timestamp going back, or one too far from the start";
    case LGRIN_IN_E_GAP: return "two samples further apart than max_gap";
    case LGRIN_IN_E_OUTPUT: return "output room below lgrin_motion_max_frames()";
    case LGRIN_IN_E_STATE: return "state not initialised";
    default: return "unknown status";
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Motion */

void lgrin_motion_default_spec(lgrin_motion_spec *spec)
{
    uint32_t c;
    if (!spec)
        return;
    spec->frame_rate = 10.0;
    spec->max_gap = 0.5;
    spec->start = 0.0;
    spec->has_start = 0;
    spec->in_channels = 6;
    spec->channels = 6;
    for (c = 0; c < LGRIN_MOTION_MAX_CHANNELS; c++) {
        spec->map[c].source = c < 6 ? c : 0;
        spec->map[c].sign = 1;
        spec->map[c].scale = 1.0;
    }
}

int lgrin_motion_check(const lgrin_motion_spec *s)
{
    uint32_t c;
    if (!s || !(s->frame_rate > 0.0 && s->frame_rate <= LGRIN_MOTION_MAX_RATE))
        return LGRIN_IN_E_ARG;
    if (!(s->max_gap >= 0.0 && is_finite(s->max_gap)) || (s->has_start && !is_finite(s->start)))
        return LGRIN_IN_E_ARG;
    if (s->in_channels < 1 || s->in_channels > LGRIN_MOTION_MAX_CHANNELS || s->channels < 1 ||
        s->channels > LGRIN_MOTION_MAX_CHANNELS)
        return LGRIN_IN_E_ARG;
    for (c = 0; c < s->channels; c++)
        if (s->map[c].source >= s->in_channels || (s->map[c].sign != 1 && s->map[c].sign != -1) ||
            !(s->map[c].scale > 0.0 && s->map[c].scale <= LGRIN_MOTION_MAX_SCALE))
            return LGRIN_IN_E_ARG;
    return LGRIN_IN_OK;
}

size_t lgrin_motion_state_size(void) { return sizeof(mo_state); }

int lgrin_motion_reset(void *state)
{
    mo_state *st = (mo_state *)state;
    uint32_t c;
    if (!st || st->magic != MO_MAGIC)
        return LGRIN_IN_E_STATE;
    st->started = 0;
    st->t0 = st->spec.has_start ? st->spec.start : 0.0;
    st->prev_u = 0.0;
    st->k = 0;
    st->newest = 0;
    for (c = 0; c < LGRIN_MOTION_MAX_CHANNELS; c++)
        st->x[0][c] = st->x[1][c] = st->acc[c] = 0.0;
    return LGRIN_IN_OK;
}

int lgrin_motion_init(void *state, size_t size, const lgrin_motion_spec *spec)
{
    mo_state *st = (mo_state *)state;
    uint32_t c;
    int rc;
    if (!st || !spec)
        return LGRIN_IN_E_ARG;
    if ((uintptr_t)state & 7u)
        return LGRIN_IN_E_ALIGN;
    if ((rc = lgrin_motion_check(spec)) != LGRIN_IN_OK)
        return rc;
    if (size < sizeof(mo_state))
        return LGRIN_IN_E_SPACE;
    st->spec.frame_rate = spec->frame_rate;
    st->spec.max_gap = spec->max_gap;
    st->spec.start = spec->start;
    st->spec.has_start = spec->has_start;
    st->spec.in_channels = spec->in_channels;
    st->spec.channels = spec->channels;
    for (c = 0; c < LGRIN_MOTION_MAX_CHANNELS; c++) {
        st->spec.map[c].source = spec->map[c].source;
        st->spec.map[c].sign = spec->map[c].sign;
        st->spec.map[c].scale = spec->map[c].scale;
    }
    st->magic = MO_MAGIC;
    return lgrin_motion_reset(st);
}

uint32_t lgrin_motion_width(const void *state)
{
    const mo_state *st = (const mo_state *)state;
    return st && st->magic == MO_MAGIC ? st->spec.channels : 0;
}

/* Start of frame k, relative to t0: k / rate, one division (motion.py: _edge). */
static double edge(uint64_t k, double rate) { return (double)k / rate; }

/* How many frames have ended by relative time u: the number of j >= 1 with edge(j) <= u. The estimate
 * u x rate is off by at most one either way; the loops settle it on the same comparison push makes. */
static uint64_t ended_by(double u, double rate)
{
    uint64_t j;
    if (!(u > 0.0))
        return 0;
    j = (uint64_t)(u * rate);
    while (j > 0 && edge(j, rate) > u)
        j--;
    while (edge(j + 1, rate) <= u)
        j++;
    return j;
}

/* The chunk's start t0 (the first sample's time unless the spec fixes it). */
static double chunk_t0(const mo_state *st, const double *time)
{
    return st->started || st->spec.has_start ? st->t0 : time[0];
}

static int check_times(const mo_state *st, const double *time, size_t n)
{
    double t0, prev;
    size_t i;
    if (!n)
        return LGRIN_IN_OK;
    t0 = chunk_t0(st, time);
    prev = st->prev_u;
    for (i = 0; i < n; i++) {
        double u = time[i] - t0;
        if (!is_finite(time[i]) || !is_finite(u) || !(u * st->spec.frame_rate < MO_MAX_SPAN) ||
            !(u * st->spec.frame_rate > -MO_MAX_SPAN))
            return LGRIN_IN_E_INPUT;
        if (i == 0 && !st->started)
            prev = u < 0.0 ? u : 0.0; /* the curve is held at the first value back to the start */
        if (u < prev)
            return LGRIN_IN_E_INPUT;
        if (st->spec.max_gap > 0.0 && u - prev > st->spec.max_gap)
            return LGRIN_IN_E_GAP;
        prev = u;
    }
    return LGRIN_IN_OK;
}

ptrdiff_t lgrin_motion_max_frames(const void *state, const double *time, size_t n)
{
    const mo_state *st = (const mo_state *)state;
    uint64_t ended;
    int rc;
    if (!st || st->magic != MO_MAGIC)
        return LGRIN_IN_E_STATE;
    if (n && !time)
        return LGRIN_IN_E_ARG;
    if ((rc = check_times(st, time, n)) != LGRIN_IN_OK)
        return rc;
    if (!n)
        return 0;
    ended = ended_by(time[n - 1] - chunk_t0(st, time), st->spec.frame_rate);
    if (ended > st->k && ended - st->k > (uint64_t)PTRDIFF_MAX) /* a 32-bit target's count overflows */
        return LGRIN_IN_E_INPUT;
    return ended > st->k ? (ptrdiff_t)(ended - st->k) : 0;
}

/* Sample i of the chunk in the model's channels: sign x (scale x value). */
static void map_sample(const lgrin_motion_spec *s, const float *row, double *x)
{
    uint32_t c;
    for (c = 0; c < s->channels; c++) {
        double v = (double)row[s->map[c].source] * s->map[c].scale;
        x[c] = s->map[c].sign < 0 ? -v : v;
    }
}

/* Add the integral of the segment (u0, x0) -> (u1, x1) over [a, e] (u0 <= a < e <= u1) to acc: the
 * trapezoid of the curve's values at a and e, each x0 + (x1 - x0) f with f = (t - u0) / (u1 - u0), and
 * exactly x1 at u1. */
static void add_piece(mo_state *st, double u1, const double *x1, double a, double e)
{
    const double *x0 = st->x[st->newest];
    double fa = (a - st->prev_u) / (u1 - st->prev_u), fe = (e - st->prev_u) / (u1 - st->prev_u);
    double w = (e - a) * 0.5;
    uint32_t c;
    for (c = 0; c < st->spec.channels; c++) {
        double d = x1[c] - x0[c];
        double va = x0[c] + d * fa, ve = e == u1 ? x1[c] : x0[c] + d * fe;
        st->acc[c] = st->acc[c] + w * (va + ve);
    }
}

/* The segment from the newest sample to (u1, x1), x1 the other row of st->x: completes every frame that
 * ends by u1; (u1, x1) becomes the newest sample. */
static void add_segment(mo_state *st, double u1, const double *x1, float **out)
{
    const double rate = st->spec.frame_rate;
    double a = st->prev_u > edge(st->k, rate) ? st->prev_u : edge(st->k, rate);
    uint32_t c;
    while (edge(st->k + 1, rate) <= u1) {
        double e = edge(st->k + 1, rate), width = e - edge(st->k, rate);
        if (e > a)
            add_piece(st, u1, x1, a, e);
        for (c = 0; c < st->spec.channels; c++) {
            (*out)[c] = (float)(st->acc[c] / width);
            st->acc[c] = 0.0;
        }
        *out += st->spec.channels;
        st->k++;
        a = e;
    }
    if (u1 > a)
        add_piece(st, u1, x1, a, u1);
    st->prev_u = u1;
    st->newest ^= 1u;
}

ptrdiff_t lgrin_motion_push(void *state, const double *time, const float *values, size_t n, float *out,
                            size_t max_frames)
{
    mo_state *st = (mo_state *)state;
    ptrdiff_t frames = lgrin_motion_max_frames(state, time, n);
    uint64_t before;
    size_t i;
    uint32_t c;
    if (frames < 0)
        return frames;
    if (n && !values)
        return LGRIN_IN_E_ARG;
    if ((size_t)frames > max_frames)
        return LGRIN_IN_E_OUTPUT;
    if (frames > 0 && !out)
        return LGRIN_IN_E_ARG;
    for (i = 0; i < n; i++) {
        double *x = st->x[st->newest ^ 1u]; /* the free row, as scratch */
        map_sample(&st->spec, values + i * st->spec.in_channels, x);
        for (c = 0; c < st->spec.channels; c++)
            if (!is_finite(x[c]))
                return LGRIN_IN_E_INPUT;
    }
    before = st->k;
    for (i = 0; i < n; i++) {
        const float *row = values + i * st->spec.in_channels;
        double u;
        if (!st->started) { /* the curve starts flat at the first sample, from the start if that is earlier */
            if (!st->spec.has_start)
                st->t0 = time[0];
            u = time[i] - st->t0;
            st->prev_u = u < 0.0 ? u : 0.0;
            map_sample(&st->spec, row, st->x[st->newest]);
            st->started = 1;
        }
        u = time[i] - st->t0;
        map_sample(&st->spec, row, st->x[st->newest ^ 1u]);
        add_segment(st, u, st->x[st->newest ^ 1u], &out);
    }
    return (ptrdiff_t)(st->k - before);
}

/* ---------------------------------------------------------------------------------------------------
 * Face */

/* BEGIN MESH_TO_IBUG68: written by lgrin_edge.frontend.landmarks.c_table() from face.py; do not edit */
const uint16_t lgrin_mesh_to_ibug68[LGRIN_FACE_POINTS] = {
    127, 234, 93,  132, 58,  136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356, 70,  63,  105,
    66,  107, 336, 296, 334, 293, 300, 168, 197, 5,   4,   98,  97,  2,   326, 327, 33,  160, 158, 133,
    153, 144, 362, 385, 387, 263, 373, 380, 61,  40,  37,  0,   267, 270, 291, 321, 314, 17,  84,  91,
    78,  81,  13,  311, 308, 402, 14,  178,
};
/* END MESH_TO_IBUG68 */

int lgrin_face_frame(const float *mesh, uint32_t n_points, uint32_t stride, uint32_t width, uint32_t height,
                     float *out)
{
    uint32_t i;
    if (!mesh || !out || (n_points != 468 && n_points != 478) || stride < 2 || width < 1 || height < 1)
        return LGRIN_IN_E_ARG;
    for (i = 0; i < LGRIN_FACE_POINTS; i++) {
        const float *p = mesh + (size_t)lgrin_mesh_to_ibug68[i] * stride;
        if (!is_finite(p[0]) || !is_finite(p[1]))
            return LGRIN_IN_E_INPUT;
    }
    for (i = 0; i < LGRIN_FACE_POINTS; i++) {
        const float *p = mesh + (size_t)lgrin_mesh_to_ibug68[i] * stride;
        out[i] = (float)((double)p[0] * (double)width);
        out[LGRIN_FACE_POINTS + i] = (float)((double)p[1] * (double)height);
    }
    return LGRIN_IN_OK;
}

/* ---------------------------------------------------------------------------------------------------
 * Graph */

uint32_t lgrin_graph_count(uint32_t t, uint32_t m, uint32_t policy)
{
    if (!t || !m || policy > LGRIN_GRAPH_CHUNK)
        return 0;
    return policy == LGRIN_GRAPH_CHUNK && t > m ? (uint32_t)(((uint64_t)t + m - 1) / m) : 1;
}

/* numpy's round: to the nearest whole number, halves to the even one (y >= 0, below 2^32). y - floor(y)
 * is exact in double, so the comparisons with 0.5 decide as numpy's rint does. */
static uint32_t round_half_even(double y)
{
    uint32_t f = (uint32_t)y;
    double frac = y - (double)f;
    return frac > 0.5 || (frac == 0.5 && (f & 1u)) ? f + 1 : f;
}

/* The frame node j of graph `graph` takes (arguments checked by the caller). */
static uint32_t node(uint32_t t, uint32_t m, uint32_t policy, uint32_t graph, uint32_t j)
{
    if (t <= m) /* cyclic_pad */
        return j % t;
    if (policy == LGRIN_GRAPH_TRUNCATE)
        return j;
    if (policy == LGRIN_GRAPH_RESAMPLE) {
        /* np.linspace(0, t - 1, m): j x step, step = (t - 1) / (m - 1), the last point t - 1 itself;
         * m = 1 gives 0 */
        if (m == 1)
            return 0;
        if (j == m - 1)
            return t - 1;
        return round_half_even((double)j * ((double)(t - 1) / (double)(m - 1)));
    }
    { /* chunk: window `graph`, the last one cyclically padded */
        uint32_t s = graph * m, len = t - s < m ? t - s : m;
        return s + j % len;
    }
}

int lgrin_graph_indices(uint32_t t, uint32_t m, uint32_t policy, uint32_t graph, uint32_t *idx)
{
    uint32_t j;
    if (!idx || graph >= lgrin_graph_count(t, m, policy))
        return LGRIN_IN_E_ARG;
    for (j = 0; j < m; j++)
        idx[j] = node(t, m, policy, graph, j);
    return LGRIN_IN_OK;
}

int lgrin_graph_gather(const float *ring, uint32_t capacity, uint32_t first, uint32_t t, uint32_t p, uint32_t m,
                       uint32_t policy, uint32_t graph, float *out)
{
    uint32_t j, c;
    if (!ring || !out || !p || t > capacity || first >= capacity || graph >= lgrin_graph_count(t, m, policy))
        return LGRIN_IN_E_ARG;
    for (j = 0; j < m; j++) {
        uint32_t slot = (uint32_t)(((uint64_t)first + node(t, m, policy, graph, j)) % capacity);
        const float *row = ring + (size_t)slot * p;
        for (c = 0; c < p; c++)
            out[(size_t)j * p + c] = row[c];
    }
    return LGRIN_IN_OK;
}
