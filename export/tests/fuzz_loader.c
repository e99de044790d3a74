/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* libFuzzer target: lgrin_load must reject or accept any byte string without touching memory outside it.
 * Each input is tried as is and again with a correct CRC, so mutations get past the checksum and reach
 * the header and value checks; whatever loads is also run once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lgrin.h"

static void try_load(const uint8_t *data, size_t size)
{
    lgrin_model m;
    if (lgrin_load(&m, data, size) == LGRIN_OK) {
        const size_t n = (size_t)m.M * m.P, wsn = lgrin_workspace_size(&m);
        float *x = (float *)calloc(n ? n : 1u, sizeof(float));
        float *out = (float *)calloc(m.C, sizeof(float));
        void *ws = malloc(wsn ? wsn : 1u);
        size_t i;
        for (i = 0; i < n; i++) x[i] = (float)(i % 7u) - 3.0f;
        if (lgrin_run(&m, ws, wsn, x, out) == LGRIN_OK) lgrin_softmax(out, m.C, out);
        free(ws);
        free(out);
        free(x);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size heap copy (malloc aligns it): ASan flags any read past the end */
    uint8_t *p = (uint8_t *)malloc(size ? size : 1u);
    if (!p) return 0;
    if (size) memcpy(p, data, size);
    try_load(p, size);
    if (size >= 16u) {
        const uint32_t crc = lgrin_crc32(0u, p + 16, size - 16u);
        p[12] = (uint8_t)crc;
        p[13] = (uint8_t)(crc >> 8);
        p[14] = (uint8_t)(crc >> 16);
        p[15] = (uint8_t)(crc >> 24);
        try_load(p, size);
    }
    free(p);
    return 0;
}
