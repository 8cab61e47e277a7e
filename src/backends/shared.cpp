// What every backend shares: the per-head projections, the labelled stages, and the output projection.
#include <fmt/format.h>

#include "backends.hpp"

namespace attnviz {

HeadProjections project_head(const Model& model, const AttentionInput& in, int h) {
  const int d_k = model.d_k, d_v = model.d_v;
  HeadProjections p;
  p.Q = (in.X * model.W_q.middleCols(h * d_k, d_k)).rowwise() + model.b_q.segment(h * d_k, d_k);     // n × d_k
  p.K = (in.X_kv * model.W_k.middleCols(h * d_k, d_k)).rowwise() + model.b_k.segment(h * d_k, d_k);  // m × d_k
  p.V = (in.X_kv * model.W_v.middleCols(h * d_v, d_v)).rowwise() + model.b_v.segment(h * d_v, d_v);  // m × d_v
  return p;
}

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

}  // namespace attnviz
