// attnviz heads: what every head of a trained language model does, measured, and one sentence's patterns.
#include <iostream>

#include <fmt/format.h>

#include "attnviz/corpus.hpp"
#include "attnviz/error.hpp"
#include "attnviz/export.hpp"
#include "attnviz/heads.hpp"
#include "attnviz/html.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/lm_trace.hpp"
#include "attnviz/output_file.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/train.hpp"
#include "../render/text_table.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct HeadsArgs {
  std::string model = "wordnet-lm";
  std::optional<std::string> corpus;
  std::string split = "dev";
  std::optional<std::string> text;
  std::string sentence = "the cat chased the mouse";
  std::optional<std::string> json;
  std::optional<std::string> html;
  std::string max_memory = "2G";
  CommonOptions common;  // --ascii, --width and --data-dir, shared with the other commands
};

int heads(const HeadsArgs& a) {
  if (a.corpus.has_value() == a.text.has_value()) throw InputError("give either --corpus DIR (with --split, default dev) or --text FILE to measure the heads on");
  const Split split = parse_split(a.split);
  if (a.json == "-" && a.html == "-") throw InputError("--json - and --html - both want standard output; give one of them a file name");
  std::vector<NamedFile> outputs;
  if (a.json) outputs.push_back({"--json", *a.json});
  if (a.html) outputs.push_back({"--html", *a.html});
  set_memory_budget(parse_memory_size(a.max_memory, "--max-memory"));  // before any file is read
  // ASCII where the locale is not UTF-8 or --ascii asks for it; the width of --width, COLUMNS or the terminal.
  const RenderOptions render = render_options(a.common.display);
  const std::optional<std::string>& data_dir = a.common.data.data_dir;
  const auto shared = std::make_shared<const LoadedLm>(load_trained_model(a.model, data_dir));
  const LoadedLm& loaded = *shared;
  check_output_files(outputs, trained_model_inputs(loaded, a.corpus, a.text, data_dir));
  const LmConfig& c = loaded.model.config;
  if (c.layers == 0 || c.mixing != Mixing::attention)
    throw InputError(fmt::format("{}: has no learned attention heads (mixing {}, {} layers)", loaded.path.string(), mixing_name(c.mixing), c.layers));
  const Vocabulary& vocab = loaded.inputs.vocab;
  std::vector<std::string> words = tokenize(a.sentence, [&](const std::string& t) { return vocab.index.count(t) != 0; });
  if (words.empty() || words.size() > static_cast<std::size_t>(c.max_len))
    throw InputError(fmt::format("--sentence has {} tokens; the model reads 1 to {}", words.size(), c.max_len));
  std::vector<int> ids;
  for (auto& w : words) {
    ids.push_back(vocab.id(w));
    if (ids.back() == vocab.unknown) w = kUnknownToken;
  }
  const Sentences raw = a.corpus ? load_corpus_split(*a.corpus, split, vocab) : tokenize_text_file(*a.text, vocab);
  const Sentences sentences = fit_to_length(raw, c.max_len);
  if (sentences.empty()) throw InputError("no sentence of two or more tokens to measure the heads on");
  const auto stats = measure_heads(c, loaded.model.params, loaded.inputs.E, sentences);
  const auto attention = lm_attention(c, loaded.model.params, loaded.inputs.E, ids);
  // The page: each layer traced as run traces it (the model's own forward), its heads' weights side by side.
  std::string page;
  if (a.html) {
    PipelineOptions options;
    options.unknown = UnknownWords::zero;  // a word the model lacks is <unk>, as above
    std::vector<Trace> layers;
    for (int l = 0; l < c.layers; ++l) layers.push_back(run_attention(loaded.emb, language_model_layer(shared, l), a.sentence, options));
    page = render_model_view_html(layers, HtmlOptions{});
  }
  if (a.json) {
    auto doc = heads_json(stats, sentences.size());
    doc["sentence"] = {{"tokens", words}, {"attention", nlohmann::ordered_json::array()}};
    for (const auto& layer : attention) {
      auto& out = doc["sentence"]["attention"].emplace_back(nlohmann::ordered_json::array());
      for (const auto& head : layer) out.push_back(matrix_json(head));
    }
    write_output(*a.json, to_pretty_json(doc));
  }
  if (a.html) write_output(*a.html, page);
  if (a.json == "-" || a.html == "-") return 0;
  std::cout << fmt::format("{}: {} layer(s) {} {} head(s), measured on {} sentences ({})\n", loaded.path.string(), c.layers, render.unicode ? "×" : "x", c.heads,
                           sentences.size(), a.corpus ? fmt::format("{} split of {}", a.split, *a.corpus) : *a.text);
  std::cout << fmt::format("{:<6} {:>8} {:>6} {:>6} {:>6} {:>8}  {}\n", "head", "previous", "self", "first", "back", "entropy", "what it does");
  // The numbers take 47 columns (with the space before the description); the description is wrapped to what
  // the width leaves (at least 20), its further lines under its first.
  constexpr int kNumbers = 47;
  for (const auto& s : stats)
    std::cout << render_detail::hanging(fmt::format("{:<6} {:>8.2f} {:>6.2f} {:>6.2f} {:>6.2f} {:>8.2f} ", fmt::format("L{}H{}", s.layer, s.head),
                                                    s.previous, s.self, s.first, s.distance, s.entropy),
                                        s.description, std::max(render.width, kNumbers + 20));
  std::cout << render_detail::wrap_text("(previous, self, first: mean weight on the word before, on itself, on the first word; back: mean words "
                                        "looked back; entropy in bits; over every word but each sentence's first)",
                                        render.width)
            << "\n";
  std::cout << fmt::format("\"{}\", every head:\n", fmt::join(words, " ")) << render_head_grid(attention, words, !render.unicode, render.width) << std::flush;
  return 0;
}

}  // namespace

