// A trained language model in run, explain, compare, --step and --html (src/core/lm_trace.cpp): the numbers
// shown are the model's own forward (lm_activations, lm_predict: what evaluate and generate compute), every
// stage is labelled as the catalogue says, and what the forward has no place for is refused.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/data.hpp"
#include "attnviz/lesson.hpp"
#include "attnviz/error.hpp"
#include "attnviz/lm.hpp"
#include "attnviz/lm_trace.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/stages.hpp"
#include "attnviz/train.hpp"
#include "support.hpp"

using namespace attnviz;
using attnviz::test::run_attnviz;
using Catch::Contains;

namespace {

constexpr const char* kSentence = "the computer mouse and the keyboard";

struct Bundled {
  Model layer1, layer2;
  const LoadedLm& lm() const { return *layer1.language_model; }
  Bundled()
      : layer1(resolve_model("wordnet-lm", 0, 0, test::data_dir().string(), 0)),
        layer2(language_model_layer(layer1.language_model, 1)) {}
};

const Bundled& bundled() {
  static const Bundled b;
  return b;
}

std::vector<int> ids_of(const LoadedLm& lm, const std::vector<std::string>& tokens) {
  std::vector<int> ids;
  for (const auto& t : tokens) ids.push_back(lm.inputs.vocab.id(t));
  return ids;
}

double max_abs_diff(const Matrix& a, const RowMat<float>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return static_cast<double>((a - b).cwiseAbs().maxCoeff());
}

}  // namespace

