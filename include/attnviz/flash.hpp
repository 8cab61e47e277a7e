// FlashAttention (Dao et al., 2022) with the FlashAttention-2 loop order, as the `flash` backend computes it,
// and the two views of it that `attnviz flash` teaches: the tile-by-tile walkthrough and the count of
// slow-memory (HBM) reads and writes. Names follow the paper: Q_i (Br × d_k) a block of query rows, K_j and
// V_j (Bc × d_k, Bc × d_v) a block of key/value rows, S_ij = Q_i K_jᵀ · scale (Br × Bc), m and ℓ the running
// row maximum and row sum of exp, O_i (Br × d_v) the unnormalised output, divided by ℓ once at the end.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "attnviz/attention.hpp"
#include "attnviz/model.hpp"

namespace attnviz {

// The flash backend's tile size when AttentionOptions leaves it at 0 (chosen by measurement, docs/benchmarks.md).
constexpr int kFlashDefaultBlockRows = 256;
constexpr int kFlashDefaultBlockCols = 128;

// One step of the inner loop: query block i against key block j.
struct FlashStep {
  int i = 0, j = 0;         // block indices, 0-based
  int row0 = 0, rows = 0;   // query rows [row0, row0 + rows)
  int col0 = 0, cols = 0;   // key columns [col0, col0 + cols)
  Matrix S;                 // rows × cols: S_ij = Q_i K_jᵀ · scale / temperature, masked cells −∞
  Matrix P;                 // rows × cols: P̃_ij = exp(S_ij − m_new), not yet normalised
  Vector m_old, m_new;      // rows: the running maximum before and after this tile
  Vector l_old, l_new;      // rows: the running sum ℓ before and after: ℓ_new = e^(m_old − m_new)·ℓ_old + rowsum(P̃)
  Vector rescale;           // rows: e^(m_old − m_new), what O and ℓ are multiplied by
  Matrix O;                 // rows × d_v: O_i = diag(rescale)·O_i + P̃_ij V_j, unnormalised
};

// Whether the tile (query rows [row0, row0+rows), keys [col0, col0+cols)) has any cell that may attend;
// tiles that do not are skipped by the loop (above the diagonal under --causal, or masked whole).
bool flash_tile_needed(const AttentionOptions& options, int row0, int rows, int col0, int cols);

// One query block of one head (rows [row0, row0+rows) of Q): O_i / ℓ, rows × d_v. `factor` multiplies
// Q K_jᵀ (score_factor). `on_step`, when given, sees every step. Q n × d_k, K m × d_k, V m × d_v.
Matrix flash_query_block(const Matrix& Q, const Matrix& K, const Matrix& V, const AttentionOptions& options,
                         float factor, int row0, int rows, int Bc,
                         const std::function<void(const FlashStep&)>* on_step = nullptr);

// Every step of head `head` with tiles of Br × Bc, and its final output (n × d_v), which equals the flash
// backend's `context` stage of that head bit for bit.
struct FlashWalkthrough {
  int head = 0, Br = 0, Bc = 0;
  std::vector<FlashStep> steps;
  Matrix O;  // n × d_v
};
FlashWalkthrough flash_walkthrough(const Model& model, const AttentionInput& in, const AttentionOptions& options,
                                   int head, int Br, int Bc);

// Reads and writes of slow memory, in float32 elements, for all heads.
struct IoCount {
  double reads = 0, writes = 0;
  double total() const { return reads + writes; }
};

struct FlashIo {
  int n = 0, m = 0, d_k = 0, d_v = 0, heads = 1;
  double sram_floats = 0;      // M: fast memory in float32 elements
  // Standard attention (the paper's Algorithm 0): read Q, K, write S; read S, write P; read P, V, write O.
  IoCount standard;
  double standard_model = 0;   // Θ(nd + n²) evaluated as heads·(n·d + n·m)
  // The tile loop with the given Br × Bc: Q_i read once per query block, K_j and V_j once per tile that
  // is not skipped, O_i written once; m and ℓ stay in fast memory.
  int Br = 0, Bc = 0;
  IoCount tiled;
  double tiles_floats = 0;     // fast memory the tiles need: Q_i, K_j, V_j, O_i, S_ij, m, ℓ
  // The same loop with the paper's tiles for this M: Bc = ⌈M / 4d⌉, Br = min(Bc, d).
  int paper_Br = 0, paper_Bc = 0;
  IoCount paper_tiled;
  double tiled_model = 0;      // Θ(n²d²/M) evaluated as heads·n·m·d²/M
};

// The counts for n queries, m keys, and `sram_kib` KiB of fast memory (d = d_k for the model formulas).
FlashIo flash_io(int n, int m, int d_k, int d_v, int heads, const AttentionOptions& options, int Br, int Bc,
                 double sram_kib);

}  // namespace attnviz
