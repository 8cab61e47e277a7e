// The softmax of one row, for teaching: every number a student can look at (the row's maximum, each exp, the
// sum, each weight), computed as the reference backend computes its weights, to the bit: the maximum, then
// exp(s − max) with the reference's exp, the sum from left to right in key order, the division. attnviz
// explain and the HTML page's hover text show these numbers; the reference runs the same steps on several
// rows at once (src/backends/kernels/), and tests/test_softmax.cpp checks that both give the same bits.
#pragma once

#include <limits>
#include <span>
#include <vector>

namespace attnviz {

struct RowSoftmax {
  float max = -std::numeric_limits<float>::infinity();  // the largest scaled score of the row
  int argmax = -1;                                       // its first key
  std::vector<float> exps;                               // exp(s_j − max); exactly 0 for a masked (−∞) key
  float sum = 0.0f;                                      // Σ exps, from left to right
  std::vector<float> p;                                  // exps / sum: the weights, summing to 1
};

// The softmax of `scaled` (one row of S', masked keys −∞; at least one key not masked).
RowSoftmax softmax_row(std::span<const float> scaled);

}  // namespace attnviz
