// Training, the model file (version 2) and evaluate, on a tiny corpus over the toy embeddings (8-d, 185
// words): determinism bit for bit, the committed figures of a short run, and every bad input.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "attnviz/heads.hpp"
#include "attnviz/lm.hpp"
#include "support.hpp"

using attnviz::test::read_text;
using attnviz::test::run_attnviz;
using attnviz::test::TempDir;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// Sentences of the toy world with a regular grammar: "the ANIMAL chased the ANIMAL", "he ate the FOOD", …
std::string toy_sentences(unsigned seed, int count) {
  const std::vector<std::string> animals = {"cat", "dog", "mouse", "rat", "squirrel", "duck", "bird"};
  const std::vector<std::string> foods = {"cheese", "bread", "apple", "banana", "pear"};
  const std::vector<std::string> people = {"he", "she", "we", "they", "i", "you"};
  std::mt19937 rng(seed);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  std::string out;
  for (int i = 0; i < count; ++i) {
    switch (rng() % 4) {
      case 0: out += fmt::format("the {} chased the {}\n", pick(animals), pick(animals)); break;
      case 1: out += fmt::format("{} ate the {} in the kitchen\n", pick(people), pick(foods)); break;
      case 2: out += fmt::format("the little {} nibbled the {} at night\n", pick(animals), pick(foods)); break;
      default: out += fmt::format("{} walked to the bank of the river with {} {}\n", pick(people), pick(people) == "he" ? "his" : "her", pick(animals));
    }
  }
  return out;
}

void write_toy_corpus(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "train.txt") << toy_sentences(1, 240);
  std::ofstream(dir / "dev.txt") << toy_sentences(2, 40);
  std::ofstream(dir / "test.txt") << toy_sentences(3, 40);
  std::ofstream(dir / "corpus.json") << R"({"format": "attnviz-corpus", "version": 1})";
}

// The toy corpus in `corpus` and a small model trained on it briefly in `model`.
void train_small_model(const fs::path& corpus, const fs::path& model) {
  write_toy_corpus(corpus);
  REQUIRE(run_attnviz({"train", "--corpus", corpus.string(), "--out", model.string(), "--embeddings", "toy", "--d-k", "2", "--max-sentences",
                       "16", "--threads", "1"})
              .exit_code == 0);
}

std::vector<std::string> tiny_train_args(const fs::path& corpus, const fs::path& out, const std::string& seed = "1") {
  return {"train", "--corpus", corpus.string(), "--out", out.string(), "--embeddings", "toy", "--heads", "2", "--d-k", "4", "--mlp", "8",
          "--layers", "2", "--epochs", "6", "--batch", "8", "--lr", "0.01", "--seed", seed, "--threads", "2", "--baselines"};
}

}  // namespace

