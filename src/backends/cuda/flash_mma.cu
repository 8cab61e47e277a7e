// cuda-flash kernels v3–v5: mma.sync on the tensor cores with TF32 operands split in two for float32
// accuracy; what each version changes and measured: flash.cuh.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "flash.cuh"

namespace attnviz::cuda::detail {

namespace {

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

}  // namespace

void launch_mma(const FlashArgs& a, int heads, int version) {
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
}

}  // namespace attnviz::cuda::detail
