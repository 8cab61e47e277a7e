// attnviz evaluate: the perplexity of a trained language model and of its baselines (docs/training.md).
#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "attnviz/corpus.hpp"
#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/export.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/output_file.hpp"
#include "attnviz/train.hpp"
#include "../backends/parallel.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct EvaluateArgs {
  std::string model;
  std::optional<std::string> corpus;
  std::string split = "test";
  std::optional<std::string> text;
  std::optional<std::string> json;
  int threads = 0;
  std::optional<std::string> data_dir;
  std::string max_memory = "2G";
};

int evaluate(const EvaluateArgs& a) {
  if (a.corpus.has_value() == a.text.has_value()) throw InputError("give either --corpus DIR (with --split) or --text FILE");
  const Split split = parse_split(a.split);
  set_memory_budget(parse_memory_size(a.max_memory, "--max-memory"));  // before any file is read
  const LoadedLm loaded = load_trained_model(a.model, a.data_dir);
  const LanguageModel& model = loaded.model;
  const LmEmbeddings& le = loaded.inputs;
  const auto& path = loaded.path;
  if (a.json) check_output_files({{"--json", *a.json}}, trained_model_inputs(loaded, a.corpus, a.text, a.data_dir));
  const Sentences raw = a.corpus ? load_corpus_split(*a.corpus, split, le.vocab) : tokenize_text_file(*a.text, le.vocab);
  const Sentences sentences = fit_to_length(raw, model.config.max_len);
  const int threads = resolve_threads(a.threads);
  std::size_t longest = 0;
  for (const auto& s : sentences) longest = std::max(longest, s.size());
  check_lm_forward_memory(model.config, static_cast<double>(longest), threads, fmt::format(", one a thread for {} threads", threads));
  nlohmann::ordered_json doc;
  doc["tokens"] = 0;
  doc["models"] = nlohmann::ordered_json::array();
  std::vector<const LanguageModel*> all;
  for (const auto& b : model.baselines) all.push_back(&b);
  all.push_back(&model);
  std::size_t tokens = 0;
  std::string table;
  for (const LanguageModel* m : all) {
    if (m->config.max_len < model.config.max_len) throw InputError(fmt::format("{}: baseline '{}' has fewer positions than the model", path.string(), m->name));
    const Perplexity p = perplexity(m->config, m->params, le.E, sentences, threads);
    tokens = p.tokens;
    const std::string name = m == &model ? "trained" : m->name;
    doc["models"].push_back({{"name", name}, {"perplexity", std::round(p.perplexity * 1000) / 1000}});
    table += fmt::format("  {:<18} {:>10.2f}\n", name, p.perplexity);
  }
  doc["tokens"] = tokens;
  if (a.json) write_output(*a.json, to_pretty_json(doc));
  if (a.json != "-")
    std::cout << fmt::format("{} tokens predicted ({}), model {}\n  {:<18} {:>10}\n{}", tokens,
                             a.corpus ? fmt::format("{} split of {}", a.split, *a.corpus) : *a.text, path.string(), "model", "perplexity", table)
              << std::flush;
  return 0;
}

}  // namespace

Command add_evaluate_command(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  CLI::App* cmd = app.add_subcommand("evaluate", "Perplexity of a trained language model and its baselines on a corpus split or any text");
  EvaluateArgs& a = *args;
  cmd->add_option("--model", a.model, "A trained model: a bundled name (wordnet-lm) or an attnviz-model version 2 file")->required()->type_name("NAME|PATH");
  cmd->add_option("--corpus", a.corpus, "A corpus directory (attnviz corpus)")->type_name("DIR");
  cmd->add_option("--split", a.split, "train, dev or test (default test)")->type_name("SPLIT");
  cmd->add_option("--text", a.text, "A plain-text file instead: one sentence a line, tokenized like the corpus")->type_name("FILE");
  cmd->add_option("--json", a.json, "Write {\"tokens\": N, \"models\": [{\"name\", \"perplexity\"}, …]} to PATH ('-': standard output only)")
      ->check(output_path())->type_name("PATH|-");
  cmd->add_option("--threads", a.threads, "Threads (default: the hardware's; the result is the same for any)")->check(in_range(0, 1024))->type_name("T");
  add_memory_option(*cmd, a.max_memory);
  cmd->add_option("--data-dir", a.data_dir, "Folder of the bundled data (default: found automatically; or ATTNVIZ_DATA)")->type_name("DIR");
  cmd->footer(R"(Examples:
  attnviz evaluate --model wordnet-lm --corpus corpus --split test
  attnviz evaluate --model lm.json --text my-sentences.txt --json -
The baselines are those the model file holds: unigram always, bigram and uniform-attention when trained
with attnviz train --baselines. Perplexity is exp of the mean −log p of each token given those before it.)");
  return {cmd, [args] { return evaluate(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
