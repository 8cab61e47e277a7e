#include "attnviz/pipeline.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/lm_trace.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/stages.hpp"

namespace attnviz {

namespace {

Matrix embed_rows(const Embeddings& emb, const std::vector<int>& rows) {
  Matrix X = Matrix::Zero(static_cast<Eigen::Index>(rows.size()), emb.dim);  // n × d; row -1 stays zero
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i] >= 0) X.row(static_cast<Eigen::Index>(i)) = emb.vectors.row(rows[i]);
  return X;
}

}  // namespace

Matrix embed(const Embeddings& emb, const std::vector<std::string>& tokens) {
  Matrix X(static_cast<Eigen::Index>(tokens.size()), emb.dim);  // n × d
  for (std::size_t i = 0; i < tokens.size(); ++i) X.row(static_cast<Eigen::Index>(i)) = emb.vectors.row(emb.index.at(tokens[i]));
  return X;
}

float cosine(const Vector& a, const Vector& b) {
  const float na = a.norm(), nb = b.norm();
  if (na == 0.0f || nb == 0.0f) return 0.0f;
  return a.dot(b) / (na * nb);
}

namespace {

void check_options(const Embeddings& emb, const Model& model, const PipelineOptions& options) {
  if (model.d_model != emb.dim)
    throw InputError(fmt::format("the model '{}' expects embeddings of size {}, but the embeddings '{}' have size {}",
                                 model.name, model.d_model, emb.name, emb.dim));
  checked_temperature(options.attention.temperature);
  check_positions(options.positions);
  if (options.exclude_self && options.context)
    throw InputError("--exclude-self masks the diagonal of self-attention; it does not apply with --context");
}

// --exclude-self: the diagonal masked, combined with any given mask, once the tokens are known.
void mask_self(PipelineOptions& options, const std::vector<std::string>& tokens) {
  const auto n = static_cast<Eigen::Index>(tokens.size());
  Matrix mask = options.attention.mask ? *options.attention.mask : Matrix::Ones(n, n);
  if (mask.rows() != n || mask.cols() != n) return;  // check_mask names the mask of the wrong size
  for (Eigen::Index i = 0; i < n; ++i) mask(i, i) = 0.0f;
  if (n == 1) throw InputError("--exclude-self leaves a one-word sentence nothing to attend to; give a longer sentence");
  if (options.attention.causal && n > 0)
    throw InputError(fmt::format("--exclude-self (x) with the causal mask: \"{}\" (the first word) would have nothing to attend to",
                                 tokens.front()));
  options.mask_source = options.attention.mask ? options.mask_source + " with --exclude-self" : "--exclude-self";
  options.attention.mask = std::move(mask);
}

// prepare_input with `options` as the run will use them: --exclude-self's diagonal added to the mask.
AttentionInput prepare(const Embeddings& emb, const Model& model, const std::string& sentence, PipelineOptions& options, Trace& trace) {
  check_options(emb, model, options);
  trace.sentence = escape_controls(sanitize_utf8(sentence));  // printed as typed, but never a control character
  const TokenLookup query = lookup_tokens(emb, sentence, options.unknown);
  trace.tokens = query.labels;
  trace.token_notes = query.notes;
  trace.warnings = query.warnings;
  trace.notes.insert(trace.notes.end(), query.stand_ins.begin(), query.stand_ins.end());
  if (options.exclude_self) mask_self(options, trace.tokens);
  const bool cross = options.context.has_value();
  std::vector<int> context_rows;
  if (cross) {
    const TokenLookup context =
        lookup_tokens(emb, *options.context, options.unknown, fmt::format("--context \"{}\"", sanitize_utf8(*options.context)));
    trace.context_tokens = context.labels;
    trace.context_token_notes = context.notes;
    trace.warnings.insert(trace.warnings.end(), context.warnings.begin(), context.warnings.end());
    for (const auto& said : context.stand_ins)
      if (std::find(trace.notes.begin(), trace.notes.end(), said) == trace.notes.end()) trace.notes.push_back(said);
    context_rows = context.rows;
  }
  check_mask(options.attention, static_cast<long>(trace.tokens.size()),
             static_cast<long>((cross ? trace.context_tokens : trace.tokens).size()), options.mask_source, trace.tokens, cross);

  check_token_memory(static_cast<double>(trace.tokens.size()), static_cast<double>((cross ? trace.context_tokens : trace.tokens).size()),
                     emb.dim, options.max_memory_bytes);
  AttentionInput in;
  in.query_tokens = trace.tokens;
  in.key_tokens = cross ? trace.context_tokens : trace.tokens;
  in.dim_labels = emb.dimension_labels;
  in.X = embed_rows(emb, query.rows);                     // n × d
  if (cross) in.X_kv = embed_rows(emb, context_rows);      // m × d
  add_positions(options.positions, in, cross, trace);
  if (!cross) in.X_kv = in.X;
  trace.stages.push_back(make_embedding_stage(stage_name::embeddings, trace.tokens, emb.dimension_labels, in.X));
  if (cross) trace.stages.push_back(make_embedding_stage(stage_name::context_embeddings, trace.context_tokens, emb.dimension_labels, in.X_kv));
  return in;
}

}  // namespace

AttentionInput prepare_input(const Embeddings& emb, const Model& model, const std::string& sentence,
                             const PipelineOptions& options, Trace& trace) {
  PipelineOptions used = options;
  return prepare(emb, model, sentence, used, trace);
}

std::vector<Stage> compute_stages(const Backend& backend, const Model& model, const AttentionInput& in, const PipelineOptions& options,
                                  StageTimes& times) {
  // The n × n matrices are held beside the n × d ones (checked alone in prepare, before they were made).
  const auto n = static_cast<double>(in.X.rows()), m = static_cast<double>(in.X_kv.rows());
  check_attention_memory(backend, n, m, model.heads, options.max_memory_bytes, options.output_bytes_per_cell, options.outputs_named,
                         "a shorter sentence", token_matrices_bytes(n, m, static_cast<double>(in.X.cols())), "the n × d matrices");
  if (auto why = backend.unsupported(model, in, options.attention)) throw InputError(*why);
  auto stages = backend.compute_timed(model, in, options.attention, times);
  check_finite(stages, options.attention);
  return stages;
}

Trace run_attention(const Embeddings& emb, const Model& model, const std::string& sentence, const PipelineOptions& given) {
  if (model.language_model) return run_language_model(emb, model, sentence, given);  // its own forward (lm_trace.hpp)
  PipelineOptions options = given;
  Trace trace;
  const AttentionInput in = prepare(emb, model, sentence, options, trace);  // the sentence looked up once
  auto backend = make_backend(options.backend);
  for (auto& st : compute_stages(*backend, model, in, options, trace.timings)) trace.stages.push_back(std::move(st));
  trace.config = trace_config(emb.name, model, backend->name(), options);
  trace.config.custom_mask = given.attention.mask.has_value();  // not --exclude-self's own diagonal mask
  add_run_notes(trace, *backend, options);
  if (model.origin == WeightsOrigin::identity) add_identity_notes(trace, model);
  return trace;
}

}  // namespace attnviz
