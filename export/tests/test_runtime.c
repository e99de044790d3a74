/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* C tests for the runtime: loader error codes, exhaustive truncation and byte flips, known answers, the
 * kernel family API.
 * Usage: lgrin_test DATA_DIR [FAMILY] (DATA_DIR holding kat_fp32.lgrn, kat_int8.lgrn, kat.txt,
 * kat_spec_int8.lgrn and kat_spec.json from gen_kat.py). With FAMILY the known answers are computed by
 * that kernel family (lgrin_use_kernels), and the test is skipped (exit 77) where this CPU cannot run it;
 * without, by the family lgrin_load chose. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lgrin.h"

static int failures = 0;
static const char *family = NULL; /* the kernel family to run, NULL: lgrin_load's choice */

#define CHECK(cond, ...)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            failures++;                                                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                           \
            fprintf(stderr, __VA_ARGS__);                                                                  \
            fputc('\n', stderr);                                                                           \
        }                                                                                                  \
    } while (0)

/* the model runs with the family under test */
static void use_family(lgrin_model *m, const char *what)
{
    if (family) CHECK(lgrin_use_kernels(m, family) == LGRIN_OK, "%s: use the %s kernels", what, family);
    CHECK(lgrin_kernel_name(m) != NULL && (!family || strcmp(lgrin_kernel_name(m), family) == 0),
          "%s: runs the %s kernels", what, lgrin_kernel_name(m) ? lgrin_kernel_name(m) : "(none)");
}

typedef struct blob {
    uint32_t *words; /* uint32_t storage keeps the bytes 4-byte aligned */
    size_t len;
} blob;

