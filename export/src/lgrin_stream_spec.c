/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_stream_config_from_model: the stream's configuration from the feature spec a model file carries
 * (lgrin_edge/spec.py writes it; the "stream" section and the defaults follow the stream definition v1). */
#include "lgrin_json.h"
#include "lgrin_stream.h"

#define MAX_WINDOW (1u << 20) /* frames: W, H and S beyond any stream, low enough for 32-bit sizes */

static void zero(void *p, size_t n)
{
    unsigned char *b = (unsigned char *)p;
    while (n--)
        *b++ = 0;
}

/* config->field = a + b (truncated), then return status. */
static int fail(lgrin_stream_config *c, int status, const char *a, const char *b)
{
    size_t n = 0;
    for (; a && *a && n < sizeof c->field - 1; a++)
        c->field[n++] = *a;
    for (; b && *b && n < sizeof c->field - 1; b++)
        c->field[n++] = *b;
    c->field[n] = '\0';
    return status;
}

static int json_status(int rc)
{
    return rc == LGRIN_JSON_E_MISSING ? LGRIN_STREAM_E_MISSING
           : rc == LGRIN_JSON_E_TYPE  ? LGRIN_STREAM_E_TYPE
                                      : LGRIN_STREAM_E_VALUE;
}

/* The value at path, of the given type (0: any). */
static int need(lgrin_stream_config *c, lgrin_json root, const char *path, int type, lgrin_json *out)
{
    int rc = lgrin_json_path(root, path, out);
    if (rc != LGRIN_JSON_OK)
        return fail(c, json_status(rc), path, 0);
    if (type && lgrin_json_type(*out) != type)
        return fail(c, LGRIN_STREAM_E_TYPE, path, 0);
    return LGRIN_STREAM_OK;
}

/* A positive number at path; the string "unknown" counts as missing. */
static int need_positive(lgrin_stream_config *c, lgrin_json root, const char *path, double *out)
{
    lgrin_json v;
    int rc = need(c, root, path, 0, &v);
    if (rc != LGRIN_STREAM_OK)
        return rc;
    if (lgrin_json_string_is(v, "unknown"))
        return fail(c, LGRIN_STREAM_E_MISSING, path, 0);
    if ((rc = lgrin_json_number(v, out)) != LGRIN_JSON_OK)
        return fail(c, json_status(rc), path, 0);
    return *out > 0.0 && *out - *out == 0.0 ? LGRIN_STREAM_OK : fail(c, LGRIN_STREAM_E_VALUE, path, 0);
}

/* Every member of obj is one of the NULL-terminated names; else E_UNKNOWN naming prefix + the member. */
static int only_known(lgrin_stream_config *c, lgrin_json obj, const char *prefix, const char *const *names)
{
    size_t pos = 0, i;
    lgrin_json k, v;
    while (lgrin_json_next(obj, &pos, &k, &v) == 1) {
        char key[40];
        for (i = 0; names[i] && !lgrin_json_string_is(k, names[i]); i++)
            ;
        if (!names[i]) {
            if (lgrin_json_string(k, key, sizeof key, 0) != LGRIN_JSON_OK)
                key[0] = '\0';
            return fail(c, LGRIN_STREAM_E_UNKNOWN, prefix, key);
        }
    }
    return LGRIN_STREAM_OK;
}

/* The number of items of the array at path. */
static int count_items(lgrin_stream_config *c, lgrin_json root, const char *path, uint32_t *n)
{
    size_t pos = 0;
    lgrin_json k, v, a;
    int rc = need(c, root, path, LGRIN_JSON_ARRAY, &a);
    *n = 0;
    while (rc == LGRIN_STREAM_OK && lgrin_json_next(a, &pos, &k, &v) == 1)
        (*n)++;
    return rc;
}

