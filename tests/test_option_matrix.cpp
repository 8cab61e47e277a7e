// Every command × every option of the parser's own tables: a command either honours an option it accepts
// (the option changes what it prints, writes or refuses) or refuses it with exit 2. A new option without a
// probe here fails the test, so no option can be added and silently ignored. Also the bugs this found.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../src/cli/cli.hpp"
#include "support.hpp"

using attnviz::test::run_attnviz;
using attnviz::test::TempDir;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

using Args = std::vector<std::string>;

// Options whose effect no output can show, by design.
const std::map<std::string, std::string> kNoVisibleEffect{
    {"--threads", "results are bit-identical for every thread count (only bench reports it)"},
    {"--min-time", "only how long bench measures"},
};

// What the probe of an option adds: `setup` (in both runs) and `option` (in the second only).
struct Probe {
  Args setup{}, option{};
  std::optional<Args> base{};  // instead of the command's base (a per-command probe of an option the base names)
};

struct Fixture {
  TempDir dir;
  fs::path out_json = dir.path() / "out.json", out_html = dir.path() / "out.html";
  std::map<std::string, Probe> probes;
  std::map<std::string, Args> base;  // each command with arguments that run it quickly and successfully
  std::map<std::pair<std::string, std::string>, Probe> command_probes;  // (command, option): instead of probes

  const Probe& probe(const std::string& command, const std::string& option) const {
    const auto it = command_probes.find({command, option});
    return it != command_probes.end() ? it->second : probes.at(option);
  }

