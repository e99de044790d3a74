/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_input - checks lgrin_input.h against numpy's known answers (export/tests/data/input/, written by
 * tests/frontend/test_motion.py, test_landmarks.py and test_graph_rule.py), on any target it runs on.
 *
 *   lgrin_input --check DIR
 *
 * motion.txt: each recording pushed whole and in chunks of 1, 2, .. 7 samples, every frame bit for bit;
 * face.txt and mesh_to_ibug68.txt: the table and every frame bit for bit; graph.txt: every index, and
 * lgrin_graph_gather from a ring at every rotation. Then the refusals lgrin_input.h promises. Exit code
 * 0 with "all N input known answers passed", 1 when one differs, 2 for unreadable files (one line on
 * stderr). Hosted tool (stdio, malloc). */
#include "lgrin_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 8192

static int checks, failures;

static void fail(const char *what, const char *name, long at)
{
    failures++;
    if (failures <= 20)
        printf("FAIL %s %s at %ld\n", what, name, at);
}

static void expect(int ok, const char *what)
{
    checks++;
    if (!ok)
        fail(what, "", 0);
}

/* A whole file of `count` items of `size` bytes (little-endian on disk; this tool runs little-endian). */
static void *read_items(const char *dir, const char *name, size_t size, size_t count)
{
    char path[1024];
    void *buf;
    FILE *f;
    long len;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "error: %s: cannot read\n", path);
        if (f)
            fclose(f);
        exit(2);
    }
    if ((size_t)len != size * count) {
        fprintf(stderr, "error: %s: %ld bytes, expected %lu\n", path, len, (unsigned long)(size * count));
        fclose(f);
        exit(2);
    }
    buf = malloc(size * count + 1);
    if (!buf || fread(buf, 1, size * count, f) != size * count) {
        fprintf(stderr, "error: %s: cannot read\n", path);
        fclose(f);
        exit(2);
    }
    fclose(f);
    return buf;
}

static FILE *open_list(const char *dir, const char *name)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "r"))) {
        fprintf(stderr, "error: %s: cannot open\n", path);
        exit(2);
    }
    return f;
}

static int same_bits(const float *a, const float *b, size_t n, size_t *at)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (memcmp(a + i, b + i, sizeof(float)) != 0) {
            *at = i;
            return 0;
        }
    return 1;
}

/* ---------------------------------------------------------------------------------------------------
 * Motion */

/* "src:sign:scale,..." into spec->map; the count of entries, or -1. */
static int parse_map(char *text, lgrin_motion_spec *spec)
{
    int n = 0;
    char *p = text, *end;
    while (*p) {
        if (n >= (int)LGRIN_MOTION_MAX_CHANNELS)
            return -1;
        spec->map[n].source = (uint32_t)strtoul(p, &end, 10);
        if (*end != ':')
            return -1;
        spec->map[n].sign = (int32_t)strtol(end + 1, &end, 10);
        if (*end != ':')
            return -1;
        spec->map[n].scale = strtod(end + 1, &end);
        n++;
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        p = end;
    }
    return n;
}

/* How many frames have ended once samples [0, n) are in: the j >= 1 with j / rate <= t[n - 1] - t0,
 * counted here on the header's definition, apart from the library's own count. */
static size_t on_time(const lgrin_motion_spec *spec, const double *t, size_t n)
{
    double u = t[n - 1] - (spec->has_start ? spec->start : t[0]);
    size_t j = 0;
    while ((double)(j + 1) / spec->frame_rate <= u)
        j++;
    return j;
}

/* Push n samples in chunks of `chunk` (0: all at once); the frames written, or -1 after an error or a
 * frame out late or early. */
static long run_motion(const lgrin_motion_spec *spec, const double *t, const float *x, size_t n, size_t chunk,
                       float *out, size_t room)
{
    double state[LGRIN_MOTION_STATE_BYTES / sizeof(double)];
    size_t at = 0, made = 0;
    if (lgrin_motion_init(state, sizeof state, spec) != LGRIN_IN_OK)
        return -1;
    while (at < n) {
        size_t k = chunk && n - at > chunk ? chunk : n - at;
        ptrdiff_t want = lgrin_motion_max_frames(state, t + at, k), got;
        if (want < 0 || made + (size_t)want > room)
            return -1;
        got = lgrin_motion_push(state, t + at, x + at * spec->in_channels, k,
                                out + made * spec->channels, room - made);
        if (got != want)
            return -1;
        made += (size_t)got;
        at += k;
        if (on_time(spec, t, at) != made) /* every frame out on the first sample at or after its end */
            return -1;
    }
    return (long)made;
}

