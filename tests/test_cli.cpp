// The real executable: help, version, exit codes, every bad input of the foundation issue, output files.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "support.hpp"

using attnviz::test::run_attnviz;
using attnviz::test::TempDir;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {
const std::string kSentence = "the cat chased the mouse";

// Every error is one or two lines on standard error, and nothing on standard output.
void require_input_error(const attnviz::test::Run& r, const std::string& fragment) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(fragment));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 2);
  CHECK(r.out.empty());
}
}  // namespace

TEST_CASE("CLI: --help on every command shows examples, --version", "[cli]") {
  for (auto args : std::vector<std::vector<std::string>>{{"--help"}, {"run", "--help"}, {"demo", "--help"}}) {
    auto r = run_attnviz(args);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("Examples:"));
  }
  auto v = run_attnviz({"--version"});
  CHECK(v.exit_code == 0);
  CHECK_THAT(v.out, Contains("attnviz 0.1.0"));
  CHECK_THAT(v.out, Contains("cpu"));
}

TEST_CASE("CLI: run prints every stage, the bare sentence is run", "[cli]") {
  auto r = run_attnviz({"run", kSentence, "--color", "never"});
  REQUIRE(r.exit_code == 0);
  for (const char* stage : {"embeddings", "queries", "keys", "values", "scores", "scaled_scores", "weights", "context", "output"})
    CHECK_THAT(r.out, Contains(stage));
  CHECK_THAT(r.out, Contains("mouse  attends to:"));  // labels padded to the longest, "chased"
  auto bare = run_attnviz({kSentence, "--color", "never"});
  CHECK(bare.exit_code == 0);
  CHECK(bare.out == r.out);
  auto words = run_attnviz({"run", "the", "cat", "chased", "the", "mouse", "--color", "never"});
  CHECK(words.out == r.out);
}

TEST_CASE("CLI: usage errors exit 2", "[cli]") {
  require_input_error(run_attnviz({"run"}), "sentence");
  require_input_error(run_attnviz({"run", kSentence, "--precision", "12"}), "--precision");
  require_input_error(run_attnviz({"run", kSentence, "--color", "sometimes"}), "--color");
  require_input_error(run_attnviz({"run", kSentence, "--bogus"}), "--bogus");
  require_input_error(run_attnviz({"run", kSentence, "--stages", "weights,nope"}), "unknown stage 'nope'");
  require_input_error(run_attnviz({"run", kSentence, "--backend", "gpu9000"}), "unknown backend 'gpu9000'");
}

TEST_CASE("CLI: bad sentences exit 2 naming the culprit", "[cli]") {
  require_input_error(run_attnviz({"run", ""}), "empty");
  require_input_error(run_attnviz({"run", "?! ... ,"}), "empty");
  auto r = run_attnviz({"run", "the cta chased the blorptastic mouse"});
  require_input_error(r, "2 unknown words");
  CHECK_THAT(r.err, Contains("'cta' (did you mean 'cat'?)"));
  CHECK_THAT(r.err, Contains("'blorptastic'"));
}

TEST_CASE("CLI: bad files exit 2 naming the file and the fault", "[cli]") {
  TempDir dir;
  const auto missing = (dir.path() / "missing.json").string();
  require_input_error(run_attnviz({"run", kSentence, "--embeddings", missing}), "does not exist");
  require_input_error(run_attnviz({"run", kSentence, "--model", dir.path().string() + "/"}), "is a directory");
  auto broken = dir.write("broken.json", "{\n  \"format\": \"attnviz-model\",\n  \"version\": 1,\n  oops\n}");
  require_input_error(run_attnviz({"run", kSentence, "--model", broken.string()}), "line 4, column 3");
  auto wrong_format = dir.write("wrong.json", R"({"format": "attnviz-model", "version": 1})");
  require_input_error(run_attnviz({"run", kSentence, "--embeddings", wrong_format.string()}), "expected \"attnviz-embeddings\"");
  auto version = dir.write("v.json", R"({"format": "attnviz-embeddings", "version": 7})");
  require_input_error(run_attnviz({"run", kSentence, "--embeddings", version.string()}), "version");
  auto small = dir.write("small.json", R"({"format": "attnviz-embeddings", "version": 1, "name": "s", "dim": 2,
    "vectors": {"the": [1, 0], "cat": [0, 1], "chased": [1, 1], "mouse": [0.5, 0.5]}})");
  require_input_error(run_attnviz({"run", kSentence, "--embeddings", small.string(), "--model", "toy"}),
                      "expects embeddings of size 8, but the embeddings 's' have size 2");
  auto shape = dir.write("shape.json", R"({"format": "attnviz-model", "version": 1, "name": "m", "d_model": 2, "heads": 1,
    "W_q": [[1, 0], [0, 1]], "W_k": [[1, 0], [0, 1]], "W_v": [[1, 0], [0, 1]], "W_o": [[1, 0, 0], [0, 1, 0]]})");
  require_input_error(run_attnviz({"run", kSentence, "--embeddings", small.string(), "--model", shape.string()}),
                      "\"W_o\" has shape 2 × 3, expected 2 × 2");
  auto nonnum = dir.write("nan.json", R"({"format": "attnviz-embeddings", "version": 1, "name": "s", "dim": 1, "vectors": {"a": [1e999]}})");
  require_input_error(run_attnviz({"run", "a", "--embeddings", nonnum.string()}), "too large to be a finite float32");
  require_input_error(run_attnviz({"run", kSentence, "--model", "nosuchmodel"}), "no bundled model named 'nosuchmodel'; available:");
}