  Fixture() {
    const auto wordnet = dir.path() / "wordnet";
    fs::create_directory(wordnet);
    const std::string licence = "  1 licence\n";
    for (const char* part : {"data.noun", "data.verb", "data.adj", "data.adv"})
      dir.write(fs::path("wordnet") / part, licence + (std::string(part) == "data.noun"
                                                           ? "02330245 05 n 01 mouse 0 000 | a small rodent; \"the cat chased the mouse\"  \n"
                                                           : ""));
    base = {
        {"run", {"run", "the mouse chased the cat"}},
        {"demo", {"demo", "mouse"}},
        {"flash", {"flash", "the mouse chased the cat"}},
        {"explain", {"explain", "the mouse chased the cat", "--query", "mouse", "--key", "cat"}},
        {"compare", {"compare", "the mouse chased the cat", "a computer mouse", "--word", "mouse"}},
        {"bench", {"bench", "--seq", "32", "--dim", "8", "--min-time", "0"}},
        {"corpus", {"corpus", "--wordnet", wordnet.string(), "--out", (dir.path() / "corpus").string()}},
        {"explore", {"explore", "the mouse chased the cat", "--dump-after", ""}},
        {"words", {"words", "c"}},
        {"lesson", {"lesson", "new", (dir.path() / "lesson-base.json").string()}},
    };
    // train and evaluate: a corpus of the toy embeddings' words, and a model trained on it.
    const auto toy_corpus = dir.path() / "toy-corpus";
    fs::create_directory(toy_corpus);
    for (const char* split : {"train.txt", "dev.txt", "test.txt"})
      dir.write(fs::path("toy-corpus") / split, "the cat chased the mouse\nthe mouse ate the cheese\nshe sat by the river bank\n");
    dir.write(fs::path("toy-corpus") / "corpus.json", R"({"format": "attnviz-corpus", "version": 1})");
    const std::string corpus = toy_corpus.string(), trained = (dir.path() / "lm.json").string(), model = (dir.path() / "model.json").string();
    REQUIRE(run_attnviz({"train", "--corpus", corpus, "--out", model, "--embeddings", "toy", "--threads", "1"}).exit_code == 0);
    const auto sentences = dir.write("sentences.txt", "The cat chased the mouse.\n");
    base["train"] = {"train", "--corpus", corpus, "--out", trained, "--embeddings", "toy"};
    base["evaluate"] = {"evaluate", "--model", model, "--corpus", corpus};
    base["heads"] = {"heads", "--model", model, "--corpus", corpus};
    base["generate"] = {"generate", "the cat", "--model", model, "--steps", "2"};
    command_probes = {
        // explore: without --dump-after it needs a terminal (exit 2); flash keeps no matrices to explore.
        {{"explore", "--dump-after"}, {{}, {"--dump-after", "<down>"}, Args{"explore", "the mouse chased the cat"}}},
        {{"explore", "--backend"}, {{}, {"--backend", "flash"}}},
        {{"train", "--embeddings"}, {{}, {"--embeddings", "toy"}, Args{"train", "--corpus", corpus, "--out", trained}}},
        {{"train", "--out"}, {{}, {"--out", trained}, Args{"train", "--corpus", corpus, "--embeddings", "toy"}}},
        {{"train", "--corpus"}, {{}, {"--corpus", corpus}, Args{"train", "--out", trained, "--embeddings", "toy"}}},
        {{"train", "--heads"}, {{}, {"--heads", "2"}}},
        {{"train", "--query"}, {{"--watch", "the cat chased the mouse"}, {"--query", "mouse"}}},
        {{"evaluate", "--model"}, {{}, {"--model", model}, Args{"evaluate", "--corpus", corpus}}},
        {{"evaluate", "--corpus"}, {{}, {"--corpus", corpus}, Args{"evaluate", "--model", model}}},
        {{"evaluate", "--text"}, {{}, {"--text", sentences.string()}, Args{"evaluate", "--model", model}}},
        {{"heads", "--model"}, {{}, {"--model", model}, Args{"heads", "--corpus", corpus}}},
        {{"heads", "--corpus"}, {{}, {"--corpus", corpus}, Args{"heads", "--model", model}}},
        {{"heads", "--text"}, {{}, {"--text", sentences.string()}, Args{"heads", "--model", model}}},
        {{"heads", "--split"}, {{}, {"--split", "train"}}},
        {{"generate", "--model"}, {{}, {"--model", model}, Args{"generate", "the cat", "--steps", "2"}}},
        {{"generate", "--steps"}, {{}, {"--steps", "3"}, Args{"generate", "the cat", "--model", model}}},
        {{"generate", "--temperature"}, {{}, {"--temperature", "0.1"}}},
        {{"generate", "--top-k"}, {{"--seed", "9"}, {"--top-k", "1"}}},
        {{"generate", "--seed"}, {{"--top-k", "0"}, {"--seed", "8"}}},
    };
    // Embeddings without "mouse" (so --unknown matters) with a close word (so --vocab-limit changes the hint).
    const auto tiny = dir.write("tiny.json", R"({"format": "attnviz-embeddings", "version": 1, "name": "tiny", "dim": 2,
      "vectors": {"the": [1, 0], "cat": [0, 1], "chased": [1, 1], "a": [0.5, 0.5], "computer": [1, 0.2], "mousy": [0.3, 0.3]}})");
    const auto mask = dir.write("mask.json", "[[1,1,1,1,1],[1,0,1,1,1],[1,1,1,1,1],[1,1,1,1,1],[1,1,1,1,1]]");
    const auto empty = dir.path() / "no-data";
    fs::create_directory(empty);
    probes = {
        {"--embeddings", {{}, {"--embeddings", tiny.string()}}},
        {"--model", {{}, {"--model", "identity"}}},
        {"--unknown", {{"--embeddings", tiny.string()}, {"--unknown", "zero"}}},
        {"--vocab-limit", {{"--embeddings", tiny.string()}, {"--vocab-limit", "1"}}},
        {"--data-dir", {{}, {"--data-dir", empty.string()}}},
        {"--json", {{}, {"--json", out_json.string()}}},
        {"--html", {{}, {"--html", out_html.string()}}},
        {"--html-range", {{"--html", out_html.string()}, {"--html-range", "matrix"}}},
        {"--color", {{}, {"--color", "always"}}},
        {"--ascii", {{}, {"--ascii"}}},
        {"--width", {{}, {"--width", "20"}}},
        {"--precision", {{}, {"--precision", "6"}}},
        {"--stages", {{}, {"--stages", "tokens"}}},
        {"--backend", {{"--json", "-"}, {"--backend", "flash"}}},
        {"--timings", {{}, {"--timings"}}},
        {"--kernel", {{}, {"--kernel", "2"}}},  // refused unless --backend cuda-flash (no GPU in the tests)
        {"--glyphs", {{}, {"--glyphs"}}},
        {"--layout", {{}, {"--layout", "compact"}}},
        {"--palette", {{"--color", "always"}, {"--palette", "colorblind"}}},
        {"--heads", {{"--model", "identity"}, {"--heads", "2"}}},
        {"--layer", {{}, {"--layer", "2"}}},  // the toy model has one layer: refused (tests/test_lm_trace.cpp: honoured)
        {"--causal", {{}, {"--causal"}}},
        {"--mask", {{}, {"--mask", mask.string()}}},
        {"--temperature", {{}, {"--temperature", "3"}}},
        {"--no-scale", {{}, {"--no-scale"}}},
        {"--exclude-self", {{}, {"--exclude-self"}}},
        {"--gain", {{"--model", "identity"}, {"--gain", "4"}}},
        {"--positions", {{}, {"--positions", "sinusoidal"}}},
        {"--context", {{}, {"--context", "a computer mouse"}}},
        {"--threads", {{}, {"--threads", "1"}}},
        {"--max-memory", {{}, {"--max-memory", "64"}}},
        {"--step", {{}, {"--step"}}},
        {"--narrate", {{}, {"--narrate"}}},
        {"--query", {{"--step"}, {"--query", "zebra"}}},
        {"--neighbours", {{}, {"--neighbours", "2"}}},
        {"--head", {{}, {"--head", "2"}}},
        {"--block-rows", {{}, {"--block-rows", "2"}}},
        {"--block-cols", {{}, {"--block-cols", "2"}}},
        {"--io", {{}, {"--io"}}},
        {"--sram-kib", {{"--io"}, {"--sram-kib", "1"}}},
        {"--word", {{}, {"--word", "the"}}},
        {"--probe", {{}, {"--probe", "cat,computer"}}},
        {"--key", {{}, {"--key", "the"}}},
        {"--seq", {{}, {"--seq", "16"}}},
        {"--dim", {{}, {"--dim", "4"}}},
        {"--seed", {{}, {"--seed", "7"}}},
        {"--min-time", {{}, {"--min-time", "0.001"}}},
        {"--max-time", {{}, {"--max-time", "100"}}},
        {"--out", {{}, {"--out", (dir.path() / "elsewhere").string()}}},
        {"--wordnet", {{}, {"--wordnet", (dir.path() / "nowhere").string()}}},
        {"--corpus", {{}, {"--corpus", (dir.path() / "nowhere").string()}}},
        {"--layers", {{}, {"--layers", "2"}}},
        {"--d-k", {{}, {"--d-k", "3"}}},
        {"--mlp", {{}, {"--mlp", "4"}}},
        {"--max-len", {{}, {"--max-len", "3"}}},
        {"--epochs", {{}, {"--epochs", "2"}}},
        {"--batch", {{}, {"--batch", "1"}}},
        {"--lr", {{}, {"--lr", "0.1"}}},
        {"--max-sentences", {{}, {"--max-sentences", "1"}}},
        {"--baselines", {{}, {"--baselines"}}},
        {"--watch", {{}, {"--watch", "the cat chased the mouse"}}},
        {"--name", {{}, {"--name", "other"}}},
        {"--split", {{}, {"--split", "dev"}}},
        {"--sentence", {{}, {"--sentence", "she sat by the river"}}},
        {"--top-k", {{}, {"--top-k", "1"}}},
        {"--steps", {{}, {"--steps", "3"}}},
        {"--text", {{}, {"--text", (dir.path() / "nowhere.txt").string()}}},
        {"--dump-after", {{}, {"--dump-after", "<down>"}}},
        {"--height", {{}, {"--height", "30"}}},
    };
  }

  // What a user sees of one run: exit code, both streams and the files the outputs wrote.
  std::string observe(const Args& args) const {
    fs::remove(out_json);
    fs::remove(out_html);
    const auto r = run_attnviz(args, {{"COLORTERM", "truecolor"}});
    std::string seen = std::to_string(r.exit_code) + "\n" + r.out + "\n" + r.err;
    for (const auto& f : {out_json, out_html})
      if (fs::exists(f)) seen += "\nfile " + f.filename().string() + ":\n" + attnviz::test::read_text(f);
    return seen;
  }
};

