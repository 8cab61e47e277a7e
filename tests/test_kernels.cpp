// The CPU kernel paths (src/backends/kernels/): every path this machine runs, checked against the baseline
// path's reference and against float64, in process and through the executable (ATTNVIZ_CPU). Each test
// names the paths it ran (Catch2 WARN lines, shown in the test log).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "../src/backends/kernels/dispatch.hpp"
#include "attnviz/attention.hpp"
#include "attnviz/data.hpp"
#include "attnviz/explain.hpp"
#include "attnviz/flash.hpp"
#include "attnviz/pipeline.hpp"
#include "compare_util.hpp"
#include "support.hpp"

using namespace attnviz;
using attnviz::test::input_of;
using attnviz::test::random_matrix;
using attnviz::test::run_attnviz;
using attnviz::test::stage_of;
using Catch::Contains;

namespace {

const kernels::Table& baseline() { return *kernels::available().front(); }

std::string path_names() {
  std::string s;
  for (const auto* t : kernels::available()) s += (s.empty() ? "" : ", ") + std::string(t->name);
  return s;
}

// |a − b| ≤ 1e-6·max(1, max|want|) + 1e-5·|b|, masked cells skipped: the flash tests' tolerance, with the
// absolute part scaled by the stage's largest entry (a score near 0 is a difference of larger products, and
// rounds on the scale of those).
void require_close(const Matrix& got, const Matrix& want, const std::string& what) {
  const float scale = want.size() ? std::max(1.0f, want.array().isFinite().select(want.array().abs(), 0.0f).maxCoeff()) : 1.0f;
  const auto c = attnviz::test::compare_matrices(got, want, {1e-6f * scale, 1e-5f});
  std::ostringstream first;
  for (const auto& m : c.first) first << "  " << what << m << "\n";
  INFO(c.mismatches << " mismatches, first:\n" << first.str());
  CHECK(c.ok());
}

// C = A · B in float64.
Eigen::MatrixXd product64(const Matrix& A, const Matrix& B) { return A.cast<double>() * B.cast<double>(); }

}  // namespace

TEST_CASE("Kernels: the baseline path always runs, and the paths are listed lowest first", "[kernels]") {
  const auto paths = kernels::available();
  REQUIRE(!paths.empty());
  CHECK(std::strcmp(paths.front()->name, "baseline") == 0);
  for (std::size_t i = 1; i < paths.size(); ++i) CHECK(paths[i]->width >= paths[i - 1]->width);
  WARN("kernel paths this CPU runs: " << path_names() << "; in use: " << kernels::active().name);
}

TEST_CASE("Kernels: exp gives the same bits on every path, at every position of a row", "[kernels][exp]") {
  std::vector<float> x;
  for (float v = -120.0f; v <= 100.0f; v += 0.01731f) x.push_back(v);
  const float inf = std::numeric_limits<float>::infinity();
  for (float v : {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), 88.7228f, 88.7229f, -103.972f, -103.973f,
                  std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::max()})
    x.push_back(v);
  std::vector<float> want = x;
  baseline().exp(want.data(), want.size());
  for (const auto* path : kernels::available()) {
    INFO("path " << path->name);
    for (std::size_t count : {x.size(), std::size_t{1}, std::size_t{3}, std::size_t{17}, std::size_t{33}}) {
      std::vector<float> got(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(count));
      path->exp(got.data(), got.size());
      for (std::size_t i = 0; i < count; ++i) {
        if (std::isnan(want[i])) {
          CHECK(std::isnan(got[i]));
        } else if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
          FAIL_CHECK("exp(" << x[i] << ") = " << got[i] << ", baseline " << want[i]);
        }
      }
    }
  }
  WARN("exp checked on: " << path_names());
}