static void check_motion(const char *dir)
{
    char line[MAX_LINE], name[256], start[64], map[4096], file[300];
    FILE *f = open_list(dir, "motion.txt");
    while (fgets(line, sizeof line, f)) {
        lgrin_motion_spec spec;
        unsigned long n, frames;
        unsigned in_ch;
        double rate, gap, *t;
        float *x, *want, *got;
        size_t chunk, at;
        int ch;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        lgrin_motion_default_spec(&spec);
        if (sscanf(line, "%255s %lf %lf %63s %u %4095s %lu %lu", name, &rate, &gap, start, &in_ch, map, &n,
                   &frames) != 8 ||
            (ch = parse_map(map, &spec)) < 1) {
            fprintf(stderr, "error: motion.txt: malformed line: %s", line);
            exit(2);
        }
        spec.frame_rate = rate;
        spec.max_gap = gap;
        spec.has_start = strcmp(start, "-") != 0;
        spec.start = spec.has_start ? strtod(start, NULL) : 0.0;
        spec.in_channels = in_ch;
        spec.channels = (uint32_t)ch;
        snprintf(file, sizeof file, "%s.time.f64", name);
        t = (double *)read_items(dir, file, sizeof(double), n);
        snprintf(file, sizeof file, "%s.values.f32", name);
        x = (float *)read_items(dir, file, sizeof(float), n * in_ch);
        snprintf(file, sizeof file, "%s.frames.f32", name);
        want = (float *)read_items(dir, file, sizeof(float), frames * (size_t)ch);
        got = (float *)malloc(sizeof(float) * (frames + 1) * (size_t)ch);
        for (chunk = 0; chunk <= 7; chunk++) {
            long made = run_motion(&spec, t, x, n, chunk, got, frames + 1);
            checks++;
            if (made != (long)frames)
                fail("motion frame count", name, (long)chunk);
            else if (!same_bits(got, want, frames * (size_t)ch, &at))
                fail("motion frame value", name, (long)at);
        }
        free(t);
        free(x);
        free(want);
        free(got);
    }
    fclose(f);
}

/* The refusals of lgrin_input.h, each leaving the stream as it was. */
static void check_motion_refusals(void)
{
    double state[LGRIN_MOTION_STATE_BYTES / sizeof(double)], t[3] = {0.0, 0.05, 0.1};
    float x[3 * 6] = {0}, out[6 * 8];
    lgrin_motion_spec spec;
    lgrin_motion_default_spec(&spec);
    expect(lgrin_motion_state_size() <= LGRIN_MOTION_STATE_BYTES, "state fits LGRIN_MOTION_STATE_BYTES");
    expect(lgrin_motion_init(state, lgrin_motion_state_size() - 1, &spec) == LGRIN_IN_E_SPACE, "small state");
    expect(lgrin_motion_init((char *)state + 4, sizeof state - 8, &spec) == LGRIN_IN_E_ALIGN, "unaligned state");
    memset(state, 0, sizeof state);
    expect(lgrin_motion_push(state, t, x, 3, out, 8) == LGRIN_IN_E_STATE, "uninitialised state");
    spec.map[2].source = 6;
    expect(lgrin_motion_check(&spec) == LGRIN_IN_E_ARG, "source beyond the input");
    lgrin_motion_default_spec(&spec);
    spec.map[0].sign = 0;
    expect(lgrin_motion_check(&spec) == LGRIN_IN_E_ARG, "sign 0");
    lgrin_motion_default_spec(&spec);
    spec.frame_rate = 0.0;
    expect(lgrin_motion_check(&spec) == LGRIN_IN_E_ARG, "frame rate 0");
    lgrin_motion_default_spec(&spec);
    expect(lgrin_motion_init(state, sizeof state, &spec) == LGRIN_IN_OK, "init");
    t[1] = -0.01;
    expect(lgrin_motion_push(state, t, x, 3, out, 8) == LGRIN_IN_E_INPUT, "time going back");
    t[1] = 0.05;
    t[2] = 0.7;
    expect(lgrin_motion_push(state, t, x, 3, out, 8) == LGRIN_IN_E_GAP, "gap above max_gap");
    t[2] = 0.1;
    x[7] = (float)strtod("nan", NULL);
    expect(lgrin_motion_push(state, t, x, 3, out, 8) == LGRIN_IN_E_INPUT, "NaN value");
    x[7] = 0.0f;
    t[2] = 0.25;
    expect(lgrin_motion_max_frames(state, t, 3) == 2, "max_frames");
    expect(lgrin_motion_push(state, t, x, 3, out, 1) == LGRIN_IN_E_OUTPUT, "output room");
    expect(lgrin_motion_push(state, t, x, 3, out, 8) == 2, "push after refusals");
}

