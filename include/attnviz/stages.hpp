// The stage catalogue: every stage of the trace, once. Its name (the trace's "name" and what --stages
// takes), symbol, whether it is per head, its axes and labels, formula and narration. Backends hand back
// numbers only (AttentionNumbers); label_stages turns them into the labelled stages; the renderers, the
// narration, the HTML page, the JSON Schema test and the Python tools (through the schema) read this list.
// Adding a stage: its entry in src/core/stages.cpp, its numbers where they are computed, and the schema's
// list (docs/architecture.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attnviz/matrix.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

struct Model;
struct AttentionInput;

// The stage names as the trace spells them.
namespace stage_name {
inline constexpr std::string_view token_embeddings = "token_embeddings";
inline constexpr std::string_view positional_encoding = "positional_encoding";
inline constexpr std::string_view position_embeddings = "position_embeddings";
inline constexpr std::string_view embeddings = "embeddings";
inline constexpr std::string_view context_embeddings = "context_embeddings";
inline constexpr std::string_view layer_input = "layer_input";
inline constexpr std::string_view layer_norm = "layer_norm";
inline constexpr std::string_view queries = "queries";
inline constexpr std::string_view keys = "keys";
inline constexpr std::string_view values = "values";
inline constexpr std::string_view scores = "scores";
inline constexpr std::string_view scaled_scores = "scaled_scores";
inline constexpr std::string_view weights = "weights";
inline constexpr std::string_view context = "context";
inline constexpr std::string_view concat = "concat";
inline constexpr std::string_view output = "output";
inline constexpr std::string_view residual = "residual";
inline constexpr std::string_view mlp = "mlp";
inline constexpr std::string_view layer_output = "layer_output";
inline constexpr std::string_view final_norm = "final_norm";
inline constexpr std::string_view predictions = "predictions";
}  // namespace stage_name

// Which tokens label a stage's rows, and what its columns are.
enum class RowTokens { queries, keys };
enum class Columns {
  dimensions,  // the embeddings' dimension names
  numbered,    // column_prefix + 0, 1, ... ("q0", "q1")
  keys,        // the key tokens: an n × m attention matrix
  heads,       // every head's numbered columns side by side ("h1.a0"; "a0" with one head)
  words,       // vocabulary words (a trained model's likeliest next words)
};

struct StageInfo {
  std::string_view name;       // the trace's "name"
  std::string_view symbol;     // "Q", "S'", ...
  bool per_head = false;       // one stage per head
  RowTokens rows = RowTokens::queries;
  Columns columns = Columns::dimensions;
  std::string_view column_prefix;  // for Columns::numbered and Columns::heads
  std::string_view width;          // how many columns: "d_model", "d_k", "d_v", "m" (keys), "heads*d_v" or "words" (as many as shown)
  std::string_view formula;        // how it is computed, in the notation of docs/math.md
  std::string_view narration;      // the --narrate paragraph: plain ASCII, for a student new to matrices

  // The trace's "row_axis" and "col_axis".
  std::string_view row_axis() const { return columns == Columns::keys ? "queries" : "tokens"; }
  std::string_view col_axis() const { return columns == Columns::keys ? "keys" : columns == Columns::words ? "words" : "dimensions"; }
  bool attention_matrix() const { return columns == Columns::keys; }
};

// Every stage, in trace order.
const std::vector<StageInfo>& stage_catalogue();
// The entry of `name`; nullptr for a name that is no stage.
const StageInfo* find_stage_info(std::string_view name);
// The entry of `name`, which must be a stage (std::logic_error otherwise: a typo in the code).
const StageInfo& stage_info(std::string_view name);

// The "tokens" pseudo-stage of the reports (the token list) and its --narrate paragraph.
inline constexpr std::string_view kTokensView = "tokens";
std::string_view tokens_narration();

// What a backend computes for one head: numbers only.
struct HeadNumbers {
  Matrix Q;  // n × d_k
  Matrix K;  // m × d_k
  Matrix V;  // m × d_v
  std::optional<Matrix> S, S_scaled, P;  // n × m each, when the backend stores them
};

// What a backend computes: each head's numbers, then every head's context A side by side and the output.
struct AttentionNumbers {
  std::vector<HeadNumbers> heads;
  Matrix concat;  // n × (H·d_v); head h's context A is columns [h·d_v, (h+1)·d_v)
  Matrix O;       // n × d: concat · W_o + b_o
};

// One labelled stage of the catalogue: `data` with the labels and axes its entry says.
Stage make_stage(std::string_view name, std::optional<int> head, const AttentionInput& in, Matrix data, int heads = 1);
// A stage of the embedding side (token_embeddings … context_embeddings): rows `tokens`, columns `dims`.
Stage make_embedding_stage(std::string_view name, const std::vector<std::string>& tokens, const std::vector<std::string>& dims,
                           Matrix data);
// Any stage that is not per head, with its rows and columns labelled as given (a trained model's stages).
Stage make_labelled_stage(std::string_view name, const std::vector<std::string>& rows, const std::vector<std::string>& cols, Matrix data);
// The labelled stages after the embeddings, in trace order: per head Q, K, V, (S, S', P), A, then concat, O.
std::vector<Stage> label_stages(const Model& model, const AttentionInput& in, AttentionNumbers numbers);

}  // namespace attnviz