/* M, P, C, the frame rate and the graph policy, checked against the model. */
static int read_dims(lgrin_stream_config *c, lgrin_json root, const lgrin_model *model)
{
    static const char *const policies[] = {"truncate", "resample", "chunk", "unknown"};
    lgrin_json v;
    uint32_t i, classes;
    int rc = need_positive(c, root, "input.frame_rate_hz", &c->frame_rate);
    if (rc || (rc = need(c, root, "graph.num_nodes", 0, &v)))
        return rc;
    if (lgrin_json_string_is(v, "unknown"))
        return fail(c, LGRIN_STREAM_E_MISSING, "graph.num_nodes", 0);
    if ((rc = lgrin_json_u32(v, &c->num_nodes)) != LGRIN_JSON_OK)
        return fail(c, json_status(rc), "graph.num_nodes", 0);
    if (c->num_nodes != lgrin_num_nodes(model))
        return fail(c, LGRIN_STREAM_E_VALUE, "graph.num_nodes", 0);
    if ((rc = count_items(c, root, "features", &c->num_features)))
        return rc;
    if (c->num_features != lgrin_num_features(model))
        return fail(c, LGRIN_STREAM_E_VALUE, "features", 0);
    if ((rc = count_items(c, root, "classes", &classes)))
        return rc;
    c->num_classes = lgrin_num_classes(model);
    if (classes != 0 && classes != c->num_classes)
        return fail(c, LGRIN_STREAM_E_VALUE, "classes", 0);
    if ((rc = need(c, root, "graph.longer", LGRIN_JSON_STRING, &v)))
        return rc;
    for (i = 0; i < 4 && !lgrin_json_string_is(v, policies[i]); i++)
        ;
    if (i == 4)
        return fail(c, LGRIN_STREAM_E_VALUE, "graph.longer", 0);
    c->policy = i == 3 ? LGRIN_GRAPH_RESAMPLE : i;
    c->policy_known = i != 3;
    return LGRIN_STREAM_OK;
}

/* The "stream" section's smoothing object: {"kind": "mean", "decisions": N >= 1}. */
static int read_smoothing(lgrin_stream_config *c, lgrin_json root)
{
    static const char *const names[] = {"kind", "decisions", 0};
    lgrin_json s, v;
    int rc = need(c, root, "stream.smoothing", LGRIN_JSON_OBJECT, &s);
    if (rc || (rc = only_known(c, s, "stream.smoothing.", names)))
        return rc;
    if ((rc = need(c, root, "stream.smoothing.kind", LGRIN_JSON_STRING, &v)))
        return rc;
    if (!lgrin_json_string_is(v, "mean"))
        return fail(c, LGRIN_STREAM_E_VALUE, "stream.smoothing.kind", 0);
    if ((rc = need(c, root, "stream.smoothing.decisions", 0, &v)))
        return rc;
    if ((rc = lgrin_json_u32(v, &c->smoothing)) != LGRIN_JSON_OK)
        return fail(c, json_status(rc), "stream.smoothing.decisions", 0);
    if (c->smoothing < 1 || c->smoothing > MAX_WINDOW)
        return fail(c, LGRIN_STREAM_E_VALUE, "stream.smoothing.decisions", 0);
    return LGRIN_STREAM_OK;
}

/* The default sliding stream: W = M, H = max(1, round(W / 10)), S = 3. */
static void default_sliding(lgrin_stream_config *c)
{
    c->mode = LGRIN_STREAM_SLIDING;
    c->window = c->num_nodes;
    c->hop = lgrin_stream_frames((double)c->window / 10.0, 1.0);
    c->hop = c->hop ? c->hop : 1u;
    c->smoothing = LGRIN_STREAM_DEFAULT_SMOOTHING;
}

