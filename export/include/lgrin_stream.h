/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/*
 * lgrin_stream.h - a live stream: PCM, motion samples or ready frames in, one decision per hop out.
 *
 * The stream definition (v1, the same in lgrin_edge.live and the Java binding): frames come from the
 * model's front-end (lgrin_frontend_* for audio, lgrin_motion_* for motion) or from the caller, and are
 * counted from 0 as they come: n frames so far. A ring holds the latest W. Each time n reaches W + k H
 * (k = 0, 1, ...) the W frames held (oldest first) become the M-node graph by the graph rule
 * (lgrin_graph_gather with the spec's graph.longer; "chunk" uses its first graph), the model gives C
 * logits, and probabilities = lgrin_softmax(logits). At the end (lgrin_stream_flush) the front-end's
 * remaining frames are pushed (which may decide further), then, if no decision was made in the whole
 * stream and n >= 1, one decision over the n frames held (T = n). A decision's time is n / frame rate;
 * its label the argmax of its probabilities (first on ties); its smoothed label the argmax of the mean of
 * the last S decisions' probability vectors (fewer at the start).
 *
 * Utterance mode (config.mode LGRIN_STREAM_UTTERANCE, audio only; the default of a spec with "stream":
 * null and input.kind audio): frame k's energy is the mean square of the PCM it covers, input samples
 * [ceil(k hop r / fs), ceil((k hop + L) r / fs)) (r the PCM's rate; fs, hop, L the front-end's), as float,
 * squared and added in double in sample order (at the flush over the samples there are); the frame is
 * speech when it exceeds 10^(threshold_db / 10). A speech frame starts an utterance (no pre-roll); each
 * frame is appended to it; it ends after `hangover` non-speech frames in a row, at `window` (U) frames, or
 * at the flush. An ended utterance with at least `min_speech` speech frames gives one decision over its
 * frames up to its last speech frame (T of them, by the graph rule), at time (n - trailing non-speech
 * frames) / frame rate; smoothing as above (the default S = 1). Ready frames cannot be pushed (E_STATE).
 *
 * Delay from a sample to its effect on a label: the front-end's delay (audio: 37.5 ms after the frame's
 * end at 16 kHz, plus half the resampler's filter at other rates, lgrin_frontend.h; motion: a frame comes
 * out with the first sample at or after its end, lgrin_input.h; frames: none), then up to H - 1 more
 * frames until the next decision (at most H frames from a frame's end to the decision that first holds
 * it); a frame stays in the decisions of the next W frames, and in the smoothed label for S decisions.
 *
 * Memory: lgrin_stream_state_size(model, config) bytes, fixed for the stream's life, 8-byte aligned:
 * a header (~0.9 KB), the front-end's state (audio: lgrin_frontend_state_size, tens of KB at 16 kHz;
 * motion: lgrin_motion_state_size, < 1 KB), a frame buffer of config.chunk frames x P floats, the ring of
 * W x P floats, the graph of M x P floats, lgrin_workspace_size(model) bytes, the smoothing history of
 * S x C floats and logits, probabilities and their mean (3 x C floats); utterance mode adds the PCM of
 * one frame (L r / fs + 2 floats) and 2 x chunk frame energies (doubles). The stream never allocates; the
 * model (lgrin_load) is read-only and must outlive the stream, so several streams may share one model,
 * each in its own state, from different threads. Dependencies: lgrin.h, lgrin_frontend.h (libm),
 * lgrin_input.h; no libc.
 *
 * Limit: one motion sample that completes more than config.chunk frames at once (a gap in the samples
 * longer than chunk / frame rate seconds) is refused with LGRIN_STREAM_E_GAP.
 */
#ifndef LGRIN_STREAM_H
#define LGRIN_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "lgrin.h"
#include "lgrin_frontend.h"
#include "lgrin_input.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LGRIN_STREAM_VERSION 1u
#define LGRIN_STREAM_DEFAULT_SMOOTHING 3u
#define LGRIN_STREAM_MIN_CHUNK 64u /* frames of the frame buffer at least (config.chunk) */

