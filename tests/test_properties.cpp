// Property tests (issue #9): random shapes and values, seeded, so every run checks the same cases. Each
// GENERATE(range(0, N)) value is the seed of one case; a failure prints the case (seed, shapes, options)
// so it can be rerun alone with `attnviz_tests "<test name>" -c ...` or by pinning the seed.
//
// Properties, on every backend this build can run (cpu, flash with random tiles, cuda and cuda-flash when a
// GPU is usable):
//   - every stage equals the Eigen reference element by element (absolute + relative tolerance);
//   - each row of the weights sums to 1, masked cells are exactly 0 and their scaled scores exactly −∞;
//   - without positions, permuting the query tokens permutes the output rows, and permuting the key/value
//     tokens (with the mask's columns) leaves the output unchanged up to rounding;
//   - the temperature: S'(T) = S'(1) / T up to float32 rounding, and P(T) = softmax(S'(T));
//   - extreme inputs (±1e30, 1e19, denormals) give an InputError naming the overflow, or finite numbers,
//     never NaN.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "attnviz/attention.hpp"
#include "attnviz/embeddings.hpp"
#include "attnviz/error.hpp"
#include "attnviz/model.hpp"
#include "attnviz/pipeline.hpp"
#include "compare_util.hpp"

using namespace attnviz;
using namespace attnviz::test;
using Catch::Contains;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// The backends of this build that can run here, with the tolerance each is held to against the reference.
struct BackendUnderTest {
  std::string name;
  Tolerance tol;
};

// Asked once: the GPU backends are skipped, with one warning, where no CUDA device can be used.
const std::vector<BackendUnderTest>& runnable_backends() {
  static const std::vector<BackendUnderTest> backends = [] {
    std::vector<BackendUnderTest> out;
    for (const auto& name : backend_names()) {
      if (name == "cpu") continue;  // the reference itself
      if (name == "cuda" || name == "cuda-flash")
        if (auto why = gpu_unavailable(name)) {
          WARN("property tests skip --backend " << name << ": " << *why);
          continue;
        }
      // The CPU flash backend redoes the reference's float32 arithmetic in another order; the GPU ones also
      // use another exp and fused multiply-adds.
      out.push_back({name, name == "flash" ? Tolerance{2e-6f, 2e-5f} : Tolerance{1e-4f, 1e-4f}});
    }
    return out;
  }();
  return backends;
}

// One random case: shapes, a model, an input and the options, all from `seed`.
struct Case {
  Model model;
  AttentionInput input;
  AttentionOptions options;
  std::string description;
};

int uniform_int(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
bool coin(std::mt19937& rng, double p = 0.5) { return std::bernoulli_distribution(p)(rng); }

// A random 0/1 mask (n × m) where every row keeps at least one key that `causal` also allows.
Matrix random_mask(int n, int m, bool causal, std::mt19937& rng) {
  Matrix mask(n, m);
  std::bernoulli_distribution keep(0.6);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < m; ++j) mask(i, j) = keep(rng) ? 1.0f : 0.0f;
    const int last = causal ? std::min(i, m - 1) : m - 1;  // the keys causal leaves to row i: 0..last
    mask(i, uniform_int(rng, 0, last)) = 1.0f;
  }
  return mask;
}

