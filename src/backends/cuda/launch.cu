// The runs of the CUDA backends: cuda's stages one kernel at a time (run_stages), cuda-flash's fused kernel
// chosen by version (run_flash, launch_flash), and the kernel alone timed (bench_flash).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flash.cuh"
#include "stages.cuh"

namespace attnviz::cuda {

namespace detail {
namespace {

void launch_flash(const FlashArgs& a, int heads, int version) {
  if (a.d_k > kFlashMaxHeadDim || a.d_v > kFlashMaxHeadDim)
    throw Error("cuda-flash: d_k and d_v must be at most " + std::to_string(kFlashMaxHeadDim));
  if (version == 1)
    launch_v1(a, heads);
  else if (version == 2)
    launch_v2(a, heads);
  else if (version >= 3 && version <= 5)
    launch_mma(a, heads, version);
  else
    throw Error("cuda-flash: no kernel version " + std::to_string(version) + " (there are 1 to " + std::to_string(kFlashLatestVersion) + ")");
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// Whether every row start of every head of Q, K, V, O is 16-byte aligned, so float4 loads are safe.
int can_vectorise(const FlashArgs& a) {
  const bool strides = a.q_head % 4 == 0 && a.k_head % 4 == 0 && a.v_head % 4 == 0 && a.o_head % 4 == 0 &&
                       a.q_row % 4 == 0 && a.k_row % 4 == 0 && a.v_row % 4 == 0 && a.o_row % 4 == 0;
  const bool widths = a.d_k % 4 == 0 && a.d_v % 4 == 0;
  return strides && widths && aligned16(a.Q) && aligned16(a.K) && aligned16(a.V) && aligned16(a.O) ? 1 : 0;
}

// Device buffers of one problem: inputs, weights and the projections.
struct Projected {
  DeviceArray<float> X, X_kv, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o;
  DeviceArray<float> Q, K, V, concat, O;

  explicit Projected(const Problem& p)
      : X(p.X, sz(p.n) * sz(p.d)),
        X_kv(p.X_kv, sz(p.m) * sz(p.d)),
        W_q(p.W_q, sz(p.d) * sz(p.H * p.d_k)),
        W_k(p.W_k, sz(p.d) * sz(p.H * p.d_k)),
        W_v(p.W_v, sz(p.d) * sz(p.H * p.d_v)),
        W_o(p.W_o, sz(p.H * p.d_v) * sz(p.d)),
        b_q(upload_or_zeros(p.b_q, sz(p.H * p.d_k))),
        b_k(upload_or_zeros(p.b_k, sz(p.H * p.d_k))),
        b_v(upload_or_zeros(p.b_v, sz(p.H * p.d_v))),
        b_o(upload_or_zeros(p.b_o, sz(p.d))),
        Q(sz(p.n) * sz(p.H * p.d_k)),
        K(sz(p.m) * sz(p.H * p.d_k)),
        V(sz(p.m) * sz(p.H * p.d_v)),
        concat(sz(p.n) * sz(p.H * p.d_v)),
        O(sz(p.n) * sz(p.d)) {}

  static std::size_t sz(int v) { return static_cast<std::size_t>(v); }

  // Q = X W_q + b_q, K = X_kv W_k + b_k, V = X_kv W_v + b_v: all heads at once, heads side by side.
  void project_qkv(const Problem& p) {
    project(X.get(), W_q.get(), b_q.get(), Q.get(), p.n, p.d, p.H * p.d_k);
    project(X_kv.get(), W_k.get(), b_k.get(), K.get(), p.m, p.d, p.H * p.d_k);
    project(X_kv.get(), W_v.get(), b_v.get(), V.get(), p.m, p.d, p.H * p.d_v);
  }
  // O = concat W_o + b_o.
  void project_output(const Problem& p) { project(concat.get(), W_o.get(), b_o.get(), O.get(), p.n, p.H * p.d_v, p.d); }

  void download_common(Result& r) const {
    r.Q = Q.download();
    r.K = K.download();
    r.V = V.download();
    r.concat = concat.download();
    r.O = O.download();
  }
};

}  // namespace
}  // namespace detail

using namespace detail;

Result run_stages(const Problem& p) {
  require_device();
  Result r;
  StageClock clock;
  Projected dev(p);
  const std::size_t cells = static_cast<std::size_t>(p.n) * static_cast<std::size_t>(p.m);
  DeviceArray<unsigned char> allowed(p.allowed, cells);
  DeviceArray<float> S(cells * static_cast<std::size_t>(p.H)), S_scaled(cells * static_cast<std::size_t>(p.H)),
      P(cells * static_cast<std::size_t>(p.H));
  clock.mark("upload");

  dev.project_qkv(p);
  clock.mark("projections Q, K, V");

  // S_h = Q_h K_hᵀ for every head: Q_h and K_h are column blocks of Q and K (offset h·d_k per batch item).
  const int qk_ld = p.H * p.d_k, v_ld = p.H * p.d_v;
  gemm(GemmArgs{dev.Q.get(), dev.K.get(), S.get(), nullptr, p.n, p.m, p.d_k, qk_ld, qk_ld, p.m, p.d_k, p.d_k,
                static_cast<long long>(cells), 1.0f},
       true, p.H);
  clock.mark("scores S = QKᵀ");

  scale_and_mask(S.get(), S_scaled.get(), allowed.get(), p.factor, static_cast<long long>(cells), p.H);
  clock.mark("scale and mask S'");

  softmax_rows(S_scaled.get(), P.get(), p.H * p.n, p.m);
  clock.mark("softmax P");

  // A_h = P_h V_h, written straight into head h's column block of concat.
  gemm(GemmArgs{P.get(), dev.V.get(), dev.concat.get(), nullptr, p.n, p.d_v, p.m, p.m, v_ld, v_ld,
                static_cast<long long>(cells), p.d_v, p.d_v, 1.0f},
       false, p.H);
  clock.mark("context A = PV");

  dev.project_output(p);
  clock.mark("output O = A W_o");

  dev.download_common(r);
  r.S = S.download();
  r.S_scaled = S_scaled.download();
  r.P = P.download();
  clock.mark("download");
  r.timings = clock.finish();
  return r;
}

int default_flash_version() {
  if (device_unavailable()) return kFlashLatestVersion;
  return compute_capability() < 80 ? 2 : 5;
}

Result run_flash(const Problem& p, int version) {
  require_device();
  Result r;
  StageClock clock;
  Projected dev(p);
  std::unique_ptr<DeviceArray<unsigned char>> allowed;
  if (p.custom_mask)
    allowed = std::make_unique<DeviceArray<unsigned char>>(p.allowed, static_cast<std::size_t>(p.n) * static_cast<std::size_t>(p.m));
  clock.mark("upload");

  dev.project_qkv(p);
  clock.mark("projections Q, K, V");

  FlashArgs a{};
  a.Q = dev.Q.get();
  a.K = dev.K.get();
  a.V = dev.V.get();
  a.O = dev.concat.get();
  a.q_head = a.k_head = p.d_k;
  a.v_head = a.o_head = p.d_v;
  a.q_row = a.k_row = p.H * p.d_k;
  a.v_row = a.o_row = p.H * p.d_v;
  a.n = p.n;
  a.m = p.m;
  a.d_k = p.d_k;
  a.d_v = p.d_v;
  a.scale_log2 = p.factor * 1.4426950408889634f;  // log2(e)
  a.causal = p.causal ? 1 : 0;
  a.allowed = allowed ? allowed->get() : nullptr;
  a.vec = can_vectorise(a);
  launch_flash(a, p.H, version);
  clock.mark("fused attention (flash v" + std::to_string(version) + ")");

  dev.project_output(p);
  clock.mark("output O = A W_o");

  dev.download_common(r);
  clock.mark("download");
  r.timings = clock.finish();
  return r;
}

FlashBench bench_flash(int n, int d, int H, bool causal, int version, int warmup, int repeats) {
  require_device();
  if (n < 1 || d < 1 || d > kFlashMaxHeadDim || H < 1 || repeats < 1)
    throw Error("bench_flash: need n ≥ 1, 1 ≤ d ≤ 128, H ≥ 1, repeats ≥ 1");
  const std::size_t count = static_cast<std::size_t>(H) * static_cast<std::size_t>(n) * static_cast<std::size_t>(d);
  // Uniform in [−1, 1) from a fixed linear congruential sequence: the same inputs on every run, and three
  // different ones for Q, K and V.
  std::vector<float> host(3 * count);
  std::uint32_t state = 12345u;
  for (auto& x : host) {
    state = state * 1664525u + 1013904223u;
    x = static_cast<float>(state >> 8) / 8388608.0f - 1.0f;
  }
  DeviceArray<float> Q(host.data(), count), K(host.data() + count, count), V(host.data() + 2 * count, count), O(count);
  FlashArgs a{};
  a.Q = Q.get();
  a.K = K.get();
  a.V = V.get();
  a.O = O.get();
  a.q_head = a.k_head = a.v_head = a.o_head = static_cast<long long>(n) * d;
  a.q_row = a.k_row = a.v_row = a.o_row = d;
  a.n = a.m = n;
  a.d_k = a.d_v = d;
  a.scale_log2 = 1.4426950408889634f / std::sqrt(static_cast<float>(d));
  a.causal = causal ? 1 : 0;
  a.vec = can_vectorise(a);

  for (int i = 0; i < warmup; ++i) launch_flash(a, H, version);
  ATTNVIZ_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<double> times;
  cudaEvent_t start, stop;
  ATTNVIZ_CUDA_CHECK(cudaEventCreate(&start));
  ATTNVIZ_CUDA_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < repeats; ++i) {
    ATTNVIZ_CUDA_CHECK(cudaEventRecord(start));
    launch_flash(a, H, version);
    ATTNVIZ_CUDA_CHECK(cudaEventRecord(stop));
    ATTNVIZ_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    ATTNVIZ_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(static_cast<double>(ms));
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(times.begin(), times.end());
  return FlashBench{times[times.size() / 2], times.front(), device_description()};
}

}  // namespace attnviz::cuda
