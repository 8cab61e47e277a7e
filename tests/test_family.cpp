// The attention family: multi-head, masks, temperature and scaling, positions, cross-attention, the row
// checks of the report, the family's lessons. A hand-worked two-head example, then the real executable.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "attnviz/attention.hpp"
#include "attnviz/error.hpp"
#include "attnviz/lesson.hpp"
#include "attnviz/pipeline.hpp"
#include "support.hpp"

using attnviz::test::run_attnviz;
using attnviz::test::TempDir;
using Catch::Contains;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kSentence = "the cat chased the mouse";  // 5 tokens

void require_input_error(const attnviz::test::Run& r, const std::vector<std::string>& fragments) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  for (const auto& f : fragments) CHECK_THAT(r.err, Contains(f));
  CHECK(r.err.find("nan") == std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 2);
  CHECK(r.out.empty());
}

// The trace of `args` (run ... --json -).
json trace_of(std::vector<std::string> args) {
  args.insert(args.begin(), "run");
  args.insert(args.end(), {"--json", "-"});
  auto r = run_attnviz(args);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

const json& stage_of(const json& trace, const std::string& name, const json& head = nullptr) {
  for (const auto& s : trace["stages"])
    if (s["name"] == name && s["head"] == head) return s;
  FAIL("no stage " << name << " head " << head);
  throw std::logic_error("unreachable");
}

std::vector<std::string> stage_names(const json& trace) {
  std::vector<std::string> names;
  for (const auto& s : trace["stages"]) names.push_back(s["name"].get<std::string>() + (s["head"].is_null() ? "" : "/" + s["head"].dump()));
  return names;
}

double cell(const json& stage, int i, int j) { return stage["data"][i][j].get<double>(); }

}  // namespace

// Worked by hand: X = [1 0 0 1; 0 1 1 1], the identity model with 2 heads, so head 1 sees dimensions 0-1
// and head 2 dimensions 2-3, and d_k = d_v = 2, scale 1/√2.
// Head 1: Q = K = V = [1 0; 0 1]. S = [1 0; 0 1], S' = [0.7071068 0; 0 0.7071068].
//   Row 0: exp(S' − max) = [1, e^(−0.7071068)] = [1, 0.4930687], sum 1.4930687 → P = [0.6697615, 0.3302385];
//   row 1 is the mirror image. A₁ = P·V = P (V is the identity).
// Head 2: Q = K = V = [0 1; 1 1]. S = [1 1; 1 2], S' = [0.7071068 0.7071068; 0.7071068 1.4142136].
//   Row 0: equal scores → P = [0.5, 0.5]. Row 1: [e^(−0.7071068), 1] / 1.4930687 = [0.3302385, 0.6697615].
//   A₂ row 0 = 0.5·[0 1] + 0.5·[1 1] = [0.5, 1]; row 1 = 0.3302385·[0 1] + 0.6697615·[1 1] = [0.6697615, 1].
// concat = [A₁ A₂] = [0.6697615 0.3302385 0.5 1; 0.3302385 0.6697615 0.6697615 1]; W_o = I, so O = concat.
TEST_CASE("Family: a hand-worked two-head example, every stage of both heads", "[family]") {
  using namespace attnviz;
  Matrix X(2, 4);
  X << 1, 0, 0, 1, 0, 1, 1, 1;
  AttentionInput in;
  in.X = in.X_kv = X;
  in.query_tokens = in.key_tokens = {"t0", "t1"};
  in.dim_labels = {"d0", "d1", "d2", "d3"};
  const auto stages = make_backend("cpu")->compute(identity_model(4, 2), in, AttentionOptions{});
  auto get = [&](const std::string& name, std::optional<int> head) -> const Matrix& {
    for (const auto& s : stages)
      if (s.name == name && s.head == head) return s.data;
    FAIL("no stage " << name);
    throw std::logic_error("unreachable");
  };
  auto check = [](const Matrix& got, std::vector<std::vector<double>> want) {
    REQUIRE(got.rows() == static_cast<Eigen::Index>(want.size()));
    for (std::size_t i = 0; i < want.size(); ++i) {
      REQUIRE(got.cols() == static_cast<Eigen::Index>(want[i].size()));
      for (std::size_t j = 0; j < want[i].size(); ++j) {
        INFO("cell [" << i << "][" << j << "]");
        CHECK(got(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) == Approx(want[i][j]).margin(1e-6));
      }
    }
  };
  const double r = 0.7071068;
  check(get("queries", 0), {{1, 0}, {0, 1}});
  check(get("queries", 1), {{0, 1}, {1, 1}});
  check(get("values", 1), {{0, 1}, {1, 1}});
  check(get("scores", 0), {{1, 0}, {0, 1}});
  check(get("scores", 1), {{1, 1}, {1, 2}});
  check(get("scaled_scores", 0), {{r, 0}, {0, r}});
  check(get("scaled_scores", 1), {{r, r}, {r, 2 * r}});
  check(get("weights", 0), {{0.6697615, 0.3302385}, {0.3302385, 0.6697615}});
  check(get("weights", 1), {{0.5, 0.5}, {0.3302385, 0.6697615}});
  check(get("context", 0), {{0.6697615, 0.3302385}, {0.3302385, 0.6697615}});
  check(get("context", 1), {{0.5, 1}, {0.6697615, 1}});
  check(get("concat", std::nullopt), {{0.6697615, 0.3302385, 0.5, 1}, {0.3302385, 0.6697615, 0.6697615, 1}});
  check(get("output", std::nullopt), {{0.6697615, 0.3302385, 0.5, 1}, {0.3302385, 0.6697615, 0.6697615, 1}});
}

