// The CUDA kernels of the cuda and cuda-flash backends, and every CUDA runtime call of the project.
//
// Legend: n query tokens, m key/value tokens, d = d_model, H heads, d_k / d_v per head; Br × Bc the tile
// of queries × keys one block works on (FlashAttention's names); all arrays row-major float32.
//
// cuda (every stage kept, for the tables): a tiled GEMM (projections, S = QKᵀ, A = PV, O = AW_o), an
// elementwise scale-and-mask kernel and a row softmax kernel, each timed with CUDA events.
//
// cuda-flash (the fused kernel, FlashAttention-2 style: one block per (query block, head), loop over key
// tiles, online softmax, O rescaled as the row maximum grows, S and P never leave the chip).
// Kernel versions, each kept and selectable (ATTNVIZ_FLASH_VERSION=1…5) so a measurement can compare
// them; the default is v5 on sm_80 and newer, v2 below (default_flash_version).
//
// Measured on an NVIDIA H200 (sm_90, 132 SMs, CUDA 13.0), 2026-11-27, with scripts/gpu-check.sh: the
// kernel alone at n = 4096, 16 heads, not causal, in GFLOP/s (4·n²·d per head), and the largest error
// against float64 relative to the row's largest output (attnviz bench). PyTorch 2.11's float32
// scaled_dot_product_attention (the CUTLASS memory-efficient kernel) on the same shapes: 32,516 at d = 64,
// 43,385 at d = 128, error 2.0e-6 and 1.6e-6. Every figure, and the grid, in docs/benchmarks.md.
//
//   version  d = 64: GFLOP/s, error   d = 128: GFLOP/s, error
//   v1             1,971  1.2e-6            1,739  1.2e-6     (run 1; v2 run 2; v3 at d = 128 and v4 at
//   v2            29,017  3.4e-6           30,753  4.1e-6      d = 64 run 3; the rest run 4: docs/benchmarks.md)
//   v3            50,584  4.5e-5           30,715  4.7e-5
//   v4            46,739  4.4e-5           41,886  4.7e-5
//   v5            33,925  1.7e-6           36,839  3.3e-6
//
//   v1  The readable one, after flash-attention-minimal: one thread per query row, Br = Bc = 32, the K and
//       V tiles in shared memory, the row's S and O in shared memory. Any d_k, d_v ≤ 128.
//   v2  Register tiling on the float32 cores: 256 threads per block, Br = Bc = 64, each thread owns a 4 × 4
//       block of S and a 4 × (D/16) block of O in registers, Q pre-scaled by factor·log2(e) so the
//       softmax uses exp2f. Q is row-major in shared memory (rows padded so two rows never share a bank),
//       K transposed so a thread reads its 4 keys as one float4, P goes through shared memory (row-major,
//       padded) for P·V. K and V share one shared buffer (V is fetched into registers during the
//       softmax), which keeps 2 blocks per SM at D = 128 (84 KiB each) and 4 at D = 64. Causal: key tiles
//       above the diagonal are skipped and the heaviest query blocks start first. The row sum l is kept
//       per thread and reduced once at the end (FlashAttention-2). D = 64 or 128 (d ≤ 64 is zero-padded
//       to 64). 15× v1; 0.87–0.89× PyTorch at d = 64.
//   v3  Tensor cores: mma.sync m16n8k8 with TF32 operands, 4 warps per block, each warp 16 query rows ×
//       64 keys; every float32 operand split into a TF32 "big" part and the remainder, and three products
//       (big·big + big·small + small·big) keep float32 accuracy of the products. Q, K and V tiles in shared
//       memory with rows padded to D + 4 so every fragment read is free of bank conflicts; P goes from the
//       S accumulators straight into the A operand of P·V by taking each step's 8 keys in the order
//       0, 2, 4, 6, 1, 3, 5, 7 (no shuffles). 1.74× v2 at d = 64, but no faster at d = 128 (2 blocks per
//       SM by shared memory), and 13× less accurate: the error grows with n (1.4e-4 at n = 16,384).
//   v4  v3 with both halves rounded to nearest instead of truncated (2 integer operations more per value),
//       and at D = 128 K and V in one shared buffer, V copied with cp.async while the softmax runs: 3 blocks
//       per SM. D = 128: 1.39× v3. D = 64: 0.91× v3, and the error did not change, so the split was not
//       its cause.
//   v5  v4 with each key tile's P·V summed from zero and added to O with a float32 addition, instead of
//       accumulating O through 3·m/8 tensor-core steps. The error falls to float32's level and stops
//       growing with n (1.7e-6 at n = 4096 and at n = 16,384; v2 3.4e-6 and 7.7e-6), so the tensor core's
//       accumulation was the cause. The price: 157 registers at D = 64 (3 blocks per SM instead of 4),
//       241 at D = 128 (2): 0.67× v3 at d = 64, 0.88× v4 at d = 128. 1.04× PyTorch at d = 64 (n = 4096),
//       1.28× at n = 16,384; 0.85× at d = 128. The default.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "attnviz/error.hpp"
#include "kernels.hpp"