TEST_CASE("Kernels: the matrix product of every path against float64, tails and accumulation included", "[kernels][gemm]") {
  std::mt19937 rng(21);
  for (const auto* path : kernels::available()) {
    for (int M : {1, 5, 6, 7, 13, 64}) {
      for (int N : {1, 3, 4, 8, 15, 16, 33, 64, 70}) {
        for (int K : {1, 2, 9, 64}) {
          INFO("path " << path->name << ", M " << M << ", N " << N << ", K " << K);
          // A and B inside larger matrices, so the strides differ from the widths.
          const Matrix A_big = random_matrix(M, K + 3, rng), B_big = random_matrix(K, N + 5, rng), C0 = random_matrix(M, N + 2, rng);
          const Matrix A = A_big.leftCols(K), B = B_big.leftCols(N);
          Matrix C = C0;
          path->gemm(M, N, K, A_big.data(), A_big.cols(), B_big.data(), B_big.cols(), C.data(), C.cols(), false);
          const Eigen::MatrixXd want = product64(A, B);
          CHECK(((C.leftCols(N).cast<double>() - want).array().abs() <= 1e-5 * (1.0 + want.array().abs())).all());
          CHECK(C.rightCols(2) == C0.rightCols(2));  // nothing written beyond N
          Matrix D = C0;
          path->gemm(M, N, K, A_big.data(), A_big.cols(), B_big.data(), B_big.cols(), D.data(), D.cols(), true);
          const Eigen::MatrixXd want_acc = want + C0.leftCols(N).cast<double>();
          CHECK(((D.leftCols(N).cast<double>() - want_acc).array().abs() <= 1e-5 * (1.0 + want_acc.array().abs())).all());
        }
      }
    }
  }
  WARN("matrix product checked on: " << path_names());
}

TEST_CASE("Kernels: the FMA paths (avx2, avx512) give the same bits: each element is summed in order", "[kernels][gemm]") {
  std::vector<const kernels::Table*> fma;
  for (const auto* t : kernels::available())
    if (std::strcmp(t->name, "baseline") != 0) fma.push_back(t);
  if (fma.size() < 2) {
    WARN("only " << fma.size() << " FMA path on this CPU: nothing to compare");
    return;
  }
  std::mt19937 rng(22);
  const Matrix A = random_matrix(37, 64, rng), B = random_matrix(64, 101, rng);
  Matrix C0(37, 101), C1(37, 101);
  fma[0]->gemm(37, 101, 64, A.data(), 64, B.data(), 101, C0.data(), 101, false);
  fma[1]->gemm(37, 101, 64, A.data(), 64, B.data(), 101, C1.data(), 101, false);
  CHECK(C0.cwiseEqual(C1).all());
  WARN("compared " << fma[0]->name << " with " << fma[1]->name);
}

TEST_CASE("Kernels: both backends on every path equal the baseline reference, bit-identical across threads", "[kernels][flash]") {
  std::mt19937 rng(23);
  const Model model = attnviz::test::random_model(12, 2, 8, 5, rng);
  const Matrix X = random_matrix(150, 12, rng), X_kv = random_matrix(97, 12, rng);
  Matrix mask = Matrix::Ones(150, 150);
  std::bernoulli_distribution keep(0.7);
  for (int i = 0; i < 150; ++i)
    for (int j = 0; j < 150; ++j) mask(i, j) = (j == i || keep(rng)) ? 1.0f : 0.0f;
  mask.block(0, 40, 40, 60).setZero();  // whole tiles masked

  struct Case {
    const char* name;
    AttentionInput in;
    AttentionOptions o;
  };
  std::vector<Case> cases;
  cases.push_back({"self, default tiles", input_of(X, X), {}});
  AttentionOptions causal;
  causal.causal = true;
  causal.block_rows = 7;
  causal.block_cols = 19;
  cases.push_back({"causal, 7 × 19 tiles", input_of(X, X), causal});
  AttentionOptions masked;
  masked.mask = mask;
  masked.causal = true;
  masked.block_rows = 16;
  masked.block_cols = 16;
  masked.temperature = 0.5f;
  cases.push_back({"mask + causal, 16 × 16 tiles, temperature 0.5", input_of(X, X), masked});
  AttentionOptions cross;
  cross.block_rows = 5;
  cross.block_cols = 33;
  cross.scale = false;
  cases.push_back({"cross-attention 150 × 97, no scale", input_of(X, X_kv), cross});

  for (const auto& c : cases) {
    kernels::use(baseline());
    const auto want = make_backend("cpu")->compute(model, c.in, c.o);
    for (const auto* path : kernels::available()) {
      kernels::use(*path);
      for (const std::string backend : {"cpu", "flash"}) {
        INFO("path " << path->name << ", backend " << backend << ", " << c.name);
        AttentionOptions one = c.o, two = c.o, three = c.o;
        one.threads = 1;
        two.threads = 2;
        three.threads = 3;
        const auto a = make_backend(backend)->compute(model, c.in, one);
        for (const auto& stage : a) {
          const Stage& w = stage_of(want, stage.name, stage.head);
          require_close(stage.data, w.data, stage.name);
        }
        const auto b = make_backend(backend)->compute(model, c.in, two);
        const auto d = make_backend(backend)->compute(model, c.in, three);
        REQUIRE(a.size() == b.size());
        for (std::size_t s = 0; s < a.size(); ++s) {
          CHECK(a[s].data.cwiseEqual(b[s].data).all());
          CHECK(a[s].data.cwiseEqual(d[s].data).all());
        }
      }
      // The walkthrough runs the same kernel: its output is the backend's to the bit.
      const FlashWalkthrough w = flash_walkthrough(model, c.in, c.o, 1, c.o.block_rows > 0 ? c.o.block_rows : kFlashDefaultBlockRows,
                                                   c.o.block_cols > 0 ? c.o.block_cols : kFlashDefaultBlockCols);
      CHECK(w.O.cwiseEqual(stage_of(make_backend("flash")->compute(model, c.in, c.o), "context", 1).data).all());
    }
  }
  kernels::use(*kernels::available().back());
  WARN("backends checked on: " << path_names());
}

