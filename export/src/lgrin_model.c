/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* lgrin_model.c - model file validation and loading (freestanding: no libc calls). */
#include "lgrin_internal.h"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t lgrin_crc32(uint32_t crc, const void *data, size_t n)
{
    /* Nibble table: 64 bytes of constants instead of 1 KB, fast enough for a load-time check. */
    static const uint32_t t[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    const uint8_t *p = (const uint8_t *)data;
    size_t i;
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ t[crc & 15u];
        crc = (crc >> 4) ^ t[crc & 15u];
    }
    return ~crc;
}

/* Walks the payload in file order. With base == NULL it only adds up sizes, so the total can be
 * checked against the buffer length before any pointer into the buffer is formed. */
typedef struct cursor {
    const uint8_t *base;
    uint64_t off;
} cursor;

static const void *take(cursor *c, uint64_t nbytes)
{
    const void *p = c->base ? (const void *)(c->base + c->off) : (const void *)0;
    c->off += LGRIN_ROUND_UP(nbytes, 4u);
    return p;
}

static void layout(lgrin_model *m, cursor *c)
{
    const int q = m->precision == LGRIN_INT8;
    const uint64_t wsz = q ? 1u : 4u; /* bytes per weight element */
    uint32_t l, b;
    m->in_a = (const float *)take(c, 4ull * m->P);
    m->in_c = (const float *)take(c, 4ull * m->P);
    m->adj = take(c, wsz * m->M * m->M);
    m->nbr = (const int32_t *)take(c, 4ull * m->M * m->K);
    for (l = 0; l < m->L; l++) {
        lgrin_layer *ly = &m->layer[l];
        if (q) {
            ly->adj_m = (const int32_t *)take(c, 4ull * m->M);
            ly->adj_s = (const int32_t *)take(c, 4ull * m->M);
        }
        for (b = 0; b < 2; b++) {
            lgrin_branch *br = &ly->br[b];
            const uint64_t e = m->eta[b];
            /* int8 MLP weights: groups of four inputs, inputs zero-padded to a multiple of four */
            br->w1 = take(c, q ? e * LGRIN_ROUND_UP(m->F[l], 4u) : wsz * e * m->F[l]);
            br->b1 = take(c, 4u * e);
            if (q) {
                br->m1 = (const int32_t *)take(c, 4u * e);
                br->s1 = (const int32_t *)take(c, 4u * e);
            }
            br->w2 = take(c, q ? e * LGRIN_ROUND_UP(e, 4u) : wsz * e * e);
            br->b2 = take(c, 4u * e);
            if (q) {
                br->m2 = (const int32_t *)take(c, 4u * e);
                br->s2 = (const int32_t *)take(c, 4u * e);
            }
        }
    }
    m->pool_p = (const float *)take(c, 4ull * m->M);
    if (q) {
        m->cls_w = (const float *)0;
        m->cls_q = (const int8_t *)take(c, (uint64_t)m->C * 3u * m->F[m->L]);
        m->cls_s = (const float *)take(c, 4ull * m->C);
    } else {
        m->cls_q = (const int8_t *)0;
        m->cls_s = (const float *)0;
        m->cls_w = (const float *)take(c, 4ull * m->C * 3u * m->F[m->L]);
    }
    m->cls_b = (const float *)take(c, 4ull * m->C);
    if (q) m->out_scale = (const float *)take(c, 4ull * m->F[m->L]);
}

int lgrin_all_finite(const float *x, uint64_t n)
{
    uint64_t i;
    for (i = 0; i < n; i++) {
        union {
            float f;
            uint32_t u;
        } v;
        v.f = x[i];
        if ((v.u & 0x7f800000u) == 0x7f800000u) return 0;
    }
    return 1;
}

static int valid_rq(const int32_t *m, const int32_t *s, uint64_t n)
{
    uint64_t i;
    for (i = 0; i < n; i++)
        if (m[i] < 0 || s[i] < 1 || s[i] > 62) return 0;
    return 1;
}

static int valid_bias(const int32_t *b, uint64_t n)
{
    uint64_t i;
    for (i = 0; i < n; i++)
        if (b[i] > (1 << 30) || b[i] < -(1 << 30)) return 0;
    return 1;
}

