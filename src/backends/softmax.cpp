// The teaching softmax (include/attnviz/softmax.hpp): the reference's steps, one row at a time.
#include "attnviz/softmax.hpp"

#include "vexp.hpp"

namespace attnviz {

RowSoftmax softmax_row(std::span<const float> scaled) {
  RowSoftmax r;
  // Pass 1: the row maximum, subtracted only for numerical stability (exp never overflows).
  for (std::size_t j = 0; j < scaled.size(); ++j)
    if (scaled[j] > r.max) {
      r.max = scaled[j];
      r.argmax = static_cast<int>(j);
    }
  // Pass 2: exponentiate (the reference's exp: exp(−∞ − max) = 0 for masked keys) and sum in key order.
  r.exps.reserve(scaled.size());
  for (const float s : scaled) r.exps.push_back(s - r.max);
  exp_inplace(r.exps.data(), r.exps.size());
  for (const float e : r.exps) r.sum += e;
  // Pass 3: normalise so the row sums to 1. sum ≥ 1 because the maximum contributes exp(0).
  r.p.reserve(scaled.size());
  for (const float e : r.exps) r.p.push_back(e / r.sum);
  return r;
}

}  // namespace attnviz