/* ---------------------------------------------------------------------------------------------------
 * Face */

static void check_face(const char *dir)
{
    char line[MAX_LINE], mesh_name[256], want_name[256];
    FILE *f = open_list(dir, "mesh_to_ibug68.txt");
    unsigned i, v;
    size_t at;
    for (i = 0; i < LGRIN_FACE_POINTS;) {
        if (!fgets(line, sizeof line, f)) {
            fprintf(stderr, "error: mesh_to_ibug68.txt: fewer than 68 entries\n");
            exit(2);
        }
        if (line[0] != '#') {
            char *p = line, *end;
            for (; i < LGRIN_FACE_POINTS; i++, p = end) {
                v = (unsigned)strtoul(p, &end, 10);
                if (end == p)
                    break;
                checks++;
                if (lgrin_mesh_to_ibug68[i] != v)
                    fail("mesh_to_ibug68 entry", "", (long)i);
            }
        }
    }
    fclose(f);
    f = open_list(dir, "face.txt");
    while (fgets(line, sizeof line, f)) {
        unsigned points, stride, width, height, frames, k;
        float *mesh, *want, got[LGRIN_FACE_WIDTH];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%255s %u %u %u %u %u %255s", mesh_name, &points, &stride, &width, &height, &frames,
                   want_name) != 7) {
            fprintf(stderr, "error: face.txt: malformed line: %s", line);
            exit(2);
        }
        mesh = (float *)read_items(dir, mesh_name, sizeof(float), (size_t)frames * points * stride);
        want = (float *)read_items(dir, want_name, sizeof(float), (size_t)frames * LGRIN_FACE_WIDTH);
        for (k = 0; k < frames; k++) {
            int rc = lgrin_face_frame(mesh + (size_t)k * points * stride, points, stride, width, height, got);
            checks++;
            if (rc != LGRIN_IN_OK || !same_bits(got, want + (size_t)k * LGRIN_FACE_WIDTH, LGRIN_FACE_WIDTH, &at))
                fail("face frame", mesh_name, (long)k);
        }
        expect(lgrin_face_frame(mesh, 477, stride, width, height, got) == LGRIN_IN_E_ARG, "477 mesh points");
        mesh[(size_t)lgrin_mesh_to_ibug68[5] * stride + 1] = (float)strtod("nan", NULL);
        expect(lgrin_face_frame(mesh, points, stride, width, height, got) == LGRIN_IN_E_INPUT, "NaN landmark");
        free(mesh);
        free(want);
    }
    fclose(f);
}

/* ---------------------------------------------------------------------------------------------------
 * Graph */

static int policy_code(const char *name)
{
    return !strcmp(name, "truncate") ? LGRIN_GRAPH_TRUNCATE
           : !strcmp(name, "resample") ? LGRIN_GRAPH_RESAMPLE
           : !strcmp(name, "chunk")    ? LGRIN_GRAPH_CHUNK
                                       : -1;
}

/* "digest M_MAX T_MAX H": every resample graph with M <= M_MAX, T <= T_MAX, its indices folded in order
 * (M, then T, then node) as h = h x 1099511628211 + index + 1 (mod 2^64). */
static void check_digest(const char *line)
{
    unsigned long m_max, t_max;
    unsigned long long want;
    uint64_t h = 0;
    uint32_t m, t, j, *idx;
    if (sscanf(line, "digest %lu %lu %llu", &m_max, &t_max, &want) != 3) {
        fprintf(stderr, "error: graph.txt: malformed digest line\n");
        exit(2);
    }
    idx = (uint32_t *)malloc(sizeof(uint32_t) * m_max);
    for (m = 1; m <= m_max; m++)
        for (t = 1; t <= t_max; t++) {
            lgrin_graph_indices(t, m, LGRIN_GRAPH_RESAMPLE, 0, idx);
            for (j = 0; j < m; j++)
                h = h * 1099511628211u + idx[j] + 1u;
        }
    free(idx);
    checks++;
    if (h != (uint64_t)want)
        fail("graph digest (every T, M)", "resample", (long)m_max);
}