TEST_CASE("CLI: ATTNVIZ_CPU chooses the path, --version and bench say which, a bad value is exit 2", "[kernels][cli]") {
  for (const auto* path : kernels::available()) {
    INFO("path " << path->name);
    const auto version = run_attnviz({"--version"}, {{"ATTNVIZ_CPU", path->name}});
    REQUIRE(version.exit_code == 0);
    CHECK_THAT(version.out, Contains(std::string("CPU kernels: ") + path->name + " ("));
    for (const char* backend : {"flash", "cpu"}) {
      const auto bench = run_attnviz({"bench", "--seq", "300", "--dim", "24", "--backend", backend, "--min-time", "0", "--json", "-"},
                                     {{"ATTNVIZ_CPU", path->name}});
      REQUIRE(bench.exit_code == 0);
      const auto doc = nlohmann::json::parse(bench.out);
      CHECK(doc["machine"]["exp"] == path->name);
      CHECK_THAT(doc["machine"]["kernels"].get<std::string>(), Contains(path->name));
      CHECK(doc["error"]["max_abs"].get<double>() < 1e-5);
    }
  }
  // With nothing set, the best path runs.
  CHECK_THAT(run_attnviz({"--version"}).out, Contains(std::string("CPU kernels: ") + kernels::available().back()->name));
  const auto bad = run_attnviz({"run", "the cat chased the mouse", "--json", "-"}, {{"ATTNVIZ_CPU", "sse9"}});
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.empty());
  CHECK_THAT(bad.err, Contains("ATTNVIZ_CPU='sse9'"));
  CHECK_THAT(bad.err, Contains("baseline, avx2, avx512"));
  WARN("executable checked on: " << path_names());
}

namespace attnviz::kernels {
const Table& table_portable();  // tests/kernels_portable.cpp
}

