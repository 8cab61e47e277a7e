// The benchmark behind `attnviz bench`. It goes through make_backend and Backend::compute, the code the
// other commands use, on a random model whose projections produce Q, K, V with unit-variance entries.
#include "bench.hpp"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "attnviz/attention.hpp"
#include "attnviz/error.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/stages.hpp"
#include "../backends/backends.hpp"
#include "../backends/parallel.hpp"
#include "../backends/kernels/dispatch.hpp"
#include "../backends/vexp.hpp"

namespace attnviz {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// CPU time of the whole process (every thread), in seconds.
double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

Matrix random_normal(int rows, int cols, double stddev, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, static_cast<float>(stddev));
  Matrix M(rows, cols);
  for (Eigen::Index i = 0; i < M.size(); ++i) M.data()[i] = dist(rng);
  return M;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t k = v.size() / 2;
  return v.size() % 2 ? v[k] : (v[k - 1] + v[k]) / 2;
}

const Stage& find_stage(const std::vector<Stage>& stages, std::string_view name, int head) {
  for (const auto& s : stages)
    if (s.name == name && s.head == head) return s;
  throw Error(fmt::format("the backend returned no '{}' stage for head {}", name, head + 1));
}

// Wall and process CPU times of repeated runs: one warm-up run, counted when it alone took min_seconds; then
// `prepare` (untimed: drop what the last run left) and `run` until min_seconds are measured (at most 50 runs).
// `done` is told how many runs have finished, the warm-up included.
struct Timings {
  std::vector<double> wall, cpu;
};

template <typename Prepare, typename Run, typename Done>
Timings time_runs(double min_seconds, Prepare prepare, Run run, Done done) {
  Timings t;
  auto start = Clock::now();
  double cpu_start = process_cpu_seconds();
  run();
  const double first = seconds_since(start);
  done(1);
  if (first >= min_seconds) {
    t.wall.push_back(first);
    t.cpu.push_back(process_cpu_seconds() - cpu_start);
  }
  double measured = 0;
  while (t.wall.empty() || (measured < min_seconds && t.wall.size() < 50)) {
    prepare();
    start = Clock::now();
    cpu_start = process_cpu_seconds();
    run();
    t.wall.push_back(seconds_since(start));
    t.cpu.push_back(process_cpu_seconds() - cpu_start);
    measured += t.wall.back();
    done(static_cast<int>(t.wall.size()) + (first >= min_seconds ? 0 : 1));
  }
  return t;
}

// What a run will take, from a short calibration (--max-time): above 1024 tokens one compute at n₁ = 512
// tokens and one at 2n₁, fitted as c·n + b·n² (the projections and the attention), else one compute at
// `seq`; then the whole run: the warm-up, the runs until min_seconds, the float64 check.
struct BenchEstimate {
  double compute_seconds = 0;  // one compute at seq
  double total_seconds = 0;    // the whole run
  std::string basis;           // "runs at 512 and 1024 tokens", for messages
};

// "0.8 s", "4.2 min", "3.1 hours".
std::string format_seconds(double s) {
  if (s < 10) return fmt::format("{:.2g} s", s);
  if (s < 120) return fmt::format("{:.0f} s", s);
  if (s < 7200) return fmt::format("{:.1f} min", s / 60);
  return fmt::format("{:.1f} hours", s / 3600);
}

// The first `n` tokens of `in` (self-attention).
AttentionInput first_tokens(const AttentionInput& in, int n) {
  AttentionInput part;
  part.X = in.X.topRows(n);
  part.X_kv = part.X;
  part.query_tokens.assign(in.query_tokens.begin(), in.query_tokens.begin() + n);
  part.key_tokens = part.query_tokens;
  part.dim_labels = in.dim_labels;
  return part;
}