std::vector<std::pair<std::string, std::vector<std::string>>> command_options() {
  attnviz::cli::Parser parser;
  auto all = parser.command_options();
  for (auto& [command, options] : all) std::erase(options, "--help");
  return all;
}

std::set<std::string> every_option() {
  std::set<std::string> all;
  for (const auto& [command, options] : command_options()) all.insert(options.begin(), options.end());
  return all;
}

Args operator+(Args a, const Args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Parses in this process (no run), standard error captured: the exit code of a refused parse, or -1.
std::pair<int, std::string> parse_only(const Args& args) {
  attnviz::cli::Parser parser;
  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  const auto code = parser.parse(args);
  std::cerr.rdbuf(old);
  return {code.value_or(-1), err.str()};
}

// The options of `command` not shared with the commands that take all four groups, checked by one bench run.
void check_bench_honours(const Fixture& f, const std::vector<std::string>& accepted) {
  const Args all{"bench", "--seq", "24", "--dim", "4", "--heads", "2", "--causal", "--backend", "cpu", "--block-rows", "3",
                 "--block-cols", "5", "--seed", "9", "--threads", "1", "--min-time", "0", "--json", "-"};
  const auto r = run_attnviz(all);
  REQUIRE(r.exit_code == 0);
  const auto config = nlohmann::json::parse(r.out)["config"];
  const std::map<std::string, nlohmann::json> expected{
      {"--seq", {{"seq", 24}}},         {"--dim", {{"dim", 4}}},
      {"--heads", {{"heads", 2}}},      {"--causal", {{"causal", true}}},
      {"--backend", {{"backend", "cpu"}}}, {"--block-rows", {{"block_rows", 3}}},
      {"--block-cols", {{"block_cols", 5}}}, {"--seed", {{"seed", 9}}},
      {"--threads", {{"threads", 1}}},  {"--json", {{"seq", 24}}},  // --json -: the document itself
  };
  for (const auto& option : accepted) {
    INFO("bench " << option);
    if (option == "--min-time") continue;  // kNoVisibleEffect
    if (option == "--max-memory") {
      const auto refused = run_attnviz(f.base.at("bench") + Args{"--max-memory", "64"});
      CHECK(refused.exit_code == 2);
      CHECK_THAT(refused.err, Contains("--max-memory"));
      continue;
    }
    if (option == "--max-time") {  // the run's estimate is at least --min-time's 0.5 s: more than a microsecond
      const auto refused = run_attnviz({"bench", "--seq", "32", "--dim", "8", "--max-time", "0.000001"});
      CHECK(refused.exit_code == 2);
      CHECK_THAT(refused.err, Contains("--max-time"));
      CHECK(config["max_time"] == 300);  // the default, in the --json document
      continue;
    }
    REQUIRE(expected.count(option) == 1);
    for (const auto& [key, value] : expected.at(option).items()) CHECK(config[key] == value);
  }
  (void)f;
}

void check_command(const std::string& command) {
  const Fixture f;
  const auto all = every_option();
  std::vector<std::string> accepted;
  for (const auto& [name, options] : command_options())
    if (name == command) accepted = options;
  REQUIRE_FALSE(accepted.empty());
  INFO("a new command needs its quick, successful arguments in Fixture::base of tests/test_option_matrix.cpp");
  REQUIRE(f.base.count(command) == 1);
  const Args& base = f.base.at(command);

  for (const auto& option : all) {
    INFO(command << " " << option);
    INFO("a new option needs a probe in Fixture::probes of tests/test_option_matrix.cpp");
    REQUIRE(f.probes.count(option) == 1);
    const Probe& probe = f.probe(command, option);
    const bool takes = std::find(accepted.begin(), accepted.end(), option) != accepted.end();
    if (!takes) {
      const auto [code, err] = parse_only(base + probe.option);
      CHECK(code == 2);
      CHECK_THAT(err, Contains("not expected") && Contains(option));
    }
  }
  if (command == "bench") return check_bench_honours(f, accepted);

  std::map<Args, std::string> baselines;
  for (const auto& option : accepted) {
    INFO(command << " " << option);
    const Probe& probe = f.probe(command, option);
    const Args& b = probe.base ? *probe.base : base;
    if (kNoVisibleEffect.count(option)) {
      CHECK(f.observe(b + probe.setup + probe.option).starts_with("0\n"));
      continue;
    }
    const Args without = b + probe.setup;
    if (!baselines.count(without)) baselines[without] = f.observe(without);
    const std::string with = f.observe(without + probe.option);
    CHECK(with != baselines[without]);
  }
}

}  // namespace

