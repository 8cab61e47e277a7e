// attnviz explain: the arithmetic of one weight equals the trace, in the library bit for bit and on screen
// to the last printed digit.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/explain.hpp"
#include "attnviz/pipeline.hpp"
#include "support.hpp"
#include "trace_json.hpp"

using namespace attnviz;
using Catch::Contains;

namespace {

const std::string kSentence = "the cat chased the mouse";

Trace toy_trace(const std::string& sentence, PipelineOptions options = {}, const std::string& model_name = "toy", int heads = 0) {
  const std::string dir = test::data_dir().string();
  const Embeddings emb = resolve_embeddings("toy", dir);
  const Model model = resolve_model(model_name, emb.dim, heads, dir);
  return run_attention(emb, model, sentence, options);
}

// Runs `attnviz explain ... --json` and checks every printed number against the exported trace: the numbers
// that are in the trace equal it at the printed precision, and those computed on the way (products, e^x,
// the row's sum, P × v) equal the same float32 arithmetic redone from the trace's values.
void check_against_trace(std::vector<std::string> args, int i, int j, int head) {
  test::TempDir dir;
  const auto path = (dir.path() / "trace.json").string();
  // Wide enough that each step is one line (the parse below reads a step's numbers from its line; at 80
  // columns explain wraps them, see "every line within --width").
  args.insert(args.end(), {"--json", path, "--width", "250"});
  const auto r = test::run_attnviz(args);
  INFO("stderr: " << r.err << "\nstdout:\n" << r.out);
  REQUIRE(r.exit_code == 0);
  const auto t = nlohmann::json::parse(test::read_text(path));
  const auto Q = test::trace_stage(t, "queries", head), K = test::trace_stage(t, "keys", head), V = test::trace_stage(t, "values", head);
  const auto S = test::trace_stage(t, "scores", head), Ss = test::trace_stage(t, "scaled_scores", head);
  const auto P = test::trace_stage(t, "weights", head), A = test::trace_stage(t, "context", head);
  const float factor = t["config"]["scale"].get<float>() / t["config"]["temperature"].get<float>();
  const auto& row = Ss[static_cast<std::size_t>(i)];
  float max = -INFINITY, sum = 0;
  for (float v : row) max = std::max(max, v);
  std::vector<float> exps;
  for (float v : row) {
    exps.push_back(std::exp(v - max));
    sum += exps.back();
  }
  const auto ui = static_cast<std::size_t>(i), uj = static_cast<std::size_t>(j);
  const float weight = P[ui][uj];
  auto same = [](float value, const std::string& printed) { CHECK(printed == test::same_digits(value, printed)); };

  int section = 0;
  std::size_t terms = 0, keys = 0, dims = 0;
  bool saw_sum = false, saw_weight = false, saw_row_sum = false;
  for (const auto& line : test::lines_of(r.out)) {
    if (line.size() > 2 && line[0] >= '1' && line[0] <= '9' && line[1] == '.') section = line[0] - '0';
    const auto nums = test::numbers_in(line);
    INFO("line: " << line);
    if (section == 1 && nums.size() == 3) {
      same(Q[ui][terms], nums[0]);
      same(K[uj][terms], nums[1]);
      same(Q[ui][terms] * K[uj][terms], nums[2]);
      ++terms;
    } else if (section == 1 && line.find("(sum)") != std::string::npos) {
      REQUIRE(nums.size() == 1);
      same(S[ui][uj], nums[0]);
      saw_sum = true;
    } else if (section == 2 && line.rfind("2.", 0) == 0) {
      REQUIRE(nums.size() >= 3);
      same(S[ui][uj], nums[nums.size() - 3]);
      same(factor, nums[nums.size() - 2]);
      same(S[ui][uj] * factor, nums.back());
      if (std::isfinite(Ss[ui][uj])) same(Ss[ui][uj], nums.back());
    } else if (section == 3) {
      same(Ss[ui][uj], nums.back());
    } else if (section == 4 && line.rfind("4.", 0) == 0) {
      same(max, nums.at(0));
    } else if (section == 4 && nums.size() == 3) {
      same(Ss[ui][uj], nums[0]);
      same(max, nums[1]);
      same(Ss[ui][uj] - max, nums[2]);
    } else if (section == 5) {
      REQUIRE(nums.size() == 2);
      same(Ss[ui][uj] - max, nums[0]);
      same(exps[uj], nums[1]);
    } else if (section == 6 && nums.size() == 3) {
      same(row[keys], nums[0]);
      same(row[keys] - max, nums[1]);
      same(exps[keys], nums[2]);
      ++keys;
    } else if (section == 6 && nums.size() == 1) {
      same(sum, nums[0]);
      saw_row_sum = true;
    } else if (section == 7 && line.rfind("7.", 0) == 0) {
      REQUIRE(nums.size() == 3);
      same(exps[uj], nums[0]);
      same(sum, nums[1]);
      same(weight, nums[2]);
      CHECK(exps[uj] / sum == weight);  // the reference's division, bit for bit
      saw_weight = true;
    } else if (section == 8 && nums.size() == 3) {
      same(V[uj][dims], nums[0]);
      same(weight * V[uj][dims], nums[1]);
      same(A[ui][dims], nums[2]);
      ++dims;
    }
  }
  CHECK(terms == Q[ui].size());
  CHECK(keys == row.size());
  CHECK(dims == V[uj].size());
  CHECK(saw_sum);
  CHECK(saw_row_sum);
  CHECK(saw_weight);
}

}  // namespace