namespace attnviz::cuda {

namespace {

// ---------------------------------------------------------------------------------------------------------
// Errors and resources

[[noreturn]] void fail(cudaError_t status, const char* what, const char* file, int line) {
  throw Error(std::string("CUDA error in ") + what + " (" + file + ":" + std::to_string(line) + "): " +
              cudaGetErrorName(status) + ": " + cudaGetErrorString(status));
}

#define ATTNVIZ_CUDA_CHECK(call)                                      \
  do {                                                                \
    cudaError_t status_ = (call);                                     \
    if (status_ != cudaSuccess) fail(status_, #call, __FILE__, __LINE__); \
  } while (0)

// A device array of floats (or bytes), freed when it goes out of scope.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t count) : count_(count) {
    if (count_ > 0) ATTNVIZ_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), count_ * sizeof(T)));
  }
  DeviceArray(const T* host, std::size_t count) : DeviceArray(count) {
    if (count_ > 0) ATTNVIZ_CUDA_CHECK(cudaMemcpy(ptr_, host, count_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~DeviceArray() {
    if (ptr_) cudaFree(ptr_);  // nothing useful to do with an error while unwinding
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return ptr_; }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    if (count_ > 0) ATTNVIZ_CUDA_CHECK(cudaMemcpy(host.data(), ptr_, count_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

// A host array of `count` zeros when `host` is null (an absent bias), else a copy onto the device.
DeviceArray<float> upload_or_zeros(const float* host, std::size_t count) {
  if (host) return DeviceArray<float>(host, count);
  std::vector<float> zeros(count, 0.0f);
  return DeviceArray<float>(zeros.data(), count);
}

// Marks on the GPU's timeline; the time between two consecutive marks is one stage's.
class StageClock {
 public:
  StageClock() { mark(""); }
  ~StageClock() {
    for (auto& e : events_) cudaEventDestroy(e.second);
  }
  StageClock(const StageClock&) = delete;
  StageClock& operator=(const StageClock&) = delete;
  // Ends the stage `what` (the work queued since the previous mark).
  void mark(const std::string& what) {
    cudaEvent_t e;
    ATTNVIZ_CUDA_CHECK(cudaEventCreate(&e));
    events_.emplace_back(what, e);
    ATTNVIZ_CUDA_CHECK(cudaEventRecord(e));
  }
  Timings finish() {
    ATTNVIZ_CUDA_CHECK(cudaEventSynchronize(events_.back().second));
    Timings out;
    for (std::size_t i = 1; i < events_.size(); ++i) {
      float ms = 0;
      ATTNVIZ_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[i - 1].second, events_[i].second));
      out.emplace_back(events_[i].first, static_cast<double>(ms));
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, cudaEvent_t>> events_;
};

// A kernel launch's own errors (bad configuration) show at once; faults inside it at the next sync.
void check_launch(const char* kernel) {
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) fail(status, kernel, __FILE__, __LINE__);
}

unsigned int blocks_for(std::size_t count, unsigned int threads) {
  return static_cast<unsigned int>((count + threads - 1) / threads);
}

// ---------------------------------------------------------------------------------------------------------
// The stage kernels of the cuda backend

// C[z] = alpha · A[z] · op(B[z]) + bias for z = blockIdx.z, op(B) = B or Bᵀ.
// A: rows × inner (row stride lda), op(B): inner × cols, C: rows × cols (row stride ldc), bias: cols or null.
// A readable 16 × 16 shared-memory tiled GEMM: the cuda backend shows every stage, cuda-flash is the
// fast path.
struct GemmArgs {
  const float* A;
  const float* B;
  float* C;
  const float* bias;
  int rows, cols, inner;
  int lda, ldb, ldc;
  long long batch_A, batch_B, batch_C;  // element offsets between batch items
  float alpha;
};

constexpr int kGemmTile = 16;

template <bool TransposeB>
__global__ void gemm_kernel(GemmArgs g) {
  __shared__ float As[kGemmTile][kGemmTile + 1];  // +1: a column read never hits one bank 16 times
  __shared__ float Bs[kGemmTile][kGemmTile + 1];
  const float* A = g.A + blockIdx.z * g.batch_A;
  const float* B = g.B + blockIdx.z * g.batch_B;
  float* C = g.C + blockIdx.z * g.batch_C;
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int row = static_cast<int>(blockIdx.y) * kGemmTile + ty;
  const int col = static_cast<int>(blockIdx.x) * kGemmTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < g.inner; k0 += kGemmTile) {
    const int ka = k0 + tx, kb = k0 + ty;
    As[ty][tx] = (row < g.rows && ka < g.inner) ? A[static_cast<long long>(row) * g.lda + ka] : 0.0f;
    float b = 0.0f;
    if (kb < g.inner && col < g.cols)
      b = TransposeB ? B[static_cast<long long>(col) * g.ldb + kb] : B[static_cast<long long>(kb) * g.ldb + col];
    Bs[ty][tx] = b;
    __syncthreads();  // both tiles are loaded
    for (int k = 0; k < kGemmTile; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();  // everyone is done with the tiles before the next ones overwrite them
  }
  if (row < g.rows && col < g.cols)
    C[static_cast<long long>(row) * g.ldc + col] = g.alpha * acc + (g.bias ? g.bias[col] : 0.0f);
}

void gemm(const GemmArgs& g, bool transpose_b, int batch) {
  const dim3 threads(kGemmTile, kGemmTile);
  const dim3 grid(blocks_for(static_cast<std::size_t>(g.cols), kGemmTile), blocks_for(static_cast<std::size_t>(g.rows), kGemmTile),
                  static_cast<unsigned int>(batch));
  if (transpose_b)
    gemm_kernel<true><<<grid, threads>>>(g);
  else
    gemm_kernel<false><<<grid, threads>>>(g);
  check_launch("gemm_kernel");
}

// out = X · W + b: rows × cols from X (rows × inner) and W (inner × cols).
void project(const float* X, const float* W, const float* b, float* out, int rows, int inner, int cols) {
  gemm(GemmArgs{X, W, out, b, rows, cols, inner, inner, cols, cols, 0, 0, 0, 1.0f}, false, 1);
}

// S' = S · factor for every head (H × n × m), and −∞ where the query may not attend to the key.
__global__ void scale_mask_kernel(const float* S, float* S_scaled, const unsigned char* allowed, float factor,
                                  long long cells_per_head, int heads) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= cells_per_head * heads) return;
  const long long cell = i % cells_per_head;  // the same mask for every head
  S_scaled[i] = allowed[cell] ? S[i] * factor : -INFINITY;
}

// Row-wise softmax of S' (rows × m) into P, one block per row, in the reference's three passes.
constexpr int kSoftmaxThreads = 256;

__device__ float block_reduce(float v, bool take_max, float* scratch) {
  for (int offset = 16; offset > 0; offset /= 2) {
    const float other = __shfl_xor_sync(0xffffffffu, v, offset);
    v = take_max ? fmaxf(v, other) : v + other;
  }
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();  // every warp's partial is in scratch
  if (warp == 0) {
    v = lane < kSoftmaxThreads / 32 ? scratch[lane] : (take_max ? -INFINITY : 0.0f);
    for (int offset = 16; offset > 0; offset /= 2) {
      const float other = __shfl_xor_sync(0xffffffffu, v, offset);
      v = take_max ? fmaxf(v, other) : v + other;
    }
    if (lane == 0) scratch[0] = v;
  }
  __syncthreads();  // the total is in scratch[0]
  const float total = scratch[0];
  __syncthreads();  // everyone has read it before scratch is reused
  return total;
}

__global__ void softmax_kernel(const float* S_scaled, float* P, int m) {
  __shared__ float scratch[kSoftmaxThreads / 32];
  const float* s = S_scaled + static_cast<long long>(blockIdx.x) * m;
  float* p = P + static_cast<long long>(blockIdx.x) * m;
  // Pass 1: the row maximum, subtracted only for numerical stability.
  float row_max = -INFINITY;
  for (int j = static_cast<int>(threadIdx.x); j < m; j += kSoftmaxThreads) row_max = fmaxf(row_max, s[j]);
  row_max = block_reduce(row_max, true, scratch);
  // Pass 2: exponentiate and sum; masked cells (−∞) give exactly 0.
  float sum = 0.0f;
  for (int j = static_cast<int>(threadIdx.x); j < m; j += kSoftmaxThreads) {
    const float e = expf(s[j] - row_max);
    p[j] = e;
    sum += e;
  }
  sum = block_reduce(sum, false, scratch);
  // Pass 3: normalise (sum ≥ 1: the maximum contributes exp(0)).
  for (int j = static_cast<int>(threadIdx.x); j < m; j += kSoftmaxThreads) p[j] /= sum;
}

// ---------------------------------------------------------------------------------------------------------
// The fused kernels of cuda-flash

// Head h's Q is Q + h·q_head, row i at + i·q_row (likewise K, V, O): the projections' layout
// (n × H·d_k, heads side by side, head stride d_k) and the benchmark's (H × n × d) both fit.
struct FlashArgs {
  const float* Q;
  const float* K;
  const float* V;
  float* O;
  long long q_head, k_head, v_head, o_head;
  int q_row, k_row, v_row, o_row;
  int n, m, d_k, d_v;
  float scale_log2;              // factor · log2(e): exp(x · factor) = exp2(x · scale_log2)
  int causal;                    // key j > query i is masked
  const unsigned char* allowed;  // n × m custom mask (1 = may attend) or null
  int vec;                       // every row start is 16-byte aligned and d_k, d_v are multiples of 4
};

__device__ __forceinline__ bool key_allowed(const FlashArgs& a, int q, int kv) {
  if (kv >= a.m || (a.causal && kv > q)) return false;
  return !a.allowed || q >= a.n || a.allowed[static_cast<long long>(q) * a.m + kv];
}

// Version 1: one thread per query row (see the header).
constexpr int kV1Rows = 32;  // Br = Bc = 32 = threads per block

__global__ void flash_v1_kernel(FlashArgs a) {
  extern __shared__ float smem[];
  const int dq = a.d_k + 1, dv = a.d_v + 1;  // +1: rows of a tile start in different banks
  float* Qs = smem;                           // Br × d_k
  float* Ks = Qs + kV1Rows * dq;              // Bc × d_k
  float* Vs = Ks + kV1Rows * dq;              // Bc × d_v
  float* Os = Vs + kV1Rows * dv;              // Br × d_v, unnormalised
  float* Ss = Os + kV1Rows * dv;              // Br × Bc: this thread's row of S for the tile

  const int h = static_cast<int>(blockIdx.y), t = static_cast<int>(threadIdx.x);
  const int q0 = static_cast<int>(blockIdx.x) * kV1Rows, q = q0 + t;
  const float* Q = a.Q + h * a.q_head;
  const float* K = a.K + h * a.k_head;
  const float* V = a.V + h * a.v_head;

  for (int c = 0; c < a.d_k; ++c) Qs[t * dq + c] = q < a.n ? Q[static_cast<long long>(q) * a.q_row + c] * a.scale_log2 : 0.0f;
  for (int c = 0; c < a.d_v; ++c) Os[t * dv + c] = 0.0f;
  float m_i = -INFINITY, l_i = 0.0f;  // the row maximum so far, the row sum of exp2(s − m_i)

  const int kv_end = a.causal ? min(a.m, q0 + kV1Rows) : a.m;
  for (int kv0 = 0; kv0 < kv_end; kv0 += kV1Rows) {
    __syncthreads();  // the previous tile is no longer read
    const int j_load = kv0 + t;
    for (int c = 0; c < a.d_k; ++c) Ks[t * dq + c] = j_load < a.m ? K[static_cast<long long>(j_load) * a.k_row + c] : 0.0f;
    for (int c = 0; c < a.d_v; ++c) Vs[t * dv + c] = j_load < a.m ? V[static_cast<long long>(j_load) * a.v_row + c] : 0.0f;
    __syncthreads();  // the K and V tiles are loaded

    // S_ij = (Q_i · K_j) · factor, in log2 units; m_new = max(m_i, max_j S_ij).
    float m_new = m_i;
    for (int j = 0; j < kV1Rows; ++j) {
      float s = -INFINITY;
      if (key_allowed(a, q, kv0 + j)) {
        s = 0.0f;
        for (int c = 0; c < a.d_k; ++c) s += Qs[t * dq + c] * Ks[j * dq + c];
      }
      Ss[t * kV1Rows + j] = s;
      m_new = fmaxf(m_new, s);
    }
    if (m_new == -INFINITY) continue;  // every key of this tile masked for this row: nothing to add
    // P_ij = exp2(S_ij − m_new); O and l are rescaled by exp2(m_i − m_new) for the new maximum.
    const float alpha = exp2f(m_i - m_new);
    float row_sum = 0.0f;
    for (int j = 0; j < kV1Rows; ++j) {
      const float p = exp2f(Ss[t * kV1Rows + j] - m_new);
      Ss[t * kV1Rows + j] = p;
      row_sum += p;
    }
    for (int c = 0; c < a.d_v; ++c) {
      float acc = 0.0f;
      for (int j = 0; j < kV1Rows; ++j) acc += Ss[t * kV1Rows + j] * Vs[j * dv + c];
      Os[t * dv + c] = Os[t * dv + c] * alpha + acc;
    }
    l_i = l_i * alpha + row_sum;
    m_i = m_new;
  }
  if (q < a.n)
    for (int c = 0; c < a.d_v; ++c) a.O[h * a.o_head + static_cast<long long>(q) * a.o_row + c] = Os[t * dv + c] / l_i;
}

// Version 2: register tiling (see the header). D is the padded head width, 64 or 128.
constexpr int kV2Rows = 64;     // Br
constexpr int kV2Cols = 64;     // Bc
constexpr int kV2Threads = 256; // 16 × 16 threads, each 4 rows × 4 keys of S

template <int D>
struct V2Layout {
  static constexpr int q_stride = D + 4;         // Q_s row stride: rows ty·4+i of the two ty in a warp hit different banks
  static constexpr int p_stride = kV2Cols + 4;   // P_s row stride, likewise
  static constexpr int q_floats = kV2Rows * q_stride;
  static constexpr int kv_floats = D * kV2Cols;  // Kᵀ (D × Bc), later V (Bc × D)
  static constexpr int p_floats = kV2Rows * p_stride;
  static constexpr std::size_t bytes = (q_floats + kv_floats + p_floats) * sizeof(float);
  static constexpr int v_regs = kV2Cols * D / kV2Threads;  // V elements each thread fetches
};

// Reads 4 consecutive elements of a row (columns c..c+3, zero beyond `width`), as one float4 when aligned.
__device__ __forceinline__ float4 load4(const float* row, int c, int width, bool vec) {
  if (vec && c + 3 < width) return *reinterpret_cast<const float4*>(row + c);
  float4 v;
  v.x = c < width ? row[c] : 0.0f;
  v.y = c + 1 < width ? row[c + 1] : 0.0f;
  v.z = c + 2 < width ? row[c + 2] : 0.0f;
  v.w = c + 3 < width ? row[c + 3] : 0.0f;
  return v;
}

__device__ __forceinline__ float get(const float4& v, int i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }

template <int D>
__global__ void __launch_bounds__(kV2Threads, 2) flash_v2_kernel(FlashArgs a) {
  using L = V2Layout<D>;
  constexpr int kOc = D / 64;  // float4 groups of O columns per thread: columns c·64 + tx·4 + {0..3}
  extern __shared__ float4 smem4[];
  float* Q_s = reinterpret_cast<float*>(smem4);  // Br × D (stride q_stride), pre-scaled
  float* KV_s = Q_s + L::q_floats;               // Kᵀ: D × Bc, then V: Bc × D
  float* P_s = KV_s + L::kv_floats;              // Br × Bc (stride p_stride)

  const int t = static_cast<int>(threadIdx.x), tx = t % 16, ty = t / 16;
  const int h = static_cast<int>(blockIdx.y);
  // Causal: the last query blocks see the most keys; start them first so they do not finish last.
  const int q_block = a.causal ? static_cast<int>(gridDim.x - 1 - blockIdx.x) : static_cast<int>(blockIdx.x);
  const int q0 = q_block * kV2Rows;
  const float* Q = a.Q + h * a.q_head;
  const float* K = a.K + h * a.k_head;
  const float* V = a.V + h * a.v_head;
  const bool vec = a.vec != 0;

  // Q tile: row r, float4 group c4; coalesced, scaled once by factor·log2(e).
  for (int idx = t; idx < kV2Rows * D / 4; idx += kV2Threads) {
    const int r = idx / (D / 4), c = (idx % (D / 4)) * 4, q = q0 + r;
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (q < a.n) v = load4(Q + static_cast<long long>(q) * a.q_row, c, a.d_k, vec);
    v.x *= a.scale_log2; v.y *= a.scale_log2; v.z *= a.scale_log2; v.w *= a.scale_log2;
    *reinterpret_cast<float4*>(Q_s + r * L::q_stride + c) = v;
  }

  float o[4][kOc * 4];  // O rows ty·4+i, unnormalised
  float m_i[4], l_i[4];  // row maximum so far (log2 units); this thread's part of the row sum
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    m_i[i] = -INFINITY;
    l_i[i] = 0.0f;
#pragma unroll
    for (int c = 0; c < kOc * 4; ++c) o[i][c] = 0.0f;
  }

  const int kv_end = a.causal ? min(a.m, q0 + kV2Rows) : a.m;
  for (int kv0 = 0; kv0 < kv_end; kv0 += kV2Cols) {
    __syncthreads();  // the previous tile's V in KV_s and P in P_s are no longer read (and Q_s is written)
    // Kᵀ tile: thread t reads 8 consecutive elements of key row j (one 32-byte sector) and stores them
    // down column j of Kᵀ: the lanes of a warp take consecutive keys, so the stores never share a bank.
    {
      const int j = t % kV2Cols, kvj = kv0 + j;
      const float* krow = K + static_cast<long long>(kvj) * a.k_row;
      for (int c = (t / kV2Cols) * 8; c < D; c += (kV2Threads / kV2Cols) * 8) {
        float4 lo = make_float4(0.0f, 0.0f, 0.0f, 0.0f), hi = lo;
        if (kvj < a.m) {
          lo = load4(krow, c, a.d_k, vec);
          hi = load4(krow, c + 4, a.d_k, vec);
        }
        KV_s[(c + 0) * kV2Cols + j] = lo.x; KV_s[(c + 1) * kV2Cols + j] = lo.y;
        KV_s[(c + 2) * kV2Cols + j] = lo.z; KV_s[(c + 3) * kV2Cols + j] = lo.w;
        KV_s[(c + 4) * kV2Cols + j] = hi.x; KV_s[(c + 5) * kV2Cols + j] = hi.y;
        KV_s[(c + 6) * kV2Cols + j] = hi.z; KV_s[(c + 7) * kV2Cols + j] = hi.w;
      }
    }
    __syncthreads();  // Kᵀ is loaded

    // S = Q Kᵀ for rows ty·4+i, keys tx·4+j (log2 units, already scaled).
    float s[4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) s[i][j] = 0.0f;
#pragma unroll 4
    for (int k = 0; k < D; k += 4) {
      float4 q4[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) q4[i] = *reinterpret_cast<const float4*>(Q_s + (ty * 4 + i) * L::q_stride + k);
#pragma unroll
      for (int kk = 0; kk < 4; ++kk) {
        const float4 k4 = *reinterpret_cast<const float4*>(KV_s + (k + kk) * kV2Cols + tx * 4);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const float qv = get(q4[i], kk);
          s[i][0] += qv * k4.x; s[i][1] += qv * k4.y; s[i][2] += qv * k4.z; s[i][3] += qv * k4.w;
        }
      }
    }
    __syncthreads();  // Kᵀ is no longer read: KV_s can take V

    // Fetch the V tile into registers now; its latency hides behind the softmax below.
    float4 v_regs[L::v_regs / 4];
#pragma unroll
    for (int u = 0; u < L::v_regs / 4; ++u) {
      const int idx = t + u * kV2Threads, r = idx / (D / 4), c = (idx % (D / 4)) * 4, kvj = kv0 + r;
      v_regs[u] = kvj < a.m ? load4(V + static_cast<long long>(kvj) * a.v_row, c, a.d_v, vec) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }

    // Mask (only tiles that need it: the last, the diagonal, or a custom mask).
    const bool needs_mask = kv0 + kV2Cols > a.m || (a.causal && kv0 + kV2Cols - 1 > q0) || a.allowed;
    if (needs_mask) {
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
          if (!key_allowed(a, q0 + ty * 4 + i, kv0 + tx * 4 + j)) s[i][j] = -INFINITY;
    }

    // Online softmax: the new row maximum over the 16 threads of the row (lanes differing in tx).
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      float mx = fmaxf(fmaxf(s[i][0], s[i][1]), fmaxf(s[i][2], s[i][3]));
      for (int offset = 8; offset > 0; offset /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, offset));
      const float m_new = fmaxf(m_i[i], mx);
      // A row with every key masked so far has m_new = −∞: use 0 so exp2 gives 0, not NaN.
      const float m_use = m_new == -INFINITY ? 0.0f : m_new;
      const float alpha = exp2f(m_i[i] - m_use);  // rescales what was summed under the old maximum
      float4 p;
      p.x = exp2f(s[i][0] - m_use); p.y = exp2f(s[i][1] - m_use);
      p.z = exp2f(s[i][2] - m_use); p.w = exp2f(s[i][3] - m_use);
      l_i[i] = l_i[i] * alpha + (p.x + p.y + p.z + p.w);
#pragma unroll
      for (int c = 0; c < kOc * 4; ++c) o[i][c] *= alpha;
      m_i[i] = m_new;
      *reinterpret_cast<float4*>(P_s + (ty * 4 + i) * L::p_stride + tx * 4) = p;
    }
