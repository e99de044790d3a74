/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/*
 * lgrin_input.h - a model's input on the device: motion samples -> frames, a face mesh -> a 136-value
 * frame, and T frames -> the M-node graph. The same definitions as the Python package's
 * lgrin_edge.frontend.motion, lgrin_edge.frontend.landmarks and lgrin_edge.data.graph, in the same
 * double-precision arithmetic and operation order: the tests hold the C, numpy and Java results equal bit
 * for bit (tests/frontend/test_motion.py, test_landmarks.py, test_graph_rule.py; known answers in
 * export/tests/data/input/).
 *
 * No allocation, no libm, no libc: <stddef.h> and <stdint.h> only (a soft-float target links its
 * compiler's double helpers). Build with -ffp-contract=off (export/CMakeLists.txt does) for numpy's exact
 * double arithmetic: a fused multiply-add can move a motion frame's double by an ulp (in the tests no
 * float frame changed). Timestamps are seconds in double: Android's SensorEvent.timestamp / 1e9.
 */
#ifndef LGRIN_INPUT_H
#define LGRIN_INPUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lgrin_in_status {
    LGRIN_IN_OK = 0,
    LGRIN_IN_E_ARG = -1,    /* null pointer, or a spec or size out of range (see lgrin_motion_check) */
    LGRIN_IN_E_SPACE = -2,  /* state smaller than lgrin_motion_state_size() */
    LGRIN_IN_E_ALIGN = -3,  /* state not 8-byte aligned */
    LGRIN_IN_E_INPUT = -4,  /* a NaN or infinite value, a timestamp before the previous one or too far from
                               the start (nothing of the chunk was used) */
    LGRIN_IN_E_GAP = -5,    /* two samples further apart than max_gap (nothing of the chunk was used) */
    LGRIN_IN_E_OUTPUT = -6, /* max_frames below lgrin_motion_max_frames() (nothing was used) */
    LGRIN_IN_E_STATE = -7   /* state not initialised */
};

/* Static English text for a status code. */
const char *lgrin_input_strerror(int status);

/* ---------------------------------------------------------------------------------------------------
 * Motion: samples (time in seconds, values) at any rate, regular or not -> frames at frame_rate.
 *
 * Each sample is first mapped to the model's channels: channel c = sign_c x (scale_c x value[source_c]).
 * The signal is the piecewise-linear curve through the mapped samples (held at the first sample's value
 * before it). Frame k is the mean of that curve over [t0 + k / rate, t0 + (k + 1) / rate), t0 the start:
 * a boxcar of one frame period (nulls at multiples of the frame rate, -3.9 dB at its Nyquist frequency),
 * which weights each sample by the time it stands for, so jitter, rate changes and gaps bias nothing.
 * Frame k comes out when the first sample at or after its end arrives; a partial last frame never does.
 * Streaming, fixed state: chunking never changes the frames.
 */
#define LGRIN_MOTION_MAX_CHANNELS 16u
#define LGRIN_MOTION_MAX_RATE 10000.0  /* frames per second */
#define LGRIN_MOTION_MAX_SCALE 1e6
#define LGRIN_MOTION_STATE_BYTES 768u  /* at least lgrin_motion_state_size(), for static buffers */
#define LGRIN_STANDARD_GRAVITY 9.80665 /* m/s^2 per g: a scale for accelerometers that report g */
#define LGRIN_RAD_PER_DEG 0.017453292519943295 /* pi / 180: a scale for gyroscopes that report deg/s */

/* Frame channel c: sign (+1 or -1) x (scale (> 0) x input value `source`). */
typedef struct lgrin_axis {
    uint32_t source;
    int32_t sign;
    double scale;
} lgrin_axis;

typedef struct lgrin_motion_spec {
    double frame_rate; /* frames per second, (0, LGRIN_MOTION_MAX_RATE] */
    double max_gap;    /* seconds: two samples further apart are an error (LGRIN_IN_E_GAP); 0: no limit */
    double start;      /* with has_start: frame 0 starts at this time; else at the first sample's */
    uint32_t has_start;
    uint32_t in_channels; /* values per input sample, 1..LGRIN_MOTION_MAX_CHANNELS */
    uint32_t channels;    /* values per frame, 1..LGRIN_MOTION_MAX_CHANNELS */
    lgrin_axis map[LGRIN_MOTION_MAX_CHANNELS]; /* the first `channels` entries are used */
} lgrin_motion_spec;