/* The utterance stream of these voice-activity values in seconds (U into window); E_VALUE names one. */
static int set_utterance(lgrin_stream_config *c, double db, double min_speech_s, double hangover_s, double max_s)
{
    c->mode = LGRIN_STREAM_UTTERANCE;
    c->threshold_db = db;
    c->min_speech = lgrin_stream_frames(min_speech_s, c->frame_rate); /* 0 s: 0 frames */
    c->hangover = lgrin_stream_frames(hangover_s, c->frame_rate);
    c->window = lgrin_stream_frames(max_s, c->frame_rate);
    c->hop = 1;
    if (c->kind != LGRIN_STREAM_AUDIO)
        return fail(c, LGRIN_STREAM_E_VALUE, "stream.mode", 0); /* voice activity is measured on PCM */
    if (!c->hangover || c->hangover > MAX_WINDOW)
        return fail(c, LGRIN_STREAM_E_VALUE, "stream.vad.hangover_s", 0);
    if (!c->window || c->window > MAX_WINDOW)
        return fail(c, LGRIN_STREAM_E_VALUE, "stream.vad.max_utterance_s", 0);
    return c->min_speech <= MAX_WINDOW ? LGRIN_STREAM_OK : fail(c, LGRIN_STREAM_E_VALUE, "stream.vad.min_speech_s", 0);
}

/* The "vad" object of an utterance section. */
static int read_vad(lgrin_stream_config *c, lgrin_json root)
{
    static const char *const names[] = {"threshold_db", "min_speech_s", "hangover_s", "max_utterance_s", 0};
    lgrin_json vad, v;
    double db, min_speech_s, hangover_s, max_s;
    int rc = need(c, root, "stream.vad", LGRIN_JSON_OBJECT, &vad);
    if (rc || (rc = only_known(c, vad, "stream.vad.", names)))
        return rc;
    if ((rc = need(c, root, "stream.vad.threshold_db", LGRIN_JSON_NUMBER, &v)))
        return rc;
    if (lgrin_json_number(v, &db) != LGRIN_JSON_OK || db - db != 0.0)
        return fail(c, LGRIN_STREAM_E_VALUE, "stream.vad.threshold_db", 0);
    if ((rc = need(c, root, "stream.vad.min_speech_s", LGRIN_JSON_NUMBER, &v)))
        return rc;
    if (lgrin_json_number(v, &min_speech_s) != LGRIN_JSON_OK || !(min_speech_s >= 0.0) ||
        min_speech_s - min_speech_s != 0.0)
        return fail(c, LGRIN_STREAM_E_VALUE, "stream.vad.min_speech_s", 0);
    if ((rc = need_positive(c, root, "stream.vad.hangover_s", &hangover_s)) ||
        (rc = need_positive(c, root, "stream.vad.max_utterance_s", &max_s)))
        return rc;
    return set_utterance(c, db, min_speech_s, hangover_s, max_s);
}

/* The keys of the section's mode, and its trained_on. */
static int read_mode(lgrin_stream_config *c, lgrin_json root, lgrin_json s)
{
    static const char *const sliding[] = {"mode", "window_s", "hop_s", "smoothing", "trained_on", 0};
    static const char *const utterance[] = {"mode", "vad", "smoothing", "trained_on", 0};
    lgrin_json v;
    int rc = need(c, root, "stream.mode", LGRIN_JSON_STRING, &v);
    if (rc)
        return rc;
    if (lgrin_json_string_is(v, "utterance"))
        c->mode = LGRIN_STREAM_UTTERANCE;
    else if (lgrin_json_string_is(v, "sliding"))
        c->mode = LGRIN_STREAM_SLIDING;
    else
        return fail(c, LGRIN_STREAM_E_VALUE, "stream.mode", 0);
    if ((rc = only_known(c, s, "stream.", c->mode == LGRIN_STREAM_UTTERANCE ? utterance : sliding)))
        return rc;
    if ((rc = need(c, root, "stream.trained_on", LGRIN_JSON_STRING, &v)))
        return rc;
    if (!lgrin_json_string_is(v, "windows") && !lgrin_json_string_is(v, "sequences"))
        return fail(c, LGRIN_STREAM_E_VALUE, "stream.trained_on", 0);
    return LGRIN_STREAM_OK;
}

