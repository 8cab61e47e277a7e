// cuda-flash kernels v1 (one thread per query row) and v2 (register tiling on the float32 cores); what
// each does and measured: flash.cuh.
#include <algorithm>
#include <cmath>

#include "flash.cuh"

namespace attnviz::cuda::detail {

namespace {

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
void launch_v2_at(const FlashArgs& a, int heads) {
  const auto bytes = V2Layout<D>::bytes;
  // Above 48 KiB of dynamic shared memory a kernel must opt in (sm_80: up to 163 KiB, sm_90: 227 KiB).
  ATTNVIZ_CUDA_CHECK(cudaFuncSetAttribute(flash_v2_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  const dim3 grid(blocks_for(static_cast<std::size_t>(a.n), kV2Rows), static_cast<unsigned int>(heads));
  flash_v2_kernel<D><<<grid, kV2Threads, bytes>>>(a);
  check_launch("flash_v2_kernel");
}

}  // namespace

void launch_v1(const FlashArgs& a, int heads) {
  const std::size_t bytes = sizeof(float) * static_cast<std::size_t>(kV1Rows) *
                            (2 * (a.d_k + 1) + 2 * (a.d_v + 1) + kV1Rows);
  ATTNVIZ_CUDA_CHECK(cudaFuncSetAttribute(flash_v1_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  const dim3 grid(blocks_for(static_cast<std::size_t>(a.n), kV1Rows), static_cast<unsigned int>(heads));
  flash_v1_kernel<<<grid, kV1Rows, bytes>>>(a);
  check_launch("flash_v1_kernel");
}

void launch_v2(const FlashArgs& a, int heads) {
  if (std::max(a.d_k, a.d_v) <= 64)
    launch_v2_at<64>(a, heads);
  else
    launch_v2_at<128>(a, heads);
}

}  // namespace attnviz::cuda::detail
