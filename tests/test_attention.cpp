// The reference backend against a hand-worked example and the properties every attention must have.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <numeric>

#include "attnviz/attention.hpp"
#include "attnviz/error.hpp"
#include "attnviz/pipeline.hpp"

using namespace attnviz;

namespace {

AttentionInput input_of(const Matrix& X) {
  AttentionInput in;
  in.X = X;
  in.X_kv = X;
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    in.query_tokens.push_back("t" + std::to_string(i));
  }
  in.key_tokens = in.query_tokens;
  for (Eigen::Index c = 0; c < X.cols(); ++c) in.dim_labels.push_back("d" + std::to_string(c));
  return in;
}

const Stage& stage(const std::vector<Stage>& stages, const std::string& name, std::optional<int> head = 0) {
  for (const auto& s : stages)
    if (s.name == name && (s.head == head || !s.head)) return s;
  FAIL("no stage " << name);
  throw std::logic_error("unreachable");
}

void require_matrix(const Matrix& got, std::initializer_list<std::initializer_list<double>> want, double tol = 1e-6) {
  REQUIRE(got.rows() == static_cast<Eigen::Index>(want.size()));
  Eigen::Index r = 0;
  for (const auto& row : want) {
    REQUIRE(got.cols() == static_cast<Eigen::Index>(row.size()));
    Eigen::Index c = 0;
    for (double v : row) {
      INFO("cell [" << r << "][" << c << "]");
      CHECK(got(r, c) == Approx(v).margin(tol));
      ++c;
    }
    ++r;
  }
}

Matrix random_matrix(int rows, int cols, unsigned seed, float scale = 1.0f) {
  std::srand(seed);
  return Matrix::Random(rows, cols) * scale;
}

}  // namespace

// Worked by hand: X = [1 0; 0 1; 1 1], identity model (Q = K = V = X), d_k = 2.
// S = X·Xᵀ = [1 0 1; 0 1 1; 1 1 2]; S' = S/√2.
// Row 0: exp(S' − max) = [1, e^(−1/√2), 1] = [1, 0.4930687, 1], sum 2.4930687 → P = [0.4011121, 0.1977758, 0.4011121].
// Row 2: [e^(−1/√2), e^(−1/√2), 1], sum 1.9861374 → P = [0.2482551, 0.2482551, 0.5034898].
// A = P·V: row 0 = 0.4011121·[1,0] + 0.1977758·[0,1] + 0.4011121·[1,1] = [0.8022242, 0.5988879].
TEST_CASE("Attention: a hand-worked three-token example, every stage", "[attention]") {
  Matrix X(3, 2);
  X << 1, 0, 0, 1, 1, 1;
  const Model model = identity_model(2);
  const auto stages = make_backend("cpu")->compute(model, input_of(X), AttentionOptions{});
  require_matrix(stage(stages, "queries").data, {{1, 0}, {0, 1}, {1, 1}});
  require_matrix(stage(stages, "keys").data, {{1, 0}, {0, 1}, {1, 1}});
  require_matrix(stage(stages, "values").data, {{1, 0}, {0, 1}, {1, 1}});
  require_matrix(stage(stages, "scores").data, {{1, 0, 1}, {0, 1, 1}, {1, 1, 2}});
  const double r = 1.0 / std::sqrt(2.0);
  require_matrix(stage(stages, "scaled_scores").data, {{r, 0, r}, {0, r, r}, {r, r, 2 * r}});
  require_matrix(stage(stages, "weights").data,
                 {{0.4011121, 0.1977758, 0.4011121}, {0.1977758, 0.4011121, 0.4011121}, {0.2482551, 0.2482551, 0.5034898}});
  require_matrix(stage(stages, "context").data, {{0.8022242, 0.5988879}, {0.5988879, 0.8022242}, {0.7517449, 0.7517449}});
  require_matrix(stage(stages, "concat", std::nullopt).data, {{0.8022242, 0.5988879}, {0.5988879, 0.8022242}, {0.7517449, 0.7517449}});
  require_matrix(stage(stages, "output", std::nullopt).data, {{0.8022242, 0.5988879}, {0.5988879, 0.8022242}, {0.7517449, 0.7517449}});
  CHECK(stage(stages, "weights").row_axis == "queries");
  CHECK(stage(stages, "weights").col_axis == "keys");
}

TEST_CASE("Attention: biases and W_o are applied as b + X·W", "[attention]") {
  Matrix X(2, 2);
  X << 1, 2, 3, 4;
  Model m = identity_model(2);
  m.W_v << 2, 0, 0, 2;           // V = 2X + b_v
  m.b_v << 1, -1;
  m.W_o << 0, 1, 1, 0;           // swaps the two columns
  m.b_o << 10, 20;
  m.W_q.setZero();               // Q = 0 → all scores 0 → uniform weights
  const auto stages = make_backend("cpu")->compute(m, input_of(X), AttentionOptions{});
  require_matrix(stage(stages, "values").data, {{3, 3}, {7, 7}});
  require_matrix(stage(stages, "weights").data, {{0.5, 0.5}, {0.5, 0.5}});
  require_matrix(stage(stages, "output", std::nullopt).data, {{15, 25}, {15, 25}});
}