TEST_CASE("train: a tiny run is deterministic, beats its baselines and matches the committed figures", "[train][cli]") {
  TempDir tmp;
  write_toy_corpus(tmp.path() / "corpus");
  const fs::path a = tmp.path() / "a.json", b = tmp.path() / "b.json", c = tmp.path() / "c.json";
  auto r = run_attnviz(tiny_train_args(tmp.path() / "corpus", a));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("wordnet-lm: epoch 6/6: train loss"));
  CHECK_THAT(r.out, Contains("bigram: epoch 1/6"));
  CHECK_THAT(r.out, Contains("uniform-attention: epoch 6/6"));
  // The progress line (a log: one line every 10 s and at the last step) gives the dev perplexity.
  CHECK_THAT(r.err, Contains("dev perplexity") && Contains("tokens/s") && Contains("time left"));
  // The same seed and thread count: the same file, byte for byte (weights included); another seed differs.
  REQUIRE(run_attnviz(tiny_train_args(tmp.path() / "corpus", b)).exit_code == 0);
  CHECK(read_text(a) == read_text(b));
  REQUIRE(run_attnviz(tiny_train_args(tmp.path() / "corpus", c, "2")).exit_code == 0);
  CHECK(read_text(a) != read_text(c));

  const auto doc = nlohmann::json::parse(read_text(a));
  CHECK(doc["format"] == "attnviz-model");
  CHECK(doc["version"] == 2);
  CHECK(doc["layers"] == 2);
  CHECK(doc["blocks"].size() == 2);
  CHECK(doc["baselines"].size() == 3);

  auto e = run_attnviz({"evaluate", "--model", a.string(), "--corpus", (tmp.path() / "corpus").string(), "--json", "-"});
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  const auto ev = nlohmann::json::parse(e.out);
  REQUIRE(ev["models"].size() == 4);
  std::vector<std::string> names;
  for (const auto& m : ev["models"]) names.push_back(m["name"]);
  CHECK(names == std::vector<std::string>{"unigram", "bigram", "uniform-attention", "trained"});
  const double unigram = ev["models"][0]["perplexity"], bigram = ev["models"][1]["perplexity"],
               uniform = ev["models"][2]["perplexity"], trained = ev["models"][3]["perplexity"];
  // The toy grammar: the word before decides much (bigram < unigram), attention to earlier words more.
  CHECK(trained < bigram);
  CHECK(trained < uniform);
  CHECK(bigram < unigram);
  // The committed figures of this run (float32; a tolerance for another compiler's rounding). After a
  // deliberate change of the model or the training: ATTNVIZ_UPDATE_GOLDEN=1 rewrites the file from this run.
  const fs::path golden_path = attnviz::test::source_dir() / "tests/golden/train_tiny.json";
  if (std::getenv("ATTNVIZ_UPDATE_GOLDEN")) std::ofstream(golden_path) << ev.dump(2) << "\n";
  const auto golden = nlohmann::json::parse(read_text(golden_path));
  CHECK(ev["tokens"] == golden["tokens"]);
  for (std::size_t i = 0; i < 4; ++i) {
    INFO(names[i]);
    CHECK(ev["models"][i]["perplexity"].get<double>() == Approx(golden["models"][i]["perplexity"].get<double>()).epsilon(2e-3));
  }
  // The model file reads back to the same parameters.
  const auto model = attnviz::load_language_model(a);
  CHECK(attnviz::language_model_json(model) == nlohmann::ordered_json::parse(read_text(a)));
}

TEST_CASE("train: --watch prints the query's weights before training and after each epoch", "[train][cli]") {
  TempDir tmp;
  write_toy_corpus(tmp.path() / "corpus");
  auto r = run_attnviz({"train", "--corpus", (tmp.path() / "corpus").string(), "--out", (tmp.path() / "m.json").string(), "--embeddings",
                        "toy", "--heads", "2", "--d-k", "4", "--epochs", "2", "--max-sentences", "40", "--threads", "1", "--watch",
                        "the cat chased the mouse", "--query", "Mouse"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("before training: \"mouse\" attends to\n  layer 1 head 1:  the 0."));
  CHECK_THAT(r.out, Contains("after epoch 2: \"mouse\" attends to"));
  CHECK_THAT(r.out, Contains("layer 1 head 2:  the "));
}

TEST_CASE("train and evaluate: bad input exits 2 with no model file", "[train][cli]") {
  TempDir tmp;
  write_toy_corpus(tmp.path() / "corpus");
  const std::string corpus = (tmp.path() / "corpus").string(), out = (tmp.path() / "m.json").string();
  auto check = [&](const std::vector<std::string>& args, const std::string& fragment) {
    auto r = run_attnviz(args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(fragment));
    CHECK(!fs::exists(out));
  };
  const std::vector<std::string> base = {"train", "--corpus", corpus, "--out", out, "--embeddings", "toy", "--d-k", "2"};
  auto with = [&](std::vector<std::string> extra) {
    auto v = base;
    v.insert(v.end(), extra.begin(), extra.end());
    return v;
  };
  check({"train", "--corpus", (tmp.path() / "none").string(), "--out", out, "--embeddings", "toy"}, "not a corpus directory");
  check({"train", "--corpus", corpus, "--out", (tmp.path() / "no/m.json").string(), "--embeddings", "toy"}, "does not exist");
  check(with({"--watch", "the cat"}), "--query");
  check(with({"--watch", "the cat", "--query", "dog"}), "not a word of the --watch sentence");
  check(with({"--layers", "0"}), "--layers");
  check(with({"--epochs", "0"}), "--epochs");
  check({"train", "--corpus", corpus, "--out", out, "--embeddings", "nope"}, "nope");
  // --name: a file with an empty name could never be loaded again; the name is printed as it is.
  check(with({"--name", ""}), "--name: the name is empty");
  check(with({"--name", "a\x1b[2Jb"}), "--name: the name holds a control character");
  check(with({"--name", "a\xff"}), "--name: the name is not valid UTF-8");

  // evaluate
  check({"evaluate", "--model", out}, "either --corpus");
  check({"evaluate", "--model", (tmp.path() / "missing.json").string(), "--corpus", corpus}, "missing.json");
  const auto toy_model = (attnviz::test::data_dir() / "models/toy.json").string();
  check({"evaluate", "--model", toy_model, "--corpus", corpus}, "not a trained language model");
  REQUIRE(run_attnviz(with({"--max-sentences", "16", "--threads", "1"})).exit_code == 0);
  auto bad_split = run_attnviz({"evaluate", "--model", out, "--corpus", corpus, "--split", "valid"});
  CHECK(bad_split.exit_code == 2);
  CHECK_THAT(bad_split.err, Contains("train, dev or test"));
  // A version 2 file runs through its own forward (tests/test_lm_trace.cpp has the numbers).
  auto run = run_attnviz({"run", "the cat", "--embeddings", "toy", "--model", out, "--color", "never"});
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.out, Contains("layer 1 of"));
  // --text scores any file; a file without two known words in a line is an error.
  const auto text = tmp.write("mine.txt", "The cat chased the mouse.\nShe ate the cheese!\n");
  auto t = run_attnviz({"evaluate", "--model", out, "--text", text.string()});
  INFO(t.err);
  CHECK(t.exit_code == 0);
  CHECK_THAT(t.out, Contains("7 tokens predicted"));
  CHECK_THAT(t.out, Contains("unigram"));
  const auto empty = tmp.write("empty.txt", "\n\n");
  auto te = run_attnviz({"evaluate", "--model", out, "--text", empty.string()});
  CHECK(te.exit_code == 2);
  CHECK_THAT(te.err, Contains("no sentence"));
}