/* The "stream" section, or the default stream where it is null (audio: the utterance stream). */
static int read_stream(lgrin_stream_config *c, lgrin_json root)
{
    lgrin_json s;
    double window_s, hop_s;
    int rc = need(c, root, "stream", 0, &s);
    if (rc)
        return rc;
    if (lgrin_json_type(s) == LGRIN_JSON_NULL) {
        if (c->kind != LGRIN_STREAM_AUDIO) {
            default_sliding(c);
            return LGRIN_STREAM_OK;
        }
        c->smoothing = 1;
        return set_utterance(c, LGRIN_STREAM_DEFAULT_THRESHOLD_DB, LGRIN_STREAM_DEFAULT_MIN_SPEECH_S,
                             LGRIN_STREAM_DEFAULT_HANGOVER_S, LGRIN_STREAM_DEFAULT_MAX_UTTERANCE_S);
    }
    if (lgrin_json_type(s) != LGRIN_JSON_OBJECT)
        return fail(c, LGRIN_STREAM_E_TYPE, "stream", 0);
    if ((rc = read_mode(c, root, s)))
        return rc;
    if (c->mode == LGRIN_STREAM_UTTERANCE)
        return (rc = read_vad(c, root)) ? rc : read_smoothing(c, root);
    if ((rc = need_positive(c, root, "stream.window_s", &window_s)) ||
        (rc = need_positive(c, root, "stream.hop_s", &hop_s)) || (rc = read_smoothing(c, root)))
        return rc;
    c->window = lgrin_stream_frames(window_s, c->frame_rate);
    c->hop = lgrin_stream_frames(hop_s, c->frame_rate);
    if (!c->window || c->window > MAX_WINDOW)
        return fail(c, LGRIN_STREAM_E_VALUE, "stream.window_s", 0);
    return c->hop && c->hop <= MAX_WINDOW ? LGRIN_STREAM_OK : fail(c, LGRIN_STREAM_E_VALUE, "stream.hop_s", 0);
}

/* Motion: P channels in the spec's order, identity map, no gap limit, starting at the first sample. */
static int read_motion(lgrin_stream_config *c)
{
    uint32_t i;
    if (c->num_features > LGRIN_MOTION_MAX_CHANNELS)
        return fail(c, LGRIN_STREAM_E_VALUE, "features", 0);
    c->motion.frame_rate = c->frame_rate;
    c->motion.max_gap = 0.0;
    c->motion.has_start = 0;
    c->motion.in_channels = c->motion.channels = c->num_features;
    for (i = 0; i < c->num_features; i++) {
        c->motion.map[i].source = i;
        c->motion.map[i].sign = 1;
        c->motion.map[i].scale = 1.0;
    }
    return lgrin_motion_check(&c->motion) == LGRIN_IN_OK ? LGRIN_STREAM_OK
                                                          : fail(c, LGRIN_STREAM_E_VALUE, "input.frame_rate_hz", 0);
}

/* SpeechSpec's numeric fields by name (lgrin_edge/frontend/spec.py), where they go in the C spec. */
typedef struct speech_param {
    const char *name;
    unsigned is_u32;
    size_t offset;
} speech_param;

#define U32_PARAM(f) {#f, 1, offsetof(lgrin_frontend_spec, f)}
#define F64_PARAM(f) {#f, 0, offsetof(lgrin_frontend_spec, f)}
static const speech_param speech_params[] = {
    U32_PARAM(sample_rate),   U32_PARAM(frame_length),           U32_PARAM(hop),
    U32_PARAM(fft_size),      U32_PARAM(mel_bands),              U32_PARAM(cepstra),
    U32_PARAM(pitch_length),  U32_PARAM(delta_window),           U32_PARAM(resample_zero_crossings),
    F64_PARAM(preemphasis),   F64_PARAM(mel_low_hz),             F64_PARAM(mel_high_hz),
    F64_PARAM(lifter),        F64_PARAM(log_floor),              F64_PARAM(f0_min_hz),
    F64_PARAM(f0_max_hz),     F64_PARAM(voicing_threshold),      F64_PARAM(octave_cost),
    F64_PARAM(silence_rms),   F64_PARAM(hnr_r_eps),              F64_PARAM(resample_cutoff),
    F64_PARAM(resample_kaiser_beta)};