BenchEstimate estimate_bench(const Backend& backend, const Model& model, const AttentionInput& in, const AttentionOptions& options,
                             const BenchOptions& o) {
  // The faster of two runs: the first run of a process pays for page faults and starting threads, and a
  // slow run at n₁ would make the fit linear and the estimate far too small.
  const auto time_at = [&](int n) {
    const AttentionInput part = first_tokens(in, n);
    double best = std::numeric_limits<double>::infinity();
    for (int k = 0; k < 2; ++k) {
      const auto start = Clock::now();
      (void)backend.compute(model, part, options);
      best = std::min(best, seconds_since(start));
    }
    return best;
  };
  BenchEstimate e;
  constexpr int kCalibration = 512;
  if (o.seq <= 2 * kCalibration) {
    e.basis = fmt::format("a run at {} tokens", o.seq);
    e.compute_seconds = time_at(o.seq);
  } else {
    // c·n + b·n² through the runs at n₁ and 2n₁: the projections grow with n, the attention with n²; noise
    // that makes a coefficient negative leaves the other alone.
    e.basis = fmt::format("runs at {} and {} tokens", kCalibration, 2 * kCalibration);
    const double n1 = kCalibration, t1 = time_at(kCalibration), t2 = time_at(2 * kCalibration);
    const double b = std::max(0.0, (t2 - 2 * t1) / (2 * n1 * n1));
    const double c = std::max(0.0, (4 * t1 - t2) / (2 * n1));
    const double n = o.seq, ratio = n / (2 * n1);
    // Never below half the plain quadratic scaling of the larger run: the attention part of t₂ grows as n²,
    // and it is at least half of t₂ unless the projections dominate (then the fit's linear term holds).
    e.compute_seconds = std::max(c * n + b * n * n, 0.5 * t2 * ratio * ratio);
  }
  // The warm-up, then runs until min_seconds (one run when the warm-up alone took that long), and the float64
  // check of 64 query rows (or all) per head at about 1 GFLOP/s.
  double runs = e.compute_seconds >= o.min_seconds ? e.compute_seconds : e.compute_seconds + std::max(e.compute_seconds, o.min_seconds);
  if (o.backend == "flash") runs *= 2;  // the attention alone is timed the same way (at most as long a run)
  const double rows = std::min(o.seq, o.seq <= 512 ? o.seq : 64);
  const double check = 3.0 * rows * o.seq * o.dim * o.heads / 1e9;
  e.total_seconds = runs + check;
  return e;
}

}  // namespace

GemmRate measure_gemm_gflops(int N) {
  std::mt19937 rng(7);
  const Matrix A = random_normal(N, N, 1.0, rng), B = random_normal(N, N, 1.0, rng);
  Matrix C(N, N);
  // The matrix product of the kernel path in use (the one the backends run), not Eigen's: the default build
  // compiles Eigen for the baseline only (bench/attention.sh adds an independent -march=native Eigen rate).
  const kernels::Table& k = kernels::active();
  const auto product = [&] { k.gemm(N, N, N, A.data(), N, B.data(), N, C.data(), N, false); };
  product();  // warm-up
  std::vector<double> times, cpu_times;
  for (int r = 0; r < 3; ++r) {
    const auto start = Clock::now();
    const double cpu_start = process_cpu_seconds();
    product();
    times.push_back(seconds_since(start));
    cpu_times.push_back(process_cpu_seconds() - cpu_start);
  }
  const double flops = 2.0 * N * N * N;
  return {flops / median(times) / 1e9, flops / median(cpu_times) / 1e9};
}

