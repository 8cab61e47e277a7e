// Extreme values and resource limits through the real executable (issue #9): every command that computes
// refuses overflowing inputs with the same clear message and never prints NaN; inputs too large for
// --max-memory are refused before anything n × m is allocated, naming the option to change; a very long
// sentence runs with --backend flash.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace attnviz::test;
using Catch::Contains;

namespace {

std::string embeddings_json(const std::string& name, const std::string& vectors) {
  return fmt::format(R"({{"format":"attnviz-embeddings","version":1,"name":"{}","dim":2,"vectors":{{{}}}}})", name, vectors);
}

// 1e19: products of 1e38, scores up to 2e38, still finite in float32; "b" gets weight 0 from "a" only because
// e^(S' − max) underflows. 1e30: the scores overflow. 1e-40: denormal embeddings.
const std::string kBig = embeddings_json("big", R"("a":[1e19,1e19],"b":[-1e19,1e19],"c":[1e-40,0])");
const std::string kHuge = embeddings_json("huge", R"("a":[1e30,-1e30],"b":[1e30,1e30],"c":[0.5,0.25])");
const std::string kTiny = embeddings_json("tiny", R"("a":[1e-40,-1e-40],"b":[1e-45,1e-40],"c":[0,1e-39])");

// A data folder with the embeddings `name` and a lesson "extreme" of the sentence "a b c" over them, so
// `attnviz demo` can be run on extreme values too.
void add_lesson(const TempDir& dir, const std::string& name, const std::string& embeddings) {
  std::filesystem::create_directories(dir.path() / "embeddings");
  std::filesystem::create_directories(dir.path() / "lessons");
  dir.write("embeddings/" + name + ".json", embeddings);
  dir.write("lessons/extreme.json",
            fmt::format(R"({{"format":"attnviz-lesson","version":1,"name":"extreme","title":"extreme values","description":"d",
                            "embeddings":"{}","model":"identity","sentences":["a b c","c b a"]}})",
                        name));
}

// Every computing command on the sentence "a b c" with the embeddings file `emb`, as (name, arguments).
std::vector<std::pair<std::string, std::vector<std::string>>> computing_commands(const std::string& emb, const std::string& data_dir) {
  return {{"run cpu", {"run", "a b c", "--embeddings", emb, "--color", "never"}},
          {"run flash", {"run", "a b c", "--embeddings", emb, "--backend", "flash", "--color", "never"}},
          {"run html", {"run", "a b c", "--embeddings", emb, "--html", "-"}},
          {"flash", {"flash", "a b c", "--embeddings", emb, "--color", "never"}},
          {"flash json", {"flash", "a b c", "--embeddings", emb, "--json", "-"}},
          {"explain", {"explain", "a b c", "--embeddings", emb, "--query", "a", "--key", "b"}},
          {"compare", {"compare", "a b c", "c b a", "--word", "a", "--embeddings", emb, "--color", "never"}},
          {"demo", {"demo", "extreme", "--data-dir", data_dir, "--color", "never"}}};
}

bool mentions_nan(const std::string& text) {
  for (const char* bad : {"nan", "NaN", "-nan", "inf\"", ": inf", " inf "})
    if (text.find(bad) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("Limits: ±1e30 embeddings are refused by every computing command with the overflow named", "[limits][cli]") {
  const TempDir dir;
  const auto emb = dir.write("huge.json", kHuge).string();
  add_lesson(dir, "huge", kHuge);
  for (const auto& [name, args] : computing_commands(emb, dir.path().string())) {
    INFO(name);
    const Run r = run_attnviz(args);
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Contains("overflows float32") && Contains("the inputs are too large") && Contains("scale the embeddings"));
  }
  // --json FILE is not written at all.
  const Run r = run_attnviz({"run", "a b c", "--embeddings", emb, "--json", (dir.path() / "out.json").string()});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "out.json"));
}

TEST_CASE("Limits: 1e19 and denormal embeddings give finite numbers in every computing command, never NaN", "[limits][cli]") {
  for (const auto& [label, text] : {std::pair{"big", kBig}, std::pair{"tiny", kTiny}}) {
    const TempDir dir;
    const auto emb = dir.write(std::string(label) + ".json", text).string();
    add_lesson(dir, label, text);
    for (const auto& [name, args] : computing_commands(emb, dir.path().string())) {
      INFO(label << ": " << name);
      const Run r = run_attnviz(args);
      INFO("stderr: " << r.err);
      CHECK(r.exit_code == 0);
      CHECK_FALSE(r.out.empty());
      CHECK_FALSE(mentions_nan(r.out));
    }
    // The trace: every number finite (a JSON null would be a masked cell, and nothing is masked here).
    const Run json = run_attnviz({"run", "a b c", "--embeddings", emb, "--json", "-"});
    REQUIRE(json.exit_code == 0);
    const auto doc = nlohmann::json::parse(json.out);
    for (const auto& stage : doc["stages"])
      for (const auto& row : stage["data"])
        for (const auto& v : row) {
          INFO(label << " stage " << stage["name"]);
          REQUIRE(v.is_number());
        }
  }
}

