// The trace: every stage of one attention computation as data (names, labels, matrices). Renderers and
// exporters only read it, so a new view never touches the math (docs/architecture.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attnviz/matrix.hpp"

namespace attnviz {

// What the rows and columns of a stage are. Attention matrices (scores, scaled_scores, weights) have
// queries as rows and keys as columns; the others have tokens as rows and named dimensions as columns.
struct Stage {
  std::string name;                     // JSON "name": "embeddings", "queries", ... (stages.hpp)
  std::string symbol;                   // "X", "Q", "K", "V", "S", "S'", "P", "A", "O"
  std::optional<int> head;              // 0-based head for per-head stages, nullopt otherwise
  std::string row_axis;                 // "tokens" or "queries"
  std::string col_axis;                 // "dimensions" or "keys"
  std::vector<std::string> row_labels;  // one per row
  std::vector<std::string> col_labels;  // one per column
  Matrix data;                          // rows × cols; a masked cell is -infinity

  bool is_attention() const { return col_axis == "keys"; }
};

// Where a model's weights W_q, W_k, W_v, W_o came from (--narrate says it; a model file's "origin").
enum class WeightsOrigin {
  unstated,  // a model file that does not say
  hand_set,  // chosen by hand to be read ("origin": "hand-set"; the bundled toy and two-heads models)
  identity,  // the built-in identity model
  trained,   // learned by training ("origin": "trained")
};

struct TraceConfig {
  std::string embeddings;  // the embeddings' name
  std::string model;       // the model's name
  WeightsOrigin weights_origin = WeightsOrigin::unstated;
  std::string backend;     // "cpu", "flash", ...
  int heads = 1;
  int d_model = 0;
  int d_k = 0;
  int d_v = 0;
  float scale = 1.0f;        // the factor applied to S: 1/√d_k, or 1 with --no-scale
  float temperature = 1.0f;  // S' = S · scale / temperature
  bool causal = false;
  bool custom_mask = false;
  bool exclude_self = false;  // the diagonal masked (--exclude-self): no word attends to itself
  std::string positions = "none";     // "none", "sinusoidal", or "learned" (a trained language model)
  std::optional<std::string> context;  // the context sentence of cross-attention
  int layer = 0;   // a trained language model: the layer shown (from 1) of `layers`; 0 for a one-layer model
  int layers = 0;
};

// What each step of a backend took, in the order they ran: (what, milliseconds). Backends that measure
// their steps (the CUDA ones, with CUDA events) fill it; the others leave it empty.
using StageTimes = std::vector<std::pair<std::string, double>>;

struct Trace {
  std::string sentence;
  std::vector<std::string> tokens;          // the query side
  std::vector<std::string> context_tokens;  // the key/value side when it differs (cross-attention)
  TraceConfig config;
  std::vector<Stage> stages;
  std::vector<std::string> notes;  // what the reader should know, e.g. which stages a backend omits
  StageTimes timings;              // per-step times when the backend measures them (--timings)
  // Per token (parallel to tokens / context_tokens): "" for a word of the embeddings, else how the token
  // was made from an unknown word (--unknown subword: "split from 'cocreated'"; --unknown zero: "zero vector").
  std::vector<std::string> token_notes;
  std::vector<std::string> context_token_notes;
  std::vector<std::string> warnings;  // for standard error (e.g. a word that got a zero vector)

  // The stage named `name` (of head `head` for per-head stages); nullptr when absent.
  const Stage* find(std::string_view name, std::optional<int> head = std::nullopt) const;
};

}  // namespace attnviz
