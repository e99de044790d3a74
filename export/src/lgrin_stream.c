/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* A live stream (lgrin_stream.h): front-end -> ring of W frames -> a decision every H frames, or
 * (utterance mode) voice activity on the PCM -> one decision per utterance. */
/* libm's pow (the VAD threshold), declared as lgrin_frontend.c declares its libm functions: the file then
 * compiles without a C library's headers (freestanding targets link their own libm) */
double pow(double, double);

#include "lgrin_stream.h"

#define ST_MAGIC 0x4C475354u /* "LGST" */
#define MAX_FRAMES (1u << 20) /* W, H, S and chunk at most: sizes stay far inside 32 bits for small P */

typedef struct stream {
    uint32_t magic, flushed;
    const lgrin_model *model;
    lgrin_stream_config cfg;
    size_t size, ws_len;
    size_t off_fe, off_buf, off_ring, off_graph, off_ws, off_hist, off_logits, off_probs, off_mean;
    uint64_t n, decided;
    uint32_t slot;  /* ring slot the next frame goes to */
    uint32_t until; /* frames until the next decision */
    uint32_t hist_next, hist_count;
    double last_time; /* motion: the last sample's time, with has_last */
    uint32_t has_last;
    /* utterance mode: the PCM ring, the queue of energies computed ahead of their frames, the cut */
    size_t off_pcm, off_energy;
    uint32_t pcm_cap, energy_cap, energy_head, energy_count;
    uint64_t received, energy_next; /* samples so far; the frame whose energy comes next */
    double threshold;
    uint32_t active, length, speech, silence;
} stream;

static float *floats(stream *s, size_t off) { return (float *)(void *)((unsigned char *)s + off); }
static double *doubles(stream *s, size_t off) { return (double *)(void *)((unsigned char *)s + off); }
static int utterances(const stream *s) { return s->cfg.mode == LGRIN_STREAM_UTTERANCE; }
static uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }
static int is_finite(float v) { return v - v == 0.0f; }
static uint64_t round8(uint64_t n) { return (n + 7u) & ~(uint64_t)7u; }

static int config_ok(const lgrin_model *m, const lgrin_stream_config *c)
{
    if (!m || !c || c->kind > LGRIN_STREAM_FRAMES || c->policy > LGRIN_GRAPH_CHUNK)
        return 0;
    if (c->window < 1 || c->hop < 1 || c->smoothing < 1 || c->window > MAX_FRAMES || c->hop > MAX_FRAMES ||
        c->smoothing > MAX_FRAMES || c->chunk < LGRIN_STREAM_MIN_CHUNK || c->chunk > MAX_FRAMES)
        return 0;
    if (c->num_nodes != lgrin_num_nodes(m) || c->num_features != lgrin_num_features(m) ||
        c->num_classes != lgrin_num_classes(m) || !(c->frame_rate > 0.0) || c->frame_rate - c->frame_rate != 0.0)
        return 0;
    if (c->window > c->num_nodes && !c->policy_known)
        return 0;
    if (c->mode > LGRIN_STREAM_UTTERANCE || (c->mode == LGRIN_STREAM_UTTERANCE &&
        (c->kind != LGRIN_STREAM_AUDIO || c->hangover < 1 || c->hangover > MAX_FRAMES ||
         c->min_speech > MAX_FRAMES || c->threshold_db - c->threshold_db != 0.0)))
        return 0;
    if (c->kind == LGRIN_STREAM_AUDIO)
        return 2 * c->frontend.n_descriptors == c->num_features &&
               lgrin_frontend_check(&c->frontend, c->input_rate) == LGRIN_FE_OK;
    if (c->kind == LGRIN_STREAM_MOTION)
        return c->motion.channels == c->num_features && lgrin_motion_check(&c->motion) == LGRIN_IN_OK;
    return 1;
}