/* 10 frames per second, 6 channels in the same order and units, max_gap 0.5 s, start at the first sample. */
void lgrin_motion_default_spec(lgrin_motion_spec *spec);

/* LGRIN_IN_OK, or LGRIN_IN_E_ARG for a spec out of range. */
int lgrin_motion_check(const lgrin_motion_spec *spec);

/* Bytes of state (the same for every spec, at most LGRIN_MOTION_STATE_BYTES). */
size_t lgrin_motion_state_size(void);

/* Start a stream in `state` (size bytes, 8-byte aligned). The spec is copied. */
int lgrin_motion_init(void *state, size_t size, const lgrin_motion_spec *spec);

/* Start a new stream with the same spec. */
int lgrin_motion_reset(void *state);

/* Floats per frame (spec.channels); 0 for a state that is not initialised. */
uint32_t lgrin_motion_width(const void *state);

/* Exactly how many frames lgrin_motion_push() of these n timestamps will emit (it reads the first and
 * last); negative lgrin_in_status for a state that is not initialised or a timestamp out of range. */
ptrdiff_t lgrin_motion_max_frames(const void *state, const double *time, size_t n);

/* Feed n samples: time[i] in seconds (non-decreasing; equal times make a step), values row-major n x
 * in_channels. Writes the frames that became complete to out (frames x channels floats, row-major) and
 * returns how many; negative lgrin_in_status on error, before anything is used. */
ptrdiff_t lgrin_motion_push(void *state, const double *time, const float *values, size_t n, float *out,
                            size_t max_frames);

/* ---------------------------------------------------------------------------------------------------
 * Face: MediaPipe's face mesh (478 points, or the 468 without irises) in image-normalised coordinates ->
 * the 68 iBUG points in pixels -> one frame [x_0 .. x_67, y_0 .. y_67], as lgrin_edge/features/face.py
 * (video_landmarks: x times the image width and y times its height in double, rounded to float). */
#define LGRIN_FACE_POINTS 68u
#define LGRIN_FACE_WIDTH 136u

/* Mesh vertex of iBUG point i + 1 (face.py's MESH_TO_IBUG68, generated from it). */
extern const uint16_t lgrin_mesh_to_ibug68[LGRIN_FACE_POINTS];

/* mesh: n_points (468 or 478) x stride floats (x, y[, z, ...]; stride >= 2); width, height: the image's
 * pixels (>= 1). Writes LGRIN_FACE_WIDTH floats to out; LGRIN_IN_E_INPUT for a non-finite x or y used. */
int lgrin_face_frame(const float *mesh, uint32_t n_points, uint32_t stride, uint32_t width, uint32_t height,
                     float *out);

/* ---------------------------------------------------------------------------------------------------
 * Graph: T frames -> M nodes, as lgrin_edge/data/graph.py's sequence_to_graphs. T <= M: frames repeated
 * from the start (cyclic padding). T > M: truncate, the first M frames; resample, frames
 * round-half-even(j (T - 1) / (M - 1)) in double, the last one T - 1 (numpy's round(linspace)); chunk,
 * graph g holds frames gM .. gM + M - 1, the last window cyclically padded. */
enum lgrin_graph_policy { LGRIN_GRAPH_TRUNCATE = 0, LGRIN_GRAPH_RESAMPLE = 1, LGRIN_GRAPH_CHUNK = 2 };

/* How many graphs T frames make (1, or ceil(T / M) for chunk with T > M); 0 for T or M of 0 or an
 * unknown policy. */
uint32_t lgrin_graph_count(uint32_t t, uint32_t m, uint32_t policy);

/* idx[j] (j < M): the frame (0 .. T-1) node j of graph `graph` takes. LGRIN_IN_E_ARG for T or M of 0, an
 * unknown policy or graph >= lgrin_graph_count(). */
int lgrin_graph_indices(uint32_t t, uint32_t m, uint32_t policy, uint32_t graph, uint32_t *idx);

/* out (M x P floats, row-major) = graph `graph` of the T frames held in a ring of `capacity` frames of P
 * floats whose oldest is at slot `first` (frame i at slot (first + i) mod capacity; a plain T x P array is
 * capacity T, first 0). T <= capacity. */
int lgrin_graph_gather(const float *ring, uint32_t capacity, uint32_t first, uint32_t t, uint32_t p, uint32_t m,
                       uint32_t policy, uint32_t graph, float *out);

#ifdef __cplusplus
}
#endif

#endif /* LGRIN_INPUT_H */