TEST_CASE("Kernels: the portable branch (arm64's) gives the baseline path's bits", "[kernels]") {
  const kernels::Table& portable = kernels::table_portable();
  const kernels::Table& base = baseline();
  REQUIRE(portable.width == base.width);
  std::mt19937 rng(24);
  // exp over a range with the special values
  std::vector<float> x;
  for (float v = -120.0f; v <= 100.0f; v += 0.0931f) x.push_back(v);
  x.push_back(-std::numeric_limits<float>::infinity());
  std::vector<float> a = x, b = x;
  portable.exp(a.data(), a.size());
  base.exp(b.data(), b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  // matrix product with remainders
  const Matrix A = random_matrix(13, 70, rng), B = random_matrix(70, 37, rng);
  Matrix C1(13, 37), C2(13, 37);
  portable.gemm(13, 37, 70, A.data(), 70, B.data(), 37, C1.data(), 37, false);
  base.gemm(13, 37, 70, A.data(), 70, B.data(), 37, C2.data(), 37, false);
  CHECK(C1.cwiseEqual(C2).all());
  // the reference's row softmax
  Matrix P1(13, 70), P2(13, 70);
  portable.softmax_rows(A.data(), P1.data(), 70, 13, 70);
  base.softmax_rows(A.data(), P2.data(), 70, 13, 70);
  CHECK(P1.cwiseEqual(P2).all());
  // both backends, through the table
  const Model model = attnviz::test::random_model(12, 2, 8, 5, rng);
  const Matrix X = random_matrix(57, 12, rng);
  AttentionOptions o;
  o.causal = true;
  o.block_rows = 9;
  o.block_cols = 20;
  for (const std::string backend : {"cpu", "flash"}) {
    kernels::use(portable);
    const auto p = make_backend(backend)->compute(model, input_of(X, X), o);
    kernels::use(base);
    const auto q = make_backend(backend)->compute(model, input_of(X, X), o);
    for (std::size_t s = 0; s < p.size(); ++s) {
      INFO(backend << " stage " << p[s].name);
      CHECK(p[s].data.cwiseEqual(q[s].data).all());
    }
  }
  kernels::use(*kernels::available().back());
}

TEST_CASE("Kernels: on every path, explain's arithmetic is the reference trace's to the bit", "[kernels][explain]") {
  const std::string dir = attnviz::test::data_dir().string();
  const Embeddings emb = resolve_embeddings("toy", dir);
  const Model model = resolve_model("toy", emb.dim, 0, dir);
  PipelineOptions causal;
  causal.attention.causal = true;
  causal.attention.temperature = 0.7f;
  for (const auto* path : kernels::available()) {
    kernels::use(*path);
    for (const PipelineOptions& options : {PipelineOptions{}, causal}) {
      const Trace trace = run_attention(emb, model, "the cat chased the mouse across the kitchen floor", options);
      const Stage& P = *trace.find("weights", 0);
      const Stage& Ss = *trace.find("scaled_scores", 0);
      for (int i = 0; i < P.data.rows(); ++i)
        for (int j = 0; j < P.data.cols(); ++j) {
          INFO("path " << path->name << ", cell " << i << "," << j);
          const CellExplanation e = explain_cell(trace, 0, i, j);
          CHECK(e.scaled() == Ss.data(i, j));
          CHECK(e.weight() == P.data(i, j));
        }
    }
  }
  kernels::use(*kernels::available().back());
  WARN("explain checked on: " << path_names());
}

TEST_CASE("Backends: a second compute reuses the first one's freed memory instead of faulting in fresh pages", "[kernels][memory]") {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer replaces malloc with its own allocator (freed blocks wait in a quarantine before any
  // reuse), so glibc's settings that make_backend chooses do not apply: nothing to measure here.
  WARN("skipped under AddressSanitizer: its allocator, not glibc's, serves the backend's memory");
#elif defined(__GLIBC__)
  // The reference at n = 512 writes S, S' and P (3 MiB, 768 pages) every run. Freed blocks of that size
  // would go back to the system, and each run would fault every page in again (at n = 1024 that was three
  // times the attention's own time); make_backend keeps them for reuse (registry.cpp).
  std::mt19937 rng(5);
  const Model model = attnviz::test::random_model(16, 1, 16, 16, rng);
  const Matrix X = random_matrix(512, 16, rng);
  const auto backend = make_backend("cpu");
  AttentionOptions o;
  o.threads = 1;
  const auto minor_faults = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
  };
  { const auto first = backend->compute(model, input_of(X, X), o); }
  const long before = minor_faults();
  { const auto second = backend->compute(model, input_of(X, X), o); }
  const long faults = minor_faults() - before;
  INFO(faults << " page faults in the second compute");
  CHECK(faults < 100);
#else
  WARN("not glibc: the allocator's reuse is not configured here");
#endif
}