BenchResult run_bench(const BenchOptions& o) {
  if (o.seq < 1 || o.dim < 1 || o.heads < 1)
    throw InputError(fmt::format("--seq, --dim and --heads must be at least 1, got {}, {}, {}", o.seq, o.dim, o.heads));
  BenchResult r;
  r.options = o;
  r.threads = resolve_threads(o.threads);
  r.cpu = cpu_model();
  r.hardware_threads = resolve_threads(0);
  r.exp_isa = exp_instruction_set();
  r.kernels = kernels::describe();

  const auto backend = make_backend(o.backend);
  {
    // What every backend holds whatever its n × n storage: the four d_model × d_model weights, and about
    // eight n × d_model matrices (X, Q, K, V, context, concat, output, a copy in flight); the standard
    // backend's n × n stages come on top of them, and the budget holds for the sum.
    const double d_model = static_cast<double>(o.heads) * o.dim;
    const double bytes = 4.0 * d_model * d_model * sizeof(float) + token_matrices_bytes(o.seq, o.seq, d_model);
    check_attention_memory(*backend, o.seq, o.seq, o.heads, o.max_memory_bytes, 0, "", "a smaller --seq", bytes,
                           "the weights and the n × d matrices");
    if (bytes > o.max_memory_bytes)
      throw InputError(fmt::format("--seq {} with {} head{} of width {} needs about {} for the weights and the n × d matrices, "
                                   "more than --max-memory allows ({})\nhint: use a smaller --seq, --dim or --heads, or raise --max-memory",
                                   o.seq, o.heads, o.heads == 1 ? "" : "s", o.dim, format_bytes(bytes), format_bytes(o.max_memory_bytes)));
  }

  // A random model: W_q, W_k, W_v with entries N(0, 1/d_model), so Q, K, V have unit-variance entries;
  // W_o the identity, so the output is the concatenated context.
  const int d_model = o.heads * o.dim;
  std::mt19937 rng(o.seed);
  Model model;
  model.name = "random";
  model.d_model = d_model;
  model.heads = o.heads;
  model.d_k = model.d_v = o.dim;
  const double w_std = 1.0 / std::sqrt(static_cast<double>(d_model));
  model.W_q = random_normal(d_model, d_model, w_std, rng);
  model.W_k = random_normal(d_model, d_model, w_std, rng);
  model.W_v = random_normal(d_model, d_model, w_std, rng);
  model.W_o = Matrix::Identity(d_model, d_model);
  model.b_q = model.b_k = model.b_v = model.b_o = Vector::Zero(d_model);

  AttentionInput in;
  in.X = random_normal(o.seq, d_model, 1.0, rng);  // n × d_model
  in.X_kv = in.X;
  for (int i = 0; i < o.seq; ++i) in.query_tokens.push_back(fmt::format("t{}", i));
  in.key_tokens = in.query_tokens;
  for (int c = 0; c < d_model; ++c) in.dim_labels.push_back(fmt::format("d{}", c));

  AttentionOptions options;
  options.causal = o.causal;
  options.threads = o.threads;
  options.block_rows = o.block_rows;
  options.block_cols = o.block_cols;
  if (auto why = backend->unsupported(model, in, options)) throw InputError(*why);

  // How long the whole run will take, from short runs, before any long one (--max-time).
  const BenchEstimate estimate = estimate_bench(*backend, model, in, options, o);
  r.estimated_seconds = estimate.total_seconds;
  if (o.max_seconds > 0 && estimate.total_seconds > o.max_seconds)
    throw InputError(fmt::format("bench --seq {} would take about {} (estimated from {}), more than --max-time "
                                 "allows ({:g} s)\nhint: use a smaller --seq, --dim or --heads, or raise --max-time (0: no limit)",
                                 o.seq, format_seconds(estimate.total_seconds), estimate.basis, o.max_seconds));
  const auto started = Clock::now();
  const auto report = [&](int runs) {
    if (o.progress)
      o.progress(fmt::format("bench: about {} in all (estimated); {} so far, {} run{} done", format_seconds(estimate.total_seconds),
                             format_seconds(seconds_since(started)), runs, runs == 1 ? "" : "s"));
  };
  report(0);

  r.gemm_size = 1024;
  const GemmRate gemm = measure_gemm_gflops(r.gemm_size);
  r.gemm_gflops = gemm.gflops;
  r.gemm_gflops_cpu = gemm.gflops_cpu;

  std::vector<Stage> stages;
  const std::optional<KernelTiming> kernel = backend->time_kernel(o.seq, o.dim, o.heads, o.causal);
  if (kernel) {
    // A GPU backend: its attention kernel alone (CUDA events, no projections or copies); one compute for
    // the error check below.
    stages = backend->compute(model, in, options);
    r.runs = kernel->runs;
    r.seconds_median = kernel->seconds_median;
    r.seconds_min = kernel->seconds_min;
    r.device = kernel->device;
    r.kernel = kernel->kernel;
  } else {
    const Timings t = time_runs(
        o.min_seconds, [&] { stages.clear(); }, [&] { stages = backend->compute(model, in, options); }, report);
    r.runs = static_cast<int>(t.wall.size());
    r.seconds_median = median(t.wall);
    r.seconds_min = *std::min_element(t.wall.begin(), t.wall.end());
    r.cpu_seconds_median = median(t.cpu);
  }
  r.flops = 4.0 * o.seq * o.seq * o.dim * o.heads * (o.causal ? 0.5 : 1.0);
  r.gflops = r.flops / r.seconds_median / 1e9;
  r.ratio = r.gflops / r.gemm_gflops;
  if (!kernel) {
    r.gflops_cpu = r.flops / r.cpu_seconds_median / 1e9;
    r.ratio_cpu = r.gflops_cpu / r.gemm_gflops_cpu;
  }

  // Float64 attention on the backend's own float32 Q, K, V for a sample of query rows.
  std::vector<int> rows;
  if (o.seq <= 512) {
    for (int i = 0; i < o.seq; ++i) rows.push_back(i);
  } else {
    for (int k = 0; k < 64; ++k) rows.push_back(static_cast<int>(std::lround(static_cast<double>(k) * (o.seq - 1) / 63)));
  }
  r.error_rows = static_cast<int>(rows.size());
  r.error_sampled = r.error_rows < o.seq;
  const double factor = 1.0 / std::sqrt(static_cast<double>(o.dim));
  std::vector<double> p(static_cast<std::size_t>(o.seq)), a(static_cast<std::size_t>(o.dim));
  for (int h = 0; h < o.heads; ++h) {
    const Matrix& Q = find_stage(stages, stage_name::queries, h).data;
    const Matrix& K = find_stage(stages, stage_name::keys, h).data;
    const Matrix& V = find_stage(stages, stage_name::values, h).data;
    const Matrix& A = find_stage(stages, stage_name::context, h).data;
    for (int i : rows) {
      const int keys = o.causal ? i + 1 : o.seq;
      double max_s = -std::numeric_limits<double>::infinity();
      for (int j = 0; j < keys; ++j) {
        double s = 0;
        for (int c = 0; c < o.dim; ++c) s += static_cast<double>(Q(i, c)) * K(j, c);
        p[static_cast<std::size_t>(j)] = s * factor;
        max_s = std::max(max_s, s * factor);
      }
      double sum = 0;
      for (int j = 0; j < keys; ++j) sum += (p[static_cast<std::size_t>(j)] = std::exp(p[static_cast<std::size_t>(j)] - max_s));
      std::fill(a.begin(), a.end(), 0.0);
      for (int j = 0; j < keys; ++j)
        for (int c = 0; c < o.dim; ++c) a[static_cast<std::size_t>(c)] += p[static_cast<std::size_t>(j)] / sum * V(j, c);
      double row_max = 0, row_err = 0;
      for (int c = 0; c < o.dim; ++c) {
        row_max = std::max(row_max, std::abs(a[static_cast<std::size_t>(c)]));
        row_err = std::max(row_err, std::abs(A(i, c) - a[static_cast<std::size_t>(c)]));
      }
      if (!std::isfinite(row_err)) row_err = std::numeric_limits<double>::infinity();
      r.max_abs_error = std::max(r.max_abs_error, row_err);
      r.max_rel_error = std::max(r.max_rel_error, row_max > 0 ? row_err / row_max : row_err);
    }
  }

  if (o.backend == "flash") {
    // The attention alone, given the Q, K, V of the runs above: the work ONNX Runtime's MultiHeadAttention
    // does (bench/attention.sh's peer), without the projections and the trace's stages of the layer. Q, K
    // and V are moved out of the stages and the rest freed first, so the process holds no more than a run
    // of the layer did (its peak memory is a figure of its own).
    std::vector<HeadProjections> heads(static_cast<std::size_t>(o.heads));
    for (auto& stage : stages) {
      if (!stage.head) continue;
      auto& head = heads[static_cast<std::size_t>(*stage.head)];
      if (stage.name == stage_name::queries) head.Q = std::move(stage.data);
      if (stage.name == stage_name::keys) head.K = std::move(stage.data);
      if (stage.name == stage_name::values) head.V = std::move(stage.data);
    }
    stages.clear();
    const float scores_factor = score_factor(options, o.dim);
    Matrix concat;
    const Timings t = time_runs(
        o.min_seconds, [&] { concat = Matrix(); }, [&] { concat = flash_attention(heads, o.dim, options, scores_factor); },
        [&](int runs) { report(r.runs + runs); });
    r.attention_alone = true;
    r.attention_runs = static_cast<int>(t.wall.size());
    r.attention_seconds_median = median(t.wall);
    r.attention_cpu_seconds_median = median(t.cpu);
    r.attention_gflops = r.flops / r.attention_seconds_median / 1e9;
    r.attention_gflops_cpu = r.flops / r.attention_cpu_seconds_median / 1e9;
  }

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  r.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
  return r;
}