#define N_SPEECH_PARAMS (sizeof speech_params / sizeof speech_params[0])
#undef U32_PARAM
#undef F64_PARAM

/* The code of descriptor `name` (LGRIN_FE_DESC), or 0 when it names none under spec s. */
static uint16_t descriptor_code(const char *name, const lgrin_frontend_spec *s)
{
    static const char *const base[] = {"rms", "zcr", "voicing", "f0", "hnr"};
    static const char *const indexed[] = {"mfcc", "logmel"};
    uint32_t k, limit, index = 0;
    const char *p, *q;
    for (k = 0; k < 5; k++) {
        for (p = name, q = base[k]; *q && *p == *q; p++, q++)
            ;
        if (!*q && !*p)
            return LGRIN_FE_DESC(LGRIN_FE_RMS + k, 0);
    }
    for (k = 0; k < 2; k++) {
        for (p = name, q = indexed[k]; *q && *p == *q; p++, q++)
            ;
        if (*q || *p < '1' || *p > '9')
            continue;
        for (; *p >= '0' && *p <= '9' && index < 1000; p++)
            index = index * 10 + (uint32_t)(*p - '0');
        limit = k == 0 ? s->cepstra : s->mel_bands;
        if (!*p && index <= limit && index <= 255)
            return LGRIN_FE_DESC(k == 0 ? LGRIN_FE_MFCC : LGRIN_FE_LOGMEL, index);
    }
    return 0;
}

static int read_descriptors(lgrin_stream_config *c, lgrin_json params)
{
    lgrin_json list, k, v;
    size_t pos = 0;
    char name[16];
    if (lgrin_json_member(params, "descriptors", &list) != LGRIN_JSON_OK)
        return LGRIN_STREAM_OK; /* the default's */
    if (lgrin_json_type(list) != LGRIN_JSON_ARRAY)
        return fail(c, LGRIN_STREAM_E_TYPE, "extractor.params.descriptors", 0);
    c->frontend.n_descriptors = 0;
    while (lgrin_json_next(list, &pos, &k, &v) == 1) {
        uint16_t code;
        if (lgrin_json_type(v) != LGRIN_JSON_STRING)
            return fail(c, LGRIN_STREAM_E_TYPE, "extractor.params.descriptors", 0);
        if (c->frontend.n_descriptors == LGRIN_FE_MAX_DESCRIPTORS ||
            lgrin_json_string(v, name, sizeof name, 0) != LGRIN_JSON_OK ||
            !(code = descriptor_code(name, &c->frontend)))
            return fail(c, LGRIN_STREAM_E_VALUE, "extractor.params.descriptors", 0);
        c->frontend.descriptors[c->frontend.n_descriptors++] = code;
    }
    return LGRIN_STREAM_OK;
}

