// The CUDA side of the cuda and cuda-flash backends behind a plain C++ interface: no CUDA header, no Eigen,
// so the backend classes compile as ordinary C++ and nvcc only ever sees the .cu files.
//
// Legend (as in attention.hpp): n query tokens, m key/value tokens, d = d_model, H heads, d_k and d_v per
// head. Every array is row-major float32.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attnviz::cuda {

// (what, milliseconds) in the order they ran, measured with CUDA events.
using Timings = std::vector<std::pair<std::string, double>>;

// Why no CUDA device can be used here (no driver, no device, ...), or nullopt when device 0 is usable.
// Never throws; the answer is computed once per process.
std::optional<std::string> device_unavailable();

// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)"; an Error when no device is usable.
std::string device_description();

// One attention layer as host arrays (row-major). The pointers are borrowed for the call.
struct Problem {
  int n = 0, m = 0, d = 0, H = 1, d_k = 0, d_v = 0;
  const float* X = nullptr;     // n × d
  const float* X_kv = nullptr;  // m × d
  const float* W_q = nullptr;   // d × H·d_k
  const float* W_k = nullptr;   // d × H·d_k
  const float* W_v = nullptr;   // d × H·d_v
  const float* W_o = nullptr;   // H·d_v × d
  const float* b_q = nullptr;   // H·d_k
  const float* b_k = nullptr;   // H·d_k
  const float* b_v = nullptr;   // H·d_v
  const float* b_o = nullptr;   // d
  const unsigned char* allowed = nullptr;  // n × m, 1 = may attend (causal and mask combined); cuda-flash: null without a custom mask
  bool causal = false;                     // cuda-flash skips key tiles above the diagonal
  bool custom_mask = false;                // cuda-flash reads `allowed` only when there is a custom mask
  float factor = 1.0f;                     // S' = S · factor (1/√d_k / temperature)
};

// What comes back to the host, row-major.
struct Result {
  std::vector<float> Q;       // n × H·d_k (head h: columns [h·d_k, (h+1)·d_k))
  std::vector<float> K;       // m × H·d_k
  std::vector<float> V;       // m × H·d_v
  std::vector<float> S;       // H × n × m (cuda only)
  std::vector<float> S_scaled;// H × n × m, masked cells −∞ (cuda only)
  std::vector<float> P;       // H × n × m (cuda only)
  std::vector<float> concat;  // n × H·d_v
  std::vector<float> O;       // n × d
  Timings timings;
};

// The cuda backend: every stage on the GPU, each one kept and copied back.
Result run_stages(const Problem& problem);

// The cuda-flash backend: projections, then the fused kernel of `version` (see flash.cuh), then W_o.
// The n × m stages are never formed. Requires d_k, d_v ≤ kFlashMaxHeadDim.
Result run_flash(const Problem& problem, int version);

constexpr int kFlashMaxHeadDim = 128;
constexpr int kFlashLatestVersion = 5;

// The version cuda-flash runs when ATTNVIZ_FLASH_VERSION is not set: v5 (tensor cores, float32 accuracy)
// on a GPU of compute capability 8.0 or newer, v2 on older ones. v3 and v4 are faster but less accurate,
// more so as n grows (on the H200: 3× v5's error at n = 512, 26× at 4096, 80× at 16,384; flash.cuh's
// header and docs/benchmarks.md have the figures): they are there on request.
int default_flash_version();

// The fused kernel of `version` on H heads of random Q, K, V (H × n × d each, d ≤ 128): median time of
// `repeats` launches after `warmup` ones, in milliseconds.
struct FlashBench {
  double median_ms = 0;
  double min_ms = 0;
  std::string device;
};
FlashBench bench_flash(int n, int d, int H, bool causal, int version, int warmup, int repeats);

}  // namespace attnviz::cuda