/* Where each part of the state lies (s->off_*, s->ws_len); the total size, or 0 when it overflows. */
static size_t layout(const lgrin_model *m, const lgrin_stream_config *c, stream *s)
{
    uint64_t p = c->num_features, cls = c->num_classes, at = round8(sizeof(stream)), fe = 0;
    if (c->kind == LGRIN_STREAM_AUDIO)
        fe = lgrin_frontend_state_size(&c->frontend, c->input_rate);
    else if (c->kind == LGRIN_STREAM_MOTION)
        fe = lgrin_motion_state_size();
    s->ws_len = lgrin_workspace_size(m);
    s->off_fe = (size_t)at;
    at += round8(fe);
    s->off_buf = (size_t)at;
    at += c->kind == LGRIN_STREAM_FRAMES ? 0 : round8(4u * p * c->chunk);
    s->off_ring = (size_t)at;
    at += round8(4u * p * c->window);
    s->off_graph = (size_t)at;
    at += round8(4u * p * c->num_nodes);
    s->off_ws = (size_t)at;
    at += round8(s->ws_len);
    s->off_hist = (size_t)at;
    at += round8(4u * cls * c->smoothing);
    s->off_logits = (size_t)at;
    s->off_probs = (size_t)(at + round8(4u * cls));
    s->off_mean = (size_t)(at + 2u * round8(4u * cls));
    at += 3u * round8(4u * cls);
    s->pcm_cap = s->energy_cap = 0;
    if (c->mode == LGRIN_STREAM_UTTERANCE) { /* the PCM of one frame span, and energies ahead of frames */
        uint64_t span = (uint64_t)c->frontend.frame_length * c->input_rate;
        s->pcm_cap = (uint32_t)ceil_div(span, c->frontend.sample_rate) + 2u;
        s->energy_cap = 2u * c->chunk;
        s->off_pcm = (size_t)at;
        at += round8(4u * (uint64_t)s->pcm_cap);
        s->off_energy = (size_t)at;
        at += 8u * (uint64_t)s->energy_cap;
    }
    return at > (uint64_t)(size_t)-1 || (size_t)at != at ? 0 : (size_t)at;
}

size_t lgrin_stream_state_size(const lgrin_model *model, const lgrin_stream_config *config)
{
    stream s;
    return config_ok(model, config) ? layout(model, config, &s) : 0;
}

int lgrin_stream_reset(void *state)
{
    stream *s = (stream *)state;
    if (!s || s->magic != ST_MAGIC)
        return LGRIN_STREAM_E_STATE;
    if (s->cfg.kind == LGRIN_STREAM_AUDIO)
        lgrin_frontend_reset((unsigned char *)s + s->off_fe);
    else if (s->cfg.kind == LGRIN_STREAM_MOTION)
        lgrin_motion_reset((unsigned char *)s + s->off_fe);
    s->flushed = 0;
    s->n = s->decided = 0;
    s->slot = s->hist_next = s->hist_count = 0;
    s->until = s->cfg.window;
    s->has_last = 0;
    s->last_time = 0.0;
    s->energy_head = s->energy_count = 0;
    s->received = s->energy_next = 0;
    s->active = s->length = s->speech = s->silence = 0;
    return LGRIN_STREAM_OK;
}

int lgrin_stream_init(void *state, size_t size, const lgrin_model *model, const lgrin_stream_config *config)
{
    stream *s = (stream *)state;
    size_t need;
    int rc = LGRIN_STREAM_OK;
    if (!s || !config_ok(model, config))
        return LGRIN_STREAM_E_ARG;
    if ((uintptr_t)state % 8u)
        return LGRIN_STREAM_E_ALIGN;
    need = lgrin_stream_state_size(model, config);
    if (!need || size < need)
        return LGRIN_STREAM_E_SPACE;
    s->magic = 0;
    layout(model, config, s);
    s->size = need;
    s->model = model;
    s->cfg = *config;
    s->threshold = pow(10.0, config->threshold_db / 10.0);
    if (config->kind == LGRIN_STREAM_AUDIO &&
        lgrin_frontend_init((unsigned char *)s + s->off_fe, need - s->off_fe, &config->frontend, config->input_rate))
        rc = LGRIN_STREAM_E_FRONTEND;
    if (config->kind == LGRIN_STREAM_MOTION &&
        lgrin_motion_init((unsigned char *)s + s->off_fe, need - s->off_fe, &config->motion))
        rc = LGRIN_STREAM_E_FRONTEND;
    if (rc != LGRIN_STREAM_OK)
        return rc;
    s->magic = ST_MAGIC;
    return lgrin_stream_reset(s);
}

