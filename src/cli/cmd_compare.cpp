// attnviz compare SENTENCE SENTENCE... --word WORD: one word in several sentences, side by side.
#include <fmt/format.h>

#include "attnviz/compare.hpp"
#include "attnviz/data.hpp"
#include "attnviz/export.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct CompareArgs {
  std::vector<std::string> sentences;
  std::string word;
  std::optional<std::string> probe;
  int neighbours = 5;
  CommonOptions common;
};

int compare(const CompareArgs& a) {
  const Settings settings = build_settings(a.common, false);
  const RenderOptions& render = settings.report.render;
  // A big embeddings file keeps the sentences' words, the word and the probes (plus its first words).
  std::vector<std::string> sentences = a.sentences;
  if (a.probe) sentences.push_back(*a.probe);  // its words, split at the commas by the tokenizer
  const auto [emb, model] = load_embeddings_and_model(a.common, sentences, {a.word});
  const std::vector<std::string> probes = a.probe ? parse_probe_list(emb, *a.probe) : std::vector<std::string>{};
  std::vector<Trace> traces;
  for (const auto& s : a.sentences) {
    traces.push_back(run_attention(emb, model, s, settings.pipeline));
    print_warnings(traces.back());
  }
  const WordComparison c = compare_word(emb, traces, a.word, probes, a.neighbours, &model, render.precision);
  settings.output.write([&] {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < traces.size(); ++i) {
      all.push_back(trace_to_json(traces[i]));
      all.back()["lesson"] = lesson_to_json(c.lessons[i]);  // the probes as its neighbourhoods
    }
    return all;
  });
  std::string out = render_comparison(c, traces, render);
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
      ->check(CLI::Range(1, 1000))
      ->type_name("K");
  // compare has its own tables, in the terminal: no --stages, no page.
  add_common_options(*cmd, args->common, {{Group::data, Group::attention, Group::display, Group::output}, {"--stages", "--html", "--html-range"}, {}});
  cmd->footer(R"(Examples:
  attnviz compare "Mickey Mouse is a cartoon character by Walt Disney" "a computer mouse is a pointing device" --word mouse
  attnviz compare "we sat on the grassy bank of the river" "she walked into the bank to deposit her money" --word bank --probe river,money
  attnviz compare "Mickey Mouse is a cartoon" "a computer mouse" "the cat chased the mouse" --word mouse --neighbours 3 --json traces.json)");
  return {cmd, [args] { return compare(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
