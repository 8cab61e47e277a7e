// The flash backend against the reference element by element, the walkthrough, the IO counts, threads,
// the vectorised exp, and the commands `attnviz flash` and `attnviz bench`.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../src/backends/vexp.hpp"
#include "attnviz/attention.hpp"
#include "attnviz/error.hpp"
#include "attnviz/flash.hpp"
#include "compare_util.hpp"
#include "support.hpp"

using namespace attnviz;
using attnviz::test::input_of;
using attnviz::test::random_matrix;
using attnviz::test::run_attnviz;
using attnviz::test::stage_of;
using Catch::Contains;

namespace {

// A model of `heads` heads of width d_head (d_k = d_v) with random weights and biases.
Model random_model(int d_model, int heads, int d_head, std::mt19937& rng) {
  return attnviz::test::random_model(d_model, heads, d_head, d_head, rng);
}

// Element by element with the shared helper (compare_util.hpp): |a − b| ≤ abs_tol + rel_tol·|b|, masked
// cells skipped, the first mismatches printed.
void require_close(const Matrix& got, const Matrix& want, const std::string& what, double rel_tol = 1e-5, double abs_tol = 1e-6) {
  const auto c = attnviz::test::compare_matrices(got, want, {static_cast<float>(abs_tol), static_cast<float>(rel_tol)});
  std::ostringstream first;
  for (const auto& m : c.first) first << "  " << what << m << "\n";
  INFO(c.mismatches << " mismatches, first:\n" << first.str());
  CHECK(c.ok());
}

// The flash backend's context and output against the reference's.
void compare_backends(const Model& model, const AttentionInput& in, const AttentionOptions& options) {
  const auto ref = make_backend("cpu")->compute(model, in, options);
  const auto flash = make_backend("flash")->compute(model, in, options);
  for (int h = 0; h < model.heads; ++h)
    require_close(stage_of(flash, "context", h).data, stage_of(ref, "context", h).data, "context head " + std::to_string(h));
  require_close(stage_of(flash, "output", std::nullopt).data, stage_of(ref, "output", std::nullopt).data, "output");
  for (const auto& s : flash) CHECK(!s.is_attention());  // no n × m stage
}

constexpr int kBr = 8, kBc = 5;  // Bc does not divide Br, and neither divides most n below

}  // namespace

TEST_CASE("Flash: equals the reference for every n, heads, causal, temperature, no-scale", "[flash]") {
  std::mt19937 rng(11);
  for (int heads : {1, 2, 4}) {
    const Model model = random_model(8, heads, 4, rng);
    for (int n : {1, 2, kBr - 1, kBr, kBr + 1, 3 * kBr + 5, 300}) {
      const Matrix X = random_matrix(n, 8, rng);
      const AttentionInput in = input_of(X, X);
      for (bool causal : {false, true}) {
        AttentionOptions o;
        o.block_rows = kBr;
        o.block_cols = kBc;
        o.causal = causal;
        o.temperature = n % 2 ? 0.5f : 1.0f;
        o.scale = heads != 2;
        INFO("heads " << heads << ", n " << n << ", causal " << causal);
        compare_backends(model, in, o);
      }
    }
  }
}