TEST_CASE("LM trace: the stages are the model's own forward, layer by layer", "[lm_trace]") {
  const Bundled& b = bundled();
  const LoadedLm& lm = b.lm();
  const LmConfig& c = lm.model.config;
  REQUIRE(c.layers == 2);
  const Trace t1 = run_attention(lm.emb, b.layer1, kSentence, {});
  const Trace t2 = run_attention(lm.emb, b.layer2, kSentence, {});
  const std::vector<int> ids = ids_of(lm, t1.tokens);
  const LmActivations acts = lm_activations(c, lm.model.params, lm.inputs.E, ids);

  CHECK(t1.config.layer == 1);
  CHECK(t2.config.layer == 2);
  CHECK(t1.config.layers == 2);
  CHECK(t1.config.causal);
  CHECK(t1.config.positions == "learned");
  // The inputs: exactly the forward's rows.
  CHECK(max_abs_diff(t1.find(stage_name::embeddings)->data, acts.x0) == 0.0);
  CHECK(max_abs_diff(t1.find(stage_name::layer_norm)->data, acts.layers[0].a) == 0.0);
  CHECK(t1.find(stage_name::layer_input) == nullptr);  // layer 1 reads the embeddings
  CHECK(max_abs_diff(t2.find(stage_name::layer_input)->data, acts.layers[1].x_in) == 0.0);
  CHECK(max_abs_diff(t2.find(stage_name::layer_norm)->data, acts.layers[1].a) == 0.0);
  // The attention, computed by the backend from the layer's weights: the forward's weights, every head.
  for (int l = 0; l < 2; ++l) {
    const Trace& t = l == 0 ? t1 : t2;
    for (int h = 0; h < c.heads; ++h) {
      // Two float32 computations of the same weights (another order of the same sums): a score rounded
      // differently by δ moves a weight by about w·δ, and δ grows with the score, so the bound is two
      // float32 epsilons of the largest scaled score (measured: 1.1e-6 against 3.9e-6 for scores up to 15).
      const double largest = static_cast<double>(  // over the cells the causal mask leaves (the others are −∞)
          t.find(stage_name::scaled_scores, h)->data.unaryExpr([](float v) { return std::isfinite(v) ? std::abs(v) : 0.0f; }).maxCoeff());
      REQUIRE(largest < 1e3);
      const double bound = 2 * std::numeric_limits<float>::epsilon() * (1 + largest);
      INFO("layer " << l + 1 << " head " << h + 1 << ": largest |scaled score| " << largest << ", bound " << bound);
      CHECK(max_abs_diff(t.find(stage_name::weights, h)->data, acts.layers[static_cast<std::size_t>(l)].attention[static_cast<std::size_t>(h)]) < bound);
      CHECK(max_abs_diff(t.find(stage_name::queries, h)->data, acts.layers[static_cast<std::size_t>(l)].q.middleCols(h * c.d_k, c.d_k)) < 1e-5);
    }
    // x' = x + O: the residual is the forward's, and the backend's O is what was added.
    const RowMat<float>& x_in = acts.layers[static_cast<std::size_t>(l)].x_in;
    CHECK(max_abs_diff(t.find(stage_name::residual)->data, acts.layers[static_cast<std::size_t>(l)].x_mid) == 0.0);
    CHECK(max_abs_diff(t.find(stage_name::output)->data + x_in, acts.layers[static_cast<std::size_t>(l)].x_mid) < 1e-5);
  }
  CHECK(t1.find(stage_name::mlp) == nullptr);  // the bundled model has no MLP
  // The predictions come after the last layer only, and are softmax(logits) of lm_predict, row by row.
  CHECK(t1.find(stage_name::predictions) == nullptr);
  CHECK(max_abs_diff(t2.find(stage_name::final_norm)->data, acts.f) == 0.0);
  const Stage* p = t2.find(stage_name::predictions);
  REQUIRE(p != nullptr);
  CHECK(p->col_axis == "words");
  CHECK(static_cast<std::size_t>(p->data.cols()) == p->col_labels.size());
  for (std::size_t t = 0; t < ids.size(); ++t) {
    INFO("row " << t << " " << t2.tokens[t]);
    // softmax of the forward's own logits row, in double: the shown probabilities agree to float32 rounding
    // (the teaching softmax adds 10,020 exps in float, left to right).
    const auto logits = acts.logits.row(static_cast<Eigen::Index>(t));
    const double top = logits.maxCoeff();
    double sum = 0;
    for (Eigen::Index w = 0; w < logits.cols(); ++w) sum += std::exp(static_cast<double>(logits(w)) - top);
    for (Eigen::Index j = 0; j < p->data.cols(); ++j) {
      const double want = std::exp(logits(lm.inputs.vocab.id(p->col_labels[static_cast<std::size_t>(j)])) - top) / sum;
      CHECK(p->data(static_cast<Eigen::Index>(t), j) == Approx(want).epsilon(1e-4).margin(1e-7));
    }
    // The likeliest word of every row is a column; generate's lm_predict on the prefix agrees (another
    // shape of the same products: float rounding apart).
    const std::vector<int> prefix(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(t + 1));
    const LmPrediction pred = lm_predict(c, lm.model.params, lm.inputs.E, prefix);
    Eigen::Index best = 0;
    pred.logits.maxCoeff(&best);
    const auto col = std::find(p->col_labels.begin(), p->col_labels.end(), lm.inputs.vocab.words[static_cast<std::size_t>(best)]);
    REQUIRE(col != p->col_labels.end());
    double psum = 0;
    for (Eigen::Index w = 0; w < pred.logits.cols(); ++w) psum += std::exp(static_cast<double>(pred.logits(w) - pred.logits(best)));
    CHECK(p->data(static_cast<Eigen::Index>(t), col - p->col_labels.begin()) == Approx(1.0 / psum).epsilon(1e-4));
  }
}