Case random_case(unsigned seed, bool allow_causal_and_mask = true) {
  std::mt19937 rng(seed);
  Case c;
  const int n = uniform_int(rng, 1, 70);
  const bool cross = coin(rng, 0.35);
  const int m = cross ? uniform_int(rng, 1, 70) : n;
  const int d = uniform_int(rng, 1, 16), H = uniform_int(rng, 1, 4), d_k = uniform_int(rng, 1, 8);
  const int d_v = coin(rng) ? d_k : uniform_int(rng, 1, 8);  // d_k ≠ d_v half of the time
  c.model = random_model(d, H, d_k, d_v, rng);
  c.input = cross ? input_of(random_matrix(n, d, rng), random_matrix(m, d, rng)) : random_input(n, n, d, rng);
  AttentionOptions& o = c.options;
  o.causal = allow_causal_and_mask && coin(rng, 0.4);
  if (allow_causal_and_mask && coin(rng, 0.3)) o.mask = random_mask(n, m, o.causal, rng);
  const float temperatures[] = {1.0f, 1.0f, 0.25f, 0.5f, 2.0f, 3.7f};
  o.temperature = temperatures[uniform_int(rng, 0, 5)];
  o.scale = coin(rng, 0.8);
  // Tiles of one row or column, of a random size, and larger than the whole matrix.
  const int tile_choices[] = {1, uniform_int(rng, 1, 9), uniform_int(rng, 2, 40), std::max(n, m) + uniform_int(rng, 1, 5)};
  o.block_rows = tile_choices[uniform_int(rng, 0, 3)];
  o.block_cols = tile_choices[uniform_int(rng, 0, 3)];
  o.threads = uniform_int(rng, 1, 2);
  c.description = fmt::format("seed {}: n {}, m {}{}, d {}, heads {}, d_k {}, d_v {}, causal {}, mask {}, T {}, scale {}, tiles {} × {}",
                              seed, n, m, cross ? " (cross)" : "", d, H, d_k, d_v, o.causal, o.mask.has_value(), o.temperature,
                              o.scale, o.block_rows, o.block_cols);
  return c;
}

// Row permutation: out.row(i) = M.row(perm[i]).
Matrix permute_rows(const Matrix& M, const std::vector<int>& perm) {
  Matrix out(M.rows(), M.cols());
  for (std::size_t i = 0; i < perm.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = M.row(perm[i]);
  return out;
}

std::vector<int> random_permutation(int size, std::mt19937& rng) {
  std::vector<int> perm(static_cast<std::size_t>(size));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  return perm;
}

// Every finite cell, or a −∞ in scaled_scores (a masked cell): never NaN, never +∞.
std::string first_non_finite(const std::vector<Stage>& stages) {
  for (const Stage& s : stages)
    for (Eigen::Index i = 0; i < s.data.rows(); ++i)
      for (Eigen::Index j = 0; j < s.data.cols(); ++j) {
        const float v = s.data(i, j);
        if (std::isfinite(v) || (s.name == "scaled_scores" && v == -kInf)) continue;
        return fmt::format("{} head {} [{}][{}] = {}", s.name, s.head ? *s.head : -1, i, j, v);
      }
  return "";
}

constexpr int kCases = 150;

}  // namespace

TEST_CASE("Properties: every backend equals the reference on random shapes, masks, temperatures and tiles", "[properties]") {
  const unsigned seed = static_cast<unsigned>(GENERATE(range(0, kCases)));
  const Case c = random_case(1000 + seed);
  INFO(c.description);
  const auto reference = make_backend("cpu")->compute(c.model, c.input, c.options);
  CHECK(first_non_finite(reference) == "");
  for (const auto& b : runnable_backends()) {
    INFO("backend " << b.name);
    const auto backend = make_backend(b.name);
    const auto got = backend->compute(c.model, c.input, c.options);
    // The same stages, less the n × m ones when the backend never stores them.
    const std::size_t dropped = backend->stores_attention_matrices() ? 0u : 3u * static_cast<std::size_t>(c.model.heads);
    CHECK(got.size() == reference.size() - dropped);
    CHECK(compare_traces(got, reference, b.tol) == "");
  }
}

