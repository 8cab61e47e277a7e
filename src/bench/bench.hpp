// `attnviz bench`: one backend on random inputs of a given size, against the machine's own matrix-product
// rate, with the process's peak memory and the error against a float64 reference.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace attnviz {

struct BenchOptions {
  int seq = 1024;          // n: tokens (self-attention, so m = n)
  int dim = 64;            // d: d_k = d_v per head
  int heads = 1;           // H
  bool causal = false;
  std::string backend = "flash";  // any name make_backend knows
  int threads = 0;         // 0: the hardware's concurrency
  int block_rows = 0;      // flash tiles (0: the backend's default)
  int block_cols = 0;
  double max_memory_bytes = 2.0 * 1024 * 1024 * 1024;
  unsigned seed = 1;
  double min_seconds = 0.5;  // repeat the computation until this much time has been measured
  // Refuse (InputError) when the calibrated estimate of the whole run exceeds this; 0: no limit.
  double max_seconds = 300;
  // Told the estimate before the long runs and after each run ("about 2.1 min; run 3, 40 s so far"); the
  // command line draws it on standard error when that is a terminal.
  std::function<void(const std::string&)> progress;
};


struct BenchResult {
  BenchOptions options;
  int threads = 1;               // resolved
  std::string cpu;               // /proc/cpuinfo's model name
  int hardware_threads = 1;
  std::string exp_isa;           // the kernel path in use: "baseline", "avx2" or "avx512"
  std::string kernels;           // the same in words, and why when a lower one is forced (ATTNVIZ_CPU)
  double estimated_seconds = 0;  // the calibrated estimate of the whole run (BenchEstimate::total_seconds)
  int runs = 0;                  // timed runs (after one warm-up unless that took longer than min_seconds)
  double seconds_median = 0, seconds_min = 0;
  double flops = 0;              // 4·n²·d per head, halved for causal
  double gflops = 0;             // flops / seconds_median
  int gemm_size = 0;             // the matrix product measured: N × N times N × N, float32, one thread
  double gemm_gflops = 0;
  double ratio = 0;              // gflops / gemm_gflops
  // The same by process CPU time (all threads together), which a machine shared with other work disturbs
  // far less than wall time: on one thread the honest rate when the machine is busy.
  double cpu_seconds_median = 0;
  double gflops_cpu = 0;         // flops / cpu_seconds_median
  double gemm_gflops_cpu = 0;
  double ratio_cpu = 0;          // gflops_cpu / gemm_gflops_cpu
  // The flash backend also times its attention alone, given the Q, K, V of the runs (packing K and V and the
  // tile loop; no projections, no stages): the work ONNX Runtime's MultiHeadAttention does given Q, K, V.
  bool attention_alone = false;
  int attention_runs = 0;
  double attention_seconds_median = 0, attention_cpu_seconds_median = 0;
  double attention_gflops = 0, attention_gflops_cpu = 0;  // flops / those medians
  double peak_rss_mib = 0;       // getrusage(RUSAGE_SELF).ru_maxrss of the whole process
  int error_rows = 0;            // query rows checked against float64 (per head)
  bool error_sampled = false;    // true when error_rows < n
  double max_abs_error = 0;      // max |A − A_float64| over the checked rows and every head
  double max_rel_error = 0;      // the same, divided by the row's max |A_float64|
  // A backend with a kernel of its own to time (Backend::time_kernel: cuda-flash) is timed by that kernel
  // alone, with CUDA events; the CPU-time figures are then not measured (zero).
  std::string device;            // e.g. "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)"; empty for CPU backends
  std::string kernel;            // e.g. "flash v2"
};

// Runs the benchmark; InputError for bad sizes, an unknown backend, a standard backend above the memory
// limit, or an estimate above max_seconds (before the long runs).
BenchResult run_bench(const BenchOptions& options);

nlohmann::ordered_json bench_json(const BenchResult& result);
std::string bench_text(const BenchResult& result);

// Float32 matrix-product rate of the kernel path in use (one thread), N × N times N × N, median of 3 runs:
// {by wall time, by process CPU time}.
struct GemmRate {
  double gflops = 0, gflops_cpu = 0;
};
GemmRate measure_gemm_gflops(int N);

}  // namespace attnviz