TEST_CASE("Flash: the default tiles, a custom mask and cross-attention (n ≠ m)", "[flash]") {
  std::mt19937 rng(12);
  const Model model = random_model(6, 2, 3, rng);
  SECTION("default tiles, n larger than one tile") {
    const Matrix X = random_matrix(kFlashDefaultBlockRows + 44, 6, rng);
    compare_backends(model, input_of(X, X), AttentionOptions{});
  }
  SECTION("custom mask with whole tiles masked, combined with causal") {
    const int n = 23;
    Matrix mask = Matrix::Ones(n, n);
    std::bernoulli_distribution keep(0.6);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) mask(i, j) = (j == i / 2 || keep(rng)) ? 1.0f : 0.0f;
    mask.block(0, 10, 8, 10).setZero();  // a whole tile of 8 × 5 masked
    const Matrix X = random_matrix(n, 6, rng);
    for (bool causal : {false, true}) {
      AttentionOptions o;
      o.mask = mask;
      o.causal = causal;
      o.block_rows = kBr;
      o.block_cols = kBc;
      compare_backends(model, input_of(X, X), o);
    }
  }
  SECTION("cross-attention, 7 queries and 13 keys, causal too") {
    const AttentionInput in = input_of(random_matrix(7, 6, rng), random_matrix(13, 6, rng));
    for (bool causal : {false, true}) {
      AttentionOptions o;
      o.causal = causal;
      o.block_rows = 3;
      o.block_cols = 4;
      compare_backends(model, in, o);
    }
  }
  SECTION("a row masked whole is an input error, as in the reference") {
    Matrix mask = Matrix::Ones(4, 4);
    mask.row(2).setZero();
    AttentionOptions o;
    o.mask = mask;
    const Matrix X = random_matrix(4, 6, rng);
    CHECK_THROWS_AS(make_backend("flash")->compute(model, input_of(X, X), o), InputError);
  }
}

TEST_CASE("Flash: scores of ±1e4 (a naive exp overflows) stay finite and exact", "[flash]") {
  // Integer inputs make every score an exact integer in float32, so both backends see the same S'.
  const int n = 19, d = 4;
  Matrix X(n, d);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < d; ++c) X(i, c) = static_cast<float>(((i * 7 + c * 3) % 11) - 5) * 15.0f;
  Model model = identity_model(d, 1);
  AttentionInput in = input_of(X, X);
  AttentionOptions o;
  o.scale = false;
  o.block_rows = 4;
  o.block_cols = 3;
  const auto ref = make_backend("cpu")->compute(model, in, o);
  CHECK(stage_of(ref, "scores", 0).data.cwiseAbs().maxCoeff() >= 9000.0f);  // std::exp of that overflows
  const auto flash = make_backend("flash")->compute(model, in, o);
  const Matrix& A = stage_of(flash, "context", 0).data;
  CHECK(A.allFinite());
  require_close(A, stage_of(ref, "context", 0).data, "context");
  o.causal = true;
  compare_backends(model, in, o);
}

TEST_CASE("Flash: results are bit-identical for every thread count, in both backends", "[flash][threads]") {
  std::mt19937 rng(13);
  const Model model = random_model(8, 2, 4, rng);
  const Matrix X = random_matrix(300, 8, rng);
  const AttentionInput in = input_of(X, X);
  for (const std::string name : {"cpu", "flash"}) {
    AttentionOptions one, two, three;
    one.threads = 1;
    two.threads = 2;
    three.threads = 3;
    const auto a = make_backend(name)->compute(model, in, one);
    const auto b = make_backend(name)->compute(model, in, two);
    const auto c = make_backend(name)->compute(model, in, three);
    REQUIRE(a.size() == b.size());
    for (std::size_t s = 0; s < a.size(); ++s) {
      INFO(name << " stage " << a[s].name);
      CHECK(a[s].data.cwiseEqual(b[s].data).all());
      CHECK(a[s].data.cwiseEqual(c[s].data).all());
    }
  }
}

TEST_CASE("Flash: the walkthrough ends with the backend's output and keeps the paper's invariants", "[flash]") {
  std::mt19937 rng(14);
  const Model model = random_model(6, 2, 3, rng);
  const Matrix X = random_matrix(11, 6, rng);
  const AttentionInput in = input_of(X, X);
  AttentionOptions o;
  o.causal = true;
  o.block_rows = 3;
  o.block_cols = 4;
  const auto flash = make_backend("flash")->compute(model, in, o);
  const FlashWalkthrough w = flash_walkthrough(model, in, o, 1, 3, 4);
  CHECK(w.O.cwiseEqual(stage_of(flash, "context", 1).data).all());
  // Tr = 4 query blocks, Tc = 3 key blocks; causal skips the tiles whose first key follows every query.
  int expected_steps = 0;
  for (int row0 = 0; row0 < 11; row0 += 3)
    for (int col0 = 0; col0 < 11; col0 += 4) expected_steps += col0 <= std::min(row0 + 2, 10) ? 1 : 0;
  CHECK(static_cast<int>(w.steps.size()) == expected_steps);
  for (const auto& s : w.steps) {
    INFO("step i " << s.i << " j " << s.j);
    CHECK(s.i == s.row0 / 3);
    for (int r = 0; r < s.rows; ++r) {
      CHECK(s.m_new(r) >= s.m_old(r));
      CHECK(s.rescale(r) == Approx(s.m_old(r) == -std::numeric_limits<float>::infinity() ? 0.0 : std::exp(s.m_old(r) - s.m_new(r))));
      CHECK(s.l_new(r) == Approx(s.rescale(r) * s.l_old(r) + s.P.row(r).sum()).epsilon(1e-6));
      CHECK(s.P.row(r).maxCoeff() <= 1.0f);
    }
  }
}

