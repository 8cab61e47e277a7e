// Building a trace: finding its stages, and what a run's configuration and notes say.
#include <cmath>

#include <fmt/format.h>

#include "attnviz/pipeline.hpp"

namespace attnviz {

const Stage* Trace::find(std::string_view name, std::optional<int> head) const {
  for (const auto& s : stages)
    if (s.name == name && (!head || s.head == head)) return &s;
  return nullptr;
}

TraceConfig trace_config(const std::string& embeddings, const Model& model, const std::string& backend, const PipelineOptions& options) {
  TraceConfig c;
  c.embeddings = embeddings;
  c.model = model.name;
  c.backend = backend;
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
  return c;
}

void add_run_notes(Trace& trace, const Backend& backend, const PipelineOptions& options) {
  // The export carries the notes, so a reader of the JSON also learns which tokens were split or zeroed.
  for (const auto& w : trace.warnings) trace.notes.push_back(w);
  if (!backend.stores_attention_matrices())
    trace.notes.push_back(fmt::format("the {} backend never stores the n × n matrices (scores, scaled_scores, weights)", backend.name()));
  if (options.positions == "sinusoidal")
    trace.notes.push_back("positions: embeddings X = token_embeddings E + positional_encoding PE");
}

}  // namespace attnviz