nlohmann::ordered_json bench_json(const BenchResult& r) {
  const BenchOptions& o = r.options;
  nlohmann::ordered_json j;
  j["format"] = "attnviz-bench";
  j["version"] = 1;
  j["machine"] = {{"cpu", r.cpu}, {"hardware_threads", r.hardware_threads}, {"exp", r.exp_isa}, {"kernels", r.kernels}};
  j["config"] = {{"seq", o.seq},         {"dim", o.dim},         {"heads", o.heads},
                 {"causal", o.causal},   {"backend", o.backend}, {"threads", r.threads},
                 {"block_rows", o.block_rows}, {"block_cols", o.block_cols}, {"seed", o.seed},
                 {"max_time", o.max_seconds}};
  if (!r.device.empty())
    j["gpu"] = {{"device", r.device}, {"kernel", r.kernel}, {"timed", "the attention kernel alone, CUDA events, no projections or copies"}};
  j["estimated_seconds"] = r.estimated_seconds;
  j["runs"] = r.runs;
  j["seconds_median"] = r.seconds_median;
  j["seconds_min"] = r.seconds_min;
  j["flops"] = r.flops;
  j["gflops"] = r.gflops;
  j["gemm"] = {{"size", r.gemm_size}, {"threads", 1}, {"kernel", r.exp_isa}, {"gflops", r.gemm_gflops}, {"gflops_cpu_time", r.gemm_gflops_cpu}};
  j["ratio"] = r.ratio;
  j["cpu_time"] = {{"note", "process CPU time of every thread; less disturbed than wall time on a busy machine"},
                   {"seconds_median", r.cpu_seconds_median}, {"gflops", r.gflops_cpu}, {"ratio", r.ratio_cpu}};
  if (r.attention_alone)
    j["attention_alone"] = {{"timed", "packing K and V and the tile loop of every head, given Q, K, V: the work of ONNX Runtime's "
                                      "MultiHeadAttention given Q, K, V; no projections, no stages"},
                            {"runs", r.attention_runs},
                            {"seconds_median", r.attention_seconds_median},
                            {"gflops", r.attention_gflops},
                            {"cpu_seconds_median", r.attention_cpu_seconds_median},
                            {"gflops_cpu", r.attention_gflops_cpu}};
  j["peak_rss_mib"] = r.peak_rss_mib;
  j["peak_rss_note"] = "getrusage(RUSAGE_SELF).ru_maxrss: the whole process, including the matrix-product measurement";
  j["error"] = {{"max_abs", r.max_abs_error},
                {"max_rel", r.max_rel_error},
                {"rows_checked", r.error_rows},
                {"sampled", r.error_sampled},
                {"reference", "float64 attention on the backend's float32 Q, K, V"}};
  return j;
}

