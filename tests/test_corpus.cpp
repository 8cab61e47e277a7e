// The training corpus: WordNet glosses into sentences, the vocabulary, the split by synset, the command.
#include <catch2/catch.hpp>

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "attnviz/corpus.hpp"
#include "support.hpp"

using attnviz::test::run_attnviz;
using attnviz::test::TempDir;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// A WordNet database in miniature: the licence header's indented lines, then synsets of the real layout.
void write_fake_wordnet(const TempDir& dir) {
  const std::string header = "  1 This software and database is being provided to you\n";
  dir.write("data.noun", header +
                             "00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived or known; \"the cat chased the mouse\"  \n"
                             "02330245 05 n 01 mouse 0 001 @ 02329401 n 0000 | any of numerous small rodents; \"a mouse ate the cheese\"; \"zzyzx\"  \n");
  dir.write("data.verb", header + "01168468 34 v 01 eat 0 001 @ 01157517 v 0000 | take in solid food; \"she was eating a banana\"  \n");
  dir.write("data.adj", header);
  dir.write("data.adv", header);
}

}  // namespace

TEST_CASE("corpus: a gloss is a definition and its quoted examples", "[corpus]") {
  const auto g = attnviz::parse_gloss("any of numerous small rodents; \"a mouse ate the cheese\"; \"run\"  ");
  CHECK(g.definition == "any of numerous small rodents");
  REQUIRE(g.examples.size() == 2);
  CHECK(g.examples[0] == "a mouse ate the cheese");
  CHECK(g.examples[1] == "run");
  CHECK(attnviz::parse_gloss("no examples here  ").examples.empty());
  CHECK(attnviz::parse_gloss("unclosed; \"the end").examples == std::vector<std::string>{"the end"});
}

TEST_CASE("corpus: the vocabulary ends with <unk>, splits are fixed by synset", "[corpus]") {
  const attnviz::Vocabulary v({"the", "cat"});
  CHECK(v.size() == 3);
  CHECK(v.id("cat") == 1);
  CHECK(v.id("dog") == v.unknown);
  CHECK(v.words.back() == "<unk>");
  // The rule is a pure function of the synset: the same answer every time, and all three splits occur.
  std::array<int, 3> seen{};
  for (int i = 0; i < 400; ++i) ++seen[static_cast<std::size_t>(attnviz::split_of_synset('n', fmt::format("{:08}", i * 7919)))];
  CHECK(seen[0] > 300);
  CHECK(seen[1] > 5);
  CHECK(seen[2] > 5);
  CHECK(attnviz::split_of_synset('n', "00001740") == attnviz::split_of_synset('n', "00001740"));
  CHECK_THROWS_WITH(attnviz::parse_split("valid"), Contains("train, dev or test"));
}

TEST_CASE("corpus: the command builds the splits deterministically, errors exit 2", "[corpus][cli]") {
  TempDir wn, out;
  write_fake_wordnet(wn);
  const std::string dir = (out.path() / "c").string();
  auto r = run_attnviz({"corpus", "--wordnet", wn.path().string(), "--out", dir});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("3 definitions and 3 examples"));  // "zzyzx" is one token: left out
  std::string all;
  for (const char* s : {"train", "dev", "test"}) all += attnviz::test::read_text(fs::path(dir) / (std::string(s) + ".txt"));
  CHECK_THAT(all, Contains("the cat chased the mouse\n"));
  CHECK_THAT(all, Contains("she was eating <unk> banana\n"));  // GloVe's subset has no "a"
  const auto doc = nlohmann::json::parse(attnviz::test::read_text(fs::path(dir) / "corpus.json"));
  CHECK(doc["format"] == "attnviz-corpus");
  CHECK(doc["vocabulary_size"] == 10020);
  std::size_t sentences = 0;
  for (const char* s : {"train", "dev", "test"}) sentences += doc["splits"][s]["sentences"].get<std::size_t>();
  CHECK(sentences == 6);
  // Built twice, the same bytes.
  const std::string again = (out.path() / "d").string();
  REQUIRE(run_attnviz({"corpus", "--wordnet", wn.path().string(), "--out", again}).exit_code == 0);
  for (const char* f : {"train.txt", "dev.txt", "test.txt", "corpus.json"})
    CHECK(attnviz::test::read_text(fs::path(dir) / f) == attnviz::test::read_text(fs::path(again) / f));

  auto missing = run_attnviz({"corpus", "--wordnet", (wn.path() / "nowhere").string(), "--out", (out.path() / "e").string()});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("wordnet-base"));
  CHECK(!fs::exists(out.path() / "e" / "corpus.json"));
  wn.write("data.adv", "garbage line without a bar\n");
  auto bad = run_attnviz({"corpus", "--wordnet", wn.path().string(), "--out", (out.path() / "f").string()});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("data.adv:1"));
  CHECK(!fs::exists(out.path() / "f" / "corpus.json"));
}

TEST_CASE("corpus: a file it cannot write is refused before any file is written", "[corpus][cli]") {
  TempDir wn, out;
  write_fake_wordnet(wn);
  // An earlier build, whose dev.txt is now a folder: nothing of the new build may land beside the old files.
  const fs::path dir = out.path() / "c";
  REQUIRE(run_attnviz({"corpus", "--wordnet", wn.path().string(), "--out", dir.string()}).exit_code == 0);
  const std::string old_train = attnviz::test::read_text(dir / "train.txt");
  fs::remove(dir / "dev.txt");
  fs::create_directory(dir / "dev.txt");
  wn.write("data.adj", "  1 header\n00002098 00 s 01 able 0 000 | having the necessary means; \"the cat was able to swim\"  \n");
  auto r = run_attnviz({"corpus", "--wordnet", wn.path().string(), "--out", dir.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("dev.txt") && Contains("directory"));
  CHECK(r.out.empty());
  CHECK(attnviz::test::read_text(dir / "train.txt") == old_train);  // the old split, not the new build's
  // A new folder whose corpus.json would be a folder: no split is written.
  const fs::path fresh = out.path() / "g";
  fs::create_directories(fresh / "corpus.json");
  auto g = run_attnviz({"corpus", "--wordnet", wn.path().string(), "--out", fresh.string()});
  CHECK(g.exit_code == 2);
  for (const char* f : {"train.txt", "dev.txt", "test.txt"}) CHECK(!fs::exists(fresh / f));
}