/* lgrin_graph_gather of graph g against the indices want: frame i holds i + c / 8 in column c, and the
 * ring is rotated every way. */
static void check_gather(unsigned long t, unsigned long m, int code, unsigned long g, const uint32_t *want,
                         const char *policy)
{
    const uint32_t p_width = 3;
    float *ring = (float *)malloc(sizeof(float) * t * p_width), *out = (float *)malloc(sizeof(float) * m * p_width);
    unsigned long rot, j;
    for (rot = 0; rot < t; rot += 1 + t / 7) {
        unsigned long i, c;
        int ok;
        for (i = 0; i < t; i++)
            for (c = 0; c < p_width; c++)
                ring[((rot + i) % t) * p_width + c] = (float)i + (float)c / 8.0f;
        ok = lgrin_graph_gather(ring, (uint32_t)t, (uint32_t)rot, (uint32_t)t, p_width, (uint32_t)m, (uint32_t)code,
                                (uint32_t)g, out) == LGRIN_IN_OK;
        for (j = 0; ok && j < m; j++)
            for (c = 0; c < p_width; c++)
                ok &= out[j * p_width + c] == (float)want[j] + (float)c / 8.0f;
        checks++;
        if (!ok)
            fail("graph gather", policy, (long)rot);
    }
    free(ring);
    free(out);
}

/* The arguments the graph functions refuse. */
static void check_graph_refusals(void)
{
    uint32_t idx[4];
    float ring[4] = {0};
    expect(lgrin_graph_indices(0, 4, LGRIN_GRAPH_RESAMPLE, 0, idx) == LGRIN_IN_E_ARG, "T = 0");
    expect(lgrin_graph_indices(5, 4, 3, 0, idx) == LGRIN_IN_E_ARG, "unknown policy");
    expect(lgrin_graph_indices(9, 4, LGRIN_GRAPH_CHUNK, 3, idx) == LGRIN_IN_E_ARG, "graph beyond the count");
    expect(lgrin_graph_gather(ring, 2, 0, 3, 1, 4, LGRIN_GRAPH_RESAMPLE, 0, ring) == LGRIN_IN_E_ARG,
           "T above the ring's capacity");
}

static void check_graph(const char *dir)
{
    char *line = (char *)malloc(1u << 20), policy[32];
    FILE *f = open_list(dir, "graph.txt");
    while (fgets(line, 1 << 20, f)) {
        unsigned long t, m, g, count, j;
        uint32_t *want, *got;
        char *p, *end;
        int code, n_read = 0;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (!strncmp(line, "digest ", 7)) {
            check_digest(line);
            continue;
        }
        if (sscanf(line, "%lu %lu %31s %lu %lu%n", &t, &m, policy, &g, &count, &n_read) != 5 ||
            (code = policy_code(policy)) < 0) {
            fprintf(stderr, "error: graph.txt: malformed line\n");
            exit(2);
        }
        want = (uint32_t *)malloc(sizeof(uint32_t) * m);
        got = (uint32_t *)malloc(sizeof(uint32_t) * m);
        for (j = 0, p = line + n_read; j < m; j++, p = end) {
            want[j] = (uint32_t)strtoul(p, &end, 10);
            if (end == p) {
                fprintf(stderr, "error: graph.txt: %lu indices for M = %lu\n", j, m);
                exit(2);
            }
        }
        checks++;
        if (lgrin_graph_count((uint32_t)t, (uint32_t)m, (uint32_t)code) != count)
            fail("graph count", policy, (long)t);
        checks++;
        if (lgrin_graph_indices((uint32_t)t, (uint32_t)m, (uint32_t)code, (uint32_t)g, got) != LGRIN_IN_OK ||
            memcmp(got, want, sizeof(uint32_t) * m) != 0)
            fail("graph indices", policy, (long)t);
        if (t <= 4096)
            check_gather(t, m, code, g, want, policy);
        free(want);
        free(got);
    }
    fclose(f);
    free(line);
    check_graph_refusals();
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--check") != 0) {
        fprintf(stderr, "usage: %s --check DIR   (DIR: export/tests/data/input)\n", argv[0]);
        return 2;
    }
    check_motion(argv[2]);
    check_motion_refusals();
    check_face(argv[2]);
    check_graph(argv[2]);
    if (failures) {
        printf("%d of %d input known answers failed\n", failures, checks);
        return 1;
    }
    printf("all %d input known answers passed\n", checks);
    return 0;
}
