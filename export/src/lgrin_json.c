/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* A small, strict JSON reader (lgrin_json.h). <stddef.h> and <stdint.h> only. */
#include "lgrin_json.h"

#define BAD ((size_t)-1) /* a scan's "no value here" */

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && is_ws(s[i]))
        i++;
    return i;
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The four hex digits at s[i..i+4) as a number, or -1. */
static long hex4(const char *s, size_t len, size_t i)
{
    long v = 0;
    size_t k;
    if (len < 4 || i > len - 4)
        return -1;
    for (k = 0; k < 4; k++) {
        int h = hex_value(s[i + k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* One character of a string's body at s[*i] (past the opening quote): its code point, *i moved past it;
 * -1 for a malformed escape or a control character, -2 at the closing quote. Bytes >= 0x80 are returned
 * one at a time (UTF-8 passes through). */
static long string_char(const char *s, size_t len, size_t *i)
{
    static const char plain[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";
    unsigned char c;
    long cp, lo;
    size_t k;
    if (*i >= len)
        return -1;
    c = (unsigned char)s[(*i)++];
    if (c == '"')
        return -2;
    if (c < 0x20)
        return -1;
    if (c != '\\')
        return c;
    if (*i >= len)
        return -1;
    c = (unsigned char)s[(*i)++];
    for (k = 0; plain[k]; k++)
        if (c == (unsigned char)plain[k])
            return (unsigned char)meant[k];
    if (c != 'u' || (cp = hex4(s, len, *i)) < 0)
        return -1;
    *i += 4;
    if (cp < 0xD800 || cp > 0xDFFF)
        return cp;
    /* a surrogate pair: high then low */
    if (cp > 0xDBFF || *i + 6 > len || s[*i] != '\\' || s[*i + 1] != 'u')
        return -1;
    lo = hex4(s, len, *i + 2);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return -1;
    *i += 6;
    return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
}

/* Past the string starting at s[i] (a quote), or BAD. */
static size_t scan_string(const char *s, size_t len, size_t i)
{
    long c;
    if (i >= len || s[i] != '"')
        return BAD;
    i++;
    while ((c = string_char(s, len, &i)) >= 0)
        ;
    return c == -2 ? i : BAD;
}

static size_t scan_digits(const char *s, size_t len, size_t i)
{
    size_t start = i;
    while (i < len && is_digit(s[i]))
        i++;
    return i > start ? i : BAD;
}

/* Past the number at s[i]: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, or BAD. */
static size_t scan_number(const char *s, size_t len, size_t i)
{
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0')
        i++;
    else if ((i = scan_digits(s, len, i)) == BAD)
        return BAD;
    if (i < len && s[i] == '.' && (i = scan_digits(s, len, i + 1)) == BAD)
        return BAD;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if ((i = scan_digits(s, len, i)) == BAD)
            return BAD;
    }
    return i;
}

static size_t scan_word(const char *s, size_t len, size_t i, const char *word)
{
    for (; *word; word++, i++)
        if (i >= len || s[i] != *word)
            return BAD;
    return i;
}

static size_t scan_value(const char *s, size_t len, size_t i, unsigned depth);

/* Past the object or array at s[i] ('{' or '['), or BAD. */
static size_t scan_container(const char *s, size_t len, size_t i, unsigned depth)
{
    char close = s[i] == '{' ? '}' : ']';
    if (depth >= LGRIN_JSON_MAX_DEPTH)
        return BAD;
    i = skip_ws(s, len, i + 1);
    if (i < len && s[i] == close)
        return i + 1;
    for (;;) {
        if (close == '}') {
            if ((i = scan_string(s, len, i)) == BAD)
                return BAD;
            i = skip_ws(s, len, i);
            if (i >= len || s[i] != ':')
                return BAD;
            i = skip_ws(s, len, i + 1);
        }
        if ((i = scan_value(s, len, i, depth + 1)) == BAD)
            return BAD;
        i = skip_ws(s, len, i);
        if (i < len && s[i] == close)
            return i + 1;
        if (i >= len || s[i] != ',')
            return BAD;
        i = skip_ws(s, len, i + 1);
    }
}

/* Past the value starting exactly at s[i], or BAD. */
static size_t scan_value(const char *s, size_t len, size_t i, unsigned depth)
{
    if (i >= len)
        return BAD;
    switch (s[i]) {
    case '{':
    case '[':
        return scan_container(s, len, i, depth);
    case '"':
        return scan_string(s, len, i);
    case 't':
        return scan_word(s, len, i, "true");
    case 'f':
        return scan_word(s, len, i, "false");
    case 'n':
        return scan_word(s, len, i, "null");
    default:
        return scan_number(s, len, i);
    }
}

int lgrin_json_parse(const char *text, size_t len, lgrin_json *root)
{
    size_t start, end;
    if (!text || !root)
        return LGRIN_JSON_E_SYNTAX;
    start = skip_ws(text, len, 0);
    end = scan_value(text, len, start, 0);
    if (end == BAD || skip_ws(text, len, end) != len)
        return LGRIN_JSON_E_SYNTAX;
    root->text = text + start;
    root->len = end - start;
    return LGRIN_JSON_OK;
}

int lgrin_json_type(lgrin_json v)
{
    if (!v.text || !v.len)
        return 0;
    switch (v.text[0]) {
    case '{':
        return LGRIN_JSON_OBJECT;
    case '[':
        return LGRIN_JSON_ARRAY;
    case '"':
        return LGRIN_JSON_STRING;
    case 'n':
        return LGRIN_JSON_NULL;
    case 't':
    case 'f':
        return LGRIN_JSON_BOOL;
    default:
        return LGRIN_JSON_NUMBER;
    }
}

int lgrin_json_next(lgrin_json c, size_t *pos, lgrin_json *key, lgrin_json *value)
{
    int type = lgrin_json_type(c);
    size_t i, end;
    if (type != LGRIN_JSON_OBJECT && type != LGRIN_JSON_ARRAY)
        return LGRIN_JSON_E_TYPE;
    /* the text was checked by lgrin_json_parse: only the shape is followed here */
    i = skip_ws(c.text, c.len, *pos ? *pos : 1);
    if (c.text[i] == ',')
        i = skip_ws(c.text, c.len, i + 1);
    if (i >= c.len - 1)
        return 0;
    if (type == LGRIN_JSON_OBJECT) {
        end = scan_string(c.text, c.len, i);
        key->text = c.text + i;
        key->len = end - i;
        i = skip_ws(c.text, c.len, end);
        i = skip_ws(c.text, c.len, i + 1); /* past the ':' */
    }
    end = scan_value(c.text, c.len, i, 0);
    value->text = c.text + i;
    value->len = end - i;
    *pos = end;
    return 1;
}

int lgrin_json_member(lgrin_json obj, const char *key, lgrin_json *out)
{
    size_t pos = 0;
    lgrin_json k, v;
    int rc;
    if (lgrin_json_type(obj) != LGRIN_JSON_OBJECT)
        return LGRIN_JSON_E_TYPE;
    while ((rc = lgrin_json_next(obj, &pos, &k, &v)) == 1)
        if (lgrin_json_string_is(k, key)) {
            *out = v;
            return LGRIN_JSON_OK;
        }
    return rc < 0 ? rc : LGRIN_JSON_E_MISSING;
}

int lgrin_json_path(lgrin_json root, const char *path, lgrin_json *out)
{
    char key[64];
    lgrin_json v = root;
    while (*path) {
        size_t n = 0;
        int rc;
        while (*path && *path != '.' && n < sizeof key - 1)
            key[n++] = *path++;
        key[n] = '\0';
        if (*path == '.')
            path++;
        if (lgrin_json_type(v) == LGRIN_JSON_NULL)
            return LGRIN_JSON_E_MISSING; /* a null object holds nothing */
        if ((rc = lgrin_json_member(v, key, &v)) != LGRIN_JSON_OK)
            return rc;
    }
    *out = v;
    return LGRIN_JSON_OK;
}

int lgrin_json_string_is(lgrin_json v, const char *s)
{
    size_t i = 1;
    long c;
    if (lgrin_json_type(v) != LGRIN_JSON_STRING)
        return 0;
    while ((c = string_char(v.text, v.len, &i)) >= 0)
        if (!*s || c != (unsigned char)*s++)
            return 0;
    return c == -2 && !*s;
}

/* Append code point cp as UTF-8 (a byte >= 0x80 of the source text is copied as it is). */
static size_t put_utf8(char *buf, size_t n, long cp, int raw)
{
    if (raw || cp < 0x80) {
        buf[n++] = (char)cp;
    } else if (cp < 0x800) {
        buf[n++] = (char)(0xC0 | (cp >> 6));
        buf[n++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        buf[n++] = (char)(0xE0 | (cp >> 12));
        buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[n++] = (char)(0x80 | (cp & 0x3F));
    } else {
        buf[n++] = (char)(0xF0 | (cp >> 18));
        buf[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[n++] = (char)(0x80 | (cp & 0x3F));
    }
    return n;
}

int lgrin_json_string(lgrin_json v, char *buf, size_t cap, size_t *len)
{
    size_t i = 1, n = 0;
    long c;
    if (lgrin_json_type(v) != LGRIN_JSON_STRING)
        return LGRIN_JSON_E_TYPE;
    if (!buf || cap < 1)
        return LGRIN_JSON_E_RANGE;
    for (;;) {
        int raw = i < v.len && v.text[i] != '\\'; /* a literal byte, not an escape */
        if ((c = string_char(v.text, v.len, &i)) < 0)
            break;
        if (c == 0 || n + 4 >= cap)
            return LGRIN_JSON_E_RANGE;
        n = put_utf8(buf, n, c, raw);
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return LGRIN_JSON_OK;
}

/* Digits of s[*i ..] into *mant (at most 19 significant), counting dropped or fractional ones in *scale;
 * 0, or -1 when a non-zero digit would not fit. */
static int read_digits(const char *s, size_t len, size_t *i, uint64_t *mant, int *digits, long *scale,
                       int fraction)
{
    for (; *i < len && is_digit(s[*i]); (*i)++) {
        unsigned d = (unsigned)(s[*i] - '0');
        if (*digits >= 19) {
            if (d)
                return -1;
            if (!fraction)
                (*scale)++; /* a trailing zero of the integer part */
            continue;
        }
        *mant = *mant * 10u + d;
        if (*mant)
            (*digits)++;
        if (fraction)
            (*scale)--;
    }
    return 0;
}

int lgrin_json_number(lgrin_json v, double *out)
{
    static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    uint64_t mant = 0;
    int digits = 0, neg = 0, eneg = 0;
    long scale = 0, e = 0;
    size_t i = 0;
    double x;
    if (lgrin_json_type(v) != LGRIN_JSON_NUMBER)
        return LGRIN_JSON_E_TYPE;
    if (v.text[i] == '-')
        neg = 1, i++;
    if (read_digits(v.text, v.len, &i, &mant, &digits, &scale, 0))
        return LGRIN_JSON_E_RANGE;
    if (i < v.len && v.text[i] == '.' && (i++, read_digits(v.text, v.len, &i, &mant, &digits, &scale, 1)))
        return LGRIN_JSON_E_RANGE;
    if (i < v.len && (v.text[i] == 'e' || v.text[i] == 'E')) {
        i++;
        if (v.text[i] == '+' || v.text[i] == '-')
            eneg = v.text[i++] == '-';
        for (; i < v.len; i++)
            if ((e = e * 10 + (v.text[i] - '0')) > 10000)
                return LGRIN_JSON_E_RANGE;
    }
    scale += eneg ? -e : e;
    if (mant != 0 && (mant > ((uint64_t)1 << 53) || scale < -22 || scale > 22))
        return LGRIN_JSON_E_RANGE; /* not Clinger's exact case */
    x = (double)mant; /* exact: below 2^53 */
    if (mant)
        x = scale < 0 ? x / pow10[-scale] : x * pow10[scale]; /* one correctly rounded operation */
    *out = neg ? -x : x;
    return LGRIN_JSON_OK;
}

int lgrin_json_u32(lgrin_json v, uint32_t *out)
{
    uint64_t x = 0;
    size_t i;
    if (lgrin_json_type(v) != LGRIN_JSON_NUMBER)
        return LGRIN_JSON_E_TYPE;
    for (i = 0; i < v.len; i++) {
        if (!is_digit(v.text[i]))
            return v.text[i] == '-' ? LGRIN_JSON_E_RANGE : LGRIN_JSON_E_TYPE; /* a fraction: not an integer */
        if ((x = x * 10u + (uint64_t)(v.text[i] - '0')) > 0xFFFFFFFFu)
            return LGRIN_JSON_E_RANGE;
    }
    *out = (uint32_t)x;
    return LGRIN_JSON_OK;
}
