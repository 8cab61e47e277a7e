// What every backend shares: the per-head projections and the output projection.
#include <algorithm>

#include "backends.hpp"
#include "kernels/dispatch.hpp"
#include "parallel.hpp"

namespace attnviz {

namespace {

// Rows of the projections computed by one work item: fixed, so the bits never depend on the thread count.
constexpr int kProjectionRowsPerItem = 256;

// X · W + b (rows × cols), in fixed blocks of rows shared among `threads`.
template <typename W, typename B>
Matrix affine_rows(const Matrix& X, const W& weights, const B& bias, int threads) {
  const auto rows = static_cast<int>(X.rows());
  Matrix out(rows, weights.cols());
  const int blocks = (rows + kProjectionRowsPerItem - 1) / kProjectionRowsPerItem;
  parallel_for(blocks, threads, [&](int b) {
    const int r0 = b * kProjectionRowsPerItem, count = std::min(kProjectionRowsPerItem, rows - r0);
    // out = bias in every row, then += X · W by the kernel path in use.
    out.middleRows(r0, count).rowwise() = bias;
    kernels::active().gemm(count, static_cast<int>(weights.cols()), static_cast<int>(X.cols()), &X(r0, 0), X.cols(), weights.data(),
                           weights.outerStride(), &out(r0, 0), out.cols(), true);
  });
  return out;
}

}  // namespace

HeadProjections project_head(const Model& model, const AttentionInput& in, int h, int threads) {
  const int d_k = model.d_k, d_v = model.d_v;
  HeadProjections p;
  p.Q = affine_rows(in.X, model.W_q.middleCols(h * d_k, d_k), model.b_q.segment(h * d_k, d_k), threads);     // n × d_k
  p.K = affine_rows(in.X_kv, model.W_k.middleCols(h * d_k, d_k), model.b_k.segment(h * d_k, d_k), threads);  // m × d_k
  p.V = affine_rows(in.X_kv, model.W_v.middleCols(h * d_v, d_v), model.b_v.segment(h * d_v, d_v), threads);  // m × d_v
  return p;
}

Matrix output_projection(const Model& model, const Matrix& concat, int threads) {
  return affine_rows(concat, model.W_o, model.b_o, threads);  // n × d: back in the embedding space
}

}  // namespace attnviz
