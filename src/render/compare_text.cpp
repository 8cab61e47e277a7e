// attnviz compare as text, and the nearest-neighbour lists of run --neighbours.
#include <fmt/format.h>

#include "attnviz/compare.hpp"
#include "attnviz/stages.hpp"
#include "text_table.hpp"

namespace attnviz {

std::string render_neighbour_list(const std::vector<Neighbour>& list, const std::string& self, const RenderOptions& options) {
  std::string out;
  for (std::size_t i = 0; i < list.size(); ++i)
    out += fmt::format("{}{}{} {}", i ? ", " : "", list[i].word, list[i].word == self ? " (itself)" : "",
                       format_number(list[i].cosine, options.precision, options.unicode));
  return out;
}

std::string render_comparison(const WordComparison& c, const std::vector<Trace>& traces, const RenderOptions& options) {
  auto num = [&](float v) { return format_number(v, options.precision, options.unicode); };
  const std::size_t n = traces.size();
  const bool per_sentence_input = c.inputs_differ();
  const std::string w = fmt::format("\"{}\"", c.word);
  using render_detail::text_table;

  std::string out = fmt::format("{} in {} sentence{}\n", w, n, n == 1 ? "" : "s");
  for (std::size_t s = 0; s < n; ++s) {
    std::string line = fmt::format("\"{}\" (token {}", traces[s].sentence, c.rows[s]);
    if (c.occurrences[s] > 1) line += fmt::format("; it occurs {} times, this is the first", c.occurrences[s]);
    out += render_detail::hanging(fmt::format("  {}:", s + 1), line + ")", options.width);
  }

  // The vectors themselves, as a heatmap table over the embedding's dimensions.
  Stage vectors{c.word + ": before and after attention", "", std::nullopt, "vectors", "dimensions", {}, {}, Matrix()};
  const Stage* X = traces.front().find(stage_name::embeddings);
  vectors.col_labels = X ? X->col_labels : std::vector<std::string>{};
  std::vector<Vector> rows{c.embedding};
  vectors.row_labels.push_back("embedding");
  for (std::size_t s = 0; s < n; ++s) {
    if (per_sentence_input) {
      rows.push_back(c.inputs[s]);
      vectors.row_labels.push_back(fmt::format("input {}", s + 1));
    }
    rows.push_back(c.outputs[s]);
    vectors.row_labels.push_back(fmt::format("output {}", s + 1));
  }
  vectors.data.resize(static_cast<Eigen::Index>(rows.size()), c.embedding.cols());
  for (std::size_t r = 0; r < rows.size(); ++r) vectors.data.row(static_cast<Eigen::Index>(r)) = rows[r];
  out += "\n" + render_stage(vectors, 0, options);
  // A trained language model's attention reads the layer norm of its layer's input, not X = E + P itself.
  const bool reads_layer_norm = traces.front().find(stage_name::layer_norm) != nullptr;
  out += render_detail::wrap_text(
      fmt::format("embedding: {}'s row in the vocabulary{}; output N: its contextualized row O in sentence N", w,
                  !per_sentence_input ? ""
                  : reads_layer_norm  ? "; input N: plus the position it has in sentence N (X = E + P, the model's input; the layer's "
                                        "attention reads the layer norm of the layer's input, not X)"
                                      : "; input N: plus the position it has in sentence N (what attention saw)"),
      options.width, 2);

  // Cosine between the outputs.
  Stage cosines{"cosine between the outputs", "", std::nullopt, "outputs", "outputs", {}, {}, c.output_cosines};
  for (std::size_t s = 0; s < n; ++s) cosines.row_labels.push_back(fmt::format("output {}", s + 1));
  cosines.col_labels = cosines.row_labels;
  out += "\n" + render_stage(cosines, 0, options);
  out += render_detail::wrap_text("1: the same direction; 0: unrelated. The further below 1, the more the sentences pulled the word apart.",
                                  options.width, 2);

  // Cosine to the probe words, before and after.
  if (!c.probes.empty()) {
    const bool uniform = c.lessons.size() == n;
    out += "\n" + render_detail::wrap_text(fmt::format("cosine of {} with probe words, {}{} and after (its output)", w,
                                                      reads_layer_norm     ? "before the model (its input X = E + P)"
                                                      : per_sentence_input ? "before attention (its input)"
                                                                           : "before attention (its embedding)",
                                                      uniform ? ", with a uniform row (the sentence's plain average)" : ""),
                                          options.width, 2);
    std::vector<std::vector<std::string>> table{{"probe"}};
    if (!per_sentence_input) table[0].push_back("before");
    for (std::size_t s = 0; s < n; ++s) {
      if (per_sentence_input) table[0].push_back(fmt::format("before {}", s + 1));
      if (uniform) table[0].push_back(fmt::format("uniform {}", s + 1));
      table[0].push_back(fmt::format("after {}", s + 1));
    }
    for (std::size_t p = 0; p < c.probes.size(); ++p) {
      std::vector<std::string> row{c.probes[p]};
      if (!per_sentence_input) row.push_back(num(c.probe_before[0][p]));
      for (std::size_t s = 0; s < n; ++s) {
        if (per_sentence_input) row.push_back(num(c.probe_before[s][p]));
        if (uniform) row.push_back(num(c.lessons[s].uniform[p]));
        row.push_back(num(c.probe_after[s][p]));
      }
      table.push_back(std::move(row));
    }
    // The sense margin: which probe the vector is closest to, and by how much over the next.
    if (uniform && c.probes.size() >= 2) {
      std::vector<std::string> closer{"closer to"}, by{"by"};
      auto add = [&](const SenseMargin& m) {
        closer.push_back(m.closer);
        by.push_back(num(m.by));
      };
      if (!per_sentence_input) add(c.lessons[0].margin_before);
      for (std::size_t s = 0; s < n; ++s) {
        if (per_sentence_input) add(c.lessons[s].margin_before);
        add(c.lessons[s].margin_uniform);
        add(c.lessons[s].margin_after);
      }
      table.push_back(std::move(closer));
      table.push_back(std::move(by));
    }
    out += text_table(table, 2, options.width);
    for (std::size_t s = 0; uniform && c.probes.size() >= 2 && s < n; ++s)
      out += render_detail::wrap_text(fmt::format("sentence {}: {}", s + 1, claim_line(c.lessons[s], options.precision, options.unicode)),
                                      options.width, 4);
    if (c.probe_source == WordComparison::ProbeSource::dimensions)
      out += render_detail::wrap_text("(the probes are the embeddings' named dimensions; choose your own with --probe W1,W2)", options.width, 1);
    else if (c.probe_source == WordComparison::ProbeSource::gain)
      out += render_detail::wrap_text(
          fmt::format("(the probes are the words each sentence pulled {} toward most; choose your own with --probe W1,W2)", w), options.width, 1);
  }

  // Nearest neighbours in the vocabulary.
  if (!c.neighbours_after.empty() && !c.neighbours_after.front().empty()) {
    out += "\n" + render_detail::wrap_text(fmt::format("nearest words in the vocabulary (cosine; \"(itself)\" marks {})", w), options.width, 2);
    std::vector<std::vector<std::string>> table;
    if (!per_sentence_input) table.push_back({"before:", render_neighbour_list(c.neighbours_before[0], c.word, options)});
    for (std::size_t s = 0; s < n; ++s) {
      if (per_sentence_input)
        table.push_back({fmt::format("before, sentence {}:", s + 1), render_neighbour_list(c.neighbours_before[s], c.word, options)});
      table.push_back({fmt::format("after, sentence {}:", s + 1), render_neighbour_list(c.neighbours_after[s], c.word, options)});
    }
    // Left-align the lists too: pad the labels by hand rather than through the right-aligning table.
    std::size_t label_width = 0;
    for (const auto& r : table) label_width = std::max(label_width, static_cast<std::size_t>(display_width(r[0])));
    for (const auto& r : table)
      out += render_detail::hanging(fmt::format("  {}{}", r[0], std::string(label_width - static_cast<std::size_t>(display_width(r[0])), ' ')), r[1], options.width);
  }
  return out;
}

std::string render_output_neighbours(const Trace& trace, const Embeddings& emb, int k, const RenderOptions& options) {
  const Stage* O = trace.find(stage_name::output);
  if (!O || k <= 0) return "";
  std::string out = render_detail::wrap_text(
      fmt::format("nearest {} words in the vocabulary to each token's output (cosine; \"(itself)\" marks the token's own word)", k), options.width, 2);
  int label_width = 0;
  for (const auto& l : O->row_labels) label_width = std::max(label_width, display_width(l));
  for (Eigen::Index i = 0; i < O->data.rows(); ++i) {
    const auto& label = O->row_labels[static_cast<std::size_t>(i)];
    out += render_detail::hanging(fmt::format("  {}{} {}", label, std::string(static_cast<std::size_t>(label_width - display_width(label)), ' '),
                               options.unicode ? "→" : "->"),
                   render_neighbour_list(nearest_words(emb, O->data.row(i), k), label, options), options.width);
  }
  return out;
}

}  // namespace attnviz
