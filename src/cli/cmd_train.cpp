// attnviz train: a small causal transformer language model on the WordNet corpus (docs/training.md).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "attnviz/corpus.hpp"
#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/export.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/output_file.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/train.hpp"
#include "../backends/parallel.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct TrainArgs {
  std::string corpus;
  std::string out;
  LmConfig config;
  TrainOptions train;
  int threads = 0;
  bool baselines = false;
  std::optional<std::string> watch;
  std::optional<std::string> query;
  std::string embeddings = "glove";
  std::optional<std::string> data_dir;
  std::string name = "wordnet-lm";
  std::string max_memory = "2G";
};

std::string duration(double seconds) {
  const auto s = static_cast<long long>(std::lround(std::max(0.0, seconds)));
  return s >= 3600 ? fmt::format("{}h{:02}m", s / 3600, s / 60 % 60) : fmt::format("{}m{:02}s", s / 60, s % 60);
}

// The --watch sentence's query row, every layer and head: who the word attends to after this epoch.
struct Watch {
  std::vector<int> ids;
  std::vector<std::string> words;
  std::size_t query = 0;

  void print(const LmConfig& c, const std::vector<float>& params, const RowMat<float>& E, const std::string& when) const {
    const auto att = lm_attention(c, params, E, ids);
    std::cout << fmt::format("{}: \"{}\" attends to\n", when, words[query]);
    for (int l = 0; l < c.layers; ++l)
      for (int h = 0; h < c.heads; ++h) {
        std::string row = fmt::format("  layer {} head {}:", l + 1, h + 1);
        for (std::size_t j = 0; j <= query; ++j)
          row += fmt::format("  {} {:.2f}", words[j], att[static_cast<std::size_t>(l)][static_cast<std::size_t>(h)](
                                                             static_cast<Eigen::Index>(query), static_cast<Eigen::Index>(j)));
        std::cout << row << "\n";
      }
    std::cout << std::flush;
  }
};

LanguageModel train_one(const TrainArgs& a, const LmConfig& config, const std::string& name, const std::string& description,
                        const LmEmbeddings& le, const Sentences& train, const Sentences& dev, const std::vector<float>& out_bias,
                        const std::function<void(const LanguageModel&)>& checkpoint, const Watch* watch) {
  LanguageModel m;
  m.name = name;
  m.description = description;
  m.embeddings = a.embeddings;
  m.config = config;
  lm_init(config, m.params, a.train.seed, out_bias);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto last = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  TrainCallbacks cb;
  cb.progress = [&](const TrainProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    // A terminal gets a line rewritten about once a second; a log gets one line every 10 seconds.
    if (now - last < std::chrono::seconds(tty ? 1 : 10) && p.step != p.steps) return;
    last = now;
    std::cerr << fmt::format("{}{}: epoch {}/{}  step {}/{}  loss {:.3f}{}  {:.0f} tokens/s  time left {}{}", tty ? "\r" : "", name,
                             p.epoch, p.epochs, p.step, p.steps, p.loss,
                             p.dev_perplexity > 0 ? fmt::format("  dev perplexity {:.1f}", p.dev_perplexity) : "", p.tokens_per_second,
                             duration(p.seconds_left), tty ? "\x1b[K" : "\n")
              << std::flush;
  };
  const auto start = std::chrono::steady_clock::now();
  cb.epoch_end = [&](const EpochResult& r, const std::vector<float>& params) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << (tty ? "\r\x1b[K" : "");
    std::cout << fmt::format("{}: epoch {}/{}: train loss {:.4f}, dev perplexity {:.2f} ({})\n", name, r.epoch, a.train.epochs, r.train_loss,
                             r.dev_perplexity, duration(seconds))
              << std::flush;
    m.params = params;
    m.training["epochs_done"] = r.epoch;
    m.training["dev_perplexity"].push_back(std::round(r.dev_perplexity * 1000) / 1000);
    if (checkpoint) checkpoint(m);
    if (watch) watch->print(config, params, le.E, fmt::format("after epoch {}", r.epoch));
  };
  m.training = {{"corpus", "WordNet 3.0 definitions and examples (attnviz corpus)"},
                {"train_sentences", train.size()},
                {"epochs", a.train.epochs},
                {"batch", a.train.batch},
                {"lr", a.train.lr},
                {"weight_decay", a.train.weight_decay},
                {"seed", a.train.seed},
                {"threads", a.train.threads},
                {"max_sentences", a.train.max_sentences},
                {"dev_perplexity", nlohmann::ordered_json::array()}};
  if (watch) watch->print(config, m.params, le.E, "before training");
  train_lm(config, m.params, le.E, train, dev, a.train, cb);
  return m;
}