#pragma unroll
    for (int u = 0; u < L::v_regs / 4; ++u) {
      const int idx = t + u * kV2Threads, r = idx / (D / 4), c = (idx % (D / 4)) * 4;
      *reinterpret_cast<float4*>(KV_s + r * D + c) = v_regs[u];
    }
    __syncthreads();  // P and V are in shared memory

    // O += P V for rows ty·4+i, columns c·64 + tx·4 + {0..3}.
#pragma unroll 2
    for (int j = 0; j < kV2Cols; j += 4) {
      float4 p4[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) p4[i] = *reinterpret_cast<const float4*>(P_s + (ty * 4 + i) * L::p_stride + j);
#pragma unroll
      for (int jj = 0; jj < 4; ++jj) {
#pragma unroll
        for (int c = 0; c < kOc; ++c) {
          const float4 v4 = *reinterpret_cast<const float4*>(KV_s + (j + jj) * D + c * 64 + tx * 4);
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            const float pv = get(p4[i], jj);
            o[i][c * 4 + 0] += pv * v4.x; o[i][c * 4 + 1] += pv * v4.y;
            o[i][c * 4 + 2] += pv * v4.z; o[i][c * 4 + 3] += pv * v4.w;
          }
        }
      }
    }
  }

  // l: the 16 partial sums of the row; O / l.
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    float l = l_i[i];
    for (int offset = 8; offset > 0; offset /= 2) l += __shfl_xor_sync(0xffffffffu, l, offset);
    const int q = q0 + ty * 4 + i;
    if (q >= a.n) continue;
    float* orow = a.O + h * a.o_head + static_cast<long long>(q) * a.o_row;
    const float inv = 1.0f / l;