TEST_CASE("LM trace: what the model's forward has no place for is refused", "[lm_trace]") {
  const Bundled& b = bundled();
  auto refused = [&](const PipelineOptions& o, const std::string& sentence = kSentence) {
    try {
      (void)run_attention(b.lm().emb, b.layer1, sentence, o);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  PipelineOptions o;
  o.positions = "sinusoidal";
  CHECK_THAT(refused(o), Contains("--positions sinusoidal"));
  o = {};
  o.context = "the cat";
  CHECK_THAT(refused(o), Contains("--context"));
  o = {};
  o.attention.temperature = 2;
  CHECK_THAT(refused(o), Contains("--temperature"));
  o = {};
  o.attention.scale = false;
  CHECK_THAT(refused(o), Contains("--no-scale"));
  o = {};
  o.unknown = UnknownWords::subword;
  CHECK_THAT(refused(o), Contains("<unk>"));
  std::string long_sentence;
  for (int i = 0; i < 40; ++i) long_sentence += "the cat ";
  CHECK_THAT(refused({}, long_sentence), Contains("at most 32"));
  // A word it lacks: named (--unknown error), or read as <unk> (--unknown zero), as in training.
  CHECK_THAT(refused({}, "the zzyzzx mouse"), Contains("zzyzzx"));
  o = {};
  o.unknown = UnknownWords::zero;
  const Trace t = run_attention(b.lm().emb, b.layer1, "the zzyzzx mouse", o);
  CHECK(t.find(stage_name::token_embeddings)->data.row(1).isZero());
  CHECK_THROWS_AS(language_model_layer(b.layer1.language_model, 2), InputError);
}

TEST_CASE("LM trace: run, explain and compare with --model wordnet-lm, --layer and --head", "[lm_trace][cli]") {
  const auto run = run_attnviz({"run", kSentence, "--model", "wordnet-lm", "--layer", "2", "--head", "3", "--color", "never"});
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Contains("layer 2 of 2"));
  CHECK_THAT(run.out, Contains("layer_norm"));
  CHECK_THAT(run.out, Contains("predictions"));
  CHECK_THAT(run.out, Contains("head 3"));
  CHECK_FALSE(Catch::contains(run.out, "head 1"));  // --head 3: only head 3's per-head tables

  const auto json = run_attnviz({"run", kSentence, "--model", "wordnet-lm", "--layer", "1", "--json", "-"});
  REQUIRE(json.exit_code == 0);
  const auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["config"]["layer"] == 1);
  CHECK(doc["config"]["layers"] == 2);
  CHECK(doc["config"]["positions"] == "learned");

  const auto page = run_attnviz({"run", kSentence, "--model", "wordnet-lm", "--layer", "2", "--head", "2", "--html", "-"});
  REQUIRE(page.exit_code == 0);
  CHECK_THAT(page.out, Contains("layer_norm"));
  CHECK_THAT(page.out, Contains("predictions"));
  CHECK_THAT(page.out, Contains("layer 2 of 2"));
  // --head 2: head 2's stages unfolded, the others' folded (still on the page).
  CHECK_THAT(page.out, Contains(R"(data-stage="weights" data-head="1" open>)"));
  CHECK_THAT(page.out, Contains(R"(data-stage="weights" data-head="0">)"));

  const auto step = run_attnviz({"run", kSentence, "--model", "wordnet-lm", "--step", "--narrate", "--color", "never"});
  REQUIRE(step.exit_code == 0);
  CHECK_THAT(step.out, Contains("normalised"));  // the layer norm's narration

  const auto explain = run_attnviz({"explain", kSentence, "--model", "wordnet-lm", "--layer", "2", "--head", "2", "--query", "mouse",
                                    "--key", "computer", "--color", "never"});
  REQUIRE(explain.exit_code == 0);
  CHECK_THAT(explain.out, Contains("layer 2 of 2"));
  // explain's weight is the trace's: the same cell of the JSON export.
  const auto trace = nlohmann::json::parse(
      run_attnviz({"run", kSentence, "--model", "wordnet-lm", "--layer", "2", "--json", "-"}).out);
  double weight = -1;
  for (const auto& s : trace["stages"])
    if (s["name"] == "weights" && s["head"] == 1) weight = s["data"][2][1];
  REQUIRE(weight >= 0);
  CHECK_THAT(explain.out, Contains(fmt::format("{:.3f}", weight)));

  const auto masked = run_attnviz({"explain", kSentence, "--model", "wordnet-lm", "--query", "computer", "--key", "mouse", "--color", "never"});
  REQUIRE(masked.exit_code == 0);  // causal: a later word gets weight exactly 0

  const auto compare = run_attnviz({"compare", "the computer mouse", "mickey mouse", "--word", "mouse", "--model", "wordnet-lm", "--layer", "2",
                                    "--head", "4", "--color", "never"});
  REQUIRE(compare.exit_code == 0);
  // --head 4: what mouse reads in each sentence, the trace's weights (the lesson's head, test below).
  CHECK_THAT(compare.out, Contains("what \"mouse\" attends to in head 4 of 4 (layer 2 of 2)"));
  CHECK_THAT(compare.out, Contains("sentence 1: computer 0.983, mouse 0.009, the 0.007"));
  CHECK_THAT(compare.out, Contains("sentence 2: mickey 0.937, mouse 0.063\n"));  // only the two keys it may see
  // Its "input N" is X = E + P, which layer 2's attention never reads (it reads the layer norm of layer 1's
  // output): the legend and the probes' "before" say so, not "what attention saw".
  const auto wide = run_attnviz({"compare", "the computer mouse", "mickey mouse", "--word", "mouse", "--model", "wordnet-lm", "--layer", "2",
                                 "--color", "never", "--width", "400"});
  REQUIRE(wide.exit_code == 0);
  CHECK_FALSE(Catch::contains(wide.out, "what attention saw"));
  CHECK_THAT(wide.out, Contains("input N: plus the position it has in sentence N (X = E + P, the model's input; the layer's attention reads "
                                "the layer norm of the layer's input, not X)"));
  CHECK_THAT(wide.out, Contains("with probe words, before the model (its input X = E + P)"));
  // The GloVe model, whose attention does read the embedding, keeps its words.
  const auto glove = run_attnviz({"compare", "the computer mouse", "mickey mouse", "--word", "mouse", "--embeddings", "glove", "--positions",
                                  "sinusoidal", "--color", "never", "--width", "400"});
  REQUIRE(glove.exit_code == 0);
  CHECK_THAT(glove.out, Contains("(what attention saw)") && Contains("before attention (its input)"));
}

