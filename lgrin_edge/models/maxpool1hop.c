/* The 1-hop max pool of L-GrIN's graph inception layer (eq. 5), forward and backward, for training.
 *
 * out[b, i, f] = max over k of h[b, nbr[i, k], f], and arg[b, i, f] = the node j that attains it (the first
 * in nbr's order on ties). The backward pass sends each output gradient to that node. Nothing of size
 * (B, M, K, F) is ever formed: the work is B*M*K*F comparisons on rows of F contiguous floats.
 * Max and argmax are exact, so results do not depend on the CPU or the compiler flags.
 */
#include <stdint.h>
#include <string.h>

/* Features in blocks of BLOCK: the running max and argmax of a block stay in registers over all K
 * neighbours instead of being reloaded and stored once per neighbour. */
#define BLOCK 32

void lgrin_maxpool1hop_forward(const float *h, const int32_t *nbr, int64_t batch, int64_t nodes,
                               int64_t k_max, int64_t feats, float *out, int32_t *arg) {
  for (int64_t b = 0; b < batch; b++) {
    const float *hb = h + b * nodes * feats;
    for (int64_t i = 0; i < nodes; i++) {
      float *o = out + (b * nodes + i) * feats;
      int32_t *a = arg + (b * nodes + i) * feats;
      const int32_t *row = nbr + i * k_max;
      for (int64_t f0 = 0; f0 < feats; f0 += BLOCK) {
        const int64_t n = feats - f0 < BLOCK ? feats - f0 : BLOCK;
        float best[BLOCK];
        int32_t who[BLOCK];
        const float *h0 = hb + (int64_t)row[0] * feats + f0;
        for (int64_t f = 0; f < BLOCK; f++) {
          best[f] = f < n ? h0[f] : 0.0f;
          who[f] = row[0];
        }
        for (int64_t k = 1; k < k_max; k++) {
          const int32_t j = row[k];
          const float *hj = hb + (int64_t)j * feats + f0;
          if (n == BLOCK) {
            for (int64_t f = 0; f < BLOCK; f++) {
              const int better = hj[f] > best[f]; /* branch-free: vector blends */
              best[f] = better ? hj[f] : best[f];
              who[f] = better ? j : who[f];
            }
          } else {
            for (int64_t f = 0; f < n; f++) {
              const int better = hj[f] > best[f];
              best[f] = better ? hj[f] : best[f];
              who[f] = better ? j : who[f];
            }
          }
        }
        memcpy(o + f0, best, (size_t)n * sizeof(float));
        memcpy(a + f0, who, (size_t)n * sizeof(int32_t));
      }
    }
  }
}

void lgrin_maxpool1hop_backward(const float *grad_out, const int32_t *arg, int64_t batch, int64_t nodes,
                                int64_t feats, float *grad_h) {
  memset(grad_h, 0, (size_t)(batch * nodes * feats) * sizeof(float));
  for (int64_t b = 0; b < batch; b++) {
    float *gb = grad_h + b * nodes * feats;
    for (int64_t i = 0; i < nodes; i++) {
      const float *g = grad_out + (b * nodes + i) * feats;
      const int32_t *a = arg + (b * nodes + i) * feats;
      for (int64_t f = 0; f < feats; f++) gb[(int64_t)a[f] * feats + f] += g[f];
    }
  }
}
