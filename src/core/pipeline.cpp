#include "attnviz/pipeline.hpp"

#include <cmath>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/tokenizer.hpp"

namespace attnviz {

const Stage* Trace::find(std::string_view name, std::optional<int> head) const {
  for (const auto& s : stages)
    if (s.name == name && (!head || s.head == head)) return &s;
  return nullptr;
}

std::vector<std::string> tokens_for(const Embeddings& emb, const std::string& sentence, const std::string& what) {
  auto tokens = tokenize(sentence, [&](const std::string& w) { return emb.has(w); });
  if (tokens.empty())
    throw InputError(fmt::format("{} is empty: type some words (punctuation alone is dropped)", what));
  std::vector<std::string> unknown;
  for (const auto& t : tokens)
    if (!emb.has(t) && std::find(unknown.begin(), unknown.end(), t) == unknown.end()) unknown.push_back(t);
  if (unknown.empty()) return tokens;

  // Name every unknown word (the first 20), each with the closest known words.
  std::string list;
  for (std::size_t i = 0; i < unknown.size() && i < 20; ++i) {
    if (i) list += ", ";
    list += fmt::format("'{}'", unknown[i]);
    auto close = suggest_words(emb, unknown[i]);
    if (!close.empty()) {
      list += " (did you mean ";
      for (std::size_t k = 0; k < close.size(); ++k) list += fmt::format("{}'{}'", k ? " or " : "", close[k]);
      list += "?)";
    }
  }
  if (unknown.size() > 20) list += fmt::format(" and {} more", unknown.size() - 20);
  throw InputError(fmt::format("{} unknown word{} in {}, not in the embeddings '{}': {}\n"
                               "hint: use words the embeddings know, or give your own with --embeddings PATH",
                               unknown.size(), unknown.size() == 1 ? "" : "s", what, emb.name, list));
}

Matrix embed(const Embeddings& emb, const std::vector<std::string>& tokens) {
  Matrix X(static_cast<Eigen::Index>(tokens.size()), emb.dim);  // n × d
  for (std::size_t i = 0; i < tokens.size(); ++i) X.row(static_cast<Eigen::Index>(i)) = emb.vectors.row(emb.index.at(tokens[i]));
  return X;
}

Matrix sinusoidal_positions(int n, int d) {
  Matrix PE(n, d);  // n × d
  for (int p = 0; p < n; ++p)
    for (int c = 0; c < d; ++c) {
      // Pairs of columns (2i, 2i+1) share one frequency 1 / 10000^(2i/d).
      const double angle = p / std::pow(10000.0, static_cast<double>(c - c % 2) / d);
      PE(p, c) = static_cast<float>(c % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  return PE;
}

float cosine(const Vector& a, const Vector& b) {
  const float na = a.norm(), nb = b.norm();
  if (na == 0.0f || nb == 0.0f) return 0.0f;
  return a.dot(b) / (na * nb);
}

Trace run_attention(const Embeddings& emb, const Model& model, const std::string& sentence, const PipelineOptions& options) {
  if (model.d_model != emb.dim)
    throw InputError(fmt::format("the model '{}' expects embeddings of size {}, but the embeddings '{}' have size {}",
                                 model.name, model.d_model, emb.name, emb.dim));
  if (!(options.attention.temperature > 0.0f) || !std::isfinite(options.attention.temperature))
    throw InputError(fmt::format("--temperature must be a finite number > 0, got {}", options.attention.temperature));
  if (options.positions != "none" && options.positions != "sinusoidal")
    throw InputError(fmt::format("--positions must be 'none' or 'sinusoidal', got '{}'", options.positions));

  Trace trace;
  trace.sentence = sanitize_utf8(sentence);
  trace.tokens = tokens_for(emb, sentence);

  AttentionInput in;
  in.query_tokens = trace.tokens;
  in.dim_labels = emb.dimension_labels;
  in.X = embed(emb, trace.tokens);
  if (options.context) {
    trace.context_tokens = tokens_for(emb, *options.context, "the context");
    in.key_tokens = trace.context_tokens;
    in.X_kv = embed(emb, trace.context_tokens);
  }

  const auto n = static_cast<int>(in.X.rows());
  if (options.positions == "sinusoidal") {
    Matrix PE = sinusoidal_positions(n, emb.dim);
    trace.stages.push_back(Stage{"positional_encoding", "PE", std::nullopt, "tokens", "dimensions", trace.tokens,
                                 emb.dimension_labels, PE});
    in.X += PE;
    if (options.context) in.X_kv += sinusoidal_positions(static_cast<int>(in.X_kv.rows()), emb.dim);
  }
  if (!options.context) {
    in.key_tokens = in.query_tokens;
    in.X_kv = in.X;
  }
  trace.stages.push_back(Stage{"embeddings", "X", std::nullopt, "tokens", "dimensions", trace.tokens, emb.dimension_labels, in.X});

  auto backend = make_backend(options.backend);
  const auto m = static_cast<double>(in.X_kv.rows());
  // Three n × m float32 stages per head are kept (scores, scaled scores, weights).
  const double attention_bytes = backend->stores_attention_matrices() ? 3.0 * n * m * model.heads * sizeof(float) : 0.0;
  if (attention_bytes > options.max_memory_bytes)
    throw InputError(fmt::format("{} × {} tokens need {:.1f} GiB for the attention matrices, more than the {:.1f} GiB allowed; "
                                 "use a shorter sentence or a backend that never stores them",
                                 n, in.X_kv.rows(), attention_bytes / (1 << 30), options.max_memory_bytes / (1 << 30)));
  if (auto why = backend->unsupported(model, in, options.attention)) throw InputError(*why);

  auto stages = backend->compute_timed(model, in, options.attention, trace.timings);
  for (auto& s : stages) trace.stages.push_back(std::move(s));

  TraceConfig& c = trace.config;
  c.embeddings = emb.name;
  c.model = model.name;
  c.backend = backend->name();
  c.heads = model.heads;
  c.d_model = model.d_model;
  c.d_k = model.d_k;
  c.d_v = model.d_v;
  c.scale = options.attention.scale ? 1.0f / std::sqrt(static_cast<float>(model.d_k)) : 1.0f;
  c.temperature = options.attention.temperature;
  c.causal = options.attention.causal;
  c.custom_mask = options.attention.mask.has_value();
  c.positions = options.positions;
  c.context = options.context;
  if (!backend->stores_attention_matrices())
    trace.notes.push_back(fmt::format("the {} backend never stores the n × n matrices (scores, scaled_scores, weights)", backend->name()));
  return trace;
}

}  // namespace attnviz
