/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/*
 * lgrin.h - portable C99 runtime for L-GrIN (learnable graph inception network).
 *
 * The core (the .c files of src/) uses only <stddef.h> and <stdint.h>: no malloc, no stdio, no libm,
 * so it builds freestanding. The caller owns every byte of memory:
 *   1. keep the model file in a 4-byte aligned buffer (lgrin_load checks it: LGRIN_E_ALIGN) for as long as
 *      the model is used;
 *   2. lgrin_load() validates it and fills a caller-provided lgrin_model (pointers into the buffer);
 *   3. lgrin_workspace_size() tells how many bytes one inference needs; provide them 4-byte aligned, as
 *      lgrin_run checks (export/README.md suggests 8);
 *   4. lgrin_run() turns one float32 (M x P) input into C float32 logits.
 * A loaded model is read-only, so several threads may run it at once, each with its own workspace: the
 * batch pattern is one contiguous slice of the batch and one workspace per thread, each thread calling
 * lgrin_run_batch() on its slice (export/README.md measures it at 1 and 2 threads).
 * The file format and the int8 arithmetic are described in export/README.md.
 */
#ifndef LGRIN_H
#define LGRIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LGRIN_MAGIC "LGRN"
#define LGRIN_VERSION 5u     /* the newest format: 5 = version 4 plus the optional feature spec section */
#define LGRIN_MIN_VERSION 4u /* the oldest format this runtime loads */
#define LGRIN_HEADER_SIZE 64u
#define LGRIN_MAX_LAYERS 8
#define LGRIN_MAX_SPEC_BYTES (1u << 20) /* the feature spec section's limit */

/* Limits checked by the loader; they also guarantee that no int32 accumulator can overflow. */
#define LGRIN_MAX_NODES 4096u
#define LGRIN_MAX_FEATURES 65535u
#define LGRIN_MAX_CLASSES 4096u
#define LGRIN_MAX_NEIGHBOURS 4096u

enum lgrin_precision { LGRIN_FP32 = 0, LGRIN_INT8 = 1 };

/* Every status code, written once: X(enum name, value, lgrin_strerror's text). enum lgrin_status and
 * lgrin_strerror are generated from it, and lgrin_edge/export/c_facts.py reads it for the Python side. */
#define LGRIN_STATUS_LIST(X)                                                                                  \
    X(LGRIN_OK, 0, "ok")                                                                                      \
    /* null pointer or invalid argument */                                                                    \
    X(LGRIN_E_ARG, -1, "invalid argument")                                                                    \
    /* buffer shorter than the header or than the size the header declares */                                 \
    X(LGRIN_E_TRUNCATED, -2, "model file truncated")                                                          \
    /* not an L-GrIN model file */                                                                            \
    X(LGRIN_E_MAGIC, -3, "bad magic: not an L-GrIN model file")                                               \
    /* format version not supported by this runtime */                                                        \
    X(LGRIN_E_VERSION, -4, "unsupported model format version")                                                \
    /* header fields out of range, inconsistent or reserved bits set */                                       \
    X(LGRIN_E_HEADER, -5, "invalid model header")                                                             \
    /* buffer longer than the size the header declares */                                                     \
    X(LGRIN_E_SIZE, -6, "model buffer longer than declared size")                                             \
    /* CRC32 of the payload does not match */                                                                 \
    X(LGRIN_E_CHECKSUM, -7, "model checksum mismatch (corrupt file)")                                         \
    /* payload value invalid: neighbour index, shift, bias or non-finite float */                             \
    X(LGRIN_E_VALUE, -8, "invalid value in model payload")                                                    \
    /* model buffer or workspace not suitably aligned */                                                      \
    X(LGRIN_E_ALIGN, -9, "buffer not aligned")                                                                \
    /* workspace smaller than lgrin_workspace_size() */                                                       \
    X(LGRIN_E_WORKSPACE, -10, "workspace too small")                                                          \
    /* input contains NaN or infinity */                                                                      \
    X(LGRIN_E_INPUT, -11, "input contains NaN or infinity")                                                   \
    /* big-endian host: the format is little-endian */                                                        \
    X(LGRIN_E_ENDIAN, -12, "big-endian host not supported")                                                   \
    /* kernel family not in this build, or this CPU cannot run it */                                          \
    X(LGRIN_E_KERNEL, -13, "kernel family not in this build or not supported by this CPU")

#define LGRIN_STATUS_ENUMERATOR(name, value, text) name = value,
enum lgrin_status { LGRIN_STATUS_LIST(LGRIN_STATUS_ENUMERATOR) };
#undef LGRIN_STATUS_ENUMERATOR

/* Per-branch tensors of one graph convolution MLP (eq. 4). int8 models use m/s (requantisation
 * multiplier and right shift per output channel) and int32 biases; fp32 models float biases. */
typedef struct lgrin_branch {
    const void *w1, *b1, *w2, *b2;
    const int32_t *m1, *s1, *m2, *s2;
} lgrin_branch;

typedef struct lgrin_layer {
    const int32_t *adj_m, *adj_s; /* int8: requantisation of relu(A) @ H, per row */
    lgrin_branch br[2];
} lgrin_layer;