#pragma unroll
    for (int c = 0; c < kOc; ++c) {
      const int col = c * 64 + tx * 4;
      if (vec && col + 3 < a.d_v) {
        *reinterpret_cast<float4*>(orow + col) =
            make_float4(o[i][c * 4] * inv, o[i][c * 4 + 1] * inv, o[i][c * 4 + 2] * inv, o[i][c * 4 + 3] * inv);
      } else {
        for (int e = 0; e < 4; ++e)
          if (col + e < a.d_v) orow[col + e] = o[i][c * 4 + e] * inv;
      }
    }
  }
}

template <int D>
void launch_v2(const FlashArgs& a, int heads) {
  const auto bytes = V2Layout<D>::bytes;
  // Above 48 KiB of dynamic shared memory a kernel must opt in (sm_80: up to 163 KiB, sm_90: 227 KiB).
  ATTNVIZ_CUDA_CHECK(cudaFuncSetAttribute(flash_v2_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  const dim3 grid(blocks_for(static_cast<std::size_t>(a.n), kV2Rows), static_cast<unsigned int>(heads));
  flash_v2_kernel<D><<<grid, kV2Threads, bytes>>>(a);
  check_launch("flash_v2_kernel");
}

// Version 3: tensor cores (see the header). mma.sync m16n8k8 with TF32 operands, 3 products per pair of
// operands (big·big + big·small + small·big) so the result keeps float32 accuracy.
constexpr int kV3Rows = 64;      // Br: 4 warps × 16 query rows
constexpr int kV3Cols = 64;      // Bc
constexpr int kV3Threads = 128;

template <int D, bool SharedKV>
struct V3Layout {
  // K and V tiles row-major, rows padded by 4 floats: the fragment reads below then hit 32 different banks
  // (K: key g, column t4 → bank 4g + t4; V: key 2·t4, column g → bank 8·t4 + g, for D + 4 ≡ 4 mod 32).
  static constexpr int stride = D + 4;
  static constexpr int tile_floats = kV3Cols * stride;
  // Q waits in shared memory too (same padded rows: A-fragment reads hit bank 4g + t4). In registers it
  // would take D / 2 of them per thread: at D = 64 the kernel then spilled at 3 blocks per SM.
  static constexpr int q_floats = kV3Rows * stride;
  // v4 at D = 128: K and V take turns in one buffer (101 KiB per block → 68 KiB: 3 blocks per SM, not 2).
  static constexpr int kv_tiles = SharedKV ? 1 : 2;
  static constexpr std::size_t bytes = (kv_tiles * tile_floats + q_floats) * sizeof(float);
};

// x = big + small exactly, big with TF32's 10-bit mantissa. The tensor core reads only a TF32 operand's top
// 19 bits. v3 truncates (big: the low 13 bits cleared; small then loses its own low bits in the tensor
// core): each product is off by up to about 3·2⁻²⁰ of its size. v4 rounds both halves to nearest (adding
// half a TF32 unit to the bits carries into the exponent when it must): about 3·2⁻²² (2 integer
// operations more per value).
template <bool Round>
__device__ __forceinline__ std::uint32_t to_tf32(std::uint32_t bits) {
  return ((Round ? bits + 0x1000u : bits) & 0xffffe000u);
}
template <bool Round>
__device__ __forceinline__ void split_tf32(float x, std::uint32_t& big, std::uint32_t& small) {
  big = to_tf32<Round>(__float_as_uint(x));
  small = to_tf32<Round>(__float_as_uint(x - __uint_as_float(big)));  // x − big is exact
}

// D (16 × 8) += A (16 × 8, row) · B (8 × 8, col) on TF32 operands, float32 accumulators. Fragments of lane
// ℓ, g = ℓ / 4, t4 = ℓ % 4 (PTX ISA, mma.m16n8k8): a0 A[g][t4], a1 A[g+8][t4], a2 A[g][t4+4],
// a3 A[g+8][t4+4]; b0 B[t4][g], b1 B[t4+4][g]; d0 D[g][2·t4], d1 D[g][2·t4+1], d2 D[g+8][2·t4], d3 D[g+8][2·t4+1].
__device__ __forceinline__ void mma_tf32(float (&d)[4], const std::uint32_t (&a)[4], std::uint32_t b0, std::uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
  __trap();  // launch_flash never starts v3 below sm_80
#endif
}

// d += a·b in float32 accuracy from three TF32 products (the small·small term is left out).
template <bool Round>
__device__ __forceinline__ void mma_3xtf32(float (&d)[4], const std::uint32_t (&a_big)[4], const std::uint32_t (&a_small)[4],
                                           float b0, float b1) {
  std::uint32_t b0_big, b0_small, b1_big, b1_small;
  split_tf32<Round>(b0, b0_big, b0_small);
  split_tf32<Round>(b1, b1_big, b1_small);
  mma_tf32(d, a_small, b0_big, b1_big);
  mma_tf32(d, a_big, b0_small, b1_small);
  mma_tf32(d, a_big, b0_big, b1_big);
}

// 16 bytes from global to shared memory without passing through registers (sm_80+).
__device__ __forceinline__ void cp_async16(float* smem, const float* gmem) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const auto s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem));
#else
  __trap();
