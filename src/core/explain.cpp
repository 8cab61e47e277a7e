// The arithmetic of one attention weight, redone in float32 in the reference's order: S' = S × factor, masked
// cells −∞, then the teaching softmax (softmax.hpp: the row maximum, exp, the sum in key order, the division).
#include "attnviz/explain.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/error.hpp"
#include "attnviz/softmax.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/stages.hpp"

namespace attnviz {

namespace {

std::vector<float> row_of(const Matrix& m, int i) {
  std::vector<float> out(static_cast<std::size_t>(m.cols()));
  for (Eigen::Index j = 0; j < m.cols(); ++j) out[static_cast<std::size_t>(j)] = m(i, j);
  return out;
}

}  // namespace

int find_token(const std::vector<std::string>& tokens, const std::string& spec, const std::string& role,
               const std::string& sentence) {
  std::string word = lower_case(spec);
  int occurrence = 1;
  if (auto hash = word.rfind('#'); hash != std::string::npos && hash > 0 && hash + 1 < word.size()) {
    const std::string number = word.substr(hash + 1);
    if (number.find_first_not_of("0123456789") == std::string::npos && number.size() < 6) {
      occurrence = std::stoi(number);
      word.erase(hash);
      if (occurrence < 1) throw InputError(fmt::format("{} '{}': occurrences count from 1 (e.g. {}#2)", role, spec, word));
    }
  }
  int seen = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] == word && ++seen == occurrence) return static_cast<int>(i);
  if (seen == 0)
    throw InputError(fmt::format("{} '{}' is not a word of \"{}\"\nhint: its tokens are: {}", role, word, sentence,
                                 fmt::join(tokens, " ")));
  throw InputError(fmt::format("{} '{}': \"{}\" has only {} '{}'", role, spec, sentence, seen, word));
}

CellExplanation explain_cell(const Trace& trace, int head, int query, int key) {
  if (head < 0 || head >= trace.config.heads)
    throw InputError(fmt::format("--head {} does not exist: the model has {} head{} (1 to {})", head + 1, trace.config.heads,
                                 trace.config.heads == 1 ? "" : "s", trace.config.heads));
  const Stage* Q = trace.find(stage_name::queries, head);
  const Stage* K = trace.find(stage_name::keys, head);
  const Stage* V = trace.find(stage_name::values, head);
  const Stage* S = trace.find(stage_name::scores, head);
  const Stage* S_scaled = trace.find(stage_name::scaled_scores, head);
  const Stage* P = trace.find(stage_name::weights, head);
  const Stage* A = trace.find(stage_name::context, head);
  if (!Q || !K || !V || !S || !S_scaled || !P || !A)
    throw InputError(fmt::format("the {} backend does not keep the attention matrices that explain needs; use --backend cpu",
                                 trace.config.backend));
  const auto n = static_cast<int>(S->data.rows()), m = static_cast<int>(S->data.cols());
  if (query < 0 || query >= n || key < 0 || key >= m)
    throw InputError(fmt::format("cell ({}, {}) is outside the {} × {} attention matrix", query, key, n, m));

  CellExplanation e;
  e.head = head;
  e.query = query;
  e.key = key;
  e.query_token = S->row_labels[static_cast<std::size_t>(query)];
  e.key_token = S->col_labels[static_cast<std::size_t>(key)];
  e.key_tokens = S->col_labels;
  e.q_labels = Q->col_labels;
  e.v_labels = V->col_labels;
  e.q = Q->data.row(query);
  e.k = K->data.row(key);
  for (Eigen::Index c = 0; c < e.q.cols(); ++c) e.products.push_back(e.q(c) * e.k(c));
  e.score = S->data(query, key);
  e.scale = trace.config.scale;
  e.temperature = trace.config.temperature;
  e.factor = e.scale / e.temperature;  // = score_factor(options, d_k), the reference's factor

  // S' = S × factor, −∞ where the trace's mask hid the key (the trace is the record of what was masked).
  const std::vector<float> scores = row_of(S->data, query);
  for (int j = 0; j < m; ++j) {
    const bool masked = std::isinf(S_scaled->data(query, j)) && S_scaled->data(query, j) < 0;
    e.masked_row.push_back(masked);
    e.scaled_row.push_back(masked ? -std::numeric_limits<float>::infinity() : scores[static_cast<std::size_t>(j)] * e.factor);
  }
  // Softmax as the reference computes it, so every number is the trace's to the bit.
  RowSoftmax softmax = softmax_row(e.scaled_row);
  e.row_max = softmax.max;
  e.row_argmax = softmax.argmax;
  e.exp_row = std::move(softmax.exps);
  e.row_sum = softmax.sum;
  e.weight_row = std::move(softmax.p);

  e.v = V->data.row(key);
  e.share = e.weight() * e.v;
  e.context = A->data.row(query);
  return e;
}