TEST_CASE("heads: a head is named from its numbers", "[train][heads]") {
  attnviz::HeadStats s;
  s.previous = 0.7;
  s.self = 0.2;
  CHECK(attnviz::describe_head(s) == "previous-word head: 70% of its weight on the word just before");
  s = {};
  s.self = 0.55;
  CHECK_THAT(attnviz::describe_head(s), Contains("self head: 55%"));
  s = {};
  s.first = 0.6;
  CHECK_THAT(attnviz::describe_head(s), Contains("first-word head"));
  s = {};
  s.evenness = 0.9;
  s.distance = 2.5;
  CHECK_THAT(attnviz::describe_head(s), Contains("broad head") && Contains("2.5 words back"));
  s = {};
  s.previous = 0.3;
  s.self = 0.2;
  s.first = 0.1;
  s.evenness = 0.5;
  s.distance = 1.25;
  CHECK(attnviz::describe_head(s) == "mixed head: leans to the previous word (30%), looks 1.2 words back on average");
  // A lean is named only when it is ahead of the next share by the 0.05 a claim needs (kClaimThreshold):
  // 28% against 27% is no lean to either.
  s.previous = 0.28;
  s.self = 0.27;
  s.first = 0.16;
  CHECK(attnviz::describe_head(s) ==
        "mixed head: splits its weight between the previous word (28%) and itself (27%), looks 1.2 words back on average");
  s.previous = 0.23;
  s.self = 0.19;
  s.first = 0.20;
  CHECK(attnviz::describe_head(s) ==
        "mixed head: no clear lean (the previous word 23%, the first word 20%, itself 19%), looks 1.2 words back on average");
  s.self = 0.30;
  s.previous = 0.24;
  CHECK_THAT(attnviz::describe_head(s), Contains("leans to itself (30%)"));
}