/* Every status code: X(enum name, value, lgrin_stream_strerror's text). */
#define LGRIN_STREAM_STATUS_LIST(X)                                                                           \
    X(LGRIN_STREAM_OK, 0, "ok")                                                                               \
    X(LGRIN_STREAM_E_ARG, -1, "invalid argument or configuration")                                            \
    X(LGRIN_STREAM_E_SPACE, -2, "state smaller than lgrin_stream_state_size()")                               \
    X(LGRIN_STREAM_E_ALIGN, -3, "state not 8-byte aligned")                                                   \
    X(LGRIN_STREAM_E_INPUT, -4, "input contains NaN or infinity, or a timestamp out of order or range")      \
    X(LGRIN_STREAM_E_OUTPUT, -5, "decision room below lgrin_stream_max_decisions()")                          \
    X(LGRIN_STREAM_E_STATE, -6, "stream not initialised, already flushed, or of another input kind")          \
    X(LGRIN_STREAM_E_NO_SPEC, -7, "the model file carries no feature spec")                                   \
    X(LGRIN_STREAM_E_SYNTAX, -8, "the feature spec is not JSON")                                              \
    X(LGRIN_STREAM_E_MISSING, -9, "the feature spec lacks a field the stream needs (or it is unknown)")       \
    X(LGRIN_STREAM_E_TYPE, -10, "a feature spec field has the wrong type")                                    \
    X(LGRIN_STREAM_E_UNKNOWN, -11, "the feature spec has a field this version does not know")                 \
    X(LGRIN_STREAM_E_VALUE, -12, "a feature spec value is out of range, unsupported or disagrees with the model") \
    X(LGRIN_STREAM_E_FRONTEND, -13, "the front-end refused its spec or the input rate")                       \
    X(LGRIN_STREAM_E_MODEL, -14, "the model failed to run")                                                   \
    X(LGRIN_STREAM_E_GAP, -15, "one motion sample completes more frames than the frame buffer holds")

#define LGRIN_STREAM_STATUS_ENUMERATOR(name, value, text) name = value,
enum lgrin_stream_status { LGRIN_STREAM_STATUS_LIST(LGRIN_STREAM_STATUS_ENUMERATOR) };
#undef LGRIN_STREAM_STATUS_ENUMERATOR

/* What the stream is fed: PCM (audio), timestamped motion samples, or ready frames. Frames may be pushed
 * to a stream of any kind (lgrin_stream_push_frames); a frames stream holds no front-end. */
enum lgrin_stream_kind { LGRIN_STREAM_AUDIO = 0, LGRIN_STREAM_MOTION = 1, LGRIN_STREAM_FRAMES = 2 };

/* A decision every hop on the latest window, or one per utterance that voice activity cuts (above). */
enum lgrin_stream_mode { LGRIN_STREAM_SLIDING = 0, LGRIN_STREAM_UTTERANCE = 1 };
#define LGRIN_STREAM_DEFAULT_THRESHOLD_DB (-40.0) /* the default utterance stream's voice activity */
#define LGRIN_STREAM_DEFAULT_MIN_SPEECH_S 0.3
#define LGRIN_STREAM_DEFAULT_HANGOVER_S 0.3
#define LGRIN_STREAM_DEFAULT_MAX_UTTERANCE_S 10.0

typedef struct lgrin_stream_config {
    uint32_t kind;         /* enum lgrin_stream_kind */
    uint32_t window, hop;  /* W and H in frames (>= 1); utterance mode: U, the longest utterance, and 1 */
    uint32_t smoothing;    /* S: decisions averaged (>= 1) */
    uint32_t policy;       /* enum lgrin_graph_policy for W > M */
    uint32_t num_nodes;    /* M, the model's */
    uint32_t num_features; /* P, the model's */
    uint32_t num_classes;  /* C, the model's */
    uint32_t input_rate;   /* audio: the PCM's sample rate (Hz) */
    uint32_t chunk;        /* frames the frame buffer holds (>= LGRIN_STREAM_MIN_CHUNK) */
    uint32_t policy_known; /* 0 when the spec's graph.longer is "unknown": W > M is then refused */
    double frame_rate;     /* frames per second: a decision's time is n / frame_rate */
    lgrin_frontend_spec frontend; /* audio */
    lgrin_motion_spec motion;     /* motion */
    char field[64]; /* after an E_MISSING/E_TYPE/E_UNKNOWN/E_VALUE: the spec field at fault, dotted */
    uint32_t mode;       /* enum lgrin_stream_mode */
    uint32_t min_speech; /* utterance mode: speech frames an utterance needs for a decision (0: any) */
    uint32_t hangover;   /* utterance mode: non-speech frames in a row that end an utterance (>= 1) */
    double threshold_db; /* utterance mode: speech when a frame's mean square > 10^(threshold_db / 10) */
} lgrin_stream_config;

/* One decision. */
typedef struct lgrin_stream_decision {
    double time_s;               /* n / frame_rate: the end of the window's last frame */
    uint32_t label, smoothed;    /* argmax of the probabilities, and of the mean of the last S */
    float probability;           /* probabilities[label] */
    float smoothed_probability;  /* the mean's [smoothed] */
} lgrin_stream_decision;

