// Every backward of the language model against float64 central finite differences, on small shapes: each
// parameter of each tensor (positions, layer norms, W_q … W_2, the output bias), for the three mixings.
#include <catch2/catch.hpp>

#include <random>

#include <nlohmann/json.hpp>

#include "attnviz/error.hpp"
#include "attnviz/heads.hpp"
#include "attnviz/lm.hpp"
#include "attnviz/train.hpp"
#include "support.hpp"

using attnviz::LmConfig;
using attnviz::LmLayout;
using attnviz::Mixing;
using attnviz::RowMat;

namespace {

struct Case {
  LmConfig config;
  RowMat<double> E;
  std::vector<double> params;
  std::vector<std::vector<int>> sentences;
};

Case make_case(Mixing mixing, int layers, int mlp, unsigned seed) {
  Case k;
  k.config = LmConfig{.vocab = 13, .d_model = 8, .layers = layers, .heads = 2, .d_k = 3, .mlp = mlp, .max_len = 7, .mixing = mixing};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  k.E = RowMat<double>(13, 8);
  for (Eigen::Index i = 0; i < k.E.size(); ++i) k.E.data()[i] = u(rng);
  std::vector<float> init;
  attnviz::lm_init(k.config, init, seed, {});
  // Away from the initial values (gains 1, biases 0), so every term of every backward is exercised.
  k.params.resize(init.size());
  for (std::size_t i = 0; i < init.size(); ++i) k.params[i] = init[i] + 0.5 * u(rng);
  k.sentences = {{1, 4, 2, 9, 12}, {3}, {5, 5, 0}, {12, 11, 10, 9, 8, 7, 6}};
  return k;
}

double loss_of(const Case& k, const std::vector<double>& p) {
  return attnviz::lm_forward_backward<double>(k.config, p.data(), k.E, k.sentences, nullptr, 1.0).nll;
}

void check_gradients(const Case& k) {
  std::vector<double> grad(k.params.size(), 0.0);
  const auto loss = attnviz::lm_forward_backward<double>(k.config, k.params.data(), k.E, k.sentences, grad.data(), 1.0);
  CHECK(loss.tokens == 4 + 0 + 2 + 6);
  CHECK(loss.nll == Approx(loss_of(k, k.params)).epsilon(1e-12));
  const LmLayout lay(k.config);
  std::size_t checked = 0;
  for (const auto& t : lay.tensors) {
    double worst = 0;
    for (std::size_t i = t.offset; i < t.offset + t.size(); ++i) {
      const double h = 1e-6;
      auto plus = k.params, minus = k.params;
      plus[i] += h;
      minus[i] -= h;
      const double numeric = (loss_of(k, plus) - loss_of(k, minus)) / (2 * h);
      worst = std::max(worst, std::abs(numeric - grad[i]) / std::max(1.0, std::abs(numeric)));
      ++checked;
    }
    INFO("tensor " << t.name << " of layer " << t.layer << " (" << t.rows << " × " << t.cols << ")");
    CHECK(worst < 1e-6);
  }
  CHECK(checked == lay.size);
}

}  // namespace

TEST_CASE("lm gradients: learned attention, two layers with MLP, against finite differences", "[lm][gradcheck]") {
  check_gradients(make_case(Mixing::attention, 2, 5, 1));
}

TEST_CASE("lm gradients: one layer without MLP, the uniform and current-word baselines", "[lm][gradcheck]") {
  check_gradients(make_case(Mixing::attention, 1, 0, 2));
  check_gradients(make_case(Mixing::uniform, 1, 4, 3));
  check_gradients(make_case(Mixing::current, 2, 0, 4));
  check_gradients(make_case(Mixing::attention, 0, 0, 5));  // no layer: LN_f and the output only
}

TEST_CASE("lm: positions beyond max_len and unknown ids are input errors", "[lm]") {
  Case k = make_case(Mixing::attention, 1, 0, 6);
  k.sentences = {{1, 2, 3, 4, 5, 6, 7, 8}};
  CHECK_THROWS_AS(loss_of(k, k.params), attnviz::InputError);
  k.sentences = {{1, 13}};
  CHECK_THROWS_AS(loss_of(k, k.params), attnviz::InputError);
}