struct lgrin_kernels; /* one kernel family's functions (lgrin_dispatch.c) */

/* Filled by lgrin_load(); treat as opaque, read dimensions through the accessors. */
typedef struct lgrin_model {
    uint32_t precision, M, P, C, L, K, eta[2];
    uint32_t F[LGRIN_MAX_LAYERS + 1];
    const float *in_a, *in_c; /* fp32: in_scale/in_shift; int8: the same divided by the input scale */
    const void *adj;          /* relu(A), M x M: float, or int8 with per-row scales folded into adj_m */
    const int32_t *nbr;       /* M x K neighbour table */
    const float *pool_p, *cls_w, *cls_b; /* cls_w: fp32 files only */
    const int8_t *cls_q;    /* int8: classifier weights, C x 3 F_L, computed in float times cls_s */
    const float *cls_s;     /* int8: per-class scales of cls_q */
    const float *out_scale; /* int8: per-feature scales of the last layer's activations (F_L) */
    const char *spec;       /* the feature spec's JSON, NUL-terminated, or NULL (version 4 files) */
    uint32_t spec_len;      /* its length in bytes, without the NUL */
    lgrin_layer layer[LGRIN_MAX_LAYERS];
    const struct lgrin_kernels *kernels; /* the kernel family lgrin_run() uses */
} lgrin_model;

/* Validate buf (len bytes, 4-byte aligned) and fill *model, choosing the fastest kernel family this CPU
 * runs (lgrin_kernel_name()). Never reads outside [buf, buf + len).
 * On error the contents of *model are unspecified. */
int lgrin_load(lgrin_model *model, const void *buf, size_t len);

/* Bytes of workspace lgrin_run() needs for this model (0 if model is NULL). */
size_t lgrin_workspace_size(const lgrin_model *model);

/* Bytes of one block holding the workspace, then the input (M*P floats) at byte *x_offset and the
 * logits (C floats) at *logits_offset, for callers that keep one inference's memory together (the JNI
 * bridge); 0 if model is NULL. Either offset pointer may be NULL. */
size_t lgrin_buffer_size(const lgrin_model *model, size_t *x_offset, size_t *logits_offset);

/* One inference: x is M x P row-major float32, logits receives C floats. */
int lgrin_run(const lgrin_model *model, void *workspace, size_t workspace_len, const float *x, float *logits);

/* n inferences: x is n x M x P, logits n x C. Stops at the first failing sample. */
int lgrin_run_batch(const lgrin_model *model, void *workspace, size_t workspace_len, const float *x,
                    size_t n, float *logits);

/* Kernel families. Every build holds the families of its architecture, each compiled for its own
 * instruction set: on x86-64 "vnni" (AVX-512 VNNI), "avx2" and "portable"; on aarch64 "sdot" (Armv8.2
 * dot product) and "neon"; on WebAssembly built with -msimd128 "simd128" and "portable"; elsewhere
 * "portable". lgrin_load() chooses the best one the CPU runs (CPUID and XGETBV; on aarch64 the ID register
 * Linux exposes; WebAssembly: the page loads the SIMD128 build where the engine validates it). All compute
 * the same int8 results bit for bit.
 * A build with -DLGRIN_SINGLE_FAMILY holds only the family its compiler flags target. */

/* The family the model runs with; NULL if model is NULL. */
const char *lgrin_kernel_name(const lgrin_model *model);

/* Run the model with the family `name` instead (tests, comparisons); LGRIN_E_KERNEL where this build does
 * not hold it or this CPU cannot run it. It writes to the model: call it before threads share the model. */
int lgrin_use_kernels(lgrin_model *model, const char *name);

/* The families this build holds, best first, separated by single spaces (e.g. "vnni avx2 portable"). */
const char *lgrin_kernel_families(void);

/* Numerically stable softmax; probs may alias logits. */
void lgrin_softmax(const float *logits, uint32_t n, float *probs);

/* Static English text for a status code. */
const char *lgrin_strerror(int status);

/* Byte count of struct lgrin_model, for callers (ctypes, JNI) that allocate it themselves. */
size_t lgrin_model_struct_size(void);

uint32_t lgrin_num_nodes(const lgrin_model *model);
uint32_t lgrin_num_features(const lgrin_model *model);
uint32_t lgrin_num_classes(const lgrin_model *model);
uint32_t lgrin_precision(const lgrin_model *model);

/* The feature spec the model file carries: what the input is, from the raw signal (extractor, its
 * parameters, sample rate, channels) to the M x P graph (feature names and units, how T frames become M
 * nodes), and the class names. UTF-8 JSON, NUL-terminated, pointing into the model buffer; its length in
 * bytes (without the NUL) goes to *len when len is not NULL. NULL (and *len = 0) for a file without one
 * (format version 4) or a NULL model. */
const char *lgrin_feature_spec(const lgrin_model *model, size_t *len);

/* CRC32 (IEEE 802.3, as zlib's crc32) of n bytes, continuing from crc (start with 0). */
uint32_t lgrin_crc32(uint32_t crc, const void *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* LGRIN_H */