TEST_CASE("Options: every command honours or refuses every option: run", "[cli][options]") { check_command("run"); }
TEST_CASE("Options: every command honours or refuses every option: demo", "[cli][options]") { check_command("demo"); }
TEST_CASE("Options: every command honours or refuses every option: flash", "[cli][options]") { check_command("flash"); }
TEST_CASE("Options: every command honours or refuses every option: explain", "[cli][options]") { check_command("explain"); }
TEST_CASE("Options: every command honours or refuses every option: compare", "[cli][options]") { check_command("compare"); }
TEST_CASE("Options: every command honours or refuses every option: bench", "[cli][options]") { check_command("bench"); }
TEST_CASE("Options: every command honours or refuses every option: corpus", "[cli][options]") { check_command("corpus"); }
TEST_CASE("Options: every command honours or refuses every option: words", "[cli][options]") { check_command("words"); }
TEST_CASE("Options: every command honours or refuses every option: lesson", "[cli][options]") { check_command("lesson"); }
TEST_CASE("Options: every command honours or refuses every option: train", "[cli][options]") { check_command("train"); }
TEST_CASE("Options: every command honours or refuses every option: evaluate", "[cli][options]") { check_command("evaluate"); }
TEST_CASE("Options: every command honours or refuses every option: heads", "[cli][options]") { check_command("heads"); }
TEST_CASE("Options: every command honours or refuses every option: generate", "[cli][options]") { check_command("generate"); }
TEST_CASE("Options: every command honours or refuses every option: explore", "[cli][options]") { check_command("explore"); }