int train(TrainArgs a) {
  a.train.threads = resolve_threads(a.threads);
  set_memory_budget(parse_memory_size(a.max_memory, "--max-memory"));  // before any file is read
  const std::filesystem::path out(a.out);
  const auto parent = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(parent)) throw InputError(fmt::format("{}: the folder {} does not exist", a.out, parent.string()));
  if (std::filesystem::is_directory(out)) throw InputError(fmt::format("{}: is a directory; --out names the model file to write", a.out));
  check_writable(a.out);  // before the training, not after its first epoch
  std::vector<NamedFile> inputs;
  add_input(inputs, "--embeddings", "embeddings", a.embeddings, a.data_dir);
  add_corpus_inputs(inputs, "--corpus", a.corpus);
  check_output_files({{"--out", a.out}}, inputs);
  const Embeddings emb = resolve_embeddings(a.embeddings, a.data_dir);
  const LmEmbeddings le = lm_embeddings(emb);
  a.config.vocab = le.vocab.size();
  a.config.d_model = emb.dim;
  check_config(a.config);
  {
    // The weights, AdamW's two moments, a gradient a thread; and a thread's forward pass with its gradients.
    const double params = static_cast<double>(LmLayout(a.config).size);
    const double threads = a.train.threads;
    check_memory(sizeof(float) * params * (3 + threads) + 2 * threads * lm_forward_bytes(a.config, a.config.max_len),
                 fmt::format("training {} weights ({} layers of {} heads of width {}, MLP {}, {} positions, {} words) with {} threads",
                             params, a.config.layers, a.config.heads, a.config.d_k, a.config.mlp, a.config.max_len, a.config.vocab, threads),
                 "fewer or smaller layers, fewer --threads, or raise --max-memory");
  }
  std::optional<Watch> watch;
  if (a.watch || a.query) {
    if (!a.watch || !a.query) throw InputError("--watch SENTENCE and --query WORD go together");
    Watch w;
    w.words = tokenize(*a.watch, [&](const std::string& t) { return le.vocab.index.count(t) != 0; });
    for (const auto& word : w.words) w.ids.push_back(le.vocab.id(word));
    const auto it = std::find(w.words.begin(), w.words.end(), lower_case(*a.query));
    if (it == w.words.end()) throw InputError(fmt::format("--query '{}' is not a word of the --watch sentence", *a.query));
    if (w.ids.size() > static_cast<std::size_t>(a.config.max_len))
      throw InputError(fmt::format("the --watch sentence has {} tokens, more than --max-len {}", w.ids.size(), a.config.max_len));
    w.query = static_cast<std::size_t>(it - w.words.begin());
    watch = std::move(w);
  }
  const Sentences train = fit_to_length(load_corpus_split(a.corpus, Split::train, le.vocab), a.config.max_len);
  const Sentences dev = fit_to_length(load_corpus_split(a.corpus, Split::dev, le.vocab), a.config.max_len);
  if (train.empty()) throw InputError(fmt::format("{}: the train split has no sentence of two or more tokens", a.corpus));
  const std::vector<float> unigram = unigram_log_probs(train, a.config.vocab);

  std::vector<LanguageModel> baselines;
  baselines.push_back(unigram_model(unigram, a.config.d_model, a.config.max_len, a.embeddings));
  auto checkpoint = [&](const LanguageModel& m) {
    LanguageModel doc = m;
    doc.baselines = baselines;
    write_output(a.out, to_pretty_json(language_model_json(doc)));
  };
  if (a.baselines) {
    LmConfig bigram = a.config, uniform = a.config;
    bigram.mixing = Mixing::current;
    uniform.mixing = Mixing::uniform;
    baselines.push_back(train_one(a, bigram, "bigram", "the current word only: each layer's attention is the identity, trained like the model",
                                  le, train, dev, unigram, nullptr, nullptr));
    baselines.push_back(train_one(a, uniform, "uniform-attention",
                                  "the average of the words so far: each layer's attention is 1/(i+1) on every earlier word, trained like the model",
                                  le, train, dev, unigram, nullptr, nullptr));
  }
  const std::string description = fmt::format("a causal transformer language model: {} layer(s) of {} head(s), d_k {}, {}trained on WordNet 3.0",
                                              a.config.layers, a.config.heads, a.config.d_k, a.config.mlp ? fmt::format("MLP {}, ", a.config.mlp) : "");
  const LanguageModel m = train_one(a, a.config, a.name, description, le, train, dev, unigram, checkpoint, watch ? &*watch : nullptr);
  std::cout << fmt::format("wrote {}\n", a.out);
  return 0;
}

}  // namespace