#endif
}
__device__ __forceinline__ void cp_async_wait_all() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\ncp.async.wait_group 0;\n" ::);
#endif
}

// v3: Round = false, SharedKV = false, FreshAcc = false; v4: Round = true, SharedKV at D = 128;
// v5: v4 with FreshAcc (each key tile's P V summed from zero, then added to O in float32).
template <int D, bool Round, bool SharedKV, bool FreshAcc>
__global__ void __launch_bounds__(kV3Threads, D == 64 ? (FreshAcc ? 3 : 4) : (SharedKV && !FreshAcc ? 3 : 2))
    flash_v3_kernel(FlashArgs a) {
  using L = V3Layout<D, SharedKV>;
  constexpr int kSteps = D / 8;       // k-steps of S = Q Kᵀ, and 8-column tiles of O
  constexpr int kKeyTiles = kV3Cols / 8;  // 8-key tiles of S, and k-steps of O += P V
  extern __shared__ float4 smem4[];
  float* K_s = reinterpret_cast<float*>(smem4);  // Bc × D (stride L::stride)
  float* V_s = SharedKV ? K_s : K_s + L::tile_floats;  // Bc × D (v4 at D = 128: where K was)
  float* Q_s = K_s + L::kv_tiles * L::tile_floats;     // Br × D, pre-scaled

  const int t = static_cast<int>(threadIdx.x), lane = t % 32, warp = t / 32, g = lane / 4, t4 = lane % 4;
  const int h = static_cast<int>(blockIdx.y);
  const int q_block = a.causal ? static_cast<int>(gridDim.x - 1 - blockIdx.x) : static_cast<int>(blockIdx.x);
  const int q0 = q_block * kV3Rows;
  const int row0 = q0 + warp * 16 + g, row1 = row0 + 8;  // this thread's two query rows
  const float* Q = a.Q + h * a.q_head;
  const float* K = a.K + h * a.k_head;
  const float* V = a.V + h * a.v_head;
  const bool vec = a.vec != 0;

  // Q scaled by factor·log2(e), zero beyond n and d_k.
  for (int idx = t; idx < kV3Rows * D / 4; idx += kV3Threads) {
    const int r = idx / (D / 4), c = (idx % (D / 4)) * 4, row = q0 + r;
    float4 v = row < a.n ? load4(Q + static_cast<long long>(row) * a.q_row, c, a.d_k, vec) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    v.x *= a.scale_log2; v.y *= a.scale_log2; v.z *= a.scale_log2; v.w *= a.scale_log2;
    *reinterpret_cast<float4*>(Q_s + r * L::stride + c) = v;  // read after the loop's first barrier
  }

  float o[kSteps][4];  // O rows row0 (o[..][0..1]) and row1 (o[..][2..3]), columns dt·8 + 2·t4 + {0, 1}
#pragma unroll
  for (int dt = 0; dt < kSteps; ++dt) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.0f;
  float m_i[2] = {-INFINITY, -INFINITY}, l_i[2] = {0.0f, 0.0f};  // per row: maximum so far; this thread's part of the sum

  const int kv_end = a.causal ? min(a.m, q0 + kV3Rows) : a.m;
  for (int kv0 = 0; kv0 < kv_end; kv0 += kV3Cols) {
    __syncthreads();  // the previous tiles are no longer read
    for (int idx = t; idx < kV3Cols * D / 4; idx += kV3Threads) {
      const int r = idx / (D / 4), c = (idx % (D / 4)) * 4, j = kv0 + r;
      const float4 zero = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      *reinterpret_cast<float4*>(K_s + r * L::stride + c) = j < a.m ? load4(K + static_cast<long long>(j) * a.k_row, c, a.d_k, vec) : zero;
      if constexpr (!SharedKV)
        *reinterpret_cast<float4*>(V_s + r * L::stride + c) = j < a.m ? load4(V + static_cast<long long>(j) * a.v_row, c, a.d_v, vec) : zero;
    }
    __syncthreads();  // K (and V) are loaded

    // S = Q Kᵀ: 16 rows × 64 keys per warp, s[nt] the 16 × 8 tile of keys kv0 + nt·8 + ….
    float s[kKeyTiles][4];
#pragma unroll
    for (int nt = 0; nt < kKeyTiles; ++nt) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < kSteps; ++kk) {
      std::uint32_t a_big[4], a_small[4];
#pragma unroll
      for (int e = 0; e < 4; ++e)  // A[row g + 8·(e & 1)][column kk·8 + t4 + 4·(e >> 1)]
        split_tf32<Round>(Q_s[(warp * 16 + g + 8 * (e & 1)) * L::stride + kk * 8 + t4 + 4 * (e >> 1)], a_big[e], a_small[e]);
#pragma unroll
      for (int nt = 0; nt < kKeyTiles; ++nt) {
        const float* k = K_s + (nt * 8 + g) * L::stride + kk * 8 + t4;  // B[k][n] = K[key n][column k]
        mma_3xtf32<Round>(s[nt], a_big, a_small, k[0], k[4]);
      }
    }

    if constexpr (SharedKV) {
      // K is no longer read: V takes its place, copied asynchronously while the softmax below runs.
      __syncthreads();
      for (int idx = t; idx < kV3Cols * D / 4; idx += kV3Threads) {
        const int r = idx / (D / 4), c = (idx % (D / 4)) * 4, j = kv0 + r;
        float* dst = V_s + r * L::stride + c;
        const float* src = V + static_cast<long long>(j) * a.v_row + c;
        if (vec && j < a.m && c + 3 < a.d_v)
          cp_async16(dst, src);
        else
          *reinterpret_cast<float4*>(dst) = j < a.m ? load4(V + static_cast<long long>(j) * a.v_row, c, a.d_v, vec) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      }
    }

    // Mask (only tiles that need it: the last, the diagonal, or a custom mask).
    const bool needs_mask = kv0 + kV3Cols > a.m || (a.causal && kv0 + kV3Cols - 1 > q0) || a.allowed;
    if (needs_mask) {
#pragma unroll
      for (int nt = 0; nt < kKeyTiles; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          if (!key_allowed(a, e < 2 ? row0 : row1, kv0 + nt * 8 + 2 * t4 + (e & 1))) s[nt][e] = -INFINITY;
    }

    // Online softmax, row by row: the maximum over the quad of lanes sharing the row (lanes 4g … 4g+3).
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      float mx = -INFINITY;
#pragma unroll
      for (int nt = 0; nt < kKeyTiles; ++nt) mx = fmaxf(mx, fmaxf(s[nt][2 * half], s[nt][2 * half + 1]));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float m_new = fmaxf(m_i[half], mx);
      const float m_use = m_new == -INFINITY ? 0.0f : m_new;  // every key masked so far: exp2 gives 0, not NaN
      const float alpha = exp2f(m_i[half] - m_use);
      float sum = 0.0f;
#pragma unroll
      for (int nt = 0; nt < kKeyTiles; ++nt)
#pragma unroll
        for (int e = 2 * half; e < 2 * half + 2; ++e) {
          s[nt][e] = exp2f(s[nt][e] - m_use);
          sum += s[nt][e];
        }
      l_i[half] = l_i[half] * alpha + sum;
      m_i[half] = m_new;
#pragma unroll
      for (int dt = 0; dt < kSteps; ++dt) {
        o[dt][2 * half] *= alpha;
        o[dt][2 * half + 1] *= alpha;
      }
    }

    if constexpr (SharedKV) {
      cp_async_wait_all();
      __syncthreads();  // V is in shared memory
    }

    // O += P V. The accumulator layout of S is not the A layout of the next product, so the 8 keys of
    // each step are taken in the order 0, 2, 4, 6, 1, 3, 5, 7: A's column t4 is this lane's key 2·t4 and
    // column t4 + 4 its key 2·t4 + 1, exactly the S values the lane holds; B's rows are V's rows in the
    // same order. No data moves between lanes.
    // v3 and v4 accumulate straight into O, so O goes through 3·m/8 tensor-core accumulations; v5 sums
    // the tile in pv from zero (24 accumulations) and adds it to O with one float32 addition.
    float pv[FreshAcc ? kSteps : 1][4];
    if constexpr (FreshAcc) {
#pragma unroll
      for (int dt = 0; dt < kSteps; ++dt) pv[dt][0] = pv[dt][1] = pv[dt][2] = pv[dt][3] = 0.0f;
    }
#pragma unroll
    for (int nt = 0; nt < kKeyTiles; ++nt) {
      std::uint32_t p_big[4], p_small[4];
      split_tf32<Round>(s[nt][0], p_big[0], p_small[0]);  // row g, key 2·t4
      split_tf32<Round>(s[nt][2], p_big[1], p_small[1]);  // row g + 8, key 2·t4
      split_tf32<Round>(s[nt][1], p_big[2], p_small[2]);  // row g, key 2·t4 + 1
      split_tf32<Round>(s[nt][3], p_big[3], p_small[3]);  // row g + 8, key 2·t4 + 1
      const float* v = V_s + (nt * 8 + 2 * t4) * L::stride + g;  // B[k][n] = V[key][column n]
#pragma unroll
      for (int dt = 0; dt < kSteps; ++dt)
        mma_3xtf32<Round>(FreshAcc ? pv[FreshAcc ? dt : 0] : o[dt], p_big, p_small, v[dt * 8], v[dt * 8 + L::stride]);
    }
    if constexpr (FreshAcc) {
#pragma unroll
      for (int dt = 0; dt < kSteps; ++dt)
#pragma unroll
        for (int e = 0; e < 4; ++e) o[dt][e] += pv[dt][e];
    }
  }

  // l: the four partial sums of each row (the quad); O / l.
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    float l = l_i[half];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    const int row = half == 0 ? row0 : row1;
    if (row >= a.n) continue;
    float* orow = a.O + h * a.o_head + static_cast<long long>(row) * a.o_row;
    const float inv = 1.0f / l;
