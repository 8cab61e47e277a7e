// The seam where backends are registered; only this folder knows which ones are compiled in. Also the
// pieces every backend shares: the per-head projections and the output projection.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attnviz/attention.hpp"

namespace attnviz {

std::unique_ptr<Backend> make_cpu_backend();
std::unique_ptr<Backend> make_flash_backend();
// cuda (every stage on the GPU) or, with `flash`, cuda-flash (the fused kernel); only in CUDA builds
// (src/backends/cuda/).
std::unique_ptr<Backend> make_cuda_backend(bool flash);

// The projections of head h: the h-th contiguous block of columns of W_q, W_k, W_v (and of the biases),
// computed in fixed blocks of rows on up to `threads` threads (the same bits for any thread count).
struct HeadProjections {
  Matrix Q;  // n × d_k
  Matrix K;  // m × d_k
  Matrix V;  // m × d_v
};
HeadProjections project_head(const Model& model, const AttentionInput& in, int h, int threads = 1);

// O = concat · W_o + b_o (n × d), on up to `threads` threads: the output projection every CPU backend shares.
Matrix output_projection(const Model& model, const Matrix& concat, int threads = 1);

// The flash backend's attention of every head given its Q, K and V (the projections already done): K and V
// packed once per head, then every query block on up to options.threads threads. Returns concat (n × H·d_v),
// head h's context in columns [h·d_v, (h+1)·d_v). The mask, if any, must have been checked (allowed_cells).
// This is the work ONNX Runtime's MultiHeadAttention does when given Q, K and V: `attnviz bench` times it
// alone beside the whole layer.
Matrix flash_attention(const std::vector<HeadProjections>& heads, int d_v, const AttentionOptions& options, float factor);

// Fixed number of query rows in one work item of the reference backend. The item boundaries never depend on
// the thread count, so neither do the results.
constexpr int kReferenceRowsPerItem = 64;

}  // namespace attnviz