TEST_CASE("Family: --heads splits the identity model, per-head stages, head order, labels", "[family]") {
  const json t = trace_of({kSentence, "--model", "identity", "--heads", "2"});
  CHECK(t["config"]["heads"] == 2);
  CHECK(t["config"]["d_k"] == 4);
  const std::vector<std::string> want{"embeddings", "queries/0", "keys/0", "values/0", "scores/0", "scaled_scores/0",
                                      "weights/0", "context/0", "queries/1", "keys/1", "values/1", "scores/1",
                                      "scaled_scores/1", "weights/1", "context/1", "concat", "output"};
  CHECK(stage_names(t) == want);
  // Head 2 sees dimensions 4-7 only: its queries are the embeddings' last four columns.
  const json& X = stage_of(t, "embeddings");
  const json& Q1 = stage_of(t, "queries", 1);
  for (int i = 0; i < 5; ++i)
    for (int c = 0; c < 4; ++c) CHECK(cell(Q1, i, c) == cell(X, i, 4 + c));
  CHECK(stage_of(t, "concat")["col_labels"][4] == "h2.a0");

  auto table = run_attnviz({"run", kSentence, "--model", "identity", "--heads", "2", "--color", "never", "--stages", "weights"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("head 1 of 2"));
  CHECK_THAT(table.out, Contains("head 2 of 2"));
}

TEST_CASE("Family: bad --heads names the option and the value", "[family]") {
  require_input_error(run_attnviz({"run", kSentence, "--model", "identity", "--heads", "3"}),
                      {"--heads 3", "does not divide the embedding size 8"});
  require_input_error(run_attnviz({"run", kSentence, "--heads", "2"}), {"--heads 2", "'toy'", "1 head"});
  require_input_error(run_attnviz({"run", kSentence, "--model", "identity", "--heads", "0"}), {"--heads", "0"});
}

TEST_CASE("Family: --causal masks the upper triangle: null in the trace, exactly 0 weight, −∞ in the table", "[family]") {
  const json t = trace_of({kSentence, "--causal"});
  CHECK(t["config"]["causal"] == true);
  CHECK(t["config"]["custom_mask"] == false);
  const json& S = stage_of(t, "scaled_scores", 0);
  const json& P = stage_of(t, "weights", 0);
  for (int i = 0; i < 5; ++i) {
    double sum = 0;
    for (int j = 0; j < 5; ++j) {
      INFO("cell [" << i << "][" << j << "]");
      CHECK(S["data"][i][j].is_null() == (j > i));
      if (j > i) CHECK(cell(P, i, j) == 0.0);
      sum += cell(P, i, j);
    }
    CHECK(sum == Approx(1.0).margin(1e-6));
  }
  CHECK(cell(P, 0, 0) == 1.0);  // the first token sees only itself
  // The raw scores are not masked: masking happens in S'.
  CHECK(stage_of(t, "scores", 0)["data"][0][4].is_number());

  auto table = run_attnviz({"run", kSentence, "--causal", "--color", "never", "--stages", "scaled_scores"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("−∞"));
  CHECK_THAT(table.out, Contains("causal mask"));
}

TEST_CASE("Family: --mask FILE: the zeros are null cells and 0 weight, with --causal both apply", "[family]") {
  TempDir dir;
  // Each token may not attend to itself (the diagonal is masked).
  const auto mask = dir.write("mask.json", "[[0,1,1,1,1],[1,0,1,1,1],[1,1,0,1,1],[1,1,1,0,1],[1,1,1,1,0]]");
  const json t = trace_of({kSentence, "--mask", mask.string()});
  CHECK(t["config"]["custom_mask"] == true);
  const json& S = stage_of(t, "scaled_scores", 0);
  const json& P = stage_of(t, "weights", 0);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) {
      CHECK(S["data"][i][j].is_null() == (i == j));
      if (i == j) CHECK(cell(P, i, j) == 0.0);
      else CHECK(cell(P, i, j) > 0.0);
    }
  // The report leaves masked keys out of the top keys: "cat" never lists itself.
  auto table = run_attnviz({"run", kSentence, "--mask", mask.string(), "--color", "never", "--stages", "weights,scaled_scores"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("−∞"));
  CHECK_THAT(table.out, Contains("custom mask"));
  CHECK_THAT(table.out, Contains("masked keys left out"));
  const auto line_start = table.out.find("cat    attends to:");
  REQUIRE(line_start != std::string::npos);
  const std::string line = table.out.substr(line_start + 19, table.out.find('\n', line_start) - line_start - 19);
  CHECK(line.find("cat") == std::string::npos);

  // Together with --causal, row 0 keeps nothing: an input error naming the row and its query, never NaN.
  require_input_error(run_attnviz({"run", kSentence, "--mask", mask.string(), "--causal"}),
                      {"--mask " + mask.string(), "with --causal", "row 0 (query 'the')"});
}

TEST_CASE("Family: bad --mask files name the option, the file and what is wrong, nothing is written", "[family]") {
  TempDir dir;
  const auto small = dir.write("small.json", "[[1,0,0],[1,1,0],[1,1,1]]");
  require_input_error(run_attnviz({"run", kSentence, "--mask", small.string()}),
                      {"--mask " + small.string(), "is 3 × 3 but the sentence has 5 tokens (5 × 5 needed)"});
  const auto two = dir.write("two.json", "[[1,1,1],[1,2,1],[1,1,1]]");
  require_input_error(run_attnviz({"run", "the cat chased", "--mask", two.string()}), {"--mask " + two.string(), "cell [1][1] is 2"});
  const auto half = dir.write("half.json", "[[1,1,1],[1,0.5,1],[1,1,1]]");
  require_input_error(run_attnviz({"run", "the cat chased", "--mask", half.string()}), {"--mask", "cell [1][1] is 0.5"});
  const auto empty_row = dir.write("row.json", "[[1,1,1],[0,0,0],[1,1,1]]");
  const auto out = dir.path() / "trace.json";
  require_input_error(run_attnviz({"run", "the cat chased", "--mask", empty_row.string(), "--json", out.string()}),
                      {"--mask " + empty_row.string(), "every key of row 1 (query 'cat')", "at least one key"});
  CHECK_FALSE(fs::exists(out));
  const auto ragged = dir.write("ragged.json", "[[1,1,1],[1,1],[1,1,1]]");
  require_input_error(run_attnviz({"run", "the cat chased", "--mask", ragged.string()}), {"--mask " + ragged.string(), "row 1"});
  const auto text = dir.write("text.json", "[[1,1,1],[1,1,1],[1,1,\"yes\"]]");
  require_input_error(run_attnviz({"run", "the cat chased", "--mask", text.string()}), {"--mask " + text.string(), "[2][2]"});
  const auto broken = dir.write("broken.json", "[[1,1,1],");
  require_input_error(run_attnviz({"run", "the cat chased", "--mask", broken.string()}), {"--mask " + broken.string()});
  require_input_error(run_attnviz({"run", "the cat chased", "--mask", (dir.path() / "missing.json").string()}),
                      {"--mask", "missing.json"});
}

TEST_CASE("Family: --temperature and --no-scale change S' exactly as documented and are recorded", "[family]") {
  const json base = trace_of({kSentence});
  const json hot = trace_of({kSentence, "--temperature", "0.25"});
  const json raw = trace_of({kSentence, "--no-scale"});
  CHECK(base["config"]["scale"].get<double>() == Approx(1.0 / std::sqrt(8.0)));
  CHECK(hot["config"]["temperature"] == 0.25);
  CHECK(raw["config"]["scale"] == 1.0);
  CHECK(raw["config"]["temperature"] == 1.0);
  const json& S = stage_of(base, "scores", 0);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) {
      CHECK(cell(stage_of(hot, "scaled_scores", 0), i, j) == Approx(cell(S, i, j) / std::sqrt(8.0) / 0.25).epsilon(1e-6));
      CHECK(cell(stage_of(raw, "scaled_scores", 0), i, j) == Approx(cell(S, i, j)).epsilon(1e-6));
    }
  // A low temperature sharpens every row: the largest weight of each row grows.
  for (int i = 0; i < 5; ++i) {
    double base_max = 0, hot_max = 0;
    for (int j = 0; j < 5; ++j) {
      base_max = std::max(base_max, cell(stage_of(base, "weights", 0), i, j));
      hot_max = std::max(hot_max, cell(stage_of(hot, "weights", 0), i, j));
    }
    CHECK(hot_max > base_max);
  }
  auto table = run_attnviz({"run", kSentence, "--no-scale", "--temperature", "2", "--color", "never", "--stages", "weights"});
  CHECK_THAT(table.out, Contains("no scaling"));
  CHECK_THAT(table.out, Contains("temperature 2"));
}

TEST_CASE("Family: a bad --temperature names the option and the value", "[family]") {
  require_input_error(run_attnviz({"run", kSentence, "--temperature", "-1"}), {"--temperature must be a finite number > 0, got -1"});
  require_input_error(run_attnviz({"run", kSentence, "--temperature", "0"}), {"--temperature", "got 0"});
  require_input_error(run_attnviz({"run", kSentence, "--temperature", "inf"}), {"--temperature", "got inf"});
  require_input_error(run_attnviz({"run", kSentence, "--temperature", "abc"}), {"--temperature", "abc"});
  require_input_error(run_attnviz({"run", kSentence, "--temperature", "1e-50"}), {"--temperature 1e-50", "float32"});
  // Finite but so small that the scaled scores overflow float32: refused, never NaN.
  // (cat · cat = 12.9 in S; 12.9 / 2e-38 > 3.4e38, the largest float32.)
  require_input_error(run_attnviz({"run", kSentence, "--no-scale", "--temperature", "2e-38"}),
                      {"--temperature 2e-38 with --no-scale", "overflows float32"});
  CHECK(run_attnviz({"run", kSentence, "--temperature", "nan"}).exit_code == 2);
}

TEST_CASE("Family: --positions sinusoidal: E, PE and X = E + PE, in that order", "[family]") {
  const json t = trace_of({kSentence, "--positions", "sinusoidal"});
  CHECK(t["config"]["positions"] == "sinusoidal");
  const auto names = stage_names(t);
  REQUIRE(names.size() >= 4);
  CHECK(std::vector<std::string>(names.begin(), names.begin() + 4) ==
        std::vector<std::string>{"token_embeddings", "positional_encoding", "embeddings", "queries/0"});
  const json& E = stage_of(t, "token_embeddings");
  const json& PE = stage_of(t, "positional_encoding");
  const json& X = stage_of(t, "embeddings");
  for (int p = 0; p < 5; ++p)
    for (int c = 0; c < 8; ++c) {
      const double angle = p / std::pow(10000.0, (c - c % 2) / 8.0);
      CHECK(cell(PE, p, c) == Approx(c % 2 == 0 ? std::sin(angle) : std::cos(angle)).margin(1e-6));
      CHECK(cell(X, p, c) == Approx(cell(E, p, c) + cell(PE, p, c)).margin(1e-6));
    }
  // Without positions neither extra stage appears.
  const auto plain = stage_names(trace_of({kSentence}));
  CHECK(plain.front() == "embeddings");
  require_input_error(run_attnviz({"run", kSentence, "--positions", "learned"}), {"--positions", "learned"});
}

// Self-attention without positions is permutation-equivariant: reorder the words and each word's output
// row is the same, only moved. With positions it is not.
TEST_CASE("Family: shuffling the words shuffles the outputs, unless positions are on", "[family]") {
  const std::string shuffled = "mouse the chased cat the";  // positions 0..4 of kSentence go to 1, 3, 2, 4, 0
  const std::vector<int> where{1, 3, 2, 4, 0};
  for (const char* positions : {"none", "sinusoidal"}) {
    const json a = trace_of({kSentence, "--positions", positions});
    const json b = trace_of({shuffled, "--positions", positions});
    double largest = 0;
    for (int i = 0; i < 5; ++i)
      for (int c = 0; c < 8; ++c)
        largest = std::max(largest, std::abs(cell(stage_of(a, "output"), i, c) - cell(stage_of(b, "output"), where[static_cast<std::size_t>(i)], c)));
    INFO("positions " << positions << ": largest difference " << largest);
    if (std::string(positions) == "none") CHECK(largest < 1e-5);
    else CHECK(largest > 0.1);
  }
}

TEST_CASE("Family: --context: cross-attention is n × m, rows the sentence, columns the context", "[family]") {
  const std::string context = "a computer mouse is a hand-held pointing device";  // 8 tokens
  const json t = trace_of({kSentence, "--context", context, "--model", "identity", "--heads", "2"});
  CHECK(t["config"]["context"] == context);
  CHECK(t["input"]["context"] == context);
  const std::vector<std::string> ctx{"a", "computer", "mouse", "is", "a", "hand-held", "pointing", "device"};
  CHECK(t["context_tokens"] == ctx);
  for (int h = 0; h < 2; ++h)
    for (const char* name : {"scores", "scaled_scores", "weights"}) {
      const json& s = stage_of(t, name, h);
      CHECK(s["shape"] == json::array({5, 8}));
      CHECK(s["row_labels"] == t["tokens"]);
      CHECK(s["col_labels"] == ctx);
    }
  CHECK(stage_of(t, "queries", 0)["row_labels"] == t["tokens"]);
  CHECK(stage_of(t, "keys", 0)["row_labels"] == ctx);
  CHECK(stage_of(t, "values", 1)["row_labels"] == ctx);
  CHECK(stage_of(t, "context_embeddings")["shape"] == json::array({8, 8}));
  CHECK(stage_of(t, "output")["shape"] == json::array({5, 8}));

  TempDir dir;
  const auto mask58 = dir.write("m.json", "[[1,1,1,1,1,1,1,1],[1,1,1,1,1,1,1,1],[1,1,1,1,1,1,1,1],[1,1,1,1,1,1,1,1],[1,1,1,1,1,1,1,0]]");
  CHECK(stage_of(trace_of({kSentence, "--context", context, "--mask", mask58.string()}), "scaled_scores", 0)["data"][4][7].is_null());
  const auto mask55 = dir.write("m5.json", "[[1,1,1,1,1],[1,1,1,1,1],[1,1,1,1,1],[1,1,1,1,1],[1,1,1,1,1]]");
  require_input_error(run_attnviz({"run", kSentence, "--context", context, "--mask", mask55.string()}),
                      {"--mask " + mask55.string(), "5 × 5", "5 × 8 needed"});
  require_input_error(run_attnviz({"run", kSentence, "--context", "the mouse ate zorblax"}),
                      {"--context \"the mouse ate zorblax\"", "'zorblax'"});
  require_input_error(run_attnviz({"run", kSentence, "--context", "?!"}), {"--context", "empty"});
}

TEST_CASE("Family: the report prints row sums, entropy in bits and its maximum beside each weights table", "[family]") {
  auto r = run_attnviz({"run", kSentence, "--causal", "--color", "never", "--stages", "weights"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("entropy in bits"));
  // The first token sees only itself under the causal mask: entropy 0 of a maximum log2(1) = 0. The last
  // sees all five keys: maximum log2(5) = 2.32.
  CHECK_THAT(r.out, Contains("  the     1.000     0.00   0.00\n"));
  CHECK_THAT(r.out, Contains("2.32\n"));
  CHECK_THAT(r.out, Contains("  the    attends to: the 1.000\n"));  // no masked key listed with weight 0
}

TEST_CASE("Family: permutation_between matches repeated words in order and refuses other words", "[family]") {
  using attnviz::permutation_between;
  CHECK(permutation_between({"the", "cat", "saw", "the", "dog"}, {"the", "dog", "saw", "the", "cat"}) == std::vector<int>{0, 4, 2, 3, 1});
  CHECK_THROWS_AS(permutation_between({"the", "cat"}, {"the", "dog"}), attnviz::InputError);
  CHECK_THROWS_AS(permutation_between({"the", "cat"}, {"the", "cat", "cat"}), attnviz::InputError);
}

TEST_CASE("Family: the lessons word-order, causal and two-heads", "[family][demo]") {
  auto order = run_attnviz({"demo", "word-order", "--color", "never", "--stages", "output"});
  REQUIRE(order.exit_code == 0);
  CHECK_THAT(order.out, Contains("word order, without positions"));
  CHECK_THAT(order.out, Contains("the same rows, only moved"));
  CHECK_THAT(order.out, Contains("word order, with sinusoidal positions"));
  CHECK_THAT(order.out, Contains("the rows differ"));

  auto causal = run_attnviz({"demo", "causal", "--json", "-"});
  REQUIRE(causal.exit_code == 0);
  const json traces = json::parse(causal.out);
  REQUIRE(traces.size() == 2);
  for (const auto& t : traces) CHECK(t["config"]["causal"] == true);

  auto two = run_attnviz({"demo", "two-heads", "--json", "-"});
  REQUIRE(two.exit_code == 0);
  const json t = json::parse(two.out)[0];
  CHECK(t["config"]["heads"] == 2);
  CHECK(t["config"]["positions"] == "sinusoidal");
  // The position head: every token after the first gives its largest weight to the token before it.
  const json& P = stage_of(t, "weights", 1);
  for (std::size_t i = 1; i < P["data"].size(); ++i) {
    const auto& row = P["data"][i];
    const auto best = std::max_element(row.begin(), row.end(), [](const json& a, const json& b) { return a.get<double>() < b.get<double>(); });
    CHECK(static_cast<std::size_t>(best - row.begin()) == i - 1);
  }
  auto table = run_attnviz({"demo", "two-heads", "--color", "never", "--stages", "weights"});
  CHECK_THAT(table.out, Contains("\"bank\" before and after attention"));
}

TEST_CASE("Family: a lesson's options are checked", "[family][demo]") {
  TempDir dir;
  fs::create_directories(dir.path() / "lessons");
  dir.write("lessons/bad.json", R"({"format": "attnviz-lesson", "version": 1, "name": "bad", "sentences": ["the cat"],
                                    "options": {"causal": true, "speed": 3}})");
  auto r = run_attnviz({"demo", "bad", "--data-dir", dir.path().string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unknown lesson option \"speed\""));
}