#pragma unroll
    for (int dt = 0; dt < kSteps; ++dt) {
      const int col = dt * 8 + 2 * t4;
      const float x0 = o[dt][2 * half] * inv, x1 = o[dt][2 * half + 1] * inv;
      if (vec && col + 1 < a.d_v) {
        *reinterpret_cast<float2*>(orow + col) = make_float2(x0, x1);
      } else {
        if (col < a.d_v) orow[col] = x0;
        if (col + 1 < a.d_v) orow[col + 1] = x1;
      }
    }
  }
}

template <int D, bool Round, bool SharedKV, bool FreshAcc>
void launch_v3(const FlashArgs& a, int heads) {
  const auto bytes = V3Layout<D, SharedKV>::bytes;
  const auto kernel = flash_v3_kernel<D, Round, SharedKV, FreshAcc>;
  ATTNVIZ_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  const dim3 grid(blocks_for(static_cast<std::size_t>(a.n), kV3Rows), static_cast<unsigned int>(heads));
  kernel<<<grid, kV3Threads, bytes>>>(a);
  check_launch("flash_v3_kernel");
}

// The compute capability of device 0 as major·10 + minor.
int compute_capability() {
  static const int cc = [] {
    int major = 0, minor = 0;
    ATTNVIZ_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
    ATTNVIZ_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0));
    return major * 10 + minor;
  }();
  return cc;
}

