/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/* The 1-hop max pool of L-GrIN's graph inception layer (eq. 5), forward and backward, for training.
 *
 * out[b, i, f] = max over k of h[b, nbr[i, k], f], and arg[b, i, f] = the node j that attains it (the first
 * in nbr's order on ties), for the `rows` rows of nbr (one per node; a single row listing every node gives
 * the max over the graph, the readout's max pooling). The backward pass sends each output gradient to that node. Nothing of size
 * (B, M, K, F) is ever formed: the work is B*M*K*F comparisons on rows of F contiguous floats.
 * Max and argmax are exact, so results do not depend on the CPU or the compiler flags.
 */
#include <stdint.h>
#include <string.h>

/* Features in blocks of VECS vectors of LANES floats, written with the vector extension GCC and Clang
 * share (lowered to AVX-512, AVX2, NEON or scalar code as the target allows): the running max and
 * argmax of a block stay in registers over all K neighbours. Plain C loops over a block were compiled
 * into masked stores to memory on every neighbour (4-5x slower at F = 204). */
typedef float vfloat __attribute__((vector_size(64)));
typedef int32_t vint __attribute__((vector_size(64)));
#define LANES 16
#define VECS 4

/* out/arg[f0, f0 + nv*LANES) of one node: max and first argmax over its neighbours in row[0, k_max). */
static inline void block_max(const float *hb, const int32_t *row, int64_t k_max, int64_t feats, int64_t f0,
                             int nv, float *out, int32_t *arg) {
  vfloat best[VECS];
  vint who[VECS];
  for (int v = 0; v < nv; v++) {
    memcpy(&best[v], hb + (int64_t)row[0] * feats + f0 + v * LANES, sizeof best[v]); /* unaligned */
    who[v] = (vint){0} + row[0];
  }
  for (int64_t k = 1; k < k_max; k++) {
    const int32_t j = row[k];
    const float *hj = hb + (int64_t)j * feats + f0;
    for (int v = 0; v < nv; v++) {
      vfloat x;
      memcpy(&x, hj + v * LANES, sizeof x);
      const vint take = x > best[v]; /* all ones where strictly larger: the first maximum wins ties */
      best[v] = (vfloat)(((vint)x & take) | ((vint)best[v] & ~take));
      who[v] = (j & take) | (who[v] & ~take);
    }
  }
  memcpy(out + f0, best, (size_t)nv * sizeof best[0]);
  memcpy(arg + f0, who, (size_t)nv * sizeof who[0]);
}

void lgrin_maxpool1hop_forward(const float *h, const int32_t *nbr, int64_t batch, int64_t nodes,
                               int64_t rows, int64_t k_max, int64_t feats, float *out, int32_t *arg) {
  for (int64_t b = 0; b < batch; b++) {
    const float *hb = h + b * nodes * feats;
    for (int64_t i = 0; i < rows; i++) {
      float *o = out + (b * rows + i) * feats;
      int32_t *a = arg + (b * rows + i) * feats;
      const int32_t *row = nbr + i * k_max;
      int64_t f0 = 0;
      for (; f0 + VECS * LANES <= feats; f0 += VECS * LANES) block_max(hb, row, k_max, feats, f0, VECS, o, a);
      for (; f0 + LANES <= feats; f0 += LANES) block_max(hb, row, k_max, feats, f0, 1, o, a);
      for (int64_t f = f0; f < feats; f++) { /* the last feats % LANES columns */
        float best = hb[(int64_t)row[0] * feats + f];
        int32_t who = row[0];
        for (int64_t k = 1; k < k_max; k++) {
          const float x = hb[(int64_t)row[k] * feats + f];
          if (x > best) {
            best = x;
            who = row[k];
          }
        }
        o[f] = best;
        a[f] = who;
      }
    }
  }
}

void lgrin_maxpool1hop_backward(const float *grad_out, const int32_t *arg, int64_t batch, int64_t nodes,
                                int64_t rows, int64_t feats, float *grad_h) {
  memset(grad_h, 0, (size_t)(batch * nodes * feats) * sizeof(float));
  for (int64_t b = 0; b < batch; b++) {
    float *gb = grad_h + b * nodes * feats;
    for (int64_t i = 0; i < rows; i++) {
      const float *g = grad_out + (b * rows + i) * feats;
      const int32_t *a = arg + (b * rows + i) * feats;
      for (int64_t f = 0; f < feats; f++) gb[(int64_t)a[f] * feats + f] += g[f];
    }
  }
}