TEST_CASE("Properties: weights rows sum to 1, masked cells are exactly 0 and their scaled scores −∞", "[properties]") {
  const unsigned seed = static_cast<unsigned>(GENERATE(range(0, kCases)));
  const Case c = random_case(2000 + seed);
  INFO(c.description);
  const auto stages = make_backend("cpu")->compute(c.model, c.input, c.options);
  const auto n = static_cast<int>(c.input.X.rows()), m = static_cast<int>(c.input.X_kv.rows());
  const auto allowed = allowed_cells(c.options, n, m);
  // A row of m weights, each rounded once by the division and summed in float32: within m + 2 ulps of 1.
  const double row_tol = (m + 2) * static_cast<double>(FLT_EPSILON);
  long long masked_cells = 0;
  for (int h = 0; h < c.model.heads; ++h) {
    const Matrix& S_scaled = stage_of(stages, "scaled_scores", h).data;
    const Matrix& P = stage_of(stages, "weights", h).data;
    for (int i = 0; i < n; ++i) {
      double sum = 0;
      for (int j = 0; j < m; ++j) {
        const bool ok = allowed[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
        INFO("head " << h << " cell [" << i << "][" << j << "] allowed " << ok << " S' " << S_scaled(i, j) << " P " << P(i, j));
        if (!ok) {
          ++masked_cells;
          REQUIRE(P(i, j) == 0.0f);  // exactly, not merely small
          REQUIRE(S_scaled(i, j) == -kInf);
        } else {
          REQUIRE(std::isfinite(S_scaled(i, j)));
          REQUIRE(P(i, j) >= 0.0f);
          REQUIRE(P(i, j) <= 1.0f);
        }
        sum += P(i, j);
      }
      INFO("head " << h << " row " << i << " sums to " << fmt::format("{:.9g}", sum));
      REQUIRE(std::abs(sum - 1.0) <= row_tol);
    }
  }
  if (c.options.causal || c.options.mask) CHECK((masked_cells > 0 || n == 1 || m == 1));
}

TEST_CASE("Properties: a query row with every key masked is an InputError, on every backend", "[properties]") {
  const unsigned seed = static_cast<unsigned>(GENERATE(range(0, 20)));
  Case c = random_case(3000 + seed);
  const auto n = static_cast<int>(c.input.X.rows()), m = static_cast<int>(c.input.X_kv.rows());
  std::mt19937 rng(seed);
  Matrix mask = c.options.mask.value_or(Matrix::Ones(n, m));
  const int row = uniform_int(rng, 0, n - 1);
  mask.row(row).setZero();
  c.options.mask = mask;
  INFO(c.description << ", row " << row << " masked whole");
  for (const std::string name : {"cpu", "flash"})
    CHECK_THROWS_WITH(make_backend(name)->compute(c.model, c.input, c.options),
                      Contains(fmt::format("masks every key of row {}, so its softmax would be 0/0", row)) && Contains("allow at least one key"));
}

TEST_CASE("Properties: without positions, permuting the tokens permutes the outputs", "[properties]") {
  const unsigned seed = static_cast<unsigned>(GENERATE(range(0, 60)));
  // No causal mask: it ties a query to its position, which is what a permutation changes.
  const Case c = random_case(4000 + seed, false);
  INFO(c.description);
  std::mt19937 rng(seed);
  const auto n = static_cast<int>(c.input.X.rows()), m = static_cast<int>(c.input.X_kv.rows());
  const std::vector<int> query_perm = random_permutation(n, rng), key_perm = random_permutation(m, rng);
  std::vector<std::string> names{"cpu"};
  for (const auto& b : runnable_backends()) names.push_back(b.name);
  for (const auto& name : names) {
    INFO("backend " << name);
    const auto backend = make_backend(name);
    const Matrix O = stage_of(backend->compute(c.model, c.input, c.options), "output", std::nullopt).data;  // n × d

    // Queries permuted: row i of the new output is row perm[i] of the old one. Each query row is computed on
    // its own, so only the matrix products' blocking can change a bit.
    AttentionInput queries = input_of(permute_rows(c.input.X, query_perm), c.input.X_kv);
    CHECK(compare_matrices(stage_of(backend->compute(c.model, queries, c.options), "output", std::nullopt).data,
                           permute_rows(O, query_perm), Tolerance{1e-6f, 1e-5f})
              .ok());

    // Keys and values permuted together: the same weighted sum in another order, so the same output up to
    // rounding. Self-attention tokens permuted on both sides permute the output rows the same way.
    AttentionInput keys = input_of(c.input.X, permute_rows(c.input.X_kv, key_perm));
    CHECK(compare_matrices(stage_of(backend->compute(c.model, keys, c.options), "output", std::nullopt).data, O,
                           Tolerance{2e-6f, 2e-5f})
              .ok());
    if (n == m && c.input.X.cwiseEqual(c.input.X_kv).all()) {
      const Matrix X = permute_rows(c.input.X, query_perm);
      CHECK(compare_matrices(stage_of(backend->compute(c.model, input_of(X, X), c.options), "output", std::nullopt).data,
                             permute_rows(O, query_perm), Tolerance{2e-6f, 2e-5f})
                .ok());
    }
  }
}

// score_factor multiplies S once by scale / T (both rounded to float32 first): S'(T) = S × fl(scale/T), while
// S'(1) / T = fl(S × scale) / T. The two differ by the roundings of the factor, the product and the
// division: at most a few ulps, so 4 ulps relative is the tolerance.
TEST_CASE("Properties: a temperature T divides the scaled scores by T, and the weights are their softmax", "[properties]") {
  const unsigned seed = static_cast<unsigned>(GENERATE(range(0, 60)));
  Case c = random_case(5000 + seed);
  std::mt19937 rng(seed);
  c.options.temperature = std::uniform_real_distribution<float>(0.05f, 20.0f)(rng);
  INFO(c.description << ", T now " << c.options.temperature);
  AttentionOptions one = c.options;
  one.temperature = 1.0f;
  const auto cpu = make_backend("cpu");
  const auto hot = cpu->compute(c.model, c.input, c.options);
  const auto base = cpu->compute(c.model, c.input, one);
  for (int h = 0; h < c.model.heads; ++h) {
    const Matrix& S_T = stage_of(hot, "scaled_scores", h).data;
    const Matrix& S_1 = stage_of(base, "scaled_scores", h).data;
    CHECK(stage_of(hot, "scores", h).data.cwiseEqual(stage_of(base, "scores", h).data).all());  // T does not touch S
    const Matrix expected = S_1 / c.options.temperature;  // −∞ stays −∞
    CHECK(compare_matrices(S_T, expected, Tolerance{0.0f, 4 * FLT_EPSILON}).ok());
    // P(T) = softmax(S'(T)), redone in double: within float32 rounding of the exp, the sum and the division.
    const Matrix& P = stage_of(hot, "weights", h).data;
    Matrix softmax(P.rows(), P.cols());
    for (Eigen::Index i = 0; i < S_T.rows(); ++i) {
      const double row_max = S_T.row(i).maxCoeff();
      double sum = 0;
      for (Eigen::Index j = 0; j < S_T.cols(); ++j) sum += std::exp(S_T(i, j) - row_max);
      for (Eigen::Index j = 0; j < S_T.cols(); ++j) softmax(i, j) = static_cast<float>(std::exp(S_T(i, j) - row_max) / sum);
    }
    CHECK(compare_matrices(P, softmax, Tolerance{1e-7f, 1e-5f}).ok());
  }
  // --no-scale with T = 1: S' is S itself, to the bit.
  one.scale = false;
  const auto raw = cpu->compute(c.model, c.input, one);
  for (int h = 0; h < c.model.heads; ++h) {
    const Matrix& S = stage_of(raw, "scores", h).data;
    const Matrix& S_scaled = stage_of(raw, "scaled_scores", h).data;
    for (Eigen::Index i = 0; i < S.rows(); ++i)
      for (Eigen::Index j = 0; j < S.cols(); ++j)
        if (S_scaled(i, j) != -kInf) REQUIRE(S_scaled(i, j) == S(i, j));
  }
}

namespace {

// Embeddings of `words` whose vectors are random × `magnitude` (a JSON file parsed as a user's would be).
Embeddings extreme_embeddings(const std::vector<std::string>& words, int dim, double magnitude, std::mt19937& rng) {
  std::normal_distribution<double> dist(0.0, 1.0);
  std::string vectors;
  for (const auto& w : words) {
    std::string row;
    for (int c = 0; c < dim; ++c) row += fmt::format("{}{:.6g}", c ? "," : "", dist(rng) * magnitude);
    vectors += fmt::format("{}\"{}\":[{}]", vectors.empty() ? "" : ",", w, row);
  }
  return parse_embeddings(fmt::format(R"({{"format":"attnviz-embeddings","version":1,"name":"extreme","dim":{},"vectors":{{{}}}}})",
                                      dim, vectors),
                          "extreme.json");
}

}  // namespace

TEST_CASE("Properties: huge and tiny embeddings give a clear error or finite numbers, never NaN, on every backend", "[properties]") {
  // From denormals (1e-40: below float32's smallest normal 1.2e-38) through 1e19 (products near the
  // float32 limit 3.4e38) to 1e30 (the scores overflow).
  const double magnitude = GENERATE(1e-40, 1e-30, 1e-10, 1.0, 1e10, 1e18, 1e19, 3e19, 1e30);
  const unsigned seed = static_cast<unsigned>(GENERATE(range(0, 4)));
  std::mt19937 rng(seed);
  const std::vector<std::string> words{"a", "b", "c", "d", "e"};
  const int dim = uniform_int(rng, 1, 8);
  const Embeddings emb = extreme_embeddings(words, dim, magnitude, rng);
  const int heads = dim % 2 == 0 && coin(rng) ? 2 : 1;
  const Model model = identity_model(dim, heads);
  PipelineOptions options;
  options.attention.causal = coin(rng);
  options.attention.temperature = coin(rng) ? 1.0f : 0.01f;
  std::vector<std::string> names{"cpu"};
  for (const auto& b : runnable_backends()) names.push_back(b.name);
  for (const auto& name : names) {
    options.backend = name;
    INFO("magnitude " << magnitude << ", dim " << dim << ", heads " << heads << ", causal " << options.attention.causal
                      << ", T " << options.attention.temperature << ", backend " << name);
    try {
      const Trace trace = run_attention(emb, model, "a b c d e a", options);
      CHECK(first_non_finite(trace.stages) == "");
      CHECK(magnitude < 1e30);  // 1e30 squared is beyond float32: it must be refused
      // Weights that exist still sum to 1 per row.
      for (int h = 0; h < heads; ++h)
        if (const Stage* P = trace.find("weights", h))
          for (Eigen::Index i = 0; i < P->data.rows(); ++i) CHECK(P->data.row(i).sum() == Approx(1.0f).margin(1e-5));
    } catch (const InputError& e) {
      const std::string what = e.what();
      INFO(what);
      CHECK(magnitude >= 1e18);  // only values near the float32 limit may be refused
      CHECK_THAT(what, Contains("overflows float32") && Contains("too large"));
    }
  }
}

TEST_CASE("Properties: denormal embeddings give finite outputs and even weights", "[properties]") {
  // 1e-40 vectors: every score is 0 in float32 (1e-80 underflows), so every allowed weight is 1 / (keys).
  std::mt19937 rng(7);
  const Embeddings emb = extreme_embeddings({"a", "b", "c"}, 4, 1e-40, rng);
  PipelineOptions options;
  for (const std::string name : {"cpu", "flash"}) {
    options.backend = name;
    const Trace t = run_attention(emb, identity_model(4), "a b c b", options);
    CHECK(first_non_finite(t.stages) == "");
    const Matrix& O = t.find("output")->data;
    CHECK(O.allFinite());
    CHECK(O.cwiseAbs().maxCoeff() < 1e-38f);  // the mean of denormal values stays tiny, and not NaN
    if (const Stage* P = t.find("weights", 0)) CHECK(P->data.isApproxToConstant(0.25f));
  }
}