TEST_CASE("Explain: every cell's arithmetic reproduces the trace bit for bit", "[explain]") {
  PipelineOptions causal;
  causal.attention.causal = true;
  PipelineOptions hot;
  hot.attention.temperature = 0.5f;
  hot.attention.scale = false;
  const std::vector<Trace> traces{toy_trace(kSentence), toy_trace(kSentence, causal), toy_trace(kSentence, hot),
                                  toy_trace(kSentence, {}, "identity", 2)};
  for (const Trace& trace : traces)
    for (int h = 0; h < trace.config.heads; ++h) {
      const Stage& P = *trace.find("weights", h);
      const Stage& Ss = *trace.find("scaled_scores", h);
      const Stage& A = *trace.find("context", h);
      for (int i = 0; i < P.data.rows(); ++i) {
        Vector shares = Vector::Zero(A.data.cols());
        for (int j = 0; j < P.data.cols(); ++j) {
          const CellExplanation e = explain_cell(trace, h, i, j);
          INFO("head " << h << " cell " << i << "," << j);
          CHECK(e.score == trace.find("scores", h)->data(i, j));
          CHECK(e.scaled() == Ss.data(i, j));
          CHECK(e.weight() == P.data(i, j));
          CHECK(e.masked() == std::isinf(Ss.data(i, j)));
          if (e.masked()) CHECK(e.weight() == 0.0f);
          shares += e.share;
        }
        // The shares of every key add up to the context row (up to float rounding of a different order).
        CHECK((shares - A.data.row(i)).cwiseAbs().maxCoeff() < 1e-5f);
      }
    }
}

TEST_CASE("Explain: find_token takes a word or word#N and names a missing word", "[explain]") {
  const std::vector<std::string> tokens{"the", "cat", "chased", "the", "mouse"};
  CHECK(find_token(tokens, "mouse", "--query", kSentence) == 4);
  CHECK(find_token(tokens, "The", "--query", kSentence) == 0);
  CHECK(find_token(tokens, "the#2", "--query", kSentence) == 3);
  CHECK_THROWS_WITH(find_token(tokens, "dog", "--query", kSentence), Contains("--query 'dog'") && Contains(kSentence));
  CHECK_THROWS_WITH(find_token(tokens, "the#3", "--key", kSentence), Contains("only 2 'the'"));
  CHECK_THROWS_AS(find_token(tokens, "the#0", "--key", kSentence), InputError);
}