TEST_CASE("heads: every head of a trained model measured, described and drawn, JSON, errors", "[train][heads][cli]") {
  TempDir tmp;
  write_toy_corpus(tmp.path() / "corpus");
  const std::string corpus = (tmp.path() / "corpus").string(), model = (tmp.path() / "m.json").string();
  REQUIRE(run_attnviz({"train", "--corpus", corpus, "--out", model, "--embeddings", "toy", "--layers", "2", "--heads", "2", "--d-k", "4",
                       "--epochs", "2", "--threads", "1"})
              .exit_code == 0);
  auto r = run_attnviz({"heads", "--model", model, "--corpus", corpus, "--sentence", "the cat chased the mouse", "--ascii"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("2 layer(s) x 2 head(s), measured on 40 sentences (dev split of"));  // --ascii: no "×" either
  for (const char* head : {"\nL1H1 ", "\nL1H2 ", "\nL2H1 ", "\nL2H2 "}) CHECK_THAT(r.out, Contains(head) && Contains(" head: ") );
  CHECK_THAT(r.out, Contains("layer 2 h1"));
  CHECK_THAT(r.out, Contains("\n mouse  |"));
  auto j = run_attnviz({"heads", "--model", model, "--corpus", corpus, "--json", "-"});
  REQUIRE(j.exit_code == 0);
  const auto doc = nlohmann::json::parse(j.out);
  REQUIRE(doc["heads"].size() == 4);
  for (const auto& h : doc["heads"]) {
    const double total = h["previous"].get<double>() + h["self"].get<double>();
    CHECK(total <= 1.0001);
    CHECK(h["entropy_bits"].get<double>() >= 0);
    CHECK(!h["description"].get<std::string>().empty());
  }
  // The grid's weights are rows of a causal softmax: each sums to 1 over the words so far.
  const auto& first = doc["sentence"]["attention"][0][0];
  CHECK(first.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    double sum = 0;
    for (std::size_t k = 0; k < 5; ++k) sum += first[i][k].get<double>();
    CHECK(sum == Approx(1.0).epsilon(1e-5));
    if (i < 4) CHECK(first[i][4].get<double>() == 0.0);
  }
  // --html: BertViz's model view, one row of heads per layer, each head as the page draws a weights stage.
  auto page = run_attnviz({"heads", "--model", model, "--corpus", corpus, "--sentence", "the cat chased the mouse", "--html", "-"});
  REQUIRE(page.exit_code == 0);
  CHECK_THAT(page.out, Contains("<!DOCTYPE html>") && Contains("Layer 1 of 2") && Contains("Layer 2 of 2"));
  CHECK_THAT(page.out, Contains("weights P · head 2 of 2"));
  CHECK_FALSE(Catch::contains(page.out, "L1H1"));  // the terminal's table is not on standard output
  // Where the locale is not UTF-8 the grid and header are ASCII, as every other command's tables are.
  auto c_locale = run_attnviz({"heads", "--model", model, "--corpus", corpus, "--sentence", "the cat chased the mouse"}, {{"LANG", "C"}});
  INFO(c_locale.err);
  REQUIRE(c_locale.exit_code == 0);
  CHECK_THAT(c_locale.out, Contains("\n mouse  |") && Contains("2 layer(s) x 2 head(s)"));
  CHECK_FALSE(Catch::contains(c_locale.out, "\xE2"));  // no box drawing, shade or "×"
  // --width: as many heads a line as fit (here one: "layer 2" and "chased", then 5 + 3 columns a head).
  auto narrow = run_attnviz({"heads", "--model", model, "--corpus", corpus, "--sentence", "the cat chased the mouse", "--ascii", "--width", "20"});
  REQUIRE(narrow.exit_code == 0);
  CHECK_THAT(narrow.out, Contains("layer 1 h1     \n") && Contains("layer 1 h2     \n") && Contains("layer 2 h2     \n"));
  // The measurements' descriptions wrap under their column; the prose under the table wraps to the width.
  const std::size_t under = narrow.out.find("\n" + std::string(47, ' '));
  REQUIRE(under != std::string::npos);
  CHECK(std::isalpha(static_cast<unsigned char>(narrow.out[under + 48])));
  CHECK_FALSE(Catch::contains(narrow.out, "back: mean words looked back"));
  for (std::size_t at = narrow.out.find("layer 1 h1"), end; at < narrow.out.size(); at = end + 1) {
    end = narrow.out.find('\n', at);
    if (end == std::string::npos) break;
    CHECK(end - at <= 20);
  }
  auto none = run_attnviz({"heads", "--model", model});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Contains("--corpus"));
  auto toy = run_attnviz({"heads", "--model", (attnviz::test::data_dir() / "models/toy.json").string(), "--corpus", corpus});
  CHECK(toy.exit_code == 2);
  CHECK_THAT(toy.err, Contains("not a trained language model"));
}