/* int8 weights are symmetric, in -127..127: the AVX2 kernel's sign trick (vpsignb) needs -128 absent */
static int valid_w8(const int8_t *w, uint64_t n)
{
    uint64_t i;
    for (i = 0; i < n; i++)
        if (w[i] == -128) return 0;
    return 1;
}

static int check_values(const lgrin_model *m)
{
    const int q = m->precision == LGRIN_INT8;
    const uint64_t M = m->M;
    uint64_t i;
    uint32_t l, b;
    for (i = 0; i < M * m->K; i++)
        if (m->nbr[i] < 0 || (uint32_t)m->nbr[i] >= m->M) return 0;
    if (!lgrin_all_finite(m->in_a, m->P) || !lgrin_all_finite(m->in_c, m->P) ||
        !lgrin_all_finite(m->pool_p, M) || !lgrin_all_finite(m->cls_b, m->C))
        return 0;
    if (q) {
        if (!lgrin_all_finite(m->out_scale, m->F[m->L]) || !lgrin_all_finite(m->cls_s, m->C) ||
            !valid_w8(m->cls_q, (uint64_t)m->C * 3u * m->F[m->L]))
            return 0;
    } else if (!lgrin_all_finite((const float *)m->adj, M * M) ||
               !lgrin_all_finite(m->cls_w, (uint64_t)m->C * 3u * m->F[m->L])) {
        return 0;
    }
    for (l = 0; l < m->L; l++) {
        const lgrin_layer *ly = &m->layer[l];
        if (q && !valid_rq(ly->adj_m, ly->adj_s, M)) return 0;
        for (b = 0; b < 2; b++) {
            const lgrin_branch *br = &ly->br[b];
            const uint64_t e = m->eta[b];
            if (q) {
                if (!valid_rq(br->m1, br->s1, e) || !valid_rq(br->m2, br->s2, e) ||
                    !valid_bias((const int32_t *)br->b1, e) || !valid_bias((const int32_t *)br->b2, e) ||
                    !valid_w8((const int8_t *)br->w1, e * LGRIN_ROUND_UP(m->F[l], 4u)) ||
                    !valid_w8((const int8_t *)br->w2, e * LGRIN_ROUND_UP(e, 4u)))
                    return 0;
            } else if (!lgrin_all_finite((const float *)br->w1, e * m->F[l]) ||
                       !lgrin_all_finite((const float *)br->b1, e) ||
                       !lgrin_all_finite((const float *)br->w2, e * e) ||
                       !lgrin_all_finite((const float *)br->b2, e)) {
                return 0;
            }
        }
    }
    return 1;
}

/* The spec section: n bytes of text without a NUL, then zero bytes to the end of the section (size). */
static int valid_spec(const uint8_t *s, uint32_t n, uint32_t size)
{
    uint32_t i;
    for (i = 0; i < size; i++)
        if ((s[i] == 0u) != (i >= n)) return 0;
    return 1;
}

/* Reads and checks the header fields after magic, version and size (p: LGRIN_HEADER_SIZE bytes of a file
 * of this version), the per-layer feature counts F included. */
static int read_header(lgrin_model *m, const uint8_t *p, uint32_t version)
{
    uint32_t i;
    m->precision = rd32(p + 16);
    m->M = rd32(p + 20);
    m->P = rd32(p + 24);
    m->C = rd32(p + 28);
    m->L = rd32(p + 32);
    m->K = rd32(p + 36);
    m->eta[0] = rd32(p + 40);
    m->eta[1] = rd32(p + 44);
    /* version 5: word 48 is the feature spec's length (at least one byte); version 4: reserved */
    m->spec_len = version == 5u ? rd32(p + 48) : 0u;
    if ((version == 5u && (m->spec_len < 1u || m->spec_len > LGRIN_MAX_SPEC_BYTES)) ||
        (version == 4u && rd32(p + 48) != 0u))
        return LGRIN_E_HEADER;
    for (i = 52; i < LGRIN_HEADER_SIZE; i += 4)
        if (rd32(p + i) != 0u) return LGRIN_E_HEADER;
    if (m->precision > LGRIN_INT8 || m->M < 1 || m->M > LGRIN_MAX_NODES || m->P < 1 ||
        m->P > LGRIN_MAX_FEATURES || m->C < 1 || m->C > LGRIN_MAX_CLASSES || m->L < 1 ||
        m->L > LGRIN_MAX_LAYERS || m->K < 1 || m->K > LGRIN_MAX_NEIGHBOURS || m->eta[0] < 1 || m->eta[1] < 1)
        return LGRIN_E_HEADER;
    m->F[0] = m->P;
    for (i = 0; i < m->L; i++) {
        uint64_t f = (uint64_t)m->F[i] + m->eta[0] + m->eta[1];
        if (f > LGRIN_MAX_FEATURES) return LGRIN_E_HEADER;
        m->F[i + 1] = (uint32_t)f;
    }
    return LGRIN_OK;
}