static blob read_file(const char *dir, const char *name)
{
    char path[4096];
    blob b = {NULL, 0};
    FILE *f;
    long n;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b.words = (uint32_t *)calloc((size_t)n / 4u + 2u, 4u);
    b.len = fread(b.words, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static uint8_t *copy_of(const blob *b, size_t len)
{
    uint32_t *w = (uint32_t *)calloc(len / 4u + 2u, 4u);
    memcpy(w, b->words, len < b->len ? len : b->len);
    return (uint8_t *)w;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void fix_crc(uint8_t *p, size_t len) { put32(p + 12, lgrin_crc32(0u, p + 16, len - 16u)); }

static int load_copy(const blob *b, size_t len, void (*edit)(uint8_t *, size_t))
{
    lgrin_model m;
    uint8_t *p = copy_of(b, len);
    int rc;
    if (edit) edit(p, len);
    rc = lgrin_load(&m, p, len);
    free(p);
    return rc;
}

static void edit_magic(uint8_t *p, size_t n) { (void)n; p[0] = 'X'; }
static void edit_version(uint8_t *p, size_t n) { (void)n; put32(p + 4, 9u); }
static void edit_payload(uint8_t *p, size_t n) { p[n - 5] ^= 0x40u; }
static void edit_nodes(uint8_t *p, size_t n) { put32(p + 20, 7u); fix_crc(p, n); }
static void edit_reserved(uint8_t *p, size_t n) { p[60] = 1u; fix_crc(p, n); }
static void edit_precision(uint8_t *p, size_t n) { put32(p + 16, 9u); fix_crc(p, n); }
static void edit_layers(uint8_t *p, size_t n) { put32(p + 32, 0u); fix_crc(p, n); }

/* Edits of a file that carries a feature spec (format version 5): its section is the last
 * R4(spec_len + 1) bytes. */
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static size_t spec_offset(const uint8_t *p, size_t n) { return n - ((get32(p + 48) + 4u) & ~3u); }
static void edit_spec_len_zero(uint8_t *p, size_t n) { put32(p + 48, 0u); fix_crc(p, n); }
static void edit_spec_len_past(uint8_t *p, size_t n) { put32(p + 48, get32(p + 48) + 4u); fix_crc(p, n); }
static void edit_spec_huge(uint8_t *p, size_t n) { put32(p + 48, LGRIN_MAX_SPEC_BYTES + 1u); fix_crc(p, n); }
static void edit_spec_as_v4(uint8_t *p, size_t n) { put32(p + 4, 4u); fix_crc(p, n); }
static void edit_spec_nul(uint8_t *p, size_t n) { p[spec_offset(p, n) + 1u] = 0u; fix_crc(p, n); }
static void edit_spec_padding(uint8_t *p, size_t n) { p[n - 1u] = ' '; fix_crc(p, n); }
static void edit_version_6(uint8_t *p, size_t n) { put32(p + 4, 6u); fix_crc(p, n); }

/* The neighbour table starts after the header, in_a, in_c and relu(A); offsets of kat_int8.lgrn. */
static size_t nbr_offset(const uint8_t *p)
{
    const uint32_t prec = p[16], M = p[20], P = p[24];
    const size_t adj = prec ? ((size_t)M * M + 3u) / 4u * 4u : 4u * M * M; /* padded to four bytes */
    return 64u + 8u * P + adj;
}
static void edit_nbr(uint8_t *p, size_t n) { put32(p + nbr_offset(p), 1000u); fix_crc(p, n); }

static void test_loader(const blob *b, const char *name)
{
    size_t n;
    int rc, all_fail = 1;
    lgrin_model m;
    uint8_t *p;

    CHECK(load_copy(b, b->len, NULL) == LGRIN_OK, "%s: valid file rejected", name);
    CHECK(lgrin_load(&m, NULL, 100) == LGRIN_E_ARG, "%s: null buffer", name);
    CHECK(lgrin_load(NULL, b->words, b->len) == LGRIN_E_ARG, "%s: null model", name);
    CHECK(load_copy(b, 0, NULL) == LGRIN_E_TRUNCATED, "%s: empty", name);
    CHECK(load_copy(b, 63, NULL) == LGRIN_E_TRUNCATED, "%s: short header", name);
    CHECK(load_copy(b, b->len - 1u, NULL) == LGRIN_E_TRUNCATED, "%s: one byte short", name);
    CHECK(load_copy(b, b->len + 4u, NULL) == LGRIN_E_SIZE, "%s: trailing bytes", name);
    CHECK(load_copy(b, b->len, edit_magic) == LGRIN_E_MAGIC, "%s: magic", name);
    CHECK(load_copy(b, b->len, edit_version) == LGRIN_E_VERSION, "%s: version", name);
    CHECK(load_copy(b, b->len, edit_payload) == LGRIN_E_CHECKSUM, "%s: checksum", name);
    CHECK(load_copy(b, b->len, edit_nodes) == LGRIN_E_HEADER, "%s: sizes inconsistent", name);
    CHECK(load_copy(b, b->len, edit_reserved) == LGRIN_E_HEADER, "%s: reserved", name);
    CHECK(load_copy(b, b->len, edit_precision) == LGRIN_E_HEADER, "%s: precision", name);
    CHECK(load_copy(b, b->len, edit_layers) == LGRIN_E_HEADER, "%s: zero layers", name);
    CHECK(load_copy(b, b->len, edit_nbr) == LGRIN_E_VALUE, "%s: neighbour out of range", name);

    /* misaligned buffer */
    p = (uint8_t *)calloc(b->len + 8u, 1u);
    memcpy(p + 1, b->words, b->len);
    CHECK(lgrin_load(&m, p + 1, b->len) == LGRIN_E_ALIGN, "%s: misaligned", name);
    free(p);

    /* every truncation and every single-byte corruption is an error, never a crash (ASan checks) */
    for (n = 0; n < b->len; n++) {
        rc = load_copy(b, n, NULL);
        if (rc == LGRIN_OK) all_fail = 0;
    }
    CHECK(all_fail, "%s: some truncation loaded", name);
    p = copy_of(b, b->len);
    for (n = 0; n < b->len; n++) {
        p[n] ^= 0xa5u;
        rc = lgrin_load(&m, p, b->len);
        p[n] ^= 0xa5u;
        CHECK(rc != LGRIN_OK, "%s: flip at byte %zu accepted", name, n);
    }
    free(p);
}

static void read_floats(FILE *f, float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (fscanf(f, "%f", &x[i]) != 1) {
            fprintf(stderr, "kat.txt: short read\n");
            exit(2);
        }
}

/* got within the known-answer file's tolerance of want, relative to 1 + |want| (its last line, written
 * by gen_kat.py from lgrin_edge.export.tolerances.C_REPRODUCTION) */
static int close_enough(float got, float want, float tolerance)
{
    return fabsf(got - want) <= tolerance * (1.0f + fabsf(want));
}

/* softmax of the C logits got against exp in double; sums to one */
static void check_softmax(const float *got, unsigned C)
{
    float *probs = (float *)malloc(sizeof(float) * C);
    double sum = 0.0;
    unsigned i, j;
    lgrin_softmax(got, C, probs);
    for (i = 0; i < C; i++) {
        double e = 0.0;
        for (j = 0; j < C; j++) e += exp((double)got[j] - (double)got[i]);
        CHECK(fabs(probs[i] - 1.0 / e) < 1e-6, "softmax %u: %g vs %g", i, probs[i], 1.0 / e);
        sum += probs[i];
    }
    CHECK(fabs(sum - 1.0) < 1e-5, "softmax sums to %g", sum);
    free(probs);
}

/* what lgrin_run refuses (workspace, alignment, non-finite input) and what it saturates; x is changed */
static void check_run_errors(const lgrin_model *m32, const lgrin_model *m8, void *ws, size_t wsn, float *x)
{
    float got[LGRIN_MAX_CLASSES];
    CHECK(lgrin_run(m8, ws, lgrin_workspace_size(m8) - 1u, x, got) == LGRIN_E_WORKSPACE, "small workspace");
    CHECK(lgrin_run(m8, (char *)ws + 1, wsn - 1u, x, got) == LGRIN_E_ALIGN, "misaligned workspace");
    x[3] = NAN;
    CHECK(lgrin_run(m8, ws, wsn, x, got) == LGRIN_E_INPUT, "NaN input");
    x[3] = INFINITY;
    CHECK(lgrin_run(m32, ws, wsn, x, got) == LGRIN_E_INPUT, "infinite input");
    x[3] = 1e30f; /* finite but far outside the calibrated range: saturates, stays finite */
    CHECK(lgrin_run(m8, ws, wsn, x, got) == LGRIN_OK && isfinite(got[0]), "huge input");
}

static void test_known_answer(const char *dir, const blob *fp, const blob *q8)
{
    char path[4096];
    unsigned M, P, C, i;
    float *x, *want32, *want8, *got, tol;
    lgrin_model m32, m8;
    void *ws;
    size_t wsn;
    FILE *f;

    snprintf(path, sizeof path, "%s/kat.txt", dir);
    f = fopen(path, "r");
    if (!f || fscanf(f, "%u %u %u", &M, &P, &C) != 3) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    x = (float *)malloc(sizeof(float) * M * P);
    want32 = (float *)malloc(sizeof(float) * C);
    want8 = (float *)malloc(sizeof(float) * C);
    got = (float *)malloc(sizeof(float) * C);
    read_floats(f, x, (size_t)M * P);
    read_floats(f, want32, C);
    read_floats(f, want8, C);
    read_floats(f, &tol, 1);
    fclose(f);

    CHECK(lgrin_load(&m32, fp->words, fp->len) == LGRIN_OK, "fp32 load");
    CHECK(lgrin_load(&m8, q8->words, q8->len) == LGRIN_OK, "int8 load");
    use_family(&m32, "fp32");
    use_family(&m8, "int8");
    CHECK(lgrin_num_nodes(&m8) == M && lgrin_num_features(&m8) == P && lgrin_num_classes(&m8) == C, "dims");
    CHECK(lgrin_precision(&m32) == LGRIN_FP32 && lgrin_precision(&m8) == LGRIN_INT8, "precision");
    wsn = lgrin_workspace_size(&m32);
    if (lgrin_workspace_size(&m8) > wsn) wsn = lgrin_workspace_size(&m8);
    ws = malloc(wsn);

    CHECK(lgrin_run(&m32, ws, wsn, x, got) == LGRIN_OK, "fp32 run");
    for (i = 0; i < C; i++)
        CHECK(close_enough(got[i], want32[i], tol), "fp32 logit %u: %g vs %g", i, got[i], want32[i]);
    CHECK(lgrin_run(&m8, ws, wsn, x, got) == LGRIN_OK, "int8 run");
    for (i = 0; i < C; i++)
        CHECK(close_enough(got[i], want8[i], tol), "int8 logit %u: %g vs %g", i, got[i], want8[i]);

    check_softmax(got, C);
    check_run_errors(&m32, &m8, ws, wsn, x);
    CHECK(strcmp(lgrin_strerror(LGRIN_E_CHECKSUM), "model checksum mismatch (corrupt file)") == 0, "strerror");
    free(ws);
    free(x);
    free(want32);
    free(want8);
    free(got);
}

/* kat_tiles: a model sized for the vector kernels' full and partial tiles, several inputs, int8 logits
 * from the numpy simulation. */
static void test_tiles(const char *dir)
{
    char path[4096];
    unsigned M, P, C, N, i;
    float *x, *want, *got, tol;
    lgrin_model m;
    blob b = read_file(dir, "kat_tiles_int8.lgrn");
    void *ws;
    FILE *f;

    snprintf(path, sizeof path, "%s/kat_tiles.txt", dir);
    f = fopen(path, "r");
    if (!f || fscanf(f, "%u %u %u %u", &M, &P, &C, &N) != 4) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    x = (float *)malloc(sizeof(float) * N * M * P);
    want = (float *)malloc(sizeof(float) * N * C);
    got = (float *)malloc(sizeof(float) * N * C);
    read_floats(f, x, (size_t)N * M * P);
    read_floats(f, want, (size_t)N * C);
    read_floats(f, &tol, 1);
    fclose(f);
    CHECK(lgrin_load(&m, b.words, b.len) == LGRIN_OK, "tiles: load");
    use_family(&m, "tiles");
    ws = malloc(lgrin_workspace_size(&m));
    CHECK(lgrin_run_batch(&m, ws, lgrin_workspace_size(&m), x, N, got) == LGRIN_OK, "tiles: run");
    for (i = 0; i < N * C; i++)
        CHECK(close_enough(got[i], want[i], tol), "tiles: logit %u: %g vs %g", i, got[i], want[i]);
    free(ws);
    free(x);
    free(want);
    free(got);
    free(b.words);
}

/* The feature spec: a version-4 file has none; kat_spec_int8.lgrn (the int8 model plus a spec, version 5)
 * gives the bytes of kat_spec.json back, NUL-terminated, computes what kat_int8.lgrn computes bit for bit,
 * and every damage to its section or header is refused. */
static void test_feature_spec(const char *dir, const blob *q8, const blob *sp)
{
    blob json = read_file(dir, "kat_spec.json");
    lgrin_model m8, ms;
    size_t n = 99, i;
    const char *text;
    float x[256], a[LGRIN_MAX_CLASSES], b[LGRIN_MAX_CLASSES];
    void *ws;

    CHECK(lgrin_load(&m8, q8->words, q8->len) == LGRIN_OK && lgrin_load(&ms, sp->words, sp->len) == LGRIN_OK,
          "spec: load both");
    CHECK(lgrin_feature_spec(&m8, &n) == NULL && n == 0u, "spec: a version-4 file has none");
    CHECK(lgrin_feature_spec(NULL, &n) == NULL && n == 0u, "spec: NULL model");
    text = lgrin_feature_spec(&ms, &n);
    CHECK(text != NULL && n == json.len && memcmp(text, json.words, n) == 0 && text[n] == '\0',
          "spec: the text of kat_spec.json, NUL-terminated (got %zu bytes, want %zu)", n, json.len);
    CHECK(lgrin_feature_spec(&ms, NULL) == text, "spec: len may be NULL");
    use_family(&m8, "spec int8");
    use_family(&ms, "spec int8+spec");
    CHECK(lgrin_num_nodes(&ms) * lgrin_num_features(&ms) <= 256u, "spec: input fits");
    for (i = 0; i < 256u; i++) x[i] = (float)((int)(i * 37u % 19u) - 9) * 0.37f;
    ws = malloc(lgrin_workspace_size(&ms));
    CHECK(lgrin_run(&m8, ws, lgrin_workspace_size(&m8), x, a) == LGRIN_OK &&
              lgrin_run(&ms, ws, lgrin_workspace_size(&ms), x, b) == LGRIN_OK &&
              memcmp(a, b, sizeof(float) * lgrin_num_classes(&ms)) == 0,
          "spec: the same logits as the file without it");
    free(ws);
    CHECK(load_copy(sp, sp->len, edit_spec_len_zero) == LGRIN_E_HEADER, "spec: version 5 without a spec");
    CHECK(load_copy(sp, sp->len, edit_spec_len_past) == LGRIN_E_HEADER, "spec: length past the file");
    CHECK(load_copy(sp, sp->len, edit_spec_huge) == LGRIN_E_HEADER, "spec: length over the limit");
    CHECK(load_copy(sp, sp->len, edit_spec_as_v4) == LGRIN_E_HEADER, "spec: a version-4 header with a spec");
    CHECK(load_copy(sp, sp->len, edit_spec_nul) == LGRIN_E_VALUE, "spec: a NUL inside the text");
    CHECK(load_copy(sp, sp->len, edit_spec_padding) == LGRIN_E_VALUE, "spec: padding not zero");
    CHECK(load_copy(sp, sp->len, edit_version_6) == LGRIN_E_VERSION, "spec: a newer version");
    free(json.words);
}

/* The family API: lgrin_load chose the first family of the build's list this CPU runs; unknown names
 * and null arguments are refused. */
static void test_kernel_api(const blob *b)
{
    lgrin_model m;
    const char *list = lgrin_kernel_families();
    CHECK(lgrin_load(&m, b->words, b->len) == LGRIN_OK, "api: load");
    CHECK(list[0] != '\0' && lgrin_kernel_name(&m) != NULL && strstr(list, lgrin_kernel_name(&m)) != NULL,
          "api: %s is one of '%s'", lgrin_kernel_name(&m), list);
    CHECK(lgrin_use_kernels(&m, "no-such-family") == LGRIN_E_KERNEL, "api: unknown family");
    CHECK(lgrin_use_kernels(&m, NULL) == LGRIN_E_ARG && lgrin_use_kernels(NULL, "portable") == LGRIN_E_ARG,
          "api: null arguments");
    CHECK(lgrin_kernel_name(NULL) == NULL, "api: name of NULL");
    CHECK(strcmp(lgrin_strerror(LGRIN_E_KERNEL), "kernel family not in this build or not supported by this CPU") == 0,
          "api: strerror");
    printf("kernel families in this build: %s; lgrin_load chose %s\n", list, lgrin_kernel_name(&m));
}

int main(int argc, char **argv)
{
    blob fp, q8, sp;
    static const char check[] = "123456789";
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s DATA_DIR [FAMILY]\n", argv[0]);
        return 2;
    }
    if (argc == 3) {
        lgrin_model probe;
        family = argv[2];
        q8 = read_file(argv[1], "kat_int8.lgrn");
        if (lgrin_load(&probe, q8.words, q8.len) == LGRIN_OK && lgrin_use_kernels(&probe, family) != LGRIN_OK) {
            printf("skipped: the %s kernels are not in this build or this CPU cannot run them\n", family);
            return 77;
        }
        free(q8.words);
    }
    CHECK(lgrin_crc32(0u, check, 9u) == 0xcbf43926u, "crc32 check value");
    fp = read_file(argv[1], "kat_fp32.lgrn");
    q8 = read_file(argv[1], "kat_int8.lgrn");
    sp = read_file(argv[1], "kat_spec_int8.lgrn");
    test_loader(&fp, "fp32");
    test_loader(&q8, "int8");
    test_loader(&sp, "int8+spec");
    test_kernel_api(&q8);
    test_known_answer(argv[1], &fp, &q8);
    test_feature_spec(argv[1], &q8, &sp);
    test_tiles(argv[1]);
    free(fp.words);
    free(q8.words);
    free(sp.words);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all C runtime tests passed (%s kernels)\n", family ? family : "chosen");
    return 0;
}