TEST_CASE("Limits: explain says an unmasked weight of exactly 0 comes from float32 underflow, not a mask", "[limits][cli][explain]") {
  const TempDir dir;
  const auto emb = dir.write("big.json", kBig).string();
  const Run r = run_attnviz({"explain", "a b c", "--query", "a", "--key", "b", "--embeddings", emb});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string text = attnviz::test::unwrapped(r.out);  // the sentences, wrapped to 80 columns
  CHECK_THAT(text, Contains("3. mask: \"a\" may look at \"b\""));
  CHECK_THAT(text, Contains("(exactly 0 in float32: e^x underflows to 0"));
  CHECK_THAT(text, Contains("although \"b\" is not masked"));
  CHECK_THAT(text, !Contains("a masked key gets no attention"));
  // A key that IS masked still says so.
  const Run masked = run_attnviz({"explain", "a b c", "--query", "a", "--key", "b", "--embeddings", emb, "--causal"});
  REQUIRE(masked.exit_code == 0);
  const std::string masked_text = attnviz::test::unwrapped(masked.out);
  CHECK_THAT(masked_text, Contains("the causal mask hides \"b\""));
  CHECK_THAT(masked_text, Contains("exactly 0: a masked key gets no attention"));
  CHECK_THAT(masked_text, !Contains("underflows"));
}

TEST_CASE("Limits: a score that overflows to −∞ without a mask is refused, not shown as masked", "[limits][cli]") {
  // Query "a" against keys "a" (S = 1) and "b" (S = −30): with T = 2e-38 the factor is 3.5e37, so S'(a, b)
  // is −∞ although nothing masks it. The trace would export it as null (masked); refuse instead.
  const TempDir dir;
  const auto emb = dir.write("e.json", embeddings_json("e", R"("a":[1,0],"b":[-30,0])")).string();
  for (const std::string command : {"run", "explain"}) {
    std::vector<std::string> args{command, "a", "--context", "a b", "--embeddings", emb, "--temperature", "2e-38"};
    if (command == "explain") args.insert(args.end(), {"--query", "a", "--key", "b"});
    const Run r = run_attnviz(args);
    INFO(command << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("the scaled_scores stage of head 1 overflows float32 (row 0, column 1)") &&
                          Contains("use a larger temperature"));
  }
  // The flash backend keeps no S': its weight for "b" is e^−∞ = 0, exactly the limit, and every number is finite.
  const Run flash = run_attnviz({"run", "a", "--context", "a b", "--embeddings", emb, "--temperature", "2e-38", "--backend", "flash",
                                 "--json", "-"});
  INFO(flash.err);
  CHECK(flash.exit_code == 0);
  CHECK_FALSE(mentions_nan(flash.out));
}

TEST_CASE("Limits: every command picks the same default model for the embeddings", "[limits][cli]") {
  const TempDir dir;
  const auto emb = dir.write("big.json", kBig).string();
  // Two-dimensional embeddings: no bundled model fits, so identity, in every command.
  const Run run = run_attnviz({"run", "a b c", "--embeddings", emb, "--json", "-"});
  const Run flash = run_attnviz({"flash", "a b c", "--embeddings", emb, "--json", "-"});
  INFO(run.err << flash.err);
  REQUIRE(run.exit_code == 0);
  REQUIRE(flash.exit_code == 0);
  CHECK(nlohmann::json::parse(run.out)["config"]["model"] == "identity");
  CHECK(nlohmann::json::parse(flash.out)["config"]["model"] == "identity");
  // The toy embeddings keep the toy model.
  const Run toy = run_attnviz({"flash", "the cat chased the mouse", "--json", "-"});
  REQUIRE(toy.exit_code == 0);
  CHECK(nlohmann::json::parse(toy.out)["config"]["model"] == "toy");
}