TEST_CASE("lm gradients: one batch against PyTorch autograd (tests/golden/lm_gradients)", "[lm][gradcheck][golden]") {
  // Made by tests/golden/make_lm_golden.py: the same model in torch.nn.functional, float64 autograd.
  const auto golden = nlohmann::json::parse(attnviz::test::read_text(attnviz::test::source_dir() / "tests/golden/lm_gradients/golden.json"));
  REQUIRE(golden["format"] == "attnviz-lm-golden");
  const auto model = attnviz::parse_language_model(golden["model"].dump(), "golden model");
  const LmConfig& c = model.config;
  RowMat<double> E(c.vocab, c.d_model);
  for (int i = 0; i < c.vocab; ++i)
    for (int j = 0; j < c.d_model; ++j)  // float32 values, as the script used them
      E(i, j) = golden["embeddings"][static_cast<std::size_t>(i)][static_cast<std::size_t>(j)].get<float>();
  const std::vector<double> params(model.params.begin(), model.params.end());
  const auto sentences = golden["sentences"].get<std::vector<std::vector<int>>>();
  std::vector<double> grad(params.size(), 0.0);
  const auto loss = attnviz::lm_forward_backward<double>(c, params.data(), E, sentences, grad.data(), 1.0);
  CHECK(loss.nll == Approx(golden["nll"].get<double>()).epsilon(1e-12));
  const LmLayout lay(c);
  std::size_t compared = 0;
  for (const auto& t : lay.tensors) {
    const auto& g = t.layer >= 0 ? golden["gradients"]["blocks"][static_cast<std::size_t>(t.layer)][t.name] : golden["gradients"][t.name];
    INFO("tensor " << t.name << " of layer " << t.layer);
    for (int r = 0; r < t.rows; ++r)
      for (int col = 0; col < t.cols; ++col) {
        const double want = t.rows == 1 ? g[static_cast<std::size_t>(col)].get<double>() : g[static_cast<std::size_t>(r)][static_cast<std::size_t>(col)].get<double>();
        const double got = grad[t.offset + static_cast<std::size_t>(r * t.cols + col)];
        CHECK(std::abs(got - want) <= 1e-10 * std::max(1.0, std::abs(want)));
        ++compared;
      }
  }
  CHECK(compared == lay.size);
}

TEST_CASE("lm training in the library: the loss falls, two runs agree bit for bit, heads and predictions", "[lm][train]") {
  const LmConfig c{.vocab = 9, .d_model = 6, .layers = 1, .heads = 2, .d_k = 3, .mlp = 4, .max_len = 6, .mixing = Mixing::attention};
  RowMat<float> E(9, 6);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (Eigen::Index i = 0; i < E.size(); ++i) E.data()[i] = u(rng);
  // A language where the word two back decides the next one: attention has something to find.
  attnviz::Sentences train, dev;
  for (int i = 0; i < 120; ++i) {
    const int a = i % 3, b = 3 + (i / 3) % 3;
    (i % 6 == 5 ? dev : train).push_back({a, b, 6 + a, 7, b});
  }
  attnviz::TrainOptions o;
  o.epochs = 3;
  o.batch = 8;
  o.lr = 0.02;
  o.threads = 2;
  auto run = [&] {
    std::vector<float> params;
    attnviz::lm_init(c, params, 7, attnviz::unigram_log_probs(train, c.vocab));
    const auto epochs = attnviz::train_lm(c, params, E, train, dev, o);
    return std::make_pair(params, epochs);
  };
  const auto [p1, e1] = run();
  const auto [p2, e2] = run();
  CHECK(p1 == p2);
  REQUIRE(e1.size() == 3);
  std::vector<float> start;
  attnviz::lm_init(c, start, 7, attnviz::unigram_log_probs(train, c.vocab));
  const double before = attnviz::perplexity(c, start, E, dev, 1).perplexity;
  CHECK(e1.back().dev_perplexity < before);
  CHECK(attnviz::perplexity(c, p1, E, dev, 1).perplexity == Approx(attnviz::perplexity(c, p1, E, dev, 3).perplexity).epsilon(1e-12));
  const auto heads = attnviz::measure_heads(c, p1, E, dev);
  REQUIRE(heads.size() == 2);
  CHECK(heads[0].positions == dev.size() * 4);
  const auto prediction = attnviz::lm_predict(c, p1, E, {0, 3, 6});
  CHECK(prediction.logits.size() == 9);
  CHECK(prediction.attention.size() == 1);
  CHECK(prediction.attention[0][1].row(2).sum() == Approx(1.0f));
}