std::string bench_text(const BenchResult& r) {
  const BenchOptions& o = r.options;
  std::string s;
  s += fmt::format("attnviz bench: backend {}, n = {}, d = {}, {} head{}{}, {} thread{}\n", o.backend, o.seq, o.dim, o.heads,
                   o.heads == 1 ? "" : "s", o.causal ? ", causal" : "", r.threads, r.threads == 1 ? "" : "s");
  s += fmt::format("machine: {} ({} hardware threads)\nCPU kernels: {}\n", r.cpu, r.hardware_threads, r.kernels);
  if (!r.device.empty()) {
    s += fmt::format("gpu: {}, kernel {}\n", r.device, r.kernel);
    s += fmt::format("time: {:.4f} ms median, {:.4f} ms best, of {} run{} (the kernel alone, CUDA events; no projections or copies)\n",
                     r.seconds_median * 1e3, r.seconds_min * 1e3, r.runs, r.runs == 1 ? "" : "s");
  } else {
    s += fmt::format("time: {:.4f} s median, {:.4f} s best, of {} run{} (Q/K/V/output projections included, not counted in flops)\n",
                     r.seconds_median, r.seconds_min, r.runs, r.runs == 1 ? "" : "s");
  }
  s += fmt::format("rate: {:.2f} GFLOP/s ({:.3g} flops: 4·n²·d per head{})\n", r.gflops, r.flops, o.causal ? ", halved for causal" : "");
  s += fmt::format("matrix product (attnviz's {} kernel, float32, {}³, one thread): {:.2f} GFLOP/s; ratio {:.2f}\n", r.exp_isa,
                   r.gemm_size, r.gemm_gflops, r.ratio);
  if (r.device.empty())
    s += fmt::format("by process CPU time: {:.4f} s, {:.2f} GFLOP/s against {:.2f}; ratio {:.2f}\n", r.cpu_seconds_median,
                     r.gflops_cpu, r.gemm_gflops_cpu, r.ratio_cpu);
  if (r.attention_alone)
    s += fmt::format("attention alone (given Q, K, V: no projections, no stages; what ONNX Runtime's MultiHeadAttention does): "
                     "{:.4f} s median, {:.2f} GFLOP/s; by process CPU time {:.4f} s, {:.2f} GFLOP/s\n",
                     r.attention_seconds_median, r.attention_gflops, r.attention_cpu_seconds_median, r.attention_gflops_cpu);
  s += fmt::format("peak memory: {:.1f} MiB (getrusage ru_maxrss of the whole process)\n", r.peak_rss_mib);
  s += fmt::format("error vs float64: max abs {:.3g}, max rel {:.3g} ({} query row{} per head{})\n", r.max_abs_error,
                   r.max_rel_error, r.error_rows, r.error_rows == 1 ? "" : "s", r.error_sampled ? ", a sample spread over n" : ", all");
  return s;
}

}  // namespace attnviz
