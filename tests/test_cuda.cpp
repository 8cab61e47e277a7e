// The CUDA backends: the no-GPU path through the real executable, the comparison helper, and (on a
// machine with a GPU) every GPU stage against the Eigen reference element by element. Without CUDA in the
// build or without a device, the GPU tests print why and pass; their names say so.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <random>

#include "attnviz/attention.hpp"
#include "attnviz/error.hpp"
#include "attnviz/model.hpp"
#include "compare_util.hpp"
#include "support.hpp"

using namespace attnviz;
using namespace attnviz::test;
using Catch::Matchers::Contains;

namespace {

const char* kSentence = "the cat chased the mouse";

// Sets an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

}  // namespace

TEST_CASE("Compare: equal matrices match, masked cells are skipped", "[compare]") {
  const float inf = std::numeric_limits<float>::infinity();
  Matrix want(2, 3);
  want << 1.0f, -inf, 3.0f, 1000.0f, 0.0f, -inf;
  Matrix got = want;
  got(1, 0) = 1000.05f;  // within 1e-4 relative of 1000
  const Comparison c = compare_matrices(got, want);
  CHECK(c.ok());
  CHECK(c.checked == 4);
  CHECK(c.skipped == 2);
}

TEST_CASE("Compare: mismatches are counted and the first ones named", "[compare]") {
  const float inf = std::numeric_limits<float>::infinity();
  Matrix want = Matrix::Zero(3, 3);
  want(2, 2) = -inf;
  Matrix got = want;
  got(0, 1) = 0.001f;                                      // beyond the absolute tolerance
  got(1, 2) = std::numeric_limits<float>::quiet_NaN();     // NaN never matches
  got(2, 2) = 0.0f;                                        // a masked cell that is not masked
  const Comparison c = compare_matrices(got, want, Tolerance{}, 2);
  CHECK_FALSE(c.ok());
  CHECK(c.mismatches == 3);
  REQUIRE(c.first.size() == 2);  // only the first two listed
  CHECK_THAT(c.first[0], Contains("[0][1]") && Contains("want 0"));
  CHECK_THAT(c.first[1], Contains("[1][2]") && Contains("nan"));

  CHECK_FALSE(compare_matrices(Matrix::Zero(2, 3), Matrix::Zero(3, 2)).ok());
  std::vector<Stage> a{Stage{"weights", "P", 0, "queries", "keys", {}, {}, want}};
  std::vector<Stage> b{Stage{"weights", "P", 0, "queries", "keys", {}, {}, got}};
  CHECK(compare_traces(a, a).empty());
  CHECK_THAT(compare_traces(b, a), Contains("weights (head 0): 3 of") && Contains("[0][1]"));
}

TEST_CASE("CUDA: --backend cuda without a usable GPU exits 2 with a clear message", "[cuda][cli]") {
  for (const std::string backend : {"cuda", "cuda-flash"}) {
    const auto why = gpu_unavailable(backend);
    if (!why) {
      WARN("a CUDA device is usable here, so the no-GPU path cannot be exercised; the GPU tests ran instead");
      return;
    }
    const Run r = run_attnviz({"run", kSentence, "--backend", backend});
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 2);
    if (compiled_in(backend)) {
      CHECK_THAT(r.err, Contains("--backend " + backend + ": no CUDA device can be used on this machine"));
      CHECK_THAT(r.err, Contains("--backend cpu"));
    } else {
      CHECK_THAT(r.err, Contains("built without CUDA"));
    }
  }
}

TEST_CASE("CUDA: attnviz bench --backend cuda-flash without a usable GPU exits 2 with a clear message", "[cuda][cli]") {
  if (!gpu_unavailable("cuda-flash")) {
    WARN("a CUDA device is usable here, so the no-GPU path cannot be exercised; the GPU tests ran instead");
    return;
  }
  const Run r = run_attnviz({"bench", "--backend", "cuda-flash", "--seq", "64", "--dim", "16", "--min-time", "0"});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains(compiled_in("cuda-flash") ? "no CUDA device can be used on this machine" : "built without CUDA"));
}

TEST_CASE("CUDA: attnviz bench --backend cuda-flash times the kernel and reports GFLOP/s (skips without a GPU)", "[cuda][gpu][cli]") {
  if (auto why = gpu_unavailable("cuda-flash")) {
    WARN("skipped: " << *why);
    return;
  }
  const std::vector<std::string> args{"bench", "--backend", "cuda-flash", "--seq", "1024", "--dim", "64", "--heads", "4", "--causal"};
  const Run r = run_attnviz(args);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("gpu: ") && Contains("kernel flash v") && Contains("GFLOP/s") && Contains("the kernel alone"));
  CHECK_THAT(r.out, Contains("error vs float64"));
  // Each version on request; v3 to v5 need tensor cores with TF32 (sm_80+) and say so on an older GPU.
  for (const std::string version : {"2", "3", "4", "5"}) {
    const Run v = run_attnviz(args, {{"ATTNVIZ_FLASH_VERSION", version}});
    INFO("version " << version << ", stderr: " << v.err);
    if (version >= "3" && v.exit_code == 2) {
      CHECK_THAT(v.err, Contains("compute capability 8.0"));
      continue;
    }
    REQUIRE(v.exit_code == 0);
    CHECK_THAT(v.out, Contains("kernel flash v" + version));
  }
  const Run bad = run_attnviz(args, {{"ATTNVIZ_FLASH_VERSION", "6"}});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("ATTNVIZ_FLASH_VERSION is '6'; use a kernel version from 1 to 5"));
}