Command add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train a small causal transformer language model on a corpus (attnviz corpus)");
  TrainArgs& a = *args;
  cmd->add_option("--corpus", a.corpus, "The corpus directory (attnviz corpus --out DIR)")->required()->type_name("DIR");
  cmd->add_option("--out", a.out, "The model file to write (attnviz-model version 2), rewritten whole after each epoch")->required()->check(output_path())->type_name("FILE");
  cmd->add_option("--layers", a.config.layers, "Layers (default 1)")->check(in_range(1, 16))->type_name("L");
  cmd->add_option("--heads", a.config.heads, "Heads per layer (default 4)")->check(in_range(1, 64))->type_name("H");
  cmd->add_option("--d-k", a.config.d_k, "Width of each head (default 25)")->check(in_range(1, 1024))->type_name("D");
  cmd->add_option("--mlp", a.config.mlp, "Hidden width of each layer's MLP (default 0: none)")->check(in_range(0, 4096))->type_name("F");
  cmd->add_option("--max-len", a.config.max_len, "Positions; longer sentences are read in pieces (default 32)")->check(in_range(2, 1024))->type_name("N");
  cmd->add_option("--epochs", a.train.epochs, "Passes over the training split (default 1)")->check(in_range(1, 1000))->type_name("N");
  cmd->add_option("--batch", a.train.batch, "Sentences per step (default 32)")->check(in_range(1, 100000))->type_name("B");
  cmd->add_option("--lr", a.train.lr, "Peak learning rate of AdamW (default 0.003)")->check(in_range(1e-7, 10.0))->type_name("LR");
  cmd->add_option("--seed", a.train.seed, "Seed of the initial weights and the sentence order (default 1)")
      ->check(in_range<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()))
      ->type_name("S");
  cmd->add_option("--threads", a.threads, "Threads (default: the hardware's); the same seed and threads give the same weights bit for bit")
      ->check(in_range(0, 1024))
      ->type_name("T");
  cmd->add_option("--max-sentences", a.train.max_sentences, "Sentences per epoch (default 0: all)")
      ->check(in_range<std::size_t>(0, std::size_t{1} << 40))  // CLI11 would read -5 as 2^64 - 5: all
      ->type_name("N");
  cmd->add_flag("--baselines", a.baselines, "Also train the bigram and uniform-attention baselines (for attnviz evaluate)");
  cmd->add_option("--watch", a.watch, "After each epoch print how --query attends in this sentence, every layer and head")->type_name("SENTENCE");
  cmd->add_option("--query", a.query, "The word of --watch to follow")->type_name("WORD");
  cmd->add_option("--embeddings", a.embeddings, "Input embeddings and vocabulary (default glove)")->type_name("NAME|PATH");
  // The file's "name" must be non-empty (the loaders refuse an empty one) and is printed on the terminal.
  cmd->add_option("--name", a.name, "The model's name in the file (default wordnet-lm)")
      ->check(CLI::Validator(
          [](std::string& input) -> std::string {
            if (input.empty()) return "the name is empty (a model file needs one)";
            if (sanitize_utf8(input) != input) return "the name is not valid UTF-8";
            if (escape_controls(input) != input) return "the name holds a control character";
            return {};
          },
          "NAME"))
      ->type_name("NAME");
  add_memory_option(*cmd, a.max_memory);
  cmd->add_option("--data-dir", a.data_dir, "Folder of the bundled data (default: found automatically; or ATTNVIZ_DATA)")->type_name("DIR");
  cmd->footer(R"(Examples:
  attnviz corpus --out corpus && attnviz train --corpus corpus --out lm.json
  attnviz train --corpus corpus --out lm.json --epochs 2 --watch "the cat chased the mouse" --query mouse
  attnviz train --corpus corpus --out lm.json --baselines --threads 2 --seed 7
docs/training.md gives the model, the backward pass and the command that trained data/models/wordnet-lm.json.)");
  return {cmd, [args] { return train(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