void launch_flash(const FlashArgs& a, int heads, int version) {
  if (a.d_k > kFlashMaxHeadDim || a.d_v > kFlashMaxHeadDim)
    throw Error("cuda-flash: d_k and d_v must be at most " + std::to_string(kFlashMaxHeadDim));
  if (version == 1) {
    const std::size_t bytes = sizeof(float) * static_cast<std::size_t>(kV1Rows) *
                              (2 * (a.d_k + 1) + 2 * (a.d_v + 1) + kV1Rows);
    ATTNVIZ_CUDA_CHECK(cudaFuncSetAttribute(flash_v1_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
    const dim3 grid(blocks_for(static_cast<std::size_t>(a.n), kV1Rows), static_cast<unsigned int>(heads));
    flash_v1_kernel<<<grid, kV1Rows, bytes>>>(a);
    check_launch("flash_v1_kernel");
  } else if (version == 2) {
    if (std::max(a.d_k, a.d_v) <= 64)
      launch_v2<64>(a, heads);
    else
      launch_v2<128>(a, heads);
  } else if (version >= 3 && version <= 5) {
    if (compute_capability() < 80)
      throw InputError("cuda-flash kernel v" + std::to_string(version) +
                       " needs tensor cores with TF32 (compute capability 8.0 or newer); this GPU has " +
                       std::to_string(compute_capability() / 10) + "." + std::to_string(compute_capability() % 10) +
                       ": use ATTNVIZ_FLASH_VERSION=2");
    const bool wide = std::max(a.d_k, a.d_v) > 64;
    if (version == 3)
      wide ? launch_v3<128, false, false, false>(a, heads) : launch_v3<64, false, false, false>(a, heads);
    else if (version == 4)
      wide ? launch_v3<128, true, true, false>(a, heads) : launch_v3<64, true, false, false>(a, heads);
    else
      wide ? launch_v3<128, true, true, true>(a, heads) : launch_v3<64, true, false, true>(a, heads);
  } else {
    throw Error("cuda-flash: no kernel version " + std::to_string(version) + " (there are 1 to " + std::to_string(kFlashLatestVersion) + ")");
  }
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

void require_device() {
  if (auto why = device_unavailable()) throw Error("no usable CUDA device: " + *why);
}

}  // namespace

std::optional<std::string> device_unavailable() {
  static const std::optional<std::string> answer = []() -> std::optional<std::string> {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess)
      return std::string(cudaGetErrorString(status)) + " (" + cudaGetErrorName(status) + ")";
    if (count == 0) return std::string("the CUDA driver reports no device");
    return std::nullopt;
  }();
  return answer;
}

std::string device_description() {
  require_device();
  cudaDeviceProp prop{};
  ATTNVIZ_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
         std::to_string(prop.multiProcessorCount) + " SMs)";
}

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

  scale_mask_kernel<<<blocks_for(cells * static_cast<std::size_t>(p.H), 256), 256>>>(
      S.get(), S_scaled.get(), allowed.get(), p.factor, static_cast<long long>(cells), p.H);
  check_launch("scale_mask_kernel");
  clock.mark("scale and mask S'");

  softmax_kernel<<<static_cast<unsigned int>(p.H * p.n), kSoftmaxThreads>>>(S_scaled.get(), P.get(), p.m);
  check_launch("softmax_kernel");
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