/* One member of the params: a string field that must hold its only version-1 value, or a number. */
static int read_speech_field(lgrin_stream_config *c, lgrin_json key, lgrin_json v)
{
    static const char *const fixed[][2] = {
        {"extractor", LGRIN_FE_EXTRACTOR}, {"window", "hamming"}, {"pitch_window", "hann"}};
    const char *prefix = "extractor.params.";
    unsigned char *base = (unsigned char *)&c->frontend;
    size_t i;
    int rc;
    for (i = 0; i < 3; i++)
        if (lgrin_json_string_is(key, fixed[i][0]))
            return lgrin_json_type(v) != LGRIN_JSON_STRING ? fail(c, LGRIN_STREAM_E_TYPE, prefix, fixed[i][0])
                   : lgrin_json_string_is(v, fixed[i][1]) ? LGRIN_STREAM_OK
                                                          : fail(c, LGRIN_STREAM_E_VALUE, prefix, fixed[i][0]);
    if (lgrin_json_string_is(key, "version")) {
        uint32_t version = 0;
        rc = lgrin_json_u32(v, &version);
        return rc ? fail(c, json_status(rc), prefix, "version")
                  : version == LGRIN_FE_VERSION ? LGRIN_STREAM_OK : fail(c, LGRIN_STREAM_E_VALUE, prefix, "version");
    }
    if (lgrin_json_string_is(key, "descriptors"))
        return LGRIN_STREAM_OK; /* read_descriptors, once the limits it checks against are known */
    if (lgrin_json_string_is(key, "max_frames") || lgrin_json_string_is(key, "per_file_columns"))
        return LGRIN_STREAM_OK; /* how the corpus was made (frontend/spec.py RECORD_KEYS), not a frame */
    for (i = 0; i < N_SPEECH_PARAMS && !lgrin_json_string_is(key, speech_params[i].name); i++)
        ;
    if (i == N_SPEECH_PARAMS) {
        char name[40];
        if (lgrin_json_string(key, name, sizeof name, 0) != LGRIN_JSON_OK)
            name[0] = '\0';
        return fail(c, LGRIN_STREAM_E_UNKNOWN, prefix, name);
    }
    rc = speech_params[i].is_u32 ? lgrin_json_u32(v, (uint32_t *)(void *)(base + speech_params[i].offset))
                                 : lgrin_json_number(v, (double *)(void *)(base + speech_params[i].offset));
    return rc ? fail(c, json_status(rc), prefix, speech_params[i].name) : LGRIN_STREAM_OK;
}

/* The front-end's spec from extractor.params: the defaults, then every member (extractor and version
 * required, as SpeechSpec.from_dict has them). */
static int read_speech(lgrin_stream_config *c, lgrin_json params)
{
    lgrin_json k, v;
    size_t pos = 0;
    int rc;
    lgrin_frontend_default_spec(&c->frontend);
    if (lgrin_json_member(params, "extractor", &v) != LGRIN_JSON_OK)
        return fail(c, LGRIN_STREAM_E_MISSING, "extractor.params.extractor", 0);
    if (lgrin_json_member(params, "version", &v) != LGRIN_JSON_OK)
        return fail(c, LGRIN_STREAM_E_MISSING, "extractor.params.version", 0);
    while (lgrin_json_next(params, &pos, &k, &v) == 1)
        if ((rc = read_speech_field(c, k, v)))
            return rc;
    return read_descriptors(c, params);
}

static int read_kind(lgrin_stream_config *c, lgrin_json root, uint32_t input_rate)
{
    lgrin_json v;
    int rc = need(c, root, "input.kind", LGRIN_JSON_STRING, &v);
    if (rc)
        return rc;
    if (lgrin_json_string_is(v, "motion")) {
        c->kind = LGRIN_STREAM_MOTION;
        return read_motion(c);
    }
    if (!lgrin_json_string_is(v, "audio")) {
        c->kind = LGRIN_STREAM_FRAMES;
        return LGRIN_STREAM_OK;
    }
    c->kind = LGRIN_STREAM_AUDIO;
    if ((rc = need(c, root, "extractor.params", LGRIN_JSON_OBJECT, &v)) || (rc = read_speech(c, v)))
        return rc;
    c->input_rate = input_rate ? input_rate : c->frontend.sample_rate;
    if (lgrin_frontend_check(&c->frontend, c->input_rate) != LGRIN_FE_OK)
        return fail(c, LGRIN_STREAM_E_FRONTEND, "extractor.params", 0);
    return 2 * c->frontend.n_descriptors == c->num_features ? LGRIN_STREAM_OK
                                                             : fail(c, LGRIN_STREAM_E_VALUE, "features", 0);
}

