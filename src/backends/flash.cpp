// The flash backend: FlashAttention with the FlashAttention-2 loop order (query blocks outside, key/value
// blocks inside), never storing an n × m matrix. Legend: n query tokens, m key tokens, d_k, d_v per head,
// Br query rows and Bc key columns per tile, Tr = ⌈n/Br⌉ query blocks, Tc = ⌈m/Bc⌉ key blocks.
#include "attnviz/flash.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "backends.hpp"
#include "kernels/dispatch.hpp"
#include "parallel.hpp"

namespace attnviz {

namespace {

bool cell_allowed(const AttentionOptions& options, int i, int j) {
  return !(options.causal && j > i) && !(options.mask && (*options.mask)(i, j) == 0.0f);
}

int block_rows(const AttentionOptions& o) { return o.block_rows > 0 ? o.block_rows : kFlashDefaultBlockRows; }
int block_cols(const AttentionOptions& o) { return o.block_cols > 0 ? o.block_cols : kFlashDefaultBlockCols; }

void check_blocks(int Br, int Bc) {
  if (Br < 1 || Bc < 1) throw InputError(fmt::format("tiles must have at least one row and one column, got Br = {}, Bc = {}", Br, Bc));
}

}  // namespace

bool flash_tile_needed(const AttentionOptions& options, int row0, int rows, int col0, int cols) {
  if (options.causal && col0 > row0 + rows - 1) return false;  // every key after every query of the block
  if (!options.mask) return true;
  for (int i = row0; i < row0 + rows; ++i)
    for (int j = col0; j < col0 + cols; ++j)
      if (cell_allowed(options, i, j)) return true;
  return false;
}

namespace {

// The walkthrough's view of the kernel: each tile's arrays copied into a FlashStep.
struct StepRecorder {
  const std::function<void(const FlashStep&)>* on_step;
  int rows, row0, d_v;

  static void observe(void* context, const kernels::FlashTileRecord& t) {
    const auto& self = *static_cast<const StepRecorder*>(context);
    const auto tile = [&](const float* p, long ld, int cols) {
      return Matrix(Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>(p, self.rows, cols, Eigen::OuterStride<>(ld)));
    };
    const auto vec = [&](const float* p) { return Vector(Eigen::Map<const Vector>(p, self.rows)); };
    (*self.on_step)(FlashStep{0 /* i: set by the caller, who knows Br */, t.j, self.row0, self.rows, t.col0, t.cols,
                              tile(t.S, t.ld, t.cols), tile(t.P, t.ld, t.cols), vec(t.m_old), vec(t.m_new), vec(t.l_old),
                              vec(t.l_new), vec(t.rescale), tile(t.O, t.ldo, self.d_v)});
  }
};

// K and V of one head as the kernel reads them, packed once and shared by every query block, each row on a
// 64-byte boundary (a row split across two cache lines costs every AVX-512 load twice): Kᵀ in tiles of Bc
// keys, tile j the d_k × Bc block of rows [j·d_k, (j+1)·d_k), its column c the key j·Bc + c (zeros past the
// last key); V row by row.
struct PackedHead {
  std::vector<float> storage;
  const float* Kt = nullptr;
  long ldkt = 0;
  const float* V = nullptr;
  long ldv = 0;
  int m = 0, Bc = 0;
};

PackedHead pack_head(const Matrix& K, const Matrix& V, int Bc, int threads) {
  PackedHead p;
  p.m = static_cast<int>(K.rows());
  p.Bc = std::min(Bc, std::max(p.m, 1));  // a tile wider than the keys is one tile of all of them
  const auto d_k = static_cast<long>(K.cols()), d_v = static_cast<long>(V.cols());
  const long tiles = (p.m + p.Bc - 1) / p.Bc;
  const auto round16 = [](long x) { return (x + 15) / 16 * 16; };
  p.ldkt = round16(p.Bc);
  p.ldv = round16(d_v);
  const long kt_floats = tiles * d_k * p.ldkt, v_floats = static_cast<long>(p.m) * p.ldv;
  p.storage.assign(static_cast<std::size_t>(kt_floats + v_floats + 16), 0.0f);
  auto* base = reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(p.storage.data()) + 63) & ~std::uintptr_t{63});
  float* v = base + kt_floats;
  // One item per key tile, shared among the threads (serial, it was 1 % of a run at n = 4096 and so 2 % of
  // the two-thread time): each key's row of K read whole, written down its column of the tile (the tile is
  // 32 KiB at d_k = 64 and stays in the L1 cache), and the same keys' rows of V.
  parallel_for(static_cast<int>(tiles), threads, [&](int j) {
    const long first = static_cast<long>(j) * p.Bc, cols = std::min<long>(p.Bc, p.m - first);
    float* tile = base + j * d_k * p.ldkt;
    for (long c = 0; c < cols; ++c) {
      const float* key = &K(first + c, 0);
      for (long k = 0; k < d_k; ++k) tile[k * p.ldkt + c] = key[k];
      const float* value = &V(first + c, 0);
      for (long e = 0; e < d_v; ++e) v[(first + c) * p.ldv + e] = value[e];
    }
  });
  p.Kt = base;
  p.V = v;
  return p;
}