TEST_CASE("generate: the same seed gives the same words, each line names what every head read", "[train][generate][cli]") {
  TempDir tmp;
  write_toy_corpus(tmp.path() / "corpus");
  const std::string model = (tmp.path() / "m.json").string();
  REQUIRE(run_attnviz({"train", "--corpus", (tmp.path() / "corpus").string(), "--out", model, "--embeddings", "toy", "--heads", "2",
                       "--d-k", "4", "--epochs", "3", "--threads", "1"})
              .exit_code == 0);
  const std::vector<std::string> args = {"generate", "the little cat", "--model", model, "--steps", "4", "--seed", "5"};
  auto a = run_attnviz(args), b = run_attnviz(args);
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  CHECK(a.out == b.out);
  CHECK_THAT(a.out, Contains("prompt: the little cat\n+ "));
  CHECK(std::count(a.out.begin(), a.out.end(), '+') == 4);
  CHECK_THAT(a.out, Contains("read most:  L1H1 ") && Contains("  L1H2 "));
  CHECK_THAT(a.out, !Contains("<unk>"));
  // Top-k 1 is greedy: any seed, the same words.
  auto g1 = run_attnviz({"generate", "the little cat", "--model", model, "--steps", "3", "--top-k", "1", "--seed", "1"});
  auto g2 = run_attnviz({"generate", "the little cat", "--model", model, "--steps", "3", "--top-k", "1", "--seed", "2"});
  CHECK(g1.out == g2.out);
  for (const auto& bad : std::vector<std::vector<std::string>>{{"generate", "the cat", "--model", model, "--temperature", "0"},
                                                                {"generate", "!!!", "--model", model},
                                                                {"generate", "the cat", "--model", model, "--steps", "0"}}) {
    auto r = run_attnviz(bad);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
  }
}

TEST_CASE("train, evaluate and heads: an output that is an input is refused before any work, the input kept", "[train][cli]") {
  TempDir tmp;
  const fs::path corpus = tmp.path() / "corpus", model = tmp.path() / "m.json";
  train_small_model(corpus, model);
  const std::string model_text = read_text(model), train_text = read_text(corpus / "train.txt"), test_text = read_text(corpus / "test.txt");
  const auto text = tmp.write("mine.txt", "the cat chased the mouse\n");
  auto refused = [&](const std::vector<std::string>& args, const std::string& input) {
    auto r = run_attnviz(args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("is the input of " + input));
    CHECK(r.out.empty());
  };
  // evaluate --json over its own model, over the --text file, over the corpus split it reads.
  refused({"evaluate", "--model", model.string(), "--corpus", corpus.string(), "--json", model.string()}, "--model");
  refused({"evaluate", "--model", model.string(), "--text", text.string(), "--json", text.string()}, "--text");
  refused({"evaluate", "--model", model.string(), "--corpus", corpus.string(), "--json", (corpus / "test.txt").string()}, "--corpus");
  // train --out over a split of its corpus, or over its embeddings' file.
  refused({"train", "--corpus", corpus.string(), "--out", (corpus / "train.txt").string(), "--embeddings", "toy", "--d-k", "2"}, "--corpus");
  const auto embeddings = tmp.path() / "toy.json";
  fs::copy_file(attnviz::test::data_dir() / "embeddings/toy.json", embeddings);
  refused({"train", "--corpus", corpus.string(), "--out", embeddings.string(), "--embeddings", embeddings.string(), "--d-k", "2"},
          "--embeddings");
  // heads --json or --html over the --text file or the split it measures.
  refused({"heads", "--model", model.string(), "--text", text.string(), "--json", text.string()}, "--text");
  refused({"heads", "--model", model.string(), "--corpus", corpus.string(), "--html", (corpus / "dev.txt").string()}, "--corpus");
  CHECK(read_text(model) == model_text);
  CHECK(read_text(corpus / "train.txt") == train_text);
  CHECK(read_text(corpus / "test.txt") == test_text);
  CHECK(read_text(text) == "the cat chased the mouse\n");
  CHECK(read_text(embeddings) == read_text(attnviz::test::data_dir() / "embeddings/toy.json"));
}