TEST_CASE("CUDA: --version and --help list the backends compiled in", "[cuda][cli]") {
  const Run v = run_attnviz({"--version"});
  REQUIRE(v.exit_code == 0);
  const Run h = run_attnviz({"run", "--help"});
  REQUIRE(h.exit_code == 0);
  const std::string expected = compiled_in("cuda") ? "backends: cpu, flash, cuda, cuda-flash" : "backends: cpu, flash)";
  CHECK_THAT(v.out, Contains(expected));
  CHECK_THAT(h.out, Contains(compiled_in("cuda") ? "cpu, flash, cuda, cuda-flash" : "Where attention is computed: cpu, flash ("));
}

TEST_CASE("CLI: --timings on a backend that measures nothing says so", "[cli]") {
  const Run r = run_attnviz({"run", kSentence, "--timings", "--color", "never", "--stages", "output"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("timings: the cpu backend does not measure its steps"));
}

TEST_CASE("CUDA: every stage of cuda and cuda-flash matches the Eigen reference (skips without a GPU)", "[cuda][gpu]") {
  if (auto why = gpu_unavailable("cuda")) {
    WARN("skipped: " << *why);
    return;
  }
  struct Case {
    int n, m, d, H, d_k, d_v;
    bool causal, custom_mask;
    float temperature;
  };
  // Shapes cross the kernels' tile edges (32, 64), odd widths take the unaligned paths, m ≠ n is
  // cross-attention, and d_k = 96, 128 take the D = 128 kernel.
  const std::vector<Case> cases{
      {5, 5, 8, 1, 8, 8, false, false, 1.0f},       {5, 5, 8, 2, 4, 4, true, false, 1.0f},
      {70, 70, 12, 3, 4, 4, true, false, 0.5f},     {130, 130, 16, 2, 8, 8, false, true, 1.0f},
      {65, 100, 10, 1, 7, 9, false, false, 2.0f},   {100, 65, 10, 2, 5, 3, true, false, 1.0f},
      {200, 200, 64, 1, 64, 64, true, false, 1.0f}, {129, 129, 32, 2, 96, 128, false, false, 1.0f},
      {257, 257, 16, 1, 128, 128, true, true, 1.0f}};
  std::mt19937 rng(2024);
  for (const Case& c : cases) {
    const Model model = random_model(c.d, c.H, c.d_k, c.d_v, rng);
    const AttentionInput in = random_input(c.n, c.m, c.d, rng);
    AttentionOptions options;
    options.causal = c.causal;
    options.temperature = c.temperature;
    if (c.custom_mask) {
      Matrix mask = Matrix::Ones(c.n, c.m);
      for (int i = 0; i < c.n; ++i)
        for (int j = 0; j < c.m; ++j)
          if ((i * 7 + j * 3) % 5 == 0 && j != i % c.m) mask(i, j) = 0.0f;  // keep one key per row
      options.mask = mask;
    }
    const auto reference = make_backend("cpu")->compute(model, in, options);
    for (const std::string backend : {"cuda", "cuda-flash"})
      for (const std::string version : {"1", "2", "3", "4", "5"}) {
        if (backend == "cuda" && version != "1") continue;  // one cuda kernel set
        const ScopedEnv env("ATTNVIZ_FLASH_VERSION", version);
        INFO(backend << (backend == "cuda-flash" ? " v" + version : "") << ": n " << c.n << ", m " << c.m << ", d " << c.d
                     << ", H " << c.H << ", d_k " << c.d_k << ", d_v " << c.d_v << (c.causal ? ", causal" : "")
                     << (c.custom_mask ? ", custom mask" : ""));
        StageTimes times;
        std::vector<Stage> got;
        try {
          got = make_backend(backend)->compute_timed(model, in, options, times);
        } catch (const InputError& e) {
          // v3 to v5 need TF32 tensor cores (sm_80+); an older GPU refuses them, clearly.
          if (version < "3" || std::string(e.what()).find("compute capability 8.0") == std::string::npos) throw;
          WARN("v3 not checked: " << e.what());
          continue;
        }
        CHECK(got.size() == (backend == "cuda" ? reference.size() : reference.size() - 3u * static_cast<std::size_t>(c.H)));
        const std::string mismatches = compare_traces(got, reference, Tolerance{1e-4f, 1e-4f});
        CHECK(mismatches == "");
        CHECK_FALSE(times.empty());
      }
  }
}

TEST_CASE("CUDA: run --backend cuda --timings prints the tables and the step times (skips without a GPU)", "[cuda][gpu][cli]") {
  if (auto why = gpu_unavailable("cuda")) {
    WARN("skipped: " << *why);
    return;
  }
  const Run gpu = run_attnviz({"run", kSentence, "--backend", "cuda", "--timings", "--color", "never"});
  REQUIRE(gpu.exit_code == 0);
  CHECK_THAT(gpu.out, Contains("backend: cuda"));
  for (const char* stage : {"queries", "keys", "values", "scores", "scaled_scores", "weights", "context", "output"})
    CHECK_THAT(gpu.out, Contains(stage));
  CHECK_THAT(gpu.out, Contains("timings of the cuda backend") && Contains("softmax P") && Contains("total"));
  const Run flash = run_attnviz({"run", kSentence, "--backend", "cuda-flash", "--timings", "--color", "never"});
  REQUIRE(flash.exit_code == 0);
  CHECK_THAT(flash.out, Contains("never stores the n × n matrices") && Contains("fused attention"));
}