// The tile loop of one query block, by the kernel path in use (kernels/kernels.inc), with K packed by
// pack_head: once per head, shared by every block. O (rows × d_v) receives O_i / ℓ.
void flash_block(const Matrix& Q, const PackedHead& kv, int d_v, const AttentionOptions& options, float factor,
                 int row0, int rows, float* O, long ldo, const std::function<void(const FlashStep&)>* on_step) {
  const kernels::Table& k = kernels::active();
  const int Bc = kv.Bc;
  // Scratch aligned to 64 bytes (one cache line, one AVX-512 vector), kept by each thread from block to
  // block: a fresh 300 KiB a block cost page faults and zeroing (the kernel writes before it reads).
  thread_local std::vector<float> scratch;
  if (scratch.size() < k.flash_scratch_floats(rows, Bc) + 16) scratch.resize(k.flash_scratch_floats(rows, Bc) + 16);
  auto* aligned = reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(scratch.data()) + 63) & ~std::uintptr_t{63});
  kernels::FlashBlock f;
  f.Q = Q.data() + static_cast<std::ptrdiff_t>(row0) * Q.cols();
  f.ldq = static_cast<long>(Q.cols());
  f.Kt = kv.Kt;
  f.ldkt = kv.ldkt;
  f.V = kv.V;
  f.ldv = kv.ldv;
  f.O = O;
  f.ldo = ldo;
  f.rows = rows;
  f.row0 = row0;
  f.m = kv.m;
  f.d_k = static_cast<int>(Q.cols());
  f.d_v = d_v;
  f.Bc = Bc;
  f.factor = factor;
  f.causal = options.causal;
  if (options.mask) {
    f.mask = options.mask->data() + static_cast<std::ptrdiff_t>(row0) * options.mask->cols();
    f.ldmask = static_cast<long>(options.mask->cols());
  }
  f.scratch = aligned;
  StepRecorder recorder{on_step, rows, row0, f.d_v};
  if (on_step) {
    f.observe = &StepRecorder::observe;
    f.observe_context = &recorder;
  }
  k.flash_block(f);
}

}  // namespace

Matrix flash_query_block(const Matrix& Q, const Matrix& K, const Matrix& V, const AttentionOptions& options,
                         float factor, int row0, int rows, int Bc, const std::function<void(const FlashStep&)>* on_step) {
  const PackedHead kv = pack_head(K, V, Bc, 1);
  Matrix O_i(rows, V.cols());
  flash_block(Q, kv, static_cast<int>(V.cols()), options, factor, row0, rows, O_i.data(), static_cast<long>(O_i.cols()), on_step);
  return O_i;
}

Matrix flash_attention(const std::vector<HeadProjections>& heads, int d_v, const AttentionOptions& options, float factor) {
  const int H = static_cast<int>(heads.size()), Br = block_rows(options), Bc = block_cols(options);
  check_blocks(Br, Bc);
  const auto n = H > 0 ? static_cast<int>(heads.front().Q.rows()) : 0;  // query tokens
  std::vector<PackedHead> packed;  // K and V of each head as the kernel reads them, once for every query block
  for (const auto& head : heads) packed.push_back(pack_head(head.K, head.V, Bc, options.threads));
  Matrix concat(n, H * d_v);  // n × (H·d_v)

  // One work item = one head × one query block, computed whole by one thread (Tr = ⌈n/Br⌉ blocks per head).
  const int Tr = (n + Br - 1) / Br;
  // Under --causal the last query blocks have the most keys: they go first, so the threads finish together.
  parallel_for(H * Tr, options.threads, [&](int item) {
    const int block = options.causal ? Tr - 1 - item % Tr : item % Tr;
    const int h = item / Tr, row0 = block * Br, rows = std::min(Br, n - row0);
    flash_block(heads[static_cast<std::size_t>(h)].Q, packed[static_cast<std::size_t>(h)], d_v, options, factor, row0, rows,
                &concat(row0, h * d_v), static_cast<long>(concat.cols()), nullptr);
  });
  return concat;
}

namespace {

class FlashBackend final : public Backend {
 public:
  std::string name() const override { return "flash"; }
  bool stores_attention_matrices() const override { return false; }