/* A stream that takes pushes of this kind (LGRIN_STREAM_FRAMES: any kind), or NULL. */
static stream *live(void *state, uint32_t kind)
{
    stream *s = (stream *)state;
    if (!s || s->magic != ST_MAGIC || s->flushed)
        return 0;
    return kind == LGRIN_STREAM_FRAMES || s->cfg.kind == kind ? s : 0;
}

static uint32_t argmax(const float *v, uint32_t n)
{
    uint32_t i, best = 0;
    for (i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* Add the probabilities to the history; their mean over the last S (oldest first) into mean. */
static void smooth(stream *s, const float *probs, float *mean)
{
    uint32_t c, j, cls = s->cfg.num_classes, depth = s->cfg.smoothing, oldest;
    float *hist = floats(s, s->off_hist);
    for (c = 0; c < cls; c++)
        hist[(size_t)s->hist_next * cls + c] = probs[c];
    s->hist_next = s->hist_next + 1 == depth ? 0 : s->hist_next + 1;
    if (s->hist_count < depth)
        s->hist_count++;
    oldest = (s->hist_next + depth - s->hist_count) % depth;
    for (c = 0; c < cls; c++) {
        float sum = 0.0f;
        for (j = 0; j < s->hist_count; j++)
            sum += hist[(size_t)((oldest + j) % depth) * cls + c];
        mean[c] = sum / (float)s->hist_count;
    }
}

/* One decision over the t frames held, the oldest at ring slot `first`, at frame count `end`. */
static int decide(stream *s, uint32_t t, uint32_t first, uint64_t end, lgrin_stream_decision *out)
{
    float *graph = floats(s, s->off_graph), *logits = floats(s, s->off_logits);
    float *probs = floats(s, s->off_probs), *mean = floats(s, s->off_mean);
    const lgrin_stream_config *c = &s->cfg;
    if (lgrin_graph_gather(floats(s, s->off_ring), c->window, first, t, c->num_features, c->num_nodes, c->policy, 0,
                           graph) != LGRIN_IN_OK)
        return LGRIN_STREAM_E_ARG;
    if (lgrin_run(s->model, (unsigned char *)s + s->off_ws, s->ws_len, graph, logits) != LGRIN_OK)
        return LGRIN_STREAM_E_MODEL;
    lgrin_softmax(logits, c->num_classes, probs);
    smooth(s, probs, mean);
    out->time_s = (double)end / c->frame_rate;
    out->label = argmax(probs, c->num_classes);
    out->probability = probs[out->label];
    out->smoothed = argmax(mean, c->num_classes);
    out->smoothed_probability = mean[out->smoothed];
    s->decided++;
    return LGRIN_STREAM_OK;
}

/* [*a, *b): the input samples frame k covers. */
static void span(const stream *s, uint64_t k, uint64_t *a, uint64_t *b)
{
    uint64_t r = s->cfg.input_rate, fs = s->cfg.frontend.sample_rate, hop = s->cfg.frontend.hop;
    *a = ceil_div(k * hop * r, fs);
    *b = ceil_div((k * hop + s->cfg.frontend.frame_length) * r, fs);
}

/* Frame k's energy: the mean square of the samples of its span received so far, added in order. */
static double energy(stream *s, uint64_t k)
{
    const float *pcm = floats(s, s->off_pcm);
    uint64_t a, b, i;
    double sum = 0.0;
    span(s, k, &a, &b);
    b = b < s->received ? b : s->received;
    if (b <= a)
        return 0.0;
    for (i = a; i < b; i++) {
        double x = pcm[i % s->pcm_cap];
        sum += x * x;
    }
    return sum / (double)(b - a);
}

/* Frames whose span n more samples complete (energies they queue): b_j <= N iff (j hop + L) r <= N fs. */
static uint64_t spans_completed(const stream *s, size_t n)
{
    uint64_t r = s->cfg.input_rate, fs = s->cfg.frontend.sample_rate, hop = s->cfg.frontend.hop;
    uint64_t total = (s->received + n) * fs, first = (uint64_t)s->cfg.frontend.frame_length * r;
    return total < first ? 0 : (total - first) / (hop * r) + 1 - s->energy_next;
}

/* Samples into the PCM ring; the energy of every frame whose span they complete into the queue. */
static void take_pcm(stream *s, const int16_t *ix, const float *fx, size_t n)
{
    float *pcm = floats(s, s->off_pcm);
    double *queue = doubles(s, s->off_energy);
    uint64_t a, b;
    size_t i;
    span(s, s->energy_next, &a, &b);
    for (i = 0; i < n; i++) {
        pcm[s->received % s->pcm_cap] = ix ? (float)ix[i] / 32768.0f : fx[i];
        s->received++;
        while (b <= s->received) {
            queue[(s->energy_head + s->energy_count) % s->energy_cap] = energy(s, s->energy_next);
            s->energy_count++;
            span(s, ++s->energy_next, &a, &b);
        }
    }
}

/* The next frame's energy: queued, or (frames the flush gives) over the samples there are. */
static double next_energy(stream *s)
{
    double e;
    if (!s->energy_count)
        return energy(s, s->energy_next++);
    e = doubles(s, s->off_energy)[s->energy_head];
    s->energy_head = s->energy_head + 1 == s->energy_cap ? 0 : s->energy_head + 1;
    s->energy_count--;
    return e;
}

/* End the open utterance: a decision over its frames up to its last speech frame, if it has min_speech. */
static int end_utterance(stream *s, lgrin_stream_decision *out, size_t *made)
{
    int rc = LGRIN_STREAM_OK;
    if (s->active && s->speech >= s->cfg.min_speech) {
        rc = decide(s, s->length - s->silence, 0, s->n - s->silence, out + *made);
        *made += rc == LGRIN_STREAM_OK;
    }
    s->active = 0;
    return rc;
}

/* Utterance mode: each frame through the voice-activity rule into the utterance (ring from slot 0). */
static int cut_frames(stream *s, const float *frames, size_t n, lgrin_stream_decision *out, size_t *made)
{
    uint32_t p = s->cfg.num_features, k;
    float *ring = floats(s, s->off_ring);
    size_t i;
    for (i = 0; i < n; i++) {
        int speech = next_energy(s) > s->threshold;
        s->n++;
        if (!s->active && !speech)
            continue;
        if (!s->active) {
            s->active = 1;
            s->length = s->speech = s->silence = 0;
        }
        for (k = 0; k < p; k++)
            ring[(size_t)s->length * p + k] = frames[i * p + k];
        s->length++;
        s->silence = speech ? 0 : s->silence + 1;
        s->speech += (uint32_t)speech;
        if (s->silence == s->cfg.hangover || s->length == s->cfg.window) {
            int rc = end_utterance(s, out, made);
            if (rc != LGRIN_STREAM_OK)
                return rc;
        }
    }
    return LGRIN_STREAM_OK;
}

/* Take n frames: into the ring, deciding whenever n reaches W + k H; decisions go to out[*made ..]. */
static int take_frames(stream *s, const float *frames, size_t n, lgrin_stream_decision *out, size_t *made)
{
    uint32_t p = s->cfg.num_features, k;
    float *ring = floats(s, s->off_ring);
    size_t i;
    if (utterances(s))
        return cut_frames(s, frames, n, out, made);
    for (i = 0; i < n; i++) {
        float *dst = ring + (size_t)s->slot * p;
        for (k = 0; k < p; k++)
            dst[k] = frames[i * p + k];
        s->slot = s->slot + 1 == s->cfg.window ? 0 : s->slot + 1;
        s->n++;
        if (--s->until == 0) {
            int rc = decide(s, s->cfg.window, s->slot, s->n, out + *made);
            if (rc != LGRIN_STREAM_OK)
                return rc;
            (*made)++;
            s->until = s->cfg.hop;
        }
    }
    return LGRIN_STREAM_OK;
}

/* Decisions f more frames make, plus the one the end of the stream may make. */
static size_t decisions_in(const stream *s, size_t f)
{
    if (utterances(s))
        return f + 1; /* at most one utterance ends a frame, and the flush ends one */
    return (f < s->until ? 0 : 1 + (f - s->until) / s->cfg.hop) + 1;
}

size_t lgrin_stream_max_decisions(const void *state, size_t n)
{
    const stream *s = (const stream *)state;
    if (!s || s->magic != ST_MAGIC || s->cfg.kind == LGRIN_STREAM_MOTION)
        return 0;
    if (s->cfg.kind == LGRIN_STREAM_AUDIO)
        n = lgrin_frontend_max_frames((const unsigned char *)s + s->off_fe, n);
    return decisions_in(s, n);
}

ptrdiff_t lgrin_stream_max_decisions_motion(const void *state, const double *time, size_t n)
{
    const stream *s = (const stream *)state;
    ptrdiff_t f;
    if (!s || s->magic != ST_MAGIC || s->cfg.kind != LGRIN_STREAM_MOTION)
        return LGRIN_STREAM_E_STATE;
    f = lgrin_motion_max_frames((const unsigned char *)s + s->off_fe, time, n);
    if (f < 0)
        return f == LGRIN_IN_E_ARG ? LGRIN_STREAM_E_ARG : LGRIN_STREAM_E_INPUT;
    return (ptrdiff_t)decisions_in(s, (size_t)f);
}

/* The checks every push makes before it uses anything. */
static int room_ok(size_t bound, const lgrin_stream_decision *out, size_t max_decisions)
{
    if (max_decisions < bound)
        return LGRIN_STREAM_E_OUTPUT;
    return !out && bound ? LGRIN_STREAM_E_ARG : LGRIN_STREAM_OK;
}

ptrdiff_t lgrin_stream_push_frames(void *state, const float *frames, size_t n, lgrin_stream_decision *out,
                                   size_t max_decisions)
{
    stream *s = live(state, LGRIN_STREAM_FRAMES);
    size_t i, made = 0;
    int rc;
    if (!s || utterances(s))
        return LGRIN_STREAM_E_STATE; /* an utterance stream measures voice activity on PCM */
    if (n && !frames)
        return LGRIN_STREAM_E_ARG;
    for (i = 0; i < n * s->cfg.num_features; i++)
        if (!is_finite(frames[i]))
            return LGRIN_STREAM_E_INPUT;
    if ((rc = room_ok(decisions_in(s, n), out, max_decisions)) != LGRIN_STREAM_OK)
        return rc;
    rc = take_frames(s, frames, n, out, &made);
    return rc != LGRIN_STREAM_OK ? rc : (ptrdiff_t)made;
}

/* PCM through the front-end in pieces that fit the frame buffer. */
static ptrdiff_t push_pcm(stream *s, const int16_t *ix, const float *fx, size_t n, lgrin_stream_decision *out,
                          size_t max_decisions)
{
    void *fe = (unsigned char *)s + s->off_fe;
    float *buf = floats(s, s->off_buf);
    size_t made = 0;
    int rc = room_ok(lgrin_stream_max_decisions(s, n), out, max_decisions);
    if (rc != LGRIN_STREAM_OK)
        return rc;
    while (n) {
        size_t k = n;
        ptrdiff_t f;
        while (k > 1 && (lgrin_frontend_max_frames(fe, k) > s->cfg.chunk ||
                         (utterances(s) && s->energy_count + spans_completed(s, k) > s->energy_cap)))
            k /= 2;
        if (utterances(s) && s->energy_count + spans_completed(s, k) > s->energy_cap)
            return LGRIN_STREAM_E_FRONTEND; /* a front-end holding back more than chunk frames */
        if (utterances(s))
            take_pcm(s, ix, fx, k);
        f = ix ? lgrin_frontend_push_i16(fe, ix, k, buf, s->cfg.chunk)
               : lgrin_frontend_push(fe, fx, k, buf, s->cfg.chunk);
        if (f < 0)
            return LGRIN_STREAM_E_FRONTEND;
        if ((rc = take_frames(s, buf, (size_t)f, out, &made)) != LGRIN_STREAM_OK)
            return rc;
        if (ix)
            ix += k;
        else
            fx += k;
        n -= k;
    }
    return (ptrdiff_t)made;
}

ptrdiff_t lgrin_stream_push_i16(void *state, const int16_t *pcm, size_t n, lgrin_stream_decision *out,
                                size_t max_decisions)
{
    stream *s = live(state, LGRIN_STREAM_AUDIO);
    if (!s)
        return LGRIN_STREAM_E_STATE;
    if (n && !pcm)
        return LGRIN_STREAM_E_ARG;
    return n ? push_pcm(s, pcm, 0, n, out, max_decisions) : 0;
}

ptrdiff_t lgrin_stream_push_f32(void *state, const float *pcm, size_t n, lgrin_stream_decision *out,
                                size_t max_decisions)
{
    stream *s = live(state, LGRIN_STREAM_AUDIO);
    size_t i;
    if (!s)
        return LGRIN_STREAM_E_STATE;
    if (n && !pcm)
        return LGRIN_STREAM_E_ARG;
    for (i = 0; i < n; i++)
        if (!is_finite(pcm[i]))
            return LGRIN_STREAM_E_INPUT;
    return n ? push_pcm(s, 0, pcm, n, out, max_decisions) : 0;
}

/* Values finite, and no sample completing more frames than the frame buffer holds: frames ending in
 * (previous time, time] number at most floor(gap x rate) + 1. */
static int motion_input_ok(const stream *s, const double *time, const float *values, size_t n)
{
    double prev = s->has_last ? s->last_time : time[0];
    size_t i;
    for (i = 0; i < n * s->cfg.motion.in_channels; i++)
        if (!is_finite(values[i]))
            return LGRIN_STREAM_E_INPUT;
    for (i = 0; i < n; i++) {
        if ((time[i] - prev) * s->cfg.frame_rate + 1.0 > (double)s->cfg.chunk)
            return LGRIN_STREAM_E_GAP;
        prev = time[i];
    }
    return LGRIN_STREAM_OK;
}

ptrdiff_t lgrin_stream_push_motion(void *state, const double *time, const float *values, size_t n,
                                   lgrin_stream_decision *out, size_t max_decisions)
{
    stream *s = live(state, LGRIN_STREAM_MOTION);
    void *fe;
    size_t made = 0, guess;
    ptrdiff_t bound;
    int rc;
    if (!s)
        return LGRIN_STREAM_E_STATE;
    if (n && (!time || !values))
        return LGRIN_STREAM_E_ARG;
    if (!n)
        return 0;
    fe = (unsigned char *)s + s->off_fe;
    if ((bound = lgrin_stream_max_decisions_motion(s, time, n)) < 0)
        return bound; /* checks every timestamp */
    if ((rc = motion_input_ok(s, time, values, n)) || (rc = room_ok((size_t)bound, out, max_decisions)))
        return rc;
    for (guess = n; n; guess *= 2) {
        size_t k = guess < n ? guess : n;
        ptrdiff_t f;
        while (k > 1 && lgrin_motion_max_frames(fe, time, k) > (ptrdiff_t)s->cfg.chunk)
            k /= 2;
        f = lgrin_motion_push(fe, time, values, k, floats(s, s->off_buf), s->cfg.chunk);
        if (f < 0)
            return f == LGRIN_IN_E_OUTPUT ? LGRIN_STREAM_E_GAP : LGRIN_STREAM_E_INPUT;
        s->last_time = time[k - 1];
        s->has_last = 1;
        if ((rc = take_frames(s, floats(s, s->off_buf), (size_t)f, out, &made)) != LGRIN_STREAM_OK)
            return rc;
        time += k;
        values += k * s->cfg.motion.in_channels;
        n -= k;
        guess = k;
    }
    return (ptrdiff_t)made;
}

ptrdiff_t lgrin_stream_flush(void *state, lgrin_stream_decision *out, size_t max_decisions)
{
    stream *s = live(state, LGRIN_STREAM_FRAMES);
    size_t made = 0, f = 0;
    void *fe;
    int rc;
    if (!s)
        return LGRIN_STREAM_E_STATE;
    fe = (unsigned char *)s + s->off_fe;
    if (s->cfg.kind == LGRIN_STREAM_AUDIO && (f = lgrin_frontend_max_frames(fe, 0)) > s->cfg.chunk)
        return LGRIN_STREAM_E_OUTPUT; /* the front-end holds at most a few frames back */
    if ((rc = room_ok(decisions_in(s, f), out, max_decisions)) != LGRIN_STREAM_OK)
        return rc;
    if (s->cfg.kind == LGRIN_STREAM_AUDIO) {
        ptrdiff_t got = lgrin_frontend_flush(fe, floats(s, s->off_buf), s->cfg.chunk);
        if (got < 0)
            return LGRIN_STREAM_E_FRONTEND;
        if ((rc = take_frames(s, floats(s, s->off_buf), (size_t)got, out, &made)) != LGRIN_STREAM_OK)
            return rc;
    }
    if (utterances(s) && (rc = end_utterance(s, out, &made)) != LGRIN_STREAM_OK)
        return rc;
    /* no decision in the whole stream: one over the n < W frames held, from ring slot 0 */
    if (!utterances(s) && s->decided == 0 && s->n >= 1) {
        if ((rc = decide(s, (uint32_t)s->n, 0, s->n, out + made)) != LGRIN_STREAM_OK)
            return rc;
        made++;
    }
    s->flushed = 1;
    return (ptrdiff_t)made;
}

const float *lgrin_stream_probabilities(const void *state)
{
    const stream *s = (const stream *)state;
    if (!s || s->magic != ST_MAGIC || !s->decided)
        return 0;
    return (const float *)(const void *)((const unsigned char *)s + s->off_probs);
}

const float *lgrin_stream_smoothed(const void *state)
{
    const stream *s = (const stream *)state;
    if (!s || s->magic != ST_MAGIC || !s->decided)
        return 0;
    return (const float *)(const void *)((const unsigned char *)s + s->off_mean);
}

uint64_t lgrin_stream_frames_seen(const void *state)
{
    const stream *s = (const stream *)state;
    return s && s->magic == ST_MAGIC ? s->n : 0;
}

uint64_t lgrin_stream_decisions_made(const void *state)
{
    const stream *s = (const stream *)state;
    return s && s->magic == ST_MAGIC ? s->decided : 0;
}

const char *lgrin_stream_strerror(int status)
{
#define LGRIN_STREAM_STATUS_TEXT(name, value, text)                                                          \
    if (status == (value))                                                                                    \
        return text;
    LGRIN_STREAM_STATUS_LIST(LGRIN_STREAM_STATUS_TEXT)
#undef LGRIN_STREAM_STATUS_TEXT
    return "unknown status";
}
