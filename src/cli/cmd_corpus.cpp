// attnviz corpus: the training corpus from WordNet's definitions and examples (docs/training.md).
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "attnviz/corpus.hpp"
#include "attnviz/data.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/output_file.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct CorpusArgs {
  std::string wordnet = "/usr/share/wordnet";
  std::string out;
  std::string embeddings = "glove";
  std::optional<std::string> data_dir;
  std::string max_memory = "2G";
};

int corpus(const CorpusArgs& a) {
  set_memory_budget(parse_memory_size(a.max_memory, "--max-memory"));  // before any file is read
  std::vector<NamedFile> outputs, inputs;
  add_corpus_inputs(outputs, "--out", a.out);
  add_input(inputs, "--embeddings", "embeddings", a.embeddings, a.data_dir);
  for (const char* name : {"data.noun", "data.verb", "data.adj", "data.adv"}) inputs.push_back({"--wordnet", (std::filesystem::path(a.wordnet) / name).string()});
  check_output_files(outputs, inputs);
  const Embeddings emb = resolve_embeddings(a.embeddings, a.data_dir);
  const Vocabulary vocab(emb.words);
  const CorpusStats s = build_corpus(a.wordnet, vocab, a.out, emb.name);
  std::cout << fmt::format("corpus in {}: {} definitions and {} examples; vocabulary {} ({} words + <unk>)\n", a.out,
                           s.definitions, s.examples, emb.name, vocab.size() - 1);
  for (std::size_t i = 0; i < 3; ++i) {
    const double coverage = s.tokens[i] ? 100.0 * (1.0 - static_cast<double>(s.unknown[i]) / static_cast<double>(s.tokens[i])) : 0.0;
    std::cout << fmt::format("  {:<5}  {:>6} synsets  {:>7} sentences  {:>9} tokens  {:>5.1f}% known\n", kSplitNames[i],
                             s.synsets[i], s.sentences[i], s.tokens[i], coverage);
  }
  return 0;
}

}  // namespace

Command add_corpus_command(CLI::App& app) {
  auto args = std::make_shared<CorpusArgs>();
  CLI::App* cmd = app.add_subcommand("corpus", "Build the training corpus from WordNet's definitions and example sentences");
  cmd->add_option("--out", args->out, "The corpus directory to write (train.txt, dev.txt, test.txt, corpus.json)")->required()->check(output_path())->type_name("DIR");
  cmd->add_option("--wordnet", args->wordnet, "WordNet 3.0 database directory (default /usr/share/wordnet, Debian's wordnet-base)")
      ->type_name("DIR");
  cmd->add_option("--embeddings", args->embeddings, "The vocabulary: these embeddings' words plus <unk> (default glove)")->type_name("NAME|PATH");
  add_memory_option(*cmd, args->max_memory);
  cmd->add_option("--data-dir", args->data_dir, "Folder of the bundled data (default: found automatically; or ATTNVIZ_DATA)")->type_name("DIR");
  cmd->footer(R"(Examples:
  attnviz corpus --out corpus
  attnviz corpus --wordnet /usr/share/wordnet --out corpus --embeddings glove
Needs Debian's wordnet-base (scripts/install-deps --test). The same database gives the same files.)");
  return {cmd, [args] { return corpus(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