TEST_CASE("Flash: slow-memory counts of a tiny case, worked by hand", "[flash][io]") {
  // n = m = 4, d = 2, Br = Bc = 2, M = 16 floats (0.0625 KiB).
  // Standard: reads Q 8 + K 8 + S 16 + P 16 + V 8 = 56; writes S 16 + P 16 + O 8 = 40.
  // Tiled: 2 query blocks, each reads Q_i (4) and two tiles of K_j, V_j (8 each), writes O_i (4): 40 reads, 8 writes.
  // The paper's tiles for M = 16: Bc = ⌈16 / (4·2)⌉ = 2, Br = min(2, 2) = 2, so the same counts.
  AttentionOptions o;
  FlashIo io = flash_io(4, 4, 2, 2, 1, o, 2, 2, 0.0625);
  CHECK(io.standard.reads == 56);
  CHECK(io.standard.writes == 40);
  CHECK(io.tiled.reads == 40);
  CHECK(io.tiled.writes == 8);
  CHECK(io.paper_Br == 2);
  CHECK(io.paper_Bc == 2);
  CHECK(io.paper_tiled.total() == 48);
  CHECK(io.standard_model == 8 + 16);  // n·d + n²
  CHECK(io.tiled_model == 4.0);        // n²·d² / M = 16·4/16
  // Causal: the tile (rows 0-1, keys 2-3) is skipped: 8 fewer reads. Two heads double everything.
  o.causal = true;
  io = flash_io(4, 4, 2, 2, 2, o, 2, 2, 0.0625);
  CHECK(io.tiled.reads == 2 * 32);
  CHECK(io.tiled.writes == 2 * 8);
}

TEST_CASE("Flash: the vectorised exp agrees with std::exp and never gives NaN", "[flash][exp]") {
  std::vector<float> x;
  for (double v = -110.0; v <= 89.0; v += 0.0137) x.push_back(static_cast<float>(v));
  for (float v : {0.0f, -0.0f, 1e-8f, -1e-8f, -87.5f, -88.7f, 88.7f}) x.push_back(v);
  std::vector<float> y = x;
  exp_inplace(y.data(), y.size());
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    INFO("x = " << x[i]);
    REQUIRE(!std::isnan(y[i]));
    if (want > std::numeric_limits<float>::max())
      CHECK(std::isinf(y[i]));
    else if (want >= std::numeric_limits<float>::min())
      worst = std::max(worst, std::abs(y[i] - want) / want);
    else
      CHECK(std::abs(y[i] - want) <= 2e-45);  // denormal or zero results: within one denormal step
  }
  CHECK(worst < 5e-7);
  float special[] = {-std::numeric_limits<float>::infinity(), -1e30f, -200.0f, std::numeric_limits<float>::infinity(), 100.0f,
                     std::numeric_limits<float>::quiet_NaN(), 0.0f};
  exp_inplace(special, 7);
  CHECK(special[0] == 0.0f);
  CHECK(special[1] == 0.0f);
  CHECK(special[2] == 0.0f);
  CHECK(std::isinf(special[3]));
  CHECK(std::isinf(special[4]));
  CHECK(std::isnan(special[5]));
  CHECK(special[6] == 1.0f);
  // Every position, tail or not, gives the same result for the same argument.
  float one = -1.2345f;
  exp_inplace(&one, 1);
  for (std::size_t count = 1; count <= 17; ++count) {
    std::vector<float> v(count, -1.2345f);
    exp_inplace(v.data(), count);
    for (float e : v) CHECK(e == one);
  }
}

