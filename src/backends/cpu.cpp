// The reference backend: written to be read, not tuned. Every other backend is checked against it
// element by element. It is built from whole-matrix operations: the matrix products and the exp of the kernel
// path in use (kernels/: AVX-512, AVX2 or baseline, chosen at start-up), Eigen for the rest, which is also
// what makes it fast enough to benchmark as "standard attention".
// Legend: n query tokens, m key tokens, d = d_model, H heads, d_k, d_v per head.
#include <cmath>
#include <limits>

#include "attnviz/attention.hpp"
#include "backends.hpp"
#include "kernels/dispatch.hpp"
#include "parallel.hpp"

namespace attnviz {

namespace {

constexpr float kMinusInfinity = -std::numeric_limits<float>::infinity();

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  bool stores_attention_matrices() const override { return true; }

  AttentionNumbers run(const Model& model, const AttentionInput& in, const AttentionOptions& options, StageTimes*) const override {
    const auto n = static_cast<int>(in.X.rows());     // query tokens
    const auto m = static_cast<int>(in.X_kv.rows());  // key/value tokens
    const int H = model.heads, d_v = model.d_v;
    const bool masked = options.causal || options.mask.has_value();
    std::vector<std::vector<bool>> allowed;  // n × m, only when some cell is masked
    if (masked) allowed = allowed_cells(options, n, m);
    const float factor = score_factor(options, model.d_k);

    struct Head {
      HeadProjections p;  // Q n × d_k, K m × d_k, V m × d_v
      Matrix Kt;          // Kᵀ, d_k × m: the layout the matrix-product kernel reads
      Matrix S, S_scaled, P;  // n × m each
      Matrix A;               // n × d_v
    };
    std::vector<Head> heads(static_cast<std::size_t>(H));
    for (int h = 0; h < H; ++h) {
      Head& hd = heads[static_cast<std::size_t>(h)];
      hd.p = project_head(model, in, h, options.threads);
      hd.Kt = hd.p.K.transpose();
      hd.S.resize(n, m);
      hd.S_scaled.resize(n, m);
      hd.P.resize(n, m);
      hd.A.resize(n, d_v);
    }

    // One work item = one head × a fixed block of query rows; each item computes its rows whole.
    const int blocks = (n + kReferenceRowsPerItem - 1) / kReferenceRowsPerItem;
    parallel_for(H * blocks, options.threads, [&](int item) {
      Head& hd = heads[static_cast<std::size_t>(item / blocks)];
      const int r0 = (item % blocks) * kReferenceRowsPerItem, rows = std::min(kReferenceRowsPerItem, n - r0);
      const auto& [Q, K, V] = hd.p;
      const kernels::Table& k = kernels::active();  // the matrix products at this CPU's vector width
      // S = Q Kᵀ, the raw compatibility of query i with key j, and S' = S ÷√d_k ÷ temperature, in one pass.
      k.scores(rows, m, model.d_k, &Q(r0, 0), Q.cols(), hd.Kt.data(), m, &hd.S(r0, 0), &hd.S_scaled(r0, 0), m, factor);
      if (masked)
        for (int i = r0; i < r0 + rows; ++i)
          for (int j = 0; j < m; ++j)
            if (!allowed[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]) hd.S_scaled(i, j) = kMinusInfinity;
      // Row-wise softmax in three passes (the maximum, exp and the sum in key order, the division): rows
      // sum to 1, masked cells (−∞) get exactly 0.
      k.softmax_rows(&hd.S_scaled(r0, 0), &hd.P(r0, 0), m, rows, m);
      k.gemm(rows, d_v, m, &hd.P(r0, 0), m, V.data(), d_v, &hd.A(r0, 0), d_v, false);  // A = P V: weighted mix of the value rows
    });

    AttentionNumbers out;
    out.concat.resize(n, H * d_v);  // n × (H·d_v)
    for (int h = 0; h < H; ++h) {
      Head& hd = heads[static_cast<std::size_t>(h)];
      out.concat.middleCols(h * d_v, d_v) = hd.A;
      out.heads.push_back({std::move(hd.p.Q), std::move(hd.p.K), std::move(hd.p.V), std::move(hd.S), std::move(hd.S_scaled), std::move(hd.P)});
    }
    out.O = output_projection(model, out.concat, options.threads);
    return out;
  }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace attnviz
