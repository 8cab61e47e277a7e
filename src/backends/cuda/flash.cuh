// Internal to the CUDA kernels: the fused kernels of cuda-flash, by role: flash_v1_v2.cu (the readable v1,
// the register-tiled v2), flash_mma.cu (v3–v5 on tensor cores), launch.cu (choosing a version, the runs).
// The other files: device.cuh and checks.cu (errors, memory, timing, the device), stage_kernels.cu (the
// cuda backend's stages).
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
#pragma once

#include "device.cuh"

namespace attnviz::cuda::detail {

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

void launch_v1(const FlashArgs& a, int heads);
void launch_v2(const FlashArgs& a, int heads);                // D = 64 or 128 from d_k, d_v
void launch_mma(const FlashArgs& a, int heads, int version);  // version 3, 4 or 5; D from d_k, d_v

}  // namespace attnviz::cuda::detail