ProjectionExplanation explain_projection(const Trace& trace, const Model& model, const std::string& stage, int head, int row, int col) {
  // Which input, which weights: Q = X W_q + b_q, K and V from Xc with a context, O = concat W_o + b_o.
  struct Projection {
    std::string_view stage, symbol, weight, bias;
    const Matrix* W;
    const Vector* b;
    int width;  // the per-head width of the weights' columns (0: all of them, for O)
  };
  const Projection kProjections[]{{stage_name::queries, "Q", "W_q", "b_q", &model.W_q, &model.b_q, model.d_k},
                                  {stage_name::keys, "K", "W_k", "b_k", &model.W_k, &model.b_k, model.d_k},
                                  {stage_name::values, "V", "W_v", "b_v", &model.W_v, &model.b_v, model.d_v},
                                  {stage_name::output, "O", "W_o", "b_o", &model.W_o, &model.b_o, 0}};
  const Projection* p = nullptr;
  for (const Projection& candidate : kProjections)
    if (candidate.stage == stage) p = &candidate;
  if (!p) throw InputError(fmt::format("'{}' is not a projection (queries, keys, values or output)", stage));
  const bool per_head = p->width > 0;
  if (per_head && (head < 0 || head >= trace.config.heads))
    throw InputError(fmt::format("head {} does not exist: the model has {} head{}", head + 1, trace.config.heads, trace.config.heads == 1 ? "" : "s"));
  // What the projection reads: the heads' concat for O; for Q, K and V the embeddings, the context's for K
  // and V of cross-attention, or a trained model's layer norm of the layer's input (the stage named so).
  const bool cross = trace.config.context.has_value() && stage != stage_name::queries && stage != stage_name::output;
  const std::string_view input_name = stage == stage_name::output       ? stage_name::concat
                                      : cross                           ? stage_name::context_embeddings
                                      : trace.find(stage_name::layer_norm) ? stage_name::layer_norm
                                                                        : stage_name::embeddings;
  const Stage* out = per_head ? trace.find(stage, head) : trace.find(stage);
  const Stage* in = trace.find(input_name);
  if (!out || !in) throw InputError(fmt::format("the trace has no {} stage to explain", !out ? std::string(stage) : std::string(input_name)));
  if (row < 0 || row >= out->data.rows() || col < 0 || col >= out->data.cols())
    throw InputError(fmt::format("cell ({}, {}) is outside the {} × {} {} matrix", row, col, out->data.rows(), out->data.cols(), stage));
  const int w_col = per_head ? head * p->width + col : col;
  if (p->W->rows() != in->data.cols() || w_col >= p->W->cols())
    throw InputError(fmt::format("the model's {} is {} × {}, which does not fit the trace's {}", p->weight, p->W->rows(), p->W->cols(), input_name));

  ProjectionExplanation e;
  e.stage = stage;
  e.symbol = p->symbol;
  e.input_symbol = input_name == stage_name::concat ? std::string("concat") : in->symbol;
  e.weight_symbol = p->weight;
  e.bias_symbol = p->bias;
  e.head = per_head ? head : 0;
  e.row = row;
  e.col = col;
  e.token = out->row_labels[static_cast<std::size_t>(row)];
  e.column = out->col_labels[static_cast<std::size_t>(col)];
  e.input_labels = in->col_labels;
  for (Eigen::Index k = 0; k < in->data.cols(); ++k) {
    e.inputs.push_back(in->data(row, k));
    e.weights.push_back((*p->W)(k, w_col));
    e.products.push_back(e.inputs.back() * e.weights.back());
  }
  e.has_bias = model.has_biases;
  e.bias = w_col < p->b->size() ? (*p->b)(w_col) : 0.0f;
  e.value = out->data(row, col);
  return e;
}

}  // namespace attnviz