TEST_CASE("train and generate: a seed or count out of range is refused, not read as the largest value", "[train][cli]") {
  TempDir tmp;
  write_toy_corpus(tmp.path() / "corpus");
  const std::string corpus = (tmp.path() / "corpus").string(), out = (tmp.path() / "m.json").string();
  // CLI11 alone reads -1, 2^64 and 10^23 as 2^64 − 1: three different seeds, one model.
  for (const std::string bad : {"-1", "18446744073709551616", "99999999999999999999999", "1e30"}) {
    for (const char* option : {"--seed", "--max-sentences"}) {
      auto r = run_attnviz({"train", "--corpus", corpus, "--out", out, "--embeddings", "toy", "--d-k", "2", "--threads", "1", option, bad});
      INFO(option << " " << bad << ": " << r.err);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Contains(option) && Contains(bad));
      CHECK(!fs::exists(out));
    }
    auto g = run_attnviz({"generate", "the cat", "--model", "wordnet-lm", "--steps", "1", "--seed", bad});
    INFO(g.err);
    CHECK(g.exit_code == 2);
    CHECK_THAT(g.err, Contains("--seed"));
    CHECK(g.out.empty());
  }
  // The largest seed is a seed.
  auto largest = run_attnviz({"train", "--corpus", corpus, "--out", out, "--embeddings", "toy", "--d-k", "2", "--threads", "1", "--max-sentences",
                              "8", "--seed", "18446744073709551615"});
  INFO(largest.err);
  CHECK(largest.exit_code == 0);
  CHECK(nlohmann::json::parse(read_text(out))["training"]["seed"].get<std::uint64_t>() == 18446744073709551615ull);
  auto word = run_attnviz({"generate", "the cat", "--model", "wordnet-lm", "--temperature", "abc"});
  CHECK(word.exit_code == 2);
  CHECK_THAT(word.err, Contains("'abc' is not a number"));
}

TEST_CASE("train, evaluate and heads: a corrupt corpus or one of another vocabulary is refused, not read as <unk>", "[train][cli]") {
  TempDir tmp;
  const fs::path corpus = tmp.path() / "corpus", model = tmp.path() / "m.json";
  train_small_model(corpus, model);
  const fs::path out = tmp.path() / "new.json";
  auto refused = [&](const fs::path& dir, const std::string& fragment) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"train", "--corpus", dir.string(), "--out", out.string(), "--embeddings", "toy", "--d-k", "2", "--threads", "1"},
             {"evaluate", "--model", model.string(), "--corpus", dir.string()},
             {"heads", "--model", model.string(), "--corpus", dir.string()}}) {
      auto r = run_attnviz(args);
      INFO(args[0] << ": " << r.err);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Contains(fragment));
      CHECK(r.out.empty());
      CHECK(!fs::exists(out));
    }
  };
  // Binary bytes in the splits: every "word" would be <unk>, and the model would learn to say <unk>.
  const fs::path garbage = tmp.path() / "garbage";
  fs::copy(corpus, garbage);
  for (const char* split : {"train.txt", "dev.txt", "test.txt"})
    std::ofstream(garbage / split, std::ios::binary) << "the cat\n\x01\x9f\xff" "zz\n";  // no NUL: that has its own message
  refused(garbage, ".txt:2: not a line of a corpus");
  // A corpus.json that is not one.
  const fs::path other = tmp.path() / "other";
  fs::copy(corpus, other);
  std::ofstream(other / "corpus.json") << "{}";
  refused(other, "not a corpus description");
  // Built for GloVe's 10,020 words, read with the toy embeddings' 186.
  std::ofstream(other / "corpus.json") << R"({"format": "attnviz-corpus", "version": 1, "vocabulary": "glove-100d", "vocabulary_size": 10020})";
  refused(other, "built for a vocabulary of 10020 words (glove-100d), the model reads 186");
}
