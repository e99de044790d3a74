/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/*
 * lgrin_json.h - a small, strict JSON reader for the feature spec (internal to the stream library).
 *
 * lgrin_json_parse() checks a whole document once (RFC 8259 grammar, nesting at most LGRIN_JSON_MAX_DEPTH);
 * afterwards a value is a span of the caller's text, looked up by member name or dotted path and read as a
 * number, an unsigned integer or a string. No allocation, no libc; recursion is bounded by the depth limit.
 * Numbers are read exactly where the decimal fits Clinger's exact case (at most 2^53 as an integer times
 * 10^-22 .. 10^22), which holds every number a spec is written with; others are LGRIN_JSON_E_RANGE rather
 * than a value that could differ from Python's by an ulp.
 */
#ifndef LGRIN_JSON_H
#define LGRIN_JSON_H

#include <stddef.h>
#include <stdint.h>

#define LGRIN_JSON_MAX_DEPTH 32u

enum lgrin_json_type {
    LGRIN_JSON_NULL = 1,
    LGRIN_JSON_BOOL = 2,
    LGRIN_JSON_NUMBER = 3,
    LGRIN_JSON_STRING = 4,
    LGRIN_JSON_ARRAY = 5,
    LGRIN_JSON_OBJECT = 6
};

enum lgrin_json_status {
    LGRIN_JSON_OK = 0,
    LGRIN_JSON_E_SYNTAX = -1,  /* not JSON, or nested deeper than LGRIN_JSON_MAX_DEPTH */
    LGRIN_JSON_E_MISSING = -2, /* no such member */
    LGRIN_JSON_E_TYPE = -3,    /* the value has another type than the one asked for */
    LGRIN_JSON_E_RANGE = -4    /* a number out of the asked range, or not exactly readable; a string too long */
};

/* One value: its text, from its first byte to its last. */
typedef struct lgrin_json {
    const char *text;
    size_t len;
} lgrin_json;

/* Check text[0 .. len) is one JSON value (whitespace around it allowed) and make *root that value. */
int lgrin_json_parse(const char *text, size_t len, lgrin_json *root);

/* The type of a value from lgrin_json_parse() or a lookup. */
int lgrin_json_type(lgrin_json v);

/* Member `key` (ASCII) of object obj: LGRIN_JSON_E_TYPE when obj is no object, E_MISSING without it. */
int lgrin_json_member(lgrin_json obj, const char *key, lgrin_json *out);

/* The value at a dotted path of members ("input.frame_rate_hz"; keys hold no dots); a null on the way
 * counts as missing. */
int lgrin_json_path(lgrin_json root, const char *path, lgrin_json *out);

/* Iterate an object's members or an array's items: *pos starts at 0; returns 1 and the next item (key is
 * the member's name as a string value; for arrays it is left alone), 0 at the end, E_TYPE for a scalar. */
int lgrin_json_next(lgrin_json container, size_t *pos, lgrin_json *key, lgrin_json *value);

/* A number as a double (exactly, see above); E_TYPE when v is not a number, E_RANGE when not exact. */
int lgrin_json_number(lgrin_json v, double *out);

/* An integer literal (no fraction or exponent) in 0 .. UINT32_MAX. */
int lgrin_json_u32(lgrin_json v, uint32_t *out);

/* 1 when v is a string whose decoded text equals the ASCII string s, else 0. */
int lgrin_json_string_is(lgrin_json v, const char *s);

/* A string decoded to UTF-8 into buf (cap bytes, NUL-terminated): E_TYPE, or E_RANGE when it does not fit
 * or holds a NUL. *len (may be NULL) receives its length. */
int lgrin_json_string(lgrin_json v, char *buf, size_t cap, size_t *len);

#endif /* LGRIN_JSON_H */
