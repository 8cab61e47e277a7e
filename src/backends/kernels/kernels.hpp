// The hot loops of the CPU backends, compiled once per instruction set and chosen once at start-up:
// `baseline` (every x86-64: SSE2; elsewhere the compiler's portable vectors), `avx2` (AVX2 + FMA) and
// `avx512` (AVX-512 F/VL/BW/DQ). The same source, kernels.inc, is compiled three times with different
// flags into three namespaces (isa_baseline.cpp, isa_avx2.cpp, isa_avx512.cpp); why this way and not
// Highway or SLEEF is in docs/simd.md. dispatch.hpp chooses the path (ATTNVIZ_CPU forces a lower one).
//
// This header holds only declarations and plain structs: nothing here may be an inline function or a
// template, because the ISA files include it and an inline function compiled with AVX-512 could be the
// copy the linker keeps for every path (tests/check_isa_symbols.sh checks their objects).
#pragma once

#include <cstddef>

namespace attnviz::kernels {

// What `flash_block` shows an observer after each tile (the `attnviz flash` walkthrough). Pointers into the
// kernel's scratch; rows of S, P and O are `ld` and `ldo` floats apart.
struct FlashTileRecord {
  int j = 0;                      // key block index
  int col0 = 0, cols = 0;         // keys [col0, col0 + cols)
  const float* S = nullptr;       // rows × cols: scores · factor, masked cells −∞ (before the exp)
  const float* P = nullptr;       // rows × cols: exp(S − m_new)
  long ld = 0;
  const float* m_old = nullptr;   // rows each
  const float* m_new = nullptr;
  const float* l_old = nullptr;
  const float* l_new = nullptr;
  const float* rescale = nullptr; // exp(m_old − m_new)
  const float* O = nullptr;       // rows × d_v, unnormalised
  long ldo = 0;
};
using FlashObserver = void (*)(void* context, const FlashTileRecord& tile);

// One query block of one head against every key: O = softmax(Q Kᵀ · factor, masked) V, in key tiles of Bc
// columns (FlashAttention-2: running max m and sum ℓ, O rescaled only when a row's max grows, divided by ℓ
// once at the end). Row-major pointers. Kt is Kᵀ packed once per head by the caller in tiles of Bc keys:
// tile j (keys [j·Bc, j·Bc + Bc)) is a d_k × Bc block at Kt + j·d_k·ldkt, rows ldkt ≥ Bc floats apart, so
// the d_k rows a tile's product reads lie together in memory.
struct FlashBlock {
  const float* Q = nullptr;  long ldq = 0;   // rows × d_k, the block's first query row
  const float* Kt = nullptr; long ldkt = 0;  // Kᵀ in tiles of d_k × Bc (above)
  const float* V = nullptr;  long ldv = 0;   // m × d_v
  float* O = nullptr;        long ldo = 0;   // rows × d_v, written
  int rows = 0, row0 = 0;                    // query rows [row0, row0 + rows) of the whole n
  int m = 0, d_k = 0, d_v = 0, Bc = 0;
  float factor = 1.0f;                       // applied to Q Kᵀ (scale / temperature)
  bool causal = false;                       // key j > query i is masked
  const float* mask = nullptr; long ldmask = 0;  // rows × m from row0 (0 = masked), or null
  float* scratch = nullptr;                  // Table::flash_scratch_floats(rows, Bc) floats, 64-byte aligned
  FlashObserver observe = nullptr;           // called after every computed tile when set
  void* observe_context = nullptr;
};

// The instruction set's kernels.
struct Table {
  const char* name;   // "baseline", "avx2", "avx512"
  const char* detail; // e.g. "AVX-512 F/VL/BW/DQ, 16 floats a vector"
  int width;          // floats per vector
  // x[i] = exp(x[i]): the Cephes polynomial without FMA, so every path gives the same bits.
  void (*exp)(float* x, std::size_t count);
  // C = A · B (+ C when accumulate), row-major: A M × K (lda), B K × N (ldb), C M × N (ldc). Each C
  // element is summed over k in order, so the bits never depend on how M is split among threads.
  void (*gemm)(int M, int N, int K, const float* A, long lda, const float* B, long ldb, float* C, long ldc,
               bool accumulate);
  // The reference's scores: S = A · B (as gemm) and S_scaled = S · factor; S and S_scaled M × N, ld apart.
  void (*scores)(int M, int N, int K, const float* A, long lda, const float* B, long ldb, float* S, float* S_scaled,
                 long ld, float factor);
  // The reference's row softmax of `rows` rows of m: the maximum, exp(s − max) with `exp`, the sum from left
  // to right, the division; the same bits as those steps done one by one (attnviz explain does).
  void (*softmax_rows)(const float* S_scaled, float* P, long ld, int rows, int m);
  void (*flash_block)(const FlashBlock& block);
  std::size_t (*flash_scratch_floats)(int rows, int Bc);  // the scratch flash_block needs
};

// Each ISA file defines one of these (the only external symbol of its object).
const Table& table_baseline();
const Table& table_avx2();
const Table& table_avx512();

}  // namespace attnviz::kernels
