/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_live - a model's live stream (lgrin_stream.h) over a recording, one line per decision.
 *
 *   lgrin_live MODEL.lgrn IN.wav            audio model: 16-bit PCM or 32-bit float WAV, first channel
 *   lgrin_live MODEL.lgrn - [--rate HZ]     audio model: raw S16_LE mono PCM on stdin (default: the spec's rate)
 *   lgrin_live MODEL.lgrn IN.csv | -        motion model: lines "time,v1,...,vP" (one header line allowed)
 *   options: --window S --hop S --smooth N  override the spec's stream
 *
 * Each decision prints "%.2f %s %.3f %s": its time, label, probability and smoothed label (the stream
 * definition's line, as python -m lgrin_edge.live prints it); at the end one line on stderr gives the
 * input's duration, the wall time and the real-time factor. Exit code 2 with one line on stderr for bad
 * input. Hosted tool (stdio, malloc, POSIX clock and stat). */
#define _POSIX_C_SOURCE 200112L
#include "lgrin_json.h"
#include "lgrin_stream.h"
#include "lgrin_wav.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK 4096
#define MAX_CLASS_NAME 256

typedef struct options {
    const char *model, *input;
    double window, hop; /* seconds; 0: the spec's */
    long rate, smooth;  /* 0: the spec's */
} options;

typedef struct live {
    lgrin_model model;
    unsigned char *bytes; /* the model file, which the model points into */
    lgrin_stream_config cfg;
    void *state;
    lgrin_json classes; /* the spec's class names (an array) */
    lgrin_stream_decision *out;
    size_t room;
} live;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: lgrin_live MODEL.lgrn IN.wav|IN.csv|- [--rate HZ] [--window S] [--hop S] [--smooth N]\n"
            "  One line per decision of the model's stream, as its feature spec defines it (docs/live.md):\n"
            "  time_s label probability smoothed_label. IN.wav: audio; -: raw S16_LE mono PCM on stdin at\n"
            "  --rate (default the spec's); IN.csv: motion samples, time_s,v1,...,vP a line. A speech model\n"
            "  trained on whole utterances streams utterances (voice activity); --window/--hop make any\n"
            "  stream a sliding one. On stderr at the end: input seconds, wall time, real-time factor.\n");
    return 2;
}

/* A number after an option; 0 after one line on stderr when it is not a positive number. */
static int positive(const char *name, const char *text, double *out)
{
    char *end;
    *out = text ? strtod(text, &end) : 0.0;
    if (!text || *end || !(*out > 0.0) || *out > 1e9) {
        fprintf(stderr, "error: %s takes a positive number, got '%s'\n", name, text ? text : "");
        return 0;
    }
    return 1;
}

static int parse_args(int argc, char **argv, options *o)
{
    int i, n = 0;
    double v;
    memset(o, 0, sizeof *o);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--window") || !strcmp(a, "--hop") || !strcmp(a, "--rate") || !strcmp(a, "--smooth")) {
            if (!positive(a, i + 1 < argc ? argv[i + 1] : NULL, &v))
                return 2;
            i++;
            if ((a[2] == 'r' || a[2] == 's') && v != (double)(long)v) {
                fprintf(stderr, "error: %s takes a whole number, got '%s'\n", a, argv[i]);
                return 2;
            }
            if (a[2] == 'w')
                o->window = v;
            if (a[2] == 'h')
                o->hop = v;
            if (a[2] == 'r')
                o->rate = (long)v;
            if (a[2] == 's')
                o->smooth = (long)v;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "error: unknown option %s\n", a);
            return 2;
        } else if (n < 2) {
            *(n++ == 0 ? &o->model : &o->input) = a;
        } else {
            return usage();
        }
    }
    return n == 2 ? 0 : usage();
}

/* Load the model and check its spec gives a stream; 0, or 2 after one line on stderr. */
static int load_model(const options *o, live *lv)
{
    size_t len = 0, spec_len = 0;
    const char *spec;
    lgrin_json root;
    int rc;
    if (!(lv->bytes = read_file(o->model, &len))) /* malloc: aligned for lgrin_load */
        return 2;
    if ((rc = lgrin_load(&lv->model, lv->bytes, len)) != LGRIN_OK) {
        fprintf(stderr, "error: %s: %s\n", o->model, lgrin_strerror(rc));
        return 2;
    }
    if ((rc = lgrin_stream_config_from_model(&lv->model, 0, &lv->cfg)) != LGRIN_STREAM_OK) {
        fprintf(stderr, "error: %s: %s%s%s\n", o->model, lgrin_stream_strerror(rc), lv->cfg.field[0] ? ": " : "",
                lv->cfg.field);
        return 2;
    }
    if (lv->cfg.kind == LGRIN_STREAM_FRAMES) {
        fprintf(stderr, "error: %s: its input is neither audio nor motion; lgrin_live reads those\n", o->model);
        return 2;
    }
    spec = lgrin_feature_spec(&lv->model, &spec_len);
    if (lgrin_json_parse(spec, spec_len, &root) == LGRIN_JSON_OK) /* it is: the config was read from it */
        lgrin_json_member(root, "classes", &lv->classes);
    return 0;
}