/* round-half-even(seconds x frame_rate); 0 (no stream) for under half a frame, or a value that is not
 * finite and positive or exceeds 2^31 frames. The rule for W from window_s and H from hop_s. */
uint32_t lgrin_stream_frames(double seconds, double frame_rate);

/* Fill *config from the feature spec the model carries: input kind, frame rate, M, P, C, the graph
 * policy, the "stream" section (null: the default stream: audio the utterance stream of the
 * LGRIN_STREAM_DEFAULT_* values with S = 1; else sliding, W = M, H = max(1, round(W / 10)), S = 3) and
 * the front-end's spec (audio: extractor.params, SpeechSpec's fields by name; motion: P channels,
 * identity map, no gap limit, starting at the first sample). input_rate: the PCM's rate for audio (0: the
 * spec's sample rate); ignored otherwise. Kinds other than audio and motion become LGRIN_STREAM_FRAMES.
 * On E_MISSING, E_TYPE, E_UNKNOWN and E_VALUE config->field names the field. */
int lgrin_stream_config_from_model(const lgrin_model *model, uint32_t input_rate, lgrin_stream_config *config);

/* Override the spec's stream: window_s and hop_s in seconds (W and H by lgrin_stream_frames at
 * config->frame_rate), smoothing in decisions; 0 keeps the current value. A window or hop makes an
 * utterance stream the default sliding one (W = M, H = max(1, round(M / 10)), S = 3) first. Grows
 * config->chunk to W and H.
 * E_VALUE (config->field "window_s", "hop_s" or "smoothing") for a value that gives no stream, or a
 * window above M where the spec's graph.longer is unknown. */
int lgrin_stream_config_set(lgrin_stream_config *config, double window_s, double hop_s, uint32_t smoothing);

/* Bytes of state a stream of this model and config needs; 0 for an invalid config. */
size_t lgrin_stream_state_size(const lgrin_model *model, const lgrin_stream_config *config);

/* Start a stream in state (size bytes, 8-byte aligned). The config is copied; the model is kept. */
int lgrin_stream_init(void *state, size_t size, const lgrin_model *model, const lgrin_stream_config *config);

/* Start a new stream in an initialised state (same model and config). */
int lgrin_stream_reset(void *state);

/* The most decisions a push of n more samples (audio) or frames makes, and also the most the flush after
 * that push makes (utterance mode: the frames they make + 1). For motion use
 * lgrin_stream_max_decisions_motion (this returns 0 for motion). */
size_t lgrin_stream_max_decisions(const void *state, size_t n);

/* The most decisions a push of these n motion samples makes (it reads the first and last time); negative
 * lgrin_stream_status for a timestamp out of range. */
ptrdiff_t lgrin_stream_max_decisions_motion(const void *state, const double *time, size_t n);

/* Pushes: write the decisions made to out (at most max_decisions) and return how many; negative
 * lgrin_stream_status on error, before any of the input is used. Chunking never changes the decisions. */
ptrdiff_t lgrin_stream_push_i16(void *state, const int16_t *pcm, size_t n, lgrin_stream_decision *out,
                                size_t max_decisions);
ptrdiff_t lgrin_stream_push_f32(void *state, const float *pcm, size_t n, lgrin_stream_decision *out,
                                size_t max_decisions);
/* time[i] seconds (non-decreasing), values n x P row-major in the spec's channel order. */
ptrdiff_t lgrin_stream_push_motion(void *state, const double *time, const float *values, size_t n,
                                   lgrin_stream_decision *out, size_t max_decisions);
/* n frames of P floats, row-major: at most n + 1 decisions (n with the flush after it). */
ptrdiff_t lgrin_stream_push_frames(void *state, const float *frames, size_t n, lgrin_stream_decision *out,
                                   size_t max_decisions);

/* End of the stream (see above). Further pushes fail with E_STATE until lgrin_stream_reset(). */
ptrdiff_t lgrin_stream_flush(void *state, lgrin_stream_decision *out, size_t max_decisions);

/* The last decision's C probabilities and their smoothed mean (pointers into the state, valid until the
 * next push or flush); NULL before the first decision. */
const float *lgrin_stream_probabilities(const void *state);
const float *lgrin_stream_smoothed(const void *state);

/* Frames so far (n) and decisions so far. */
uint64_t lgrin_stream_frames_seen(const void *state);
uint64_t lgrin_stream_decisions_made(const void *state);

/* Static English text for a status code. */
const char *lgrin_stream_strerror(int status);

#ifdef __cplusplus
}
#endif

#endif /* LGRIN_STREAM_H */