TEST_CASE("Attention: softmax rows sum to 1 and stay finite for scores of ±1e4", "[attention]") {
  for (float scale : {1.0f, 100.0f, 1e4f}) {
    Matrix X = random_matrix(7, 4, 3, scale);
    const auto stages = make_backend("cpu")->compute(identity_model(4), input_of(X), AttentionOptions{});
    const Matrix& P = stage(stages, "weights").data;
    INFO("scale " << scale);
    CHECK(stage(stages, "scores").data.cwiseAbs().maxCoeff() > scale * scale * 0.05f);
    REQUIRE(P.allFinite());
    CHECK((P.array() >= 0).all());
    for (Eigen::Index i = 0; i < P.rows(); ++i) CHECK(P.row(i).sum() == Approx(1.0).margin(1e-6));
    CHECK(stage(stages, "output", std::nullopt).data.allFinite());
  }
}

TEST_CASE("Attention: permuting the tokens permutes every output row the same way", "[attention]") {
  Matrix X = random_matrix(5, 4, 11);
  const std::vector<int> perm{3, 0, 4, 1, 2};
  Matrix Xp(5, 4);
  for (int i = 0; i < 5; ++i) Xp.row(i) = X.row(perm[static_cast<std::size_t>(i)]);
  Model m = identity_model(4, 2);
  m.W_q = random_matrix(4, 4, 5);
  m.W_k = random_matrix(4, 4, 6);
  const auto a = make_backend("cpu")->compute(m, input_of(X), AttentionOptions{});
  const auto b = make_backend("cpu")->compute(m, input_of(Xp), AttentionOptions{});
  const Matrix& O = stage(a, "output", std::nullopt).data;
  const Matrix& Op = stage(b, "output", std::nullopt).data;
  for (int i = 0; i < 5; ++i)
    for (int c = 0; c < 4; ++c) CHECK(Op(i, c) == Approx(O(perm[static_cast<std::size_t>(i)], c)).margin(1e-6));
}

TEST_CASE("Attention: causal and custom masks give -inf scores and exactly 0 weight", "[attention]") {
  Matrix X = random_matrix(4, 2, 7);
  AttentionOptions o;
  o.causal = true;
  const auto stages = make_backend("cpu")->compute(identity_model(2), input_of(X), o);
  const Matrix& Sp = stage(stages, "scaled_scores").data;
  const Matrix& P = stage(stages, "weights").data;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      if (j > i) {
        CHECK(std::isinf(Sp(i, j)));
        CHECK(Sp(i, j) < 0);
        CHECK(P(i, j) == 0.0f);
      } else {
        CHECK(P(i, j) > 0.0f);
      }
    }
  CHECK(P(0, 0) == 1.0f);

  AttentionOptions all_masked;
  all_masked.mask = Matrix::Ones(4, 4);
  all_masked.mask->row(2).setZero();
  CHECK_THROWS_AS(make_backend("cpu")->compute(identity_model(2), input_of(X), all_masked), InputError);
  all_masked.mask = Matrix::Ones(3, 4);
  CHECK_THROWS_WITH(make_backend("cpu")->compute(identity_model(2), input_of(X), all_masked), Catch::Contains("3 × 4"));
}

TEST_CASE("Attention: temperature divides the scaled scores, --no-scale drops 1/sqrt(d_k)", "[attention]") {
  Matrix X = random_matrix(3, 4, 9);
  AttentionOptions base, hot, raw;
  hot.temperature = 2.5f;
  raw.scale = false;
  auto backend = make_backend("cpu");
  const Matrix S = stage(backend->compute(identity_model(4), input_of(X), base), "scaled_scores").data;
  const Matrix S_hot = stage(backend->compute(identity_model(4), input_of(X), hot), "scaled_scores").data;
  const Matrix S_raw = stage(backend->compute(identity_model(4), input_of(X), raw), "scaled_scores").data;
  const Matrix scores = stage(backend->compute(identity_model(4), input_of(X), raw), "scores").data;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      CHECK(S_hot(i, j) == Approx(S(i, j) / 2.5f).margin(1e-6));
      CHECK(S_raw(i, j) == Approx(scores(i, j)).margin(1e-6));
      CHECK(S(i, j) == Approx(scores(i, j) / 2.0f).margin(1e-6));
    }
}

TEST_CASE("Attention: sinusoidal positions follow Attention Is All You Need", "[attention]") {
  const Matrix PE = sinusoidal_positions(3, 4);
  CHECK(PE(0, 0) == 0.0f);
  CHECK(PE(0, 1) == 1.0f);
  CHECK(PE(1, 0) == Approx(std::sin(1.0)));
  CHECK(PE(1, 1) == Approx(std::cos(1.0)));
  CHECK(PE(2, 2) == Approx(std::sin(2.0 / 100.0)));  // 10000^(2/4) = 100
  CHECK(PE(2, 3) == Approx(std::cos(2.0 / 100.0)));
}