/* The stream at this input rate (audio; 0: the spec's), with the overrides; 0, or 2 after one line. */
static int start_stream(const options *o, uint32_t rate, live *lv)
{
    size_t len;
    int rc = lgrin_stream_config_from_model(&lv->model, rate, &lv->cfg);
    if (rc != LGRIN_STREAM_OK) {
        fprintf(stderr, "error: %s at %lu Hz: %s\n", o->model, (unsigned long)rate, lgrin_stream_strerror(rc));
        return 2;
    }
    if (lgrin_stream_config_set(&lv->cfg, o->window, o->hop, (uint32_t)o->smooth) != LGRIN_STREAM_OK) {
        fprintf(stderr, "error: %s: --window %g --hop %g --smooth %ld give no stream for this model (%s)\n",
                o->model, o->window, o->hop, o->smooth, lv->cfg.field);
        return 2;
    }
    len = lgrin_stream_state_size(&lv->model, &lv->cfg);
    if (!len || !(lv->state = malloc(len)) || lgrin_stream_init(lv->state, len, &lv->model, &lv->cfg)) {
        fprintf(stderr, "error: %s: cannot start a stream of %lu bytes\n", o->model, (unsigned long)len);
        return 2;
    }
    return 0;
}

/* Room for `bound` decisions; 0, or 2 after one line on stderr. */
static int reserve(live *lv, ptrdiff_t bound)
{
    if (bound < 0) {
        fprintf(stderr, "error: input rejected: %s\n", lgrin_stream_strerror((int)bound));
        return 2;
    }
    if ((size_t)bound > lv->room) {
        free(lv->out);
        lv->room = (size_t)bound;
        if (!(lv->out = (lgrin_stream_decision *)malloc(lv->room * sizeof *lv->out))) {
            fprintf(stderr, "error: out of memory\n");
            return 2;
        }
    }
    return 0;
}

/* Print the decisions a push or flush returned; 0, or 2 after one line on stderr. */
static int print(live *lv, ptrdiff_t made)
{
    char label[MAX_CLASS_NAME], smoothed[MAX_CLASS_NAME];
    ptrdiff_t i;
    if (made < 0) {
        fprintf(stderr, "error: input rejected: %s\n", lgrin_stream_strerror((int)made));
        return 2;
    }
    for (i = 0; i < made; i++) {
        const lgrin_stream_decision *d = &lv->out[i];
        uint32_t which[2] = {d->label, d->smoothed}, k;
        char *name[2] = {label, smoothed};
        for (k = 0; k < 2; k++) {
            size_t pos = 0, j = 0;
            lgrin_json key, item;
            int found = 0;
            while (!found && lgrin_json_next(lv->classes, &pos, &key, &item) == 1)
                found = j++ == which[k] && lgrin_json_string(item, name[k], MAX_CLASS_NAME, NULL) == LGRIN_JSON_OK;
            if (!found)
                sprintf(name[k], "%u", (unsigned)which[k]);
        }
        printf("%.2f %s %.3f %s\n", d->time_s, label, d->probability, smoothed);
    }
    return 0;
}

static int push_pcm(live *lv, const int16_t *ix, const float *fx, size_t n)
{
    if (reserve(lv, (ptrdiff_t)lgrin_stream_max_decisions(lv->state, n)))
        return 2;
    return print(lv, ix ? lgrin_stream_push_i16(lv->state, ix, n, lv->out, lv->room)
                        : lgrin_stream_push_f32(lv->state, fx, n, lv->out, lv->room));
}

/* A WAV file through the stream; its duration in seconds to *seconds. */
static int run_wav(const options *o, live *lv, double *seconds)
{
    static float fx[BLOCK];
    static int16_t ix[BLOCK];
    wav w;
    size_t start;
    int rc = read_wav(o->input, &w);
    if (!rc)
        rc = start_stream(o, w.rate, lv);
    for (start = 0; !rc && start < w.frames; start += BLOCK) {
        size_t n = w.frames - start < BLOCK ? w.frames - start : BLOCK;
        decode_block(&w, start, n, fx, ix);
        rc = push_pcm(lv, w.is_float ? NULL : ix, fx, n);
    }
    *seconds = (double)w.frames / (w.rate ? w.rate : 1);
    free(w.bytes);
    return rc;
}