  AttentionNumbers run(const Model& model, const AttentionInput& in, const AttentionOptions& options, StageTimes*) const override {
    const auto n = static_cast<int>(in.X.rows());     // query tokens
    const auto m = static_cast<int>(in.X_kv.rows());  // key/value tokens
    check_blocks(block_rows(options), block_cols(options));
    if (options.mask) allowed_cells(options, n, m);  // checks the mask's shape and that no row is masked whole

    std::vector<HeadProjections> heads;
    for (int h = 0; h < model.heads; ++h) heads.push_back(project_head(model, in, h, options.threads));
    Matrix concat = flash_attention(heads, model.d_v, options, score_factor(options, model.d_k));

    AttentionNumbers out;
    for (auto& [Q, K, V] : heads) out.heads.push_back({std::move(Q), std::move(K), std::move(V), {}, {}, {}});
    out.O = output_projection(model, concat, options.threads);
    out.concat = std::move(concat);
    return out;
  }
};

}  // namespace

std::unique_ptr<Backend> make_flash_backend() { return std::make_unique<FlashBackend>(); }

FlashWalkthrough flash_walkthrough(const Model& model, const AttentionInput& in, const AttentionOptions& options,
                                   int head, int Br, int Bc) {
  check_blocks(Br, Bc);
  if (head < 0 || head >= model.heads)
    throw InputError(fmt::format("--head {} does not exist: the model has {} head{}", head + 1, model.heads, model.heads == 1 ? "" : "s"));
  const auto n = static_cast<int>(in.X.rows()), m = static_cast<int>(in.X_kv.rows());
  if (options.mask) allowed_cells(options, n, m);
  FlashWalkthrough w;
  w.head = head;
  w.Br = Br;
  w.Bc = Bc;
  const auto [Q, K, V] = project_head(model, in, head, options.threads);
  w.O.resize(n, model.d_v);
  const std::function<void(const FlashStep&)> record = [&](const FlashStep& s) { w.steps.push_back(s); };
  for (int row0 = 0; row0 < n; row0 += Br) {
    const int rows = std::min(Br, n - row0);
    w.O.middleRows(row0, rows) = flash_query_block(Q, K, V, options, score_factor(options, model.d_k), row0, rows, Bc, &record);
  }
  for (auto& s : w.steps) s.i = s.row0 / Br;
  return w;
}

FlashIo flash_io(int n, int m, int d_k, int d_v, int heads, const AttentionOptions& options, int Br, int Bc, double sram_kib) {
  check_blocks(Br, Bc);
  if (!(sram_kib > 0)) throw InputError(fmt::format("--sram-kib must be > 0, got {}", sram_kib));
  FlashIo io;
  io.n = n;
  io.m = m;
  io.d_k = d_k;
  io.d_v = d_v;
  io.heads = heads;
  io.sram_floats = sram_kib * 1024.0 / sizeof(float);
  const double H = heads, N = n, Mk = m;

  io.standard.reads = H * (N * d_k + Mk * d_k + N * Mk + N * Mk + Mk * d_v);  // Q, K; S; P, V
  io.standard.writes = H * (N * Mk + N * Mk + N * d_v);                      // S; P; O
  io.standard_model = H * (N * d_k + N * Mk);

  // The same loop structure as flash_query_block, counting instead of computing.
  auto count = [&](int br, int bc) {
    IoCount c;
    for (int row0 = 0; row0 < n; row0 += br) {
      const int rows = std::min(br, n - row0);
      c.reads += static_cast<double>(rows) * d_k;  // Q_i
      for (int col0 = 0; col0 < m; col0 += bc) {
        const int cols = std::min(bc, m - col0);
        if (flash_tile_needed(options, row0, rows, col0, cols)) c.reads += static_cast<double>(cols) * (d_k + d_v);  // K_j, V_j
      }
      c.writes += static_cast<double>(rows) * d_v;  // O_i
    }
    c.reads *= H;
    c.writes *= H;
    return c;
  };
  io.Br = Br;
  io.Bc = Bc;
  io.tiled = count(Br, Bc);
  io.tiles_floats = static_cast<double>(Br) * d_k + static_cast<double>(Bc) * (d_k + d_v) + static_cast<double>(Br) * d_v +
                    static_cast<double>(Br) * Bc + 2.0 * Br;
  io.paper_Bc = std::max(1, static_cast<int>(std::ceil(io.sram_floats / (4.0 * d_k))));
  io.paper_Br = std::min(io.paper_Bc, d_k);
  io.paper_tiled = count(io.paper_Br, io.paper_Bc);
  io.tiled_model = H * N * Mk * d_k * d_k / io.sram_floats;
  return io;
}

}  // namespace attnviz