TEST_CASE("Options: every command has its arguments here, each probe is used", "[cli][options]") {
  const Fixture f;
  std::set<std::string> commands, known;
  for (const auto& [name, options] : command_options()) commands.insert(name);
  for (const auto& [name, args] : f.base) known.insert(name);
  CHECK(commands == known);
  for (const auto& [option, probe] : f.probes) {
    INFO(option);
    CHECK(every_option().count(option) == 1);
  }
}

TEST_CASE("Options: flash refuses --html, --stages and --backend instead of ignoring them", "[cli][options][flash]") {
  TempDir dir;
  const auto page = dir.path() / "x.html";
  auto r = run_attnviz({"flash", "the cat chased the mouse", "--html", page.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--html"));
  CHECK_FALSE(fs::exists(page));
  for (const Args& extra : {Args{"--stages", "weights"}, Args{"--backend", "cpu"}}) {
    r = run_attnviz(Args{"flash", "the cat chased the mouse"} + extra);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(extra[0]));
    CHECK(r.out.empty());
  }
}

TEST_CASE("Options: --timings on flash, explain and compare prints the backend's timings", "[cli][options]") {
  for (const Args& args : {Args{"flash", "the cat chased the mouse"},
                           Args{"explain", "the cat chased the mouse", "--query", "mouse", "--key", "cat"},
                           Args{"compare", "the cat chased the mouse", "a computer mouse", "--word", "mouse"}}) {
    INFO(args[0]);
    const auto plain = run_attnviz(args);
    const auto timed = run_attnviz(args + Args{"--timings"});
    REQUIRE(timed.exit_code == 0);
    CHECK(timed.out.starts_with(plain.out));  // the report unchanged, the timings after it
    CHECK_THAT(timed.out.substr(plain.out.size()), Contains("timings"));
  }
}

TEST_CASE("Options: explain takes --color and --palette and paints the weight", "[cli][options][explain]") {
  const Args args{"explain", "the cat chased the mouse", "--query", "mouse", "--key", "cat"};
  const auto plain = run_attnviz(args);
  const auto never = run_attnviz(args + Args{"--color", "never"});
  const auto always = run_attnviz(args + Args{"--color", "always"}, {{"COLORTERM", "truecolor"}});
  const auto blind = run_attnviz(args + Args{"--color", "always", "--palette", "colorblind"}, {{"COLORTERM", "truecolor"}});
  REQUIRE(always.exit_code == 0);
  CHECK(never.out == plain.out);
  CHECK(plain.out.find('\x1b') == std::string::npos);
  CHECK_THAT(always.out, Contains("\x1b[38;2;"));
  CHECK(blind.out != always.out);
}

TEST_CASE("Options: --kernel picks cuda-flash's kernel and is refused with another backend", "[cli][options]") {
  const auto r = run_attnviz({"run", "the cat chased the mouse", "--kernel", "2"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--kernel") && Contains("cuda-flash") && Contains("--backend cpu"));
  CHECK(r.out.empty());
  const auto flash = run_attnviz({"flash", "the cat chased the mouse", "--kernel", "2"});
  CHECK(flash.exit_code == 2);
  CHECK_THAT(flash.err, Contains("--kernel"));
  CHECK(run_attnviz({"run", "the cat", "--backend", "cuda-flash", "--kernel", "0"}).exit_code == 2);  // versions count from 1
}