/* Raw S16_LE mono PCM from stdin. */
static int run_raw(const options *o, live *lv, double *seconds)
{
    static unsigned char bytes[2 * BLOCK];
    static int16_t ix[BLOCK];
    size_t got, i, total = 0;
    int rc = start_stream(o, (uint32_t)o->rate, lv);
    while (!rc && (got = fread(bytes, 2, BLOCK, stdin)) > 0) {
        for (i = 0; i < got; i++) {
            long v = (long)le16(bytes + 2 * i);
            ix[i] = (int16_t)(v >= 32768 ? v - 65536 : v);
        }
        total += got;
        rc = push_pcm(lv, ix, NULL, got);
    }
    *seconds = (double)total / lv->cfg.input_rate;
    return rc;
}

/* Fields of one CSV line into t and v (p values); 1 when it has exactly 1 + p numbers. */
static int csv_row(char *line, uint32_t p, double *t, float *v)
{
    char *at = line, *end;
    uint32_t k;
    *t = strtod(at, &end);
    if (end == at)
        return 0;
    for (k = 0; k < p; k++) {
        if (*end != ',')
            return 0;
        at = end + 1;
        v[k] = strtof(at, &end);
        if (end == at)
            return 0;
    }
    while (*end == ' ' || *end == '\r' || *end == '\n' || *end == '\t')
        end++;
    return *end == '\0';
}

static int push_motion(live *lv, const double *t, const float *v, size_t n)
{
    if (reserve(lv, lgrin_stream_max_decisions_motion(lv->state, t, n)))
        return 2;
    return print(lv, lgrin_stream_push_motion(lv->state, t, v, n, lv->out, lv->room));
}

/* A motion CSV ("-": stdin) through the stream, BLOCK rows per push. */
static int run_csv(const options *o, live *lv, double *seconds)
{
    static char line[8192];
    static double t[BLOCK];
    static float v[BLOCK * LGRIN_MOTION_MAX_CHANNELS];
    uint32_t p = lv->cfg.num_features;
    size_t n = 0, row = 0;
    double first = 0.0, last = 0.0;
    int rc = start_stream(o, 0, lv), have = 0;
    FILE *f = strcmp(o->input, "-") ? fopen(o->input, "r") : stdin;
    if (!rc && !f) {
        fprintf(stderr, "error: %s: cannot open\n", o->input);
        return 2;
    }
    if (rc)
        return rc;
    while (!rc && fgets(line, sizeof line, f)) {
        row++;
        if (!csv_row(line, p, &t[n], &v[n * p])) {
            if (row == 1)
                continue; /* a header line */
            fprintf(stderr, "error: %s: line %lu is not 'time' and %u values separated by commas\n", o->input,
                    (unsigned long)row, (unsigned)p);
            rc = 2;
            break;
        }
        if (!have)
            first = t[n], have = 1;
        last = t[n];
        if (++n == BLOCK) {
            rc = push_motion(lv, t, v, n);
            n = 0;
        }
    }
    if (!rc && n)
        rc = push_motion(lv, t, v, n);
    if (f != stdin)
        fclose(f);
    *seconds = last - first;
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    live lv;
    double seconds = 0.0, start;
    int rc = parse_args(argc, argv, &o);
    memset(&lv, 0, sizeof lv);
    if (!rc)
        rc = load_model(&o, &lv);
    if (!rc && o.rate && (lv.cfg.kind != LGRIN_STREAM_AUDIO || strcmp(o.input, "-"))) {
        fprintf(stderr, "error: --rate is for raw PCM on stdin to an audio model\n");
        rc = 2;
    }
    start = now();
    if (!rc && lv.cfg.kind == LGRIN_STREAM_MOTION)
        rc = run_csv(&o, &lv, &seconds);
    else if (!rc)
        rc = strcmp(o.input, "-") ? run_wav(&o, &lv, &seconds) : run_raw(&o, &lv, &seconds);
    /* a motion stream's flush makes at most the end-of-stream decision */
    if (!rc && !(rc = reserve(&lv, lv.cfg.kind == LGRIN_STREAM_MOTION
                                       ? 1
                                       : (ptrdiff_t)lgrin_stream_max_decisions(lv.state, 0))))
        rc = print(&lv, lgrin_stream_flush(lv.state, lv.out, lv.room));
    if (!rc) {
        double wall = now() - start;
        fprintf(stderr, "%s %.2f s, wall %.3f s, real-time factor %.4f\n",
                lv.cfg.kind == LGRIN_STREAM_MOTION ? "motion" : "audio", seconds, wall,
                seconds > 0.0 ? wall / seconds : 0.0);
    }
    fflush(stdout);
    free(lv.out);
    free(lv.state);
    free(lv.bytes);
    return rc;
}