namespace {

// `count` words of the toy vocabulary, as one argument each (Linux limits one argument to 128 KiB, but a
// sentence may be given as many words: the command joins them).
std::vector<std::string> long_sentence(int count) {
  const std::vector<std::string> words{"the", "cat", "chased", "mouse", "a", "computer", "dog"};
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back(words[static_cast<std::size_t>(i * 7 + i / 3) % words.size()]);
  return out;
}

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("Limits: above --max-memory every n × m path is refused before computing, naming what to change", "[limits][cli]") {
  const TempDir dir;
  const auto sentence = long_sentence(60);  // 60 × 60 × 3 floats = 43 KiB for the toy model's one head
  // (beside 15 KiB of n × d matrices and 30 KiB for the toy embeddings and model: 88 KiB in all)
  const std::string out = (dir.path() / "out.json").string();
  struct Case {
    std::string what;
    std::vector<std::string> args;
    std::vector<std::string> hints;
  };
  const std::vector<Case> cases{
      {"run", concat({"run"}, sentence), {"--backend flash", "--max-memory", "60 × 60 tokens"}},
      {"run --json FILE", concat({"run", "--json", out}, sentence), {"--backend flash", "their JSON export"}},
      {"run --context", concat({"run", "--context", join(sentence), "--json", out}, long_sentence(30)),
       {"30 × 60 tokens", "--backend flash"}},
      {"explain", concat({"explain", "--query", "cat", "--key", "the"}, sentence), {"--max-memory", "--backend flash"}},
      {"compare", concat({"compare", "--word", "cat", "the cat chased"}, {join(sentence)}), {"--max-memory"}},
      {"flash walkthrough", concat({"flash", "--block-rows", "30", "--block-cols", "30"}, sentence),
       {"the walkthrough of 60 × 60 tokens", "--max-memory", "a shorter sentence"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const Run r = run_attnviz(concat(c.args, {"--max-memory", "80K"}));
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    for (const auto& hint : c.hints) CHECK_THAT(r.err, Contains(hint));
    CHECK_FALSE(std::filesystem::exists(out));
  }
  // bench: the standard backend's n × n matrices, and any backend's n × d matrices and weights.
  const Run cpu_bench = run_attnviz({"bench", "--seq", "4096", "--backend", "cpu", "--max-memory", "16M", "--min-time", "0"});
  CHECK(cpu_bench.exit_code == 2);
  CHECK_THAT(cpu_bench.err, Contains("4096 × 4096 tokens") && Contains("--backend flash") && Contains("a smaller --seq"));
  const Run flash_bench =
      run_attnviz({"bench", "--seq", "1000000", "--dim", "64", "--heads", "8", "--backend", "flash", "--max-memory", "64M"});
  CHECK(flash_bench.exit_code == 2);
  CHECK_THAT(flash_bench.err, Contains("--seq 1000000 with 8 heads of width 64 needs about") && Contains("--max-memory"));
  CHECK(flash_bench.out.empty());

  // The same sentence fits with room to spare, and the tables count too: 43 KiB of floats, 730 KiB with tables.
  CHECK(run_attnviz(concat({"run", "--max-memory", "100K", "--stages", "output"}, sentence)).exit_code == 0);
  CHECK(run_attnviz(concat({"run", "--max-memory", "100K", "--color", "never"}, sentence)).exit_code == 2);
  CHECK(run_attnviz(concat({"run", "--max-memory", "1M", "--color", "never"}, sentence)).exit_code == 0);
  CHECK(run_attnviz(concat({"run", "--max-memory", "60K", "--backend", "flash", "--stages", "output"}, sentence)).exit_code == 0);
  // The n × d matrices (15 KiB) fit in 40K alone, not beside the loaded embeddings and model (30 KiB).
  const Run loaded = run_attnviz(concat({"run", "--max-memory", "40K", "--backend", "flash", "--stages", "output"}, sentence));
  CHECK(loaded.exit_code == 2);
  CHECK(loaded.out.empty());
  CHECK_THAT(loaded.err, Contains("need about 15 KiB for the n × d matrices") &&
                             Contains("and 30 KiB for the embeddings and model already loaded beside them (45 KiB in all)"));
}

TEST_CASE("Limits: a very long sentence runs with --backend flash, the standard backend refuses and says to use it", "[limits][cli]") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const int n = 3000;  // the sanitizers slow the arithmetic tenfold; the property is the same
#else
  const int n = 20000;  // 20000 × 20000 weights would be 1.5 GiB per stage for the standard backend
#endif
  const TempDir dir;
  const auto out = dir.path() / "long.json";
  const auto words = long_sentence(n);
  const Run flash = run_attnviz(concat({"run", "--backend", "flash", "--stages", "output", "--json", out.string(), "--color", "never"}, words));
  INFO(flash.err);
  REQUIRE(flash.exit_code == 0);
  const auto doc = nlohmann::json::parse(read_text(out));
  CHECK(doc["tokens"].size() == static_cast<std::size_t>(n));
  for (const auto& stage : doc["stages"]) CHECK(stage["name"] != "weights");
  const auto& output = doc["stages"].back();
  CHECK(output["name"] == "output");
  CHECK(output["data"].size() == static_cast<std::size_t>(n));

  const Run cpu = run_attnviz(concat({"run", "--stages", "output", "--json", (dir.path() / "cpu.json").string(), "--max-memory",
                                      n >= 20000 ? "2G" : "64M"},
                                     words));
  CHECK(cpu.exit_code == 2);
  CHECK_THAT(cpu.err, Contains(fmt::format("{} × {} tokens", n, n)) && Contains("--backend flash"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "cpu.json"));
}
