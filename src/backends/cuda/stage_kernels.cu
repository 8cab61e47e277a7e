// The stage kernels of the cuda backend: a tiled GEMM (projections, S = QKᵀ, A = PV, O = AW_o), an
// elementwise scale-and-mask kernel and a row softmax kernel.
#include <cmath>

#include "device.cuh"
#include "stages.cuh"

namespace attnviz::cuda::detail {

namespace {

// A readable 16 × 16 shared-memory tiled GEMM (one block per 16 × 16 tile of C, batch item blockIdx.z): the
// cuda backend shows every stage, cuda-flash is the fast path.
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

}  // namespace

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

void project(const float* X, const float* W, const float* b, float* out, int rows, int inner, int cols) {
  gemm(GemmArgs{X, W, out, b, rows, cols, inner, inner, cols, cols, 0, 0, 0, 1.0f}, false, 1);
}

void scale_and_mask(const float* S, float* S_scaled, const unsigned char* allowed, float factor, long long cells_per_head, int heads) {
  const auto cells = static_cast<std::size_t>(cells_per_head) * static_cast<std::size_t>(heads);
  scale_mask_kernel<<<blocks_for(cells, 256), 256>>>(S, S_scaled, allowed, factor, cells_per_head, heads);
  check_launch("scale_mask_kernel");
}

void softmax_rows(const float* S_scaled, float* P, int rows, int m) {
  softmax_kernel<<<static_cast<unsigned int>(rows), kSoftmaxThreads>>>(S_scaled, P, m);
  check_launch("softmax_kernel");
}

}  // namespace attnviz::cuda::detail
