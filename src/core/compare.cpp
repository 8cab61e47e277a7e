// One word across sentences, and nearest neighbours in the vocabulary, by cosine similarity.
#include "attnviz/compare.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/error.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/stages.hpp"

namespace attnviz {

namespace {

void require_known(const Embeddings& emb, const std::string& word, const std::string& what) {
  if (emb.has(word)) return;
  auto close = suggest_words(emb, word);
  throw InputError(fmt::format("{} '{}' is not in the embeddings '{}'{}", what, word, emb.name,
                               close.empty() ? "" : fmt::format(" (did you mean '{}'?)", fmt::join(close, "' or '"))));
}

Vector row_vector(const Stage& stage, int row) { return stage.data.row(row); }

const Stage& stage_of(const Trace& t, std::string_view name) {
  const Stage* s = t.find(name);
  if (!s) throw Error(fmt::format("the trace lacks the {} stage", name));
  return *s;
}

}  // namespace

std::vector<Neighbour> nearest_words(const Embeddings& emb, const Vector& v, int k) {
  std::vector<float> cos(emb.words.size());
  for (std::size_t w = 0; w < emb.words.size(); ++w) cos[w] = cosine(emb.vectors.row(static_cast<Eigen::Index>(w)), v);
  std::vector<std::size_t> order(emb.words.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  // Stable: equal cosines keep the vocabulary's order, so the list is deterministic.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cos[a] > cos[b]; });
  std::vector<Neighbour> out;
  for (std::size_t i = 0; i < order.size() && static_cast<int>(i) < k; ++i) out.push_back({emb.words[order[i]], cos[order[i]]});
  return out;
}

bool WordComparison::inputs_differ() const {
  return std::any_of(inputs.begin(), inputs.end(), [&](const Vector& x) { return x != embedding; });
}

std::vector<std::string> parse_probe_list(const Embeddings& emb, const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string w = lower_case(list.substr(start, end - start));
    w.erase(0, w.find_first_not_of(' '));
    w.erase(w.find_last_not_of(' ') + 1);
    if (!w.empty()) {
      require_known(emb, w, "--probe word");
      if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
    }
    start = end + 1;
  }
  if (out.empty()) throw InputError("--probe is empty; give comma-separated words, e.g. --probe cartoon,device");
  return out;
}

std::vector<std::string> default_probes(const Embeddings& emb, const std::vector<Trace>& traces, const std::string& word,
                                        WordComparison::ProbeSource* source) {
  std::vector<std::string> probes;
  for (const auto& label : emb.dimension_labels)
    if (label != word && emb.has(label) && std::find(probes.begin(), probes.end(), label) == probes.end()) probes.push_back(label);
  if (source) *source = WordComparison::ProbeSource::dimensions;
  if (probes.size() >= 2) return probes;
  probes.clear();
  if (source) *source = WordComparison::ProbeSource::gain;
  for (const Trace& t : traces) {
    const auto it = std::find(t.tokens.begin(), t.tokens.end(), word);
    if (it == t.tokens.end()) continue;
    const int row = static_cast<int>(it - t.tokens.begin());
    const Vector x = row_vector(stage_of(t, stage_name::embeddings), row), o = row_vector(stage_of(t, stage_name::output), row);
    std::string best;
    float best_gain = 0.0f;
    for (std::size_t w = 0; w < emb.words.size(); ++w) {
      if (emb.words[w] == word || std::find(probes.begin(), probes.end(), emb.words[w]) != probes.end()) continue;
      const Vector e = emb.vectors.row(static_cast<Eigen::Index>(w));
      const float gain = cosine(o, e) - cosine(x, e);
      if (best.empty() || gain > best_gain) {
        best = emb.words[w];
        best_gain = gain;
      }
    }
    if (!best.empty()) probes.push_back(best);
  }
  return probes;
}

WordComparison compare_word(const Embeddings& emb, const std::vector<Trace>& traces, const std::string& word_arg,
                            std::vector<std::string> probes, int neighbours, const Model* model, int precision) {
  const std::string word = lower_case(word_arg);
  require_known(emb, word, "--word");
  WordComparison c;
  c.word = word;
  c.embedding = emb.vector(word);
  for (std::size_t s = 0; s < traces.size(); ++s) {
    const Trace& t = traces[s];
    const auto it = std::find(t.tokens.begin(), t.tokens.end(), word);
    if (it == t.tokens.end())
      throw InputError(fmt::format("--word '{}' is not in sentence {}, \"{}\"\nhint: its tokens are: {}", word, s + 1, t.sentence,
                                   fmt::join(t.tokens, " ")));
    c.rows.push_back(static_cast<int>(it - t.tokens.begin()));
    c.occurrences.push_back(static_cast<int>(std::count(t.tokens.begin(), t.tokens.end(), word)));
    c.inputs.push_back(row_vector(stage_of(t, stage_name::embeddings), c.rows.back()));
    c.outputs.push_back(row_vector(stage_of(t, stage_name::output), c.rows.back()));
  }
  const auto k = static_cast<Eigen::Index>(traces.size());
  c.output_cosines.resize(k, k);
  for (Eigen::Index a = 0; a < k; ++a)
    for (Eigen::Index b = 0; b < k; ++b) c.output_cosines(a, b) = cosine(c.outputs[static_cast<std::size_t>(a)], c.outputs[static_cast<std::size_t>(b)]);

  c.probes = probes.empty() ? default_probes(emb, traces, word, &c.probe_source) : std::move(probes);
  for (std::size_t s = 0; s < traces.size(); ++s) {
    std::vector<float> before, after;
    for (const auto& p : c.probes) {
      const Vector e = emb.vector(p);
      before.push_back(cosine(c.inputs[s], e));
      after.push_back(cosine(c.outputs[s], e));
    }
    if (model) {
      const Vector u = uniform_output_row(traces[s], *model, c.rows[s]);
      std::vector<float> uniform;
      for (const auto& p : c.probes) uniform.push_back(cosine(u, emb.vector(p)));
      c.lessons.push_back(lesson_numbers(word, c.rows[s], c.probes, before, std::move(uniform), after, precision));
    }
    c.probe_before.push_back(std::move(before));
    c.probe_after.push_back(std::move(after));
    c.neighbours_before.push_back(nearest_words(emb, c.inputs[s], neighbours));
    c.neighbours_after.push_back(nearest_words(emb, c.outputs[s], neighbours));
  }
  return c;
}

}  // namespace attnviz
