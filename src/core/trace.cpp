// Building a trace: finding its stages, and what a run's configuration and notes say.
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/pipeline.hpp"
#include "attnviz/stages.hpp"

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
  c.weights_origin = model.origin;
  c.backend = backend;
  c.heads = model.heads;
  c.d_model = model.d_model;
  c.d_k = model.d_k;
  c.d_v = model.d_v;
  c.scale = options.attention.scale ? 1.0f / std::sqrt(static_cast<float>(model.d_k)) : 1.0f;
  c.temperature = options.attention.temperature;
  c.causal = options.attention.causal;
  c.custom_mask = options.attention.mask.has_value();
  c.exclude_self = options.exclude_self;
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

namespace {

// With the identity model a word's score with itself is its squared length, usually the row's largest: say
// how many rows the word itself wins, how many of the strongest other keys are function words, and what
// --exclude-self would show. Nothing when the word itself wins fewer than half the rows.
std::optional<std::string> identity_self_note(const Trace& trace) {
  static const std::unordered_set<std::string> function_words{"the", "of", "a", "an", "and", "to", "in", "is", "on", "at",
                                                               "for", "with", "it", "was", "that", "as", "by", "from", "or"};
  const Stage* weights = trace.find(stage_name::weights, 0);
  if (!weights || trace.config.exclude_self || trace.config.context || weights->data.rows() < 2) return std::nullopt;
  const Eigen::Index n = weights->data.rows();
  int self = 0, function = 0;
  std::vector<std::string> named;
  for (Eigen::Index i = 0; i < n; ++i) {
    Eigen::Index best = 0;
    weights->data.row(i).maxCoeff(&best);
    self += best == i ? 1 : 0;
    Eigen::Index other = i == 0 ? 1 : 0;  // the strongest key that is not the word itself
    for (Eigen::Index j = 0; j < weights->data.cols(); ++j)
      if (j != i && weights->data(i, j) > weights->data(i, other)) other = j;
    const std::string& key = weights->col_labels[static_cast<std::size_t>(other)];
    if (function_words.count(key) && function_words.count(weights->row_labels[static_cast<std::size_t>(i)]) == 0) {
      ++function;
      if (std::find(named.begin(), named.end(), key) == named.end()) named.push_back("\"" + key + "\"");
    }
  }
  if (2 * self < n) return std::nullopt;
  const std::string words = named.size() > 2 ? fmt::format("{}, {}, ...", named[0], named[1]) : fmt::format("{}", fmt::join(named, ", "));
  return fmt::format("identity model: {} of {} words attend most to themselves (a word's score with itself is its squared "
                     "length){}; --exclude-self masks the diagonal to show what the context contributes",
                     self, n,
                     function > 0 ? fmt::format(", and for {} of the content words the strongest other key is a function word "
                                                "({}), whose vector lies near many words",
                                                function, words)
                                  : "");
}

// With the identity model on embeddings of small dot products every row is nearly uniform: say so, with the
// gain that would spread the scores of an average row over about 3 (a largest weight some 20 times the
// smallest). Nothing when the largest weights already stand out.
std::optional<std::string> identity_flat_note(const Trace& trace, double current_gain) {
  const Stage* weights = trace.find(stage_name::weights, 0);
  const Stage* scaled = trace.find(stage_name::scaled_scores, 0);
  if (!weights || !scaled) return std::nullopt;
  double spread = 0, largest = 0;
  float lo = 1, hi = 0;
  int rows = 0;
  for (Eigen::Index i = 0; i < weights->data.rows(); ++i) {
    float s_min = std::numeric_limits<float>::infinity(), s_max = -s_min;
    int keys = 0;
    for (Eigen::Index j = 0; j < scaled->data.cols(); ++j)
      if (std::isfinite(scaled->data(i, j))) {
        s_min = std::min(s_min, scaled->data(i, j));
        s_max = std::max(s_max, scaled->data(i, j));
        ++keys;
      }
    if (keys < 2) continue;
    const float top = weights->data.row(i).maxCoeff();
    largest += top * static_cast<float>(keys);  // 1 for a uniform row
    lo = std::min(lo, top);
    hi = std::max(hi, top);
    spread += s_max - s_min;
    ++rows;
  }
  if (rows == 0 || largest / rows > 1.5) return std::nullopt;
  const double gain = current_gain * std::max(2.0, std::ceil(3.0 / std::max(spread / rows, 1e-6)));
  return fmt::format("the weights are nearly uniform (the largest of each row {:.2f} to {:.2f}): these embeddings' dot products are "
                     "small for the identity model; --gain {} makes W_q {} times the identity, so the scores of a row spread over about 3 and the "
                     "pattern can be read (or lower --temperature)",
                     lo, hi, gain, gain);
}

}  // namespace

void add_identity_notes(Trace& trace, const Model& model) {
  if (auto note = identity_self_note(trace)) trace.notes.push_back(*note);
  if (auto note = identity_flat_note(trace, model.gain)) trace.notes.push_back(*note);
}

}  // namespace attnviz
