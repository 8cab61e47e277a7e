// attnviz compare SENTENCE SENTENCE... --word WORD: one word in several sentences, side by side.
#include <cmath>

#include <fmt/format.h>

#include "attnviz/compare.hpp"
#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/lesson.hpp"
#include "attnviz/render.hpp"
#include "attnviz/stages.hpp"
#include "attnviz/export.hpp"
#include "attnviz/limits.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct CompareArgs {
  std::vector<std::string> sentences;
  std::string word;
  std::optional<std::string> probe;
  int neighbours = 5;
  std::optional<int> head;  // --head H, from 1: also what the word attends to in that head
  CommonOptions common;
};

// --head: what the word reads in head `head` (0-based) of each sentence, its three strongest keys (only
// keys it may see). InputError when the backend kept no weights.
std::string head_reading(const WordComparison& c, const std::vector<Trace>& traces, int head, const RenderOptions& render) {
  const TraceConfig& config = traces.front().config;
  std::string out = fmt::format("\nwhat \"{}\" attends to in head {} of {}{}\n", c.word, head + 1, config.heads,
                                config.layers > 0 ? fmt::format(" (layer {} of {})", config.layer, config.layers) : "");
  for (std::size_t i = 0; i < traces.size(); ++i) {
    const Stage* weights = traces[i].find(stage_name::weights, head);
    if (!weights)
      throw InputError(fmt::format("--head: the {} backend keeps no weights to read; use --backend cpu", config.backend));
    const int row = c.rows[i];
    const Stage* scaled = traces[i].find(stage_name::scaled_scores, head);
    int visible = 0;
    for (Eigen::Index j = 0; j < weights->data.cols(); ++j)
      visible += scaled && std::isinf(scaled->data(row, j)) ? 0 : 1;
    std::string keys;
    for (const auto& [key, w] : top_keys(*weights, row, std::min(3, visible)))
      keys += fmt::format("{}{} {}", keys.empty() ? "" : ", ", key, format_number(w, render.precision, render.unicode));
    out += fmt::format("  sentence {}: {}\n", i + 1, keys);
  }
  return out;
}

int compare(const CompareArgs& a) {
  const Settings settings = build_settings(a.common, false);
  const RenderOptions& render = settings.report.render;
  // A big embeddings file keeps the sentences' words, the word and the probes (plus its first words).
  std::vector<std::string> sentences = a.sentences;
  if (a.probe) sentences.push_back(*a.probe);  // its words, split at the commas by the tokenizer
  const auto [emb, model] = load_embeddings_and_model(a.common, sentences, {a.word});
  const std::vector<std::string> probes = a.probe ? parse_probe_list(emb, *a.probe) : std::vector<std::string>{};
  // Every sentence's trace is kept: together they count against --max-memory.
  KeptTraces kept{settings.pipeline, "compare fewer or shorter sentences, or raise --max-memory"};
  for (const auto& s : a.sentences) kept.run(emb, model, s);
  const std::vector<Trace>& traces = kept.traces;
  const WordComparison c = compare_word(emb, traces, a.word, probes, a.neighbours, &model, render.precision);
  if (a.head && *a.head > model.heads)
    throw InputError(fmt::format("--head {} does not exist: the model '{}' has {} head{}", *a.head, model.name, model.heads,
                                 model.heads == 1 ? "" : "s"));
  const std::string reading = a.head ? head_reading(c, traces, *a.head - 1, render) : "";
  settings.output.write([&] {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < traces.size(); ++i) {
      all.push_back(trace_to_json(traces[i]));
      all.back()["lesson"] = lesson_to_json(c.lessons[i]);  // the probes as its neighbourhoods
    }
    return all;
  });
  std::string out = render_comparison(c, traces, render) + reading;
  if (settings.output.timings())
    for (std::size_t i = 0; i < traces.size(); ++i) out += fmt::format("\nsentence {}: {}", i + 1, render_timings(traces[i], render));
  settings.output.print(out);
  return 0;
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand("compare", "One word in several sentences: its vector, its neighbours and probes, before and after attention");
  cmd->add_option("sentences", args->sentences, "The sentences, each one quoted argument (two or more to compare)")->required()->type_name("SENTENCE...");
  cmd->add_option("--word", args->word, "The word to follow (it must occur in every sentence)")->required()->type_name("WORD");
  cmd->add_option("--probe", args->probe,
                  "Comma-separated words to measure the word against (default: the word each sentence pulled it toward most)")
      ->type_name("W1,W2");
  cmd->add_option("--neighbours", args->neighbours, "How many nearest vocabulary words to list (default 5)")
      ->check(in_range(1, 1000))
      ->type_name("K");
  cmd->add_option("--head", args->head, "Also list what the word attends to in head H of each sentence (from 1)")
      ->check(in_range(1, 4096))
      ->type_name("H");
  // compare has its own tables, in the terminal: no --stages, no page.
  add_common_options(*cmd, args->common, {{Group::data, Group::attention, Group::display, Group::output}, {"--stages", "--html", "--html-range"}, {}});
  cmd->footer(R"(Examples:
  attnviz compare "Mickey Mouse is a cartoon character by Walt Disney" "a computer mouse is a pointing device" --word mouse
  attnviz compare "we sat on the grassy bank of the river" "she walked into the bank to deposit her money" --word bank --probe river,money
  attnviz compare "Mickey Mouse is a cartoon" "a computer mouse" "the cat chased the mouse" --word mouse --neighbours 3 --json traces.json
  attnviz compare "the computer mouse" "mickey mouse" --word mouse --model wordnet-lm --layer 2 --head 1)");
  return {cmd, [args] { return compare(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