TEST_CASE("CLI: the standard backend refuses above --max-memory and suggests --backend flash", "[flash][cli]") {
  // 60 tokens: 60 × 60 × 3 matrices × 4 bytes = 42 KiB, 717 KiB with their tables. --max-memory also covers
  // the files read (the toy model and the kept toy vectors, about 30 KiB) and the n × d matrices (15 KiB),
  // so the budget is 64K.
  std::string sentence = "the cat chased the mouse";
  for (int i = 1; i < 12; ++i) sentence += " the cat chased the mouse";
  auto refused = run_attnviz({"run", sentence, "--max-memory", "64K"});
  INFO(refused.err);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Contains("--backend flash"));
  CHECK_THAT(refused.err, Contains("--max-memory"));
  CHECK(refused.out.empty());
  // Without the tables: 42 + 15 + 30 KiB.
  CHECK(run_attnviz({"run", sentence, "--max-memory", "100K", "--stages", "output"}).exit_code == 0);
  CHECK(run_attnviz({"run", sentence, "--max-memory", "80K", "--stages", "output"}).exit_code == 2);
  CHECK(run_attnviz({"run", sentence, "--max-memory", "60K", "--backend", "flash"}).exit_code == 0);
  auto bad = run_attnviz({"run", sentence, "--max-memory", "12Q"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("--max-memory"));
}

TEST_CASE("CLI: run --backend flash has no n × n stages and says so, and --threads does not change a bit", "[flash][cli]") {
  const std::string sentence = "the cat chased the mouse and the dog chased the cat";
  auto flash = run_attnviz({"run", sentence, "--backend", "flash", "--json", "-", "--causal"});
  REQUIRE(flash.exit_code == 0);
  const auto doc = nlohmann::json::parse(flash.out);
  CHECK(doc["config"]["backend"] == "flash");
  for (const auto& s : doc["stages"]) CHECK(s["name"] != "weights");
  CHECK_THAT(run_attnviz({"run", sentence, "--backend", "flash", "--color", "never"}).out, Contains("never stores"));
  for (const std::string backend : {"cpu", "flash"}) {
    auto one = run_attnviz({"run", sentence, "--backend", backend, "--json", "-", "--threads", "1"});
    auto two = run_attnviz({"run", sentence, "--backend", backend, "--json", "-", "--threads", "2"});
    CHECK(one.exit_code == 0);
    CHECK(one.out == two.out);
  }
  CHECK_THAT(run_attnviz({"--version"}).out, Contains("cpu, flash"));
}

