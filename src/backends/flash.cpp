// The flash backend: FlashAttention with the FlashAttention-2 loop order (query blocks outside, key/value
// blocks inside), never storing an n × m matrix. Legend: n query tokens, m key tokens, d_k, d_v per head,
// Br query rows and Bc key columns per tile, Tr = ⌈n/Br⌉ query blocks, Tc = ⌈m/Bc⌉ key blocks.
#include "attnviz/flash.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "backends.hpp"
#include "parallel.hpp"
#include "vexp.hpp"

namespace attnviz {

namespace {

constexpr float kMinusInfinity = -std::numeric_limits<float>::infinity();

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

Matrix flash_query_block(const Matrix& Q, const Matrix& K, const Matrix& V, const AttentionOptions& options,
                         float factor, int row0, int rows, int Bc, const std::function<void(const FlashStep&)>* on_step) {
  const auto m = static_cast<int>(K.rows());
  const auto d_v = static_cast<int>(V.cols());
  const auto Q_i = Q.middleRows(row0, rows);                       // Br × d_k, stays in fast memory
  Matrix O_i = Matrix::Zero(rows, d_v);                            // Br × d_v, unnormalised
  Vector m_i = Vector::Constant(rows, kMinusInfinity);             // running row maximum of S
  Vector l_i = Vector::Zero(rows);                                 // running row sum of exp(S − m)
  Vector m_new(rows), rescale(rows);
  std::vector<float> tile(static_cast<std::size_t>(rows) * static_cast<std::size_t>(Bc));  // S_ij, then P̃_ij in place
  const bool may_mask = options.causal || options.mask.has_value();

  for (int j = 0, col0 = 0; col0 < m; ++j, col0 += Bc) {
    const int cols = std::min(Bc, m - col0);
    if (!flash_tile_needed(options, row0, rows, col0, cols)) continue;
    Eigen::Map<Matrix> S(tile.data(), rows, cols);  // Br × Bc

    // S_ij = Q_i K_jᵀ, then · scale / temperature (in that order, as the reference does), masked cells −∞.
    S.noalias() = Q_i * K.middleRows(col0, cols).transpose();
    S *= factor;
    if (may_mask && (options.mask || col0 + cols - 1 > row0))
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
          if (!cell_allowed(options, row0 + r, col0 + c)) S(r, c) = kMinusInfinity;
    Matrix S_shown;
    if (on_step) S_shown = S;

    // m_new = max(m_old, rowmax(S_ij)); P̃_ij = exp(S_ij − m_new); rescale = exp(m_old − m_new).
    // A row masked so far has m_new = −∞: shift by 0 instead, so exp gives 0 rather than exp(−∞ + ∞) = NaN.
    for (int r = 0; r < rows; ++r) {
      m_new(r) = std::max(m_i(r), S.row(r).maxCoeff());
      const float shift = m_new(r) == kMinusInfinity ? 0.0f : m_new(r);
      S.row(r).array() -= shift;
      rescale(r) = m_i(r) - shift;
    }
    exp_inplace(S.data(), static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols));  // S now holds P̃_ij
    exp_inplace(rescale.data(), static_cast<std::size_t>(rows));

    const Vector l_old = on_step ? l_i : Vector();
    // ℓ_new = rescale · ℓ_old + rowsum(P̃_ij);  O_i = diag(rescale) · O_i + P̃_ij V_j.
    l_i = rescale.cwiseProduct(l_i) + S.rowwise().sum().transpose();
    O_i.array().colwise() *= rescale.transpose().array();
    O_i.noalias() += S * V.middleRows(col0, cols);

    if (on_step)
      (*on_step)(FlashStep{0 /* i: set by the caller, who knows Br */, j, row0, rows, col0, cols, std::move(S_shown), Matrix(S), m_i, m_new,
                           l_old, l_i, rescale, O_i});
    m_i = m_new;
  }
  // Divide by ℓ once at the end. ℓ > 0: allowed_cells guarantees each row one allowed key.
  O_i.array().colwise() /= l_i.transpose().array();
  return O_i;
}

namespace {

class FlashBackend final : public Backend {
 public:
  std::string name() const override { return "flash"; }
  bool stores_attention_matrices() const override { return false; }

  std::vector<Stage> compute(const Model& model, const AttentionInput& in, const AttentionOptions& options) const override {
    const auto n = static_cast<int>(in.X.rows());     // query tokens
    const auto m = static_cast<int>(in.X_kv.rows());  // key/value tokens
    const int H = model.heads, d_v = model.d_v, Br = block_rows(options), Bc = block_cols(options);
    check_blocks(Br, Bc);
    if (options.mask) allowed_cells(options, n, m);  // checks the mask's shape and that no row is masked whole
    const float factor = score_factor(options, model.d_k);

    std::vector<HeadProjections> heads;
    for (int h = 0; h < H; ++h) heads.push_back(project_head(model, in, h, options.threads));
    Matrix concat(n, H * d_v);  // n × (H·d_v)

    // One work item = one head × one query block, computed whole by one thread (Tr = ⌈n/Br⌉ blocks per head).
    const int Tr = (n + Br - 1) / Br;
    parallel_for(H * Tr, options.threads, [&](int item) {
      const int h = item / Tr, row0 = (item % Tr) * Br, rows = std::min(Br, n - row0);
      const auto& [Q, K, V] = heads[static_cast<std::size_t>(h)];
      concat.block(row0, h * d_v, rows, d_v) = flash_query_block(Q, K, V, options, factor, row0, rows, Bc);
    });

    std::vector<Stage> stages;
    for (int h = 0; h < H; ++h) {
      auto& [Q, K, V] = heads[static_cast<std::size_t>(h)];
      stages.push_back(token_stage("queries", "Q", h, in.query_tokens, numbered("q", model.d_k), std::move(Q)));
      stages.push_back(token_stage("keys", "K", h, in.key_tokens, numbered("k", model.d_k), std::move(K)));
      stages.push_back(token_stage("values", "V", h, in.key_tokens, numbered("v", d_v), std::move(V)));
      stages.push_back(token_stage("context", "A", h, in.query_tokens, numbered("a", d_v), concat.middleCols(h * d_v, d_v)));
    }
    append_output_stages(model, in, std::move(concat), stages, options.threads);
    return stages;
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