TEST_CASE("CLI: --json writes the trace whole, errors leave no file", "[cli]") {
  TempDir dir;
  const auto out = dir.path() / "trace.json";
  auto r = run_attnviz({"run", kSentence, "--json", out.string(), "--color", "never"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(attnviz::test::read_text(out));
  CHECK(doc["format"] == "attnviz-trace");
  CHECK(doc["tokens"].size() == 5);
  CHECK(doc["stages"].size() == 10);
  CHECK(doc["stages"][0]["name"] == "embeddings");
  CHECK(doc["stages"][9]["name"] == "output");

  auto to_stdout = run_attnviz({"run", kSentence, "--json", "-"});
  REQUIRE(to_stdout.exit_code == 0);
  CHECK(nlohmann::json::parse(to_stdout.out) == doc);

  const auto never = dir.path() / "never.json";
  auto bad = run_attnviz({"run", "the zzyzx", "--json", never.string()});
  CHECK(bad.exit_code == 2);
  CHECK_FALSE(fs::exists(never));
  require_input_error(run_attnviz({"run", kSentence, "--json", (dir.path() / "no/such/dir/t.json").string()}), "cannot write");
  for (const auto& entry : fs::directory_iterator(dir.path())) CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("CLI: invalid UTF-8 and thousands of words do not crash", "[cli]") {
  auto r = run_attnviz({"run", "the \xff\xfe cat \xc3"});
  CHECK(r.exit_code == 0);  // the invalid bytes are dropped as punctuation
  std::string long_sentence;
  for (int i = 0; i < 400; ++i) long_sentence += "the cat chased the mouse ";
  auto big = run_attnviz({"run", long_sentence, "--stages", "tokens,output", "--color", "never"});
  CHECK(big.exit_code == 0);
  CHECK_THAT(big.out, Contains("tokens (2000)"));
}

TEST_CASE("CLI: demo lists lessons and runs the mouse lesson", "[cli]") {
  auto list = run_attnviz({"demo"});
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.out, Contains("mouse"));
  auto demo = run_attnviz({"demo", "mouse", "--color", "never"});
  REQUIRE(demo.exit_code == 0);
  CHECK_THAT(demo.out, Contains("sentence 1 of 2"));
  CHECK_THAT(demo.out, Contains("\"mouse\" ends closer to cartoon (0.942) than to technology (0.119)"));
  CHECK_THAT(demo.out, Contains("\"mouse\" ends closer to technology (0.961) than to cartoon (0.218)"));
  require_input_error(run_attnviz({"demo", "nolesson"}), "no bundled lesson named 'nolesson'");
}

TEST_CASE("CLI: bundled data is found through --data-dir and ATTNVIZ_DATA", "[cli]") {
  TempDir dir;
  fs::create_directories(dir.path() / "embeddings");
  fs::copy_file(attnviz::test::data_dir() / "embeddings/toy.json", dir.path() / "embeddings/mine.json");
  auto r = run_attnviz({"run", "the cat", "--embeddings", "mine", "--model", "identity", "--data-dir", dir.path().string()});
  CHECK(r.exit_code == 0);
  auto env = run_attnviz({"run", "the cat", "--embeddings", "mine", "--model", "identity"}, {{"ATTNVIZ_DATA", dir.path().string()}});
  CHECK(env.exit_code == 0);
  // An explicit --data-dir is the only place looked at.
  require_input_error(run_attnviz({"run", "the cat", "--data-dir", dir.path().string()}), "no bundled embedding named 'toy'");
  // Without either, the build tree's data/ is found.
  auto fallback = run_attnviz({"run", "the cat", "--embeddings", "mine"});
  require_input_error(fallback, "no bundled embedding named 'mine'; available: ");
  CHECK_THAT(fallback.err, Contains("toy"));
}