int lgrin_load(lgrin_model *model, const void *buf, size_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    const union {
        uint32_t u;
        uint8_t b[4];
    } probe = {1u};
    lgrin_model *const m = model; /* filled in place: a struct copy could emit a memcpy call */
    uint64_t spec_at;
    cursor c;
    uint32_t total, version;
    int rc;
    if (!model || (!buf && len)) return LGRIN_E_ARG;
    if (probe.b[0] != 1u) return LGRIN_E_ENDIAN;
    if (len < LGRIN_HEADER_SIZE) return LGRIN_E_TRUNCATED;
    if (p[0] != LGRIN_MAGIC[0] || p[1] != LGRIN_MAGIC[1] || p[2] != LGRIN_MAGIC[2] || p[3] != LGRIN_MAGIC[3])
        return LGRIN_E_MAGIC;
    version = rd32(p + 4);
    if (version < LGRIN_MIN_VERSION || version > LGRIN_VERSION) return LGRIN_E_VERSION;
    total = rd32(p + 8);
    rc = read_header(m, p, version);
    if (rc != LGRIN_OK) return rc;
    c.base = (const uint8_t *)0;
    c.off = LGRIN_HEADER_SIZE;
    layout(m, &c);
    spec_at = c.off; /* the spec section follows the payload: its bytes, then 1-4 zero bytes */
    if (m->spec_len) c.off += LGRIN_ROUND_UP((uint64_t)m->spec_len + 1u, 4u);
    if (c.off != (uint64_t)total) return LGRIN_E_HEADER;
    if (len < total) return LGRIN_E_TRUNCATED;
    if (len > total) return LGRIN_E_SIZE;
    if (((uintptr_t)buf & 3u) != 0u) return LGRIN_E_ALIGN;
    if (lgrin_crc32(0u, p + 16, (size_t)total - 16u) != rd32(p + 12)) return LGRIN_E_CHECKSUM;
    c.base = p;
    c.off = LGRIN_HEADER_SIZE;
    layout(m, &c);
    m->spec = m->spec_len ? (const char *)(p + spec_at) : (const char *)0;
    if (!check_values(m) || !valid_spec(p + spec_at, m->spec_len, total - (uint32_t)spec_at))
        return LGRIN_E_VALUE;
    m->kernels = lgrin_best_kernels();
    return LGRIN_OK;
}

size_t lgrin_model_struct_size(void) { return sizeof(lgrin_model); }
uint32_t lgrin_num_nodes(const lgrin_model *m) { return m ? m->M : 0u; }
uint32_t lgrin_num_features(const lgrin_model *m) { return m ? m->P : 0u; }
uint32_t lgrin_num_classes(const lgrin_model *m) { return m ? m->C : 0u; }
uint32_t lgrin_precision(const lgrin_model *m) { return m ? m->precision : 0u; }

const char *lgrin_feature_spec(const lgrin_model *m, size_t *len)
{
    if (len) *len = m && m->spec ? (size_t)m->spec_len : 0u;
    return m ? m->spec : (const char *)0;
}

const char *lgrin_strerror(int status)
{
    switch (status) {
#define LGRIN_STATUS_CASE(name, value, text) \
    case name: return text;
        LGRIN_STATUS_LIST(LGRIN_STATUS_CASE)
#undef LGRIN_STATUS_CASE
    default: return "unknown error";
    }
}
