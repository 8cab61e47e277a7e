// The attention computation and the small backend contract: a backend computes numbers, the stage
// catalogue (stages.hpp) labels them.
//
// Legend of letters used across the backends:
//   n = query tokens, m = key/value tokens (m = n in self-attention), d = d_model, H = heads,
//   d_k = per-head query/key width, d_v = per-head value width.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attnviz/matrix.hpp"
#include "attnviz/model.hpp"
#include "attnviz/stages.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

struct AttentionOptions {
  bool causal = false;          // a query attends only to keys at or before its own position
  std::optional<Matrix> mask;   // n × m, 1 = may attend, 0 = masked (combined with causal)
  float temperature = 1.0f;     // > 0: S' = S · scale / temperature
  bool scale = true;            // multiply S by 1/√d_k
  // How the work is done, never what is computed: results are bit-identical for every thread count.
  int threads = 0;              // worker threads over heads and query blocks; 0 = the hardware's concurrency
  int block_rows = 0;           // flash: Br, query rows per tile (0 = the backend's default)
  int block_cols = 0;           // flash: Bc, key columns per tile (0 = the backend's default)
  int kernel = 0;               // cuda-flash: the fused kernel version (0 = ATTNVIZ_FLASH_VERSION, else the default)
};

struct AttentionInput {
  Matrix X;                              // n × d: the queries' tokens (positions already added)
  Matrix X_kv;                           // m × d: the keys' and values' tokens (= X in self-attention)
  std::vector<std::string> query_tokens; // n labels
  std::vector<std::string> key_tokens;   // m labels
  std::vector<std::string> dim_labels;   // d labels (the embeddings' dimension names)
};

// True where query i may attend to key j (n × m), from the causal flag and the custom mask.
// Checks the mask first (check_mask in limits.hpp: InputError for a wrong shape or a row without a key).
std::vector<std::vector<bool>> allowed_cells(const AttentionOptions& options, int n, int m);

// The factor applied to the raw scores: (scale ? 1/√d_k : 1) / temperature.
float score_factor(const AttentionOptions& options, int d_k);

// The attention kernel alone, timed by a backend that can (the GPU ones, with CUDA events).
struct KernelTiming {
  double seconds_median = 0;
  double seconds_min = 0;
  int runs = 0;
  std::string device;  // e.g. "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)"
  std::string kernel;  // e.g. "flash v2"
};

// One way to compute attention. The Eigen `cpu` backend is the readable reference that every other
// backend is checked against element by element.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Whether this backend stores the n × m stages (scores, scaled_scores, weights).
  virtual bool stores_attention_matrices() const = 0;
  // Empty when supported; otherwise why not (shown to the user as an input error).
  virtual std::optional<std::string> unsupported(const Model& model, const AttentionInput& input,
                                                 const AttentionOptions& options) const;
  // The numbers of every stage after the embeddings (per head Q, K, V, and S, S', P when the backend keeps
  // them; the heads' contexts side by side; the output). With `times`, also each step's time when the backend
  // measures them (the CUDA ones); the others leave it empty.
  virtual AttentionNumbers run(const Model& model, const AttentionInput& input, const AttentionOptions& options,
                               StageTimes* times) const = 0;
  // run() labelled by the stage catalogue (label_stages): the stages after the embeddings, in trace order.
  std::vector<Stage> compute(const Model& model, const AttentionInput& input, const AttentionOptions& options) const;
  // compute(), also filling `times` when the backend measures its steps.
  std::vector<Stage> compute_timed(const Model& model, const AttentionInput& input, const AttentionOptions& options,
                                   StageTimes& times) const;
  // The attention kernel alone (no projections, no copies) on random Q, K, V of `heads` heads, each
  // n × d, self-attention; nullopt when the backend has no such separate kernel (the default).
  virtual std::optional<KernelTiming> time_kernel(int n, int d, int heads, bool causal) const;
};

// The backend of that name; an InputError naming the available ones otherwise.
std::unique_ptr<Backend> make_backend(std::string_view name);
// The names of the backends compiled into this build, reference first.
std::vector<std::string> backend_names();

}  // namespace attnviz