TEST_CASE("LM trace: bad --layer, --head and options exit 2 with a message", "[lm_trace][cli]") {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases{
      {{"run", kSentence, "--model", "wordnet-lm", "--layer", "3"}, "has 2 layers"},
      {{"run", kSentence, "--layer", "2"}, "--layer 2: the model 'toy' has one layer"},
      {{"run", kSentence, "--model", "wordnet-lm", "--head", "5"}, "--head 5 does not exist"},
      {{"run", kSentence, "--model", "wordnet-lm", "--embeddings", "toy"}, "reads its own embeddings"},
      {{"run", kSentence, "--model", "wordnet-lm", "--positions", "sinusoidal"}, "learned its own"},
      {{"run", kSentence, "--model", "wordnet-lm", "--context", "the cat"}, "--context"},
      {{"explain", kSentence, "--model", "wordnet-lm", "--temperature", "2", "--query", "mouse", "--key", "the"}, "--temperature"},
      {{"flash", kSentence, "--model", "wordnet-lm"}, "use attnviz run"},
      {{"compare", "the computer mouse", "mickey mouse", "--word", "mouse", "--model", "wordnet-lm", "--head", "5"}, "--head 5 does not exist"},
      {{"compare", "the computer mouse", "mickey mouse", "--word", "mouse", "--model", "wordnet-lm", "--head", "1", "--backend", "flash"},
       "keeps no weights"},
      {{"demo", "mouse", "--model", "wordnet-lm"}, "reads its own embeddings 'glove-100d' (--embeddings glove), not 'toy'"},
  };
  for (const auto& c : cases) {
    INFO(fmt::format("{}", fmt::join(c.args, " ")));
    const auto r = run_attnviz(c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Contains(c.says));
  }
}

TEST_CASE("LM lesson mouse-lm: the head it names reads the sense word far above a uniform row, as its description says", "[lm_trace][lesson]") {
  const std::string dir = test::data_dir().string();
  const Lesson lesson = resolve_lesson("mouse-lm", dir);
  REQUIRE(lesson.model == "wordnet-lm");
  const Model model = resolve_model(lesson.model, 0, 0, dir, lesson.options.layer - 1);
  REQUIRE(lesson.claims.size() == 2);
  for (const LessonClaim& claim : lesson.claims) {
    const Trace t = run_attention(model.language_model->emb, model, lesson.sentences[static_cast<std::size_t>(claim.sentence - 1)], {});
    const Stage* w = t.find(stage_name::weights, claim.head - 1);
    REQUIRE(w != nullptr);
    const auto row = static_cast<Eigen::Index>(std::find(t.tokens.begin(), t.tokens.end(), lesson.word) - t.tokens.begin());
    const std::string& key = claim.attends_to.front();
    REQUIRE(key != lesson.word);
    const auto col = static_cast<Eigen::Index>(std::find(t.tokens.begin(), t.tokens.end(), key) - t.tokens.begin());
    const float weight = w->data(row, col);
    const double uniform = 1.0 / static_cast<double>(row + 1);  // a causal row sees row + 1 words
    INFO("sentence " << claim.sentence << ": " << key << " " << weight << ", uniform " << uniform);
    // The baseline and the threshold: at least 0.4 above the uniform row (measured: 0.98 against 0.33,
    // 0.94 against 0.50).
    CHECK(weight - uniform >= 0.4);
    CHECK_THAT(lesson.description, Contains(fmt::format("{} {:.2f}", key, weight)));
    CHECK_THAT(lesson.description, Contains(fmt::format("{:.2f}", uniform)));
  }
}