TEST_CASE("CLI: attnviz flash walks through the tiles and ends beside the reference", "[flash][cli]") {
  const std::string sentence = "the cat chased the mouse";
  auto text = run_attnviz({"flash", sentence, "--block-rows", "2", "--block-cols", "3", "--color", "never", "--io"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  for (const char* part : {"S_0,0", "S_2,1", "m_old", "ℓ_new", "rescale", "O_2", "largest |flash", "Θ(n²d²/M)", "standard / tiled"})
    CHECK_THAT(text.out, Contains(part));
  // Blocks count from 0 on screen as in the JSON ("i", "j") and docs/flash-attention.md ("for i in 0 .. Tr−1").
  CHECK_THAT(text.out, Contains("== query block i = 0 (rows 0..1) =="));
  CHECK_THAT(text.out, Contains("-- step: i = 2, j = 1 (keys 3..4) --"));
  CHECK_THAT(text.out, !Contains("S_3,2"));

  auto json = run_attnviz({"flash", sentence, "--block-rows", "2", "--block-cols", "3", "--json", "-", "--io", "--causal"});
  REQUIRE(json.exit_code == 0);
  const auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["format"] == "attnviz-flash");
  CHECK(doc["steps"].size() == 5);  // 3 query blocks × 2 key blocks, minus the tile (rows 0-1, keys 3-4)
  CHECK(doc["final"]["max_abs_difference"]["output"].get<double>() < 1e-5);
  CHECK(doc["io"]["tiled"]["count"]["total"].get<double>() > 0);

  CHECK(run_attnviz({"flash", sentence, "--head", "9"}).exit_code == 2);
  CHECK(run_attnviz({"flash", sentence, "--block-rows", "0"}).exit_code == 2);
  std::string long_sentence;
  for (int i = 0; i < 60; ++i) long_sentence += "the cat chased the mouse ";  // 300 tokens: 75 × 75 tiles of 4 × 4
  auto too_long = run_attnviz({"flash", long_sentence});
  CHECK(too_long.exit_code == 2);
  CHECK_THAT(too_long.err, Contains("--block-rows"));
}

TEST_CASE("CLI: attnviz bench --backend flash at n = 16384 peaks under 64 MiB with its attention-alone runs", "[flash][cli][bench]") {
  // The memory goal, measured as bench/attention.sh does (the whole process's ru_maxrss). Timing the
  // attention alone once kept copies of Q, K and V beside the layer's stages: 68.9 MiB.
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's shadow memory, redzones and quarantine add to every process's resident size: the
  // goal is about the Release build, which measures it.
  WARN("skipped under AddressSanitizer: its own memory counts in the resident size measured here");
  return;
#endif
  const auto r = run_attnviz({"bench", "--seq", "16384", "--dim", "64", "--backend", "flash", "--min-time", "0", "--json", "-"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc.contains("attention_alone"));
  CHECK(doc["peak_rss_mib"].get<double>() <= 64.0);
}

TEST_CASE("CLI: attnviz bench reports the rate, the memory and a tiny error as JSON", "[flash][cli][bench]") {
  for (const std::string backend : {"cpu", "flash"}) {
    auto r = run_attnviz({"bench", "--seq", "64", "--dim", "16", "--heads", "2", "--backend", backend, "--json", "-",
                          "--min-time", "0.01", "--threads", "2"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto doc = nlohmann::json::parse(r.out);
    CHECK(doc["format"] == "attnviz-bench");
    CHECK(doc["config"]["backend"] == backend);
    CHECK(doc["config"]["seq"] == 64);
    CHECK(doc["flops"].get<double>() == 4.0 * 64 * 64 * 16 * 2);
    CHECK(doc["gflops"].get<double>() > 0);
    CHECK(doc["gemm"]["gflops"].get<double>() > 0);
    CHECK(doc["ratio"].get<double>() == Approx(doc["gflops"].get<double>() / doc["gemm"]["gflops"].get<double>()));
    CHECK(doc["cpu_time"]["ratio"].get<double>() > 0);
    CHECK(doc["peak_rss_mib"].get<double>() > 1);
    CHECK(doc["error"]["rows_checked"] == 64);
    CHECK(doc["error"]["max_abs"].get<double>() < 1e-5);
    // flash also times its attention alone, given Q, K, V (the peer's work): less work than the whole layer.
    if (backend == "flash") {
      REQUIRE(doc.contains("attention_alone"));
      const auto& alone = doc["attention_alone"];
      CHECK(alone["runs"].get<int>() >= 1);
      CHECK(alone["seconds_median"].get<double>() > 0);
      CHECK(alone["gflops"].get<double>() == Approx(doc["flops"].get<double>() / alone["seconds_median"].get<double>() / 1e9));
      CHECK(alone["gflops_cpu"].get<double>() > 0);
      CHECK_THAT(alone["timed"].get<std::string>(), Contains("no projections"));
    } else {
      CHECK_FALSE(doc.contains("attention_alone"));
    }
  }
  auto refused = run_attnviz({"bench", "--seq", "4096", "--backend", "cpu", "--max-memory", "64M"});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Contains("--backend flash"));
  CHECK(run_attnviz({"bench", "--seq", "8", "--backend", "nope"}).exit_code == 2);
}