Command add_heads_command(CLI::App& app) {
  auto args = std::make_shared<HeadsArgs>();
  CLI::App* cmd = app.add_subcommand("heads", "What every head of a trained language model does, measured on a corpus split, and one sentence's patterns");
  HeadsArgs& a = *args;
  cmd->add_option("--model", a.model, "A trained model: a bundled name or an attnviz-model version 2 file (default wordnet-lm)")->type_name("NAME|PATH");
  cmd->add_option("--corpus", a.corpus, "The corpus directory to measure on (attnviz corpus)")->type_name("DIR");
  cmd->add_option("--split", a.split, "train, dev or test (default dev)")->type_name("SPLIT");
  cmd->add_option("--text", a.text, "A plain-text file to measure on instead, one sentence a line")->type_name("FILE");
  cmd->add_option("--sentence", a.sentence, "The sentence whose patterns are drawn (default \"the cat chased the mouse\")")->type_name("SENTENCE");
  cmd->add_option("--json", a.json, "Write the measurements and the sentence's weights as JSON to PATH ('-': standard output only)")->check(output_path())->type_name("PATH|-");
  cmd->add_option("--html", a.html, "Write the sentence's every head (one row of heads per layer) as one self-contained page to PATH ('-': standard output only)")
      ->check(output_path())->type_name("PATH|-");
  add_memory_option(*cmd, a.max_memory);
  add_common_options(*cmd, a.common, {{}, {}, {"--ascii", "--width", "--data-dir"}});
  cmd->footer(R"(Examples:
  attnviz heads --model wordnet-lm --corpus corpus
  attnviz heads --model lm.json --corpus corpus --sentence "she sat on the bank of the river" --ascii
  attnviz heads --model lm.json --text my-sentences.txt --json heads.json
  attnviz heads --corpus corpus --sentence "the computer mouse" --html heads.html   (BertViz's model view))");
  return {cmd, [args] { return heads(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
