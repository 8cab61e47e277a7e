// The Eigen reference backend: written to be read, never optimised. Every other backend is checked against
// it element by element. Legend: n query tokens, m key tokens, d = d_model, H heads, d_k, d_v per head.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "attnviz/attention.hpp"
#include "backends.hpp"

namespace attnviz {

namespace {

// Row-wise softmax of S' (n × m) in three commented passes; masked cells (-inf) get exactly 0.
Matrix softmax_rows(const Matrix& scaled) {
  Matrix P(scaled.rows(), scaled.cols());
  for (Eigen::Index i = 0; i < scaled.rows(); ++i) {
    // Pass 1: the row maximum, subtracted only for numerical stability (exp never overflows).
    float row_max = -std::numeric_limits<float>::infinity();
    for (Eigen::Index j = 0; j < scaled.cols(); ++j) row_max = std::max(row_max, scaled(i, j));
    // Pass 2: exponentiate and sum. exp(-inf - max) = 0 for masked cells.
    float sum = 0.0f;
    for (Eigen::Index j = 0; j < scaled.cols(); ++j) {
      P(i, j) = std::exp(scaled(i, j) - row_max);
      sum += P(i, j);
    }
    // Pass 3: normalise so the row sums to 1. sum >= 1 because the maximum contributes exp(0).
    for (Eigen::Index j = 0; j < scaled.cols(); ++j) P(i, j) /= sum;
  }
  return P;
}

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  bool stores_attention_matrices() const override { return true; }

  std::vector<Stage> compute(const Model& model, const AttentionInput& in, const AttentionOptions& options) const override {
    const auto n = static_cast<int>(in.X.rows());     // query tokens
    const auto m = static_cast<int>(in.X_kv.rows());  // key/value tokens
    const int H = model.heads, d_k = model.d_k, d_v = model.d_v;
    const auto allowed = allowed_cells(options, n, m);  // n × m
    const float factor = score_factor(options, d_k);

    std::vector<Stage> stages;
    Matrix concat(n, H * d_v);  // n × (H·d_v)
    for (int h = 0; h < H; ++h) {
      // Projections of head h use the h-th contiguous block of columns of W_q, W_k, W_v.
      const Matrix Q = (in.X * model.W_q.middleCols(h * d_k, d_k)).rowwise() + model.b_q.segment(h * d_k, d_k);     // n × d_k
      const Matrix K = (in.X_kv * model.W_k.middleCols(h * d_k, d_k)).rowwise() + model.b_k.segment(h * d_k, d_k);  // m × d_k
      const Matrix V = (in.X_kv * model.W_v.middleCols(h * d_v, d_v)).rowwise() + model.b_v.segment(h * d_v, d_v);  // m × d_v

      const Matrix S = Q * K.transpose();  // n × m: raw compatibility of query i with key j
      Matrix S_scaled = S * factor;        // n × m: ÷√d_k ÷ temperature, masked cells −∞
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < m; ++j)
          if (!allowed[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)])
            S_scaled(i, j) = -std::numeric_limits<float>::infinity();
      const Matrix P = softmax_rows(S_scaled);  // n × m, rows sum to 1
      const Matrix A = P * V;                   // n × d_v: each row a weighted mix of the value rows
      concat.middleCols(h * d_v, d_v) = A;

      stages.push_back(token_stage("queries", "Q", h, in.query_tokens, numbered("q", d_k), Q));
      stages.push_back(token_stage("keys", "K", h, in.key_tokens, numbered("k", d_k), K));
      stages.push_back(token_stage("values", "V", h, in.key_tokens, numbered("v", d_v), V));
      stages.push_back(attention_stage("scores", "S", h, in, S));
      stages.push_back(attention_stage("scaled_scores", "S'", h, in, S_scaled));
      stages.push_back(attention_stage("weights", "P", h, in, P));
      stages.push_back(token_stage("context", "A", h, in.query_tokens, numbered("a", d_v), A));
    }
    append_output_stages(model, in, std::move(concat), stages);
    return stages;
  }
};

}  // namespace

std::vector<std::string> numbered(const char* prefix, int count) {
  std::vector<std::string> labels;
  for (int i = 0; i < count; ++i) labels.push_back(fmt::format("{}{}", prefix, i));
  return labels;
}

Stage token_stage(std::string name, std::string symbol, std::optional<int> head, const std::vector<std::string>& rows,
                  std::vector<std::string> cols, Matrix data) {
  return Stage{std::move(name), std::move(symbol), head, "tokens", "dimensions", rows, std::move(cols), std::move(data)};
}

Stage attention_stage(std::string name, std::string symbol, int head, const AttentionInput& in, Matrix data) {
  return Stage{std::move(name), std::move(symbol), head, "queries", "keys", in.query_tokens, in.key_tokens, std::move(data)};
}

void append_output_stages(const Model& model, const AttentionInput& in, Matrix concat, std::vector<Stage>& stages) {
  Matrix O = (concat * model.W_o).rowwise() + model.b_o;  // n × d: back in the embedding space
  append_output_stages(model, in, std::move(concat), std::move(O), stages);
}

void append_output_stages(const Model& model, const AttentionInput& in, Matrix concat, Matrix O, std::vector<Stage>& stages) {
  std::vector<std::string> concat_labels;
  for (int h = 0; h < model.heads; ++h)
    for (int c = 0; c < model.d_v; ++c)
      concat_labels.push_back(model.heads == 1 ? fmt::format("a{}", c) : fmt::format("h{}.a{}", h + 1, c));
  stages.push_back(token_stage("concat", "A", std::nullopt, in.query_tokens, std::move(concat_labels), std::move(concat)));
  stages.push_back(token_stage("output", "O", std::nullopt, in.query_tokens, in.dim_labels, std::move(O)));
}

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace attnviz
