// Every backward of the language model against float64 central finite differences, on small shapes: each
// parameter of each tensor (positions, layer norms, W_q … W_2, the output bias), for the three mixings.
#include <catch2/catch.hpp>

#include <random>

#include "attnviz/error.hpp"
#include "attnviz/lm.hpp"

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

TEST_CASE("lm gradients: one layer without MLP; the uniform and current-word baselines", "[lm][gradcheck]") {
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