int lgrin_stream_config_from_model(const lgrin_model *model, uint32_t input_rate, lgrin_stream_config *config)
{
    size_t len = 0;
    const char *text;
    lgrin_json root, v;
    uint32_t version = 0;
    int rc;
    if (!model || !config)
        return LGRIN_STREAM_E_ARG;
    zero(config, sizeof *config);
    if (!(text = lgrin_feature_spec(model, &len)))
        return LGRIN_STREAM_E_NO_SPEC;
    if (lgrin_json_parse(text, len, &root) != LGRIN_JSON_OK)
        return LGRIN_STREAM_E_SYNTAX;
    if (lgrin_json_type(root) != LGRIN_JSON_OBJECT)
        return fail(config, LGRIN_STREAM_E_TYPE, "(the document)", 0);
    if ((rc = need(config, root, "spec_version", LGRIN_JSON_NUMBER, &v)))
        return rc;
    if (lgrin_json_u32(v, &version) != LGRIN_JSON_OK || version != 1)
        return fail(config, LGRIN_STREAM_E_VALUE, "spec_version", 0);
    if ((rc = read_dims(config, root, model)) || (rc = read_kind(config, root, input_rate)) ||
        (rc = read_stream(config, root)))
        return rc;
    if (config->window > config->num_nodes && !config->policy_known)
        return fail(config, LGRIN_STREAM_E_MISSING, "graph.longer", 0); /* before the generic "window_s" */
    config->chunk = LGRIN_STREAM_MIN_CHUNK;
    return lgrin_stream_config_set(config, 0.0, 0.0, 0);
}

int lgrin_stream_config_set(lgrin_stream_config *c, double window_s, double hop_s, uint32_t smoothing)
{
    uint32_t w, h;
    if (!c)
        return LGRIN_STREAM_E_ARG;
    if (c->mode == LGRIN_STREAM_UTTERANCE && (window_s != 0.0 || hop_s != 0.0))
        default_sliding(c); /* a window or hop: the default sliding stream, then the overrides */
    w = window_s != 0.0 ? lgrin_stream_frames(window_s, c->frame_rate) : c->window;
    h = hop_s != 0.0 ? lgrin_stream_frames(hop_s, c->frame_rate) : c->hop;
    if (!w || w > MAX_WINDOW || (w > c->num_nodes && !c->policy_known))
        return fail(c, LGRIN_STREAM_E_VALUE, "window_s", 0);
    if (!h || h > MAX_WINDOW)
        return fail(c, LGRIN_STREAM_E_VALUE, "hop_s", 0);
    if (smoothing > MAX_WINDOW)
        return fail(c, LGRIN_STREAM_E_VALUE, "smoothing", 0);
    c->window = w;
    c->hop = h;
    c->smoothing = smoothing ? smoothing : c->smoothing;
    if (c->mode == LGRIN_STREAM_UTTERANCE)
        return LGRIN_STREAM_OK; /* W is the utterance buffer, not a number of frames pushed at once */
    c->chunk = c->chunk > w ? c->chunk : w;
    c->chunk = c->chunk > h ? c->chunk : h;
    return LGRIN_STREAM_OK;
}

uint32_t lgrin_stream_frames(double seconds, double frame_rate)
{
    double x = seconds * frame_rate, f, d;
    uint32_t r;
    if (!(seconds > 0.0) || !(frame_rate > 0.0) || !(x < 2147483648.0)) /* NaN fails each */
        return 0;
    r = (uint32_t)x; /* floor: x >= 0 */
    f = (double)r;
    d = x - f;
    if (d > 0.5 || (d == 0.5 && (r & 1u)))
        r++;
    return r; /* 0: under half a frame, no stream (Python's StreamSpec refuses the same) */
}