TEST_CASE("Explain CLI: the printed arithmetic equals the trace to the last printed digit", "[explain][cli]") {
  SECTION("default precision") { check_against_trace({"explain", kSentence, "--query", "mouse", "--key", "cat"}, 4, 1, 0); }
  SECTION("seven digits") {
    check_against_trace({"explain", kSentence, "--query", "cat", "--key", "chased", "--precision", "7"}, 1, 2, 0);
  }
  SECTION("the second 'the', a temperature, no scaling") {
    check_against_trace({"explain", kSentence, "--query", "the#2", "--key", "mouse", "--temperature", "0.5", "--no-scale", "--precision", "5"},
                        3, 4, 0);
  }
  SECTION("head 2 of two") {
    check_against_trace({"explain", kSentence, "--query", "mouse", "--key", "cat", "--model", "identity", "--heads", "2", "--head", "2",
                         "--precision", "6"},
                        4, 1, 1);
  }
  SECTION("cross-attention: the key comes from the context") {
    check_against_trace({"explain", kSentence, "--query", "mouse", "--key", "computer", "--context", "a computer mouse"}, 4, 1, 0);
  }
}

TEST_CASE("Explain CLI: a masked cell shows −∞ and a weight of exactly 0", "[explain][cli]") {
  check_against_trace({"explain", kSentence, "--query", "cat", "--key", "mouse", "--causal"}, 1, 4, 0);
  const auto r = test::run_attnviz({"explain", kSentence, "--query", "cat", "--key", "mouse", "--causal"});
  CHECK_THAT(r.out, Contains("the causal mask hides \"mouse\" from \"cat\""));
  CHECK_THAT(r.out, Contains("S' = −∞"));
  CHECK_THAT(r.out, Contains("= 0.000 (exactly 0"));
}

TEST_CASE("Explain CLI: a word not in the sentence, or a head that does not exist, is an input error", "[explain][cli]") {
  auto dog = test::run_attnviz({"explain", kSentence, "--query", "dog", "--key", "cat"});
  CHECK(dog.exit_code == 2);
  CHECK_THAT(dog.err, Contains("--query 'dog'"));
  CHECK(dog.out.empty());
  auto key = test::run_attnviz({"explain", kSentence, "--query", "cat", "--key", "pluto"});
  CHECK(key.exit_code == 2);
  CHECK_THAT(key.err, Contains("--key 'pluto'"));
  auto head = test::run_attnviz({"explain", kSentence, "--query", "cat", "--key", "mouse", "--head", "3"});
  CHECK(head.exit_code == 2);
  CHECK_THAT(head.err, Contains("--head 3"));
  auto missing = test::run_attnviz({"explain", kSentence, "--query", "cat"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("--key"));
  auto help = test::run_attnviz({"explain", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Contains("Examples:"));
}

TEST_CASE("Explain: every line within --width (60 and 80 columns), the steps wrapped, the tables whole", "[explain][cli]") {
  // Its step lines ignored --width: "8. its share of the context row: …" ran to 113 columns at 60 and 80.
  const std::vector<std::vector<std::string>> cases{
      {"explain", "Mickey Mouse is an American cartoon character", "--query", "mouse", "--key", "mickey"},
      {"explain", "the cat chased the mouse", "--query", "cat", "--key", "mouse", "--causal", "--temperature", "0.5"},
      {"explain", "the computer mouse", "--model", "wordnet-lm", "--layer", "2", "--query", "mouse", "--key", "computer"}};
  for (const auto& base : cases)
    for (const std::string width : {"60", "80"}) {
      std::vector<std::string> args = base;
      args.insert(args.end(), {"--width", width});
      const auto r = test::run_attnviz(args);
      REQUIRE(r.exit_code == 0);
      CHECK_THAT(r.out, Contains("7. the weight: P ="));
      std::istringstream in(r.out);
      for (std::string line; std::getline(in, line);) {
        INFO(base[1] << " at " << width << ": " << line);
        CHECK(display_width(line) <= std::stoi(width));
      }
    }
}
