// attnviz generate: continue a prompt with a trained language model, word by word, showing what each head
// read to predict each word.
#include <algorithm>
#include <cmath>
#include <limits>
#include <iostream>
#include <random>

#include <fmt/format.h>

#include "attnviz/corpus.hpp"
#include "attnviz/error.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/train.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct GenerateArgs {
  std::vector<std::string> prompt;
  std::string model = "wordnet-lm";
  int steps = 10;
  double temperature = 1.0;
  int top_k = 10;
  std::uint64_t seed = 1;
  std::optional<std::string> data_dir;
  std::string max_memory = "2G";
};

int generate(const GenerateArgs& a) {
  if (!(a.temperature > 0) || !std::isfinite(a.temperature)) throw InputError("--temperature must be a positive number");
  set_memory_budget(parse_memory_size(a.max_memory, "--max-memory"));  // before any file is read
  const LoadedLm loaded = load_trained_model(a.model, a.data_dir);
  const LmConfig& c = loaded.model.config;
  const Vocabulary& vocab = loaded.inputs.vocab;
  std::vector<std::string> words = tokenize(join_words(a.prompt), [&](const std::string& t) { return vocab.index.count(t) != 0; });
  if (words.empty()) throw InputError("the prompt has no word");
  std::vector<int> ids;
  for (auto& w : words) {
    ids.push_back(vocab.id(w));
    if (ids.back() == vocab.unknown) w = kUnknownToken;
  }
  // The longest window the steps will read, checked before the first line is printed.
  check_lm_forward_memory(c, static_cast<double>(std::min<std::size_t>(ids.size() + static_cast<std::size_t>(a.steps) - 1,
                                                                      static_cast<std::size_t>(c.max_len))),
                          1);
  std::mt19937_64 rng(a.seed);
  std::cout << fmt::format("prompt: {}\n", fmt::join(words, " "));
  for (int step = 0; step < a.steps; ++step) {
    // The model reads at most max_len words: the last ones.
    const std::size_t from = ids.size() > static_cast<std::size_t>(c.max_len) ? ids.size() - static_cast<std::size_t>(c.max_len) : 0;
    const std::vector<int> window(ids.begin() + static_cast<std::ptrdiff_t>(from), ids.end());
    const LmPrediction p = lm_predict(c, loaded.model.params, loaded.inputs.E, window);
    // Softmax of logits / T over every word but <unk>, then the K most likely, renormalised.
    std::vector<std::pair<double, int>> probs;
    // The largest logit of the words that may be drawn (<unk> never is), so the likeliest word's term is
    // exp(0) = 1 and the sum is at least 1 whatever the temperature (a tiny one made every term 0: 0/0).
    double top = -std::numeric_limits<double>::infinity();
    for (int w = 0; w < c.vocab; ++w)
      if (w != vocab.unknown) top = std::max(top, static_cast<double>(p.logits(w)));
    double sum = 0;
    for (int w = 0; w < c.vocab; ++w) {
      if (w == vocab.unknown) continue;
      const double e = std::exp((p.logits(w) - top) / a.temperature);
      probs.emplace_back(e, w);
      sum += e;
    }
    for (auto& [prob, w] : probs) prob /= sum;
    const std::size_t k = a.top_k > 0 ? std::min(probs.size(), static_cast<std::size_t>(a.top_k)) : probs.size();
    std::partial_sort(probs.begin(), probs.begin() + static_cast<std::ptrdiff_t>(k), probs.end(),
                      [](const auto& x, const auto& y) { return x.first > y.first || (x.first == y.first && x.second < y.second); });
    double mass = 0;
    for (std::size_t i = 0; i < k; ++i) mass += probs[i].first;
    double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * mass;
    std::size_t pick = 0;
    while (pick + 1 < k && u >= probs[pick].first) u -= probs[pick++].first;
    const int next = probs[pick].second;
    std::string heads;
    const auto last = static_cast<Eigen::Index>(window.size()) - 1;
    for (std::size_t l = 0; l < p.attention.size(); ++l)
      for (std::size_t h = 0; h < p.attention[l].size(); ++h) {
        Eigen::Index j = 0;
        p.attention[l][h].row(last).head(last + 1).maxCoeff(&j);
        heads += fmt::format("  L{}H{} {}", l + 1, h + 1, words[from + static_cast<std::size_t>(j)]);
      }
    std::cout << fmt::format("+ {:<14} p {:.3f}  read most:{}\n", vocab.words[static_cast<std::size_t>(next)], probs[pick].first, heads);
    ids.push_back(next);
    words.push_back(vocab.words[static_cast<std::size_t>(next)]);
  }
  std::cout << fmt::format("text: {}\n", fmt::join(words, " ")) << std::flush;
  return 0;
}

}  // namespace

Command add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt with a trained language model, showing the word each head read most");
  GenerateArgs& a = *args;
  cmd->add_option("prompt", a.prompt, "The words to continue")->required()->type_name("PROMPT");
  cmd->add_option("--model", a.model, "A trained model: a bundled name or an attnviz-model version 2 file (default wordnet-lm)")->type_name("NAME|PATH");
  cmd->add_option("--steps", a.steps, "Words to add (default 10)")->check(in_range(1, 1000))->type_name("N");
  cmd->add_option("--temperature", a.temperature, "Divide the logits by T > 0 (small: likelier words; default 1)")->check(number())->type_name("T");
  cmd->add_option("--top-k", a.top_k, "Sample among the K likeliest words (default 10; 0: all)")->check(in_range(0, 1000000))->type_name("K");
  cmd->add_option("--seed", a.seed, "Seed of the sampling (default 1): the same seed, the same words")
      ->check(in_range<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()))
      ->type_name("S");
  add_memory_option(*cmd, a.max_memory);
  cmd->add_option("--data-dir", a.data_dir, "Folder of the bundled data (default: found automatically; or ATTNVIZ_DATA)")->type_name("DIR");
  cmd->footer(R"(Examples:
  attnviz generate "the cat chased the" --steps 5
  attnviz generate "a computer mouse is" --steps 8 --temperature 0.7 --top-k 5 --seed 3
Each line is the new word, its probability after temperature and top-k, and for every layer and head the
word it put the most weight on when predicting it. <unk> is never generated.)");
  return {cmd, [args] { return generate(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
