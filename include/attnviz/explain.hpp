// The arithmetic behind one attention weight (attnviz explain): for query i and key j of one head,
// qᵢ·kⱼ term by term, the scale factor, the mask, minus the row maximum, exp, ÷ the row's sum, the weight,
// and that weight × vⱼ as its share of the context row. Every number comes from the trace or is computed in
// float32 in the same order as the reference backend (src/backends/cpu.cpp), so it equals the trace's.
#pragma once

#include <string>
#include <vector>

#include "attnviz/matrix.hpp"
#include "attnviz/model.hpp"
#include "attnviz/render.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

struct CellExplanation {
  int head = 0;                      // 0-based
  int query = 0, key = 0;            // token indices: a row and a column of the n × m matrices
  std::string query_token, key_token;
  std::vector<std::string> q_labels; // d_k labels of the queries stage ("q0", ...)
  Vector q, k;                       // 1 × d_k: row i of Q, row j of K
  std::vector<float> products;       // q[c] · k[c], c = 0..d_k-1
  float score = 0;                   // S[i][j] from the trace (Eigen's dot product: the sum of the products)
  float factor = 1;                  // S' = S × factor; factor = scale / temperature
  float scale = 1, temperature = 1;
  std::vector<float> scaled_row;     // row i of S' (masked cells −∞)
  std::vector<bool> masked_row;      // which cells of row i are masked
  std::vector<std::string> key_tokens;
  float row_max = 0;                 // max of the row of S'
  int row_argmax = 0;                // its first key
  std::vector<float> exp_row;        // e^(S'[i][j'] − max) for every key j' (0 for masked cells)
  float row_sum = 0;                 // their sum, added in key order as the reference does
  std::vector<float> weight_row;     // e^(…) ÷ sum: row i of P
  std::vector<std::string> v_labels; // d_v labels of the values stage
  Vector v;                          // 1 × d_v: row j of V
  Vector share;                      // P[i][j] × v: key j's share of the context row
  Vector context;                    // 1 × d_v: row i of A from the trace (the sum of every key's share)

  bool masked() const { return masked_row[static_cast<std::size_t>(key)]; }
  float scaled() const { return scaled_row[static_cast<std::size_t>(key)]; }
  float exp_value() const { return exp_row[static_cast<std::size_t>(key)]; }
  float weight() const { return weight_row[static_cast<std::size_t>(key)]; }
};

// The position of `spec` in `tokens`: a word (its first occurrence) or "word#N" (its N-th, from 1).
// InputError naming the word and the sentence when it is not there; `role` is "--query" or "--key".
int find_token(const std::vector<std::string>& tokens, const std::string& spec, const std::string& role,
               const std::string& sentence);

// Explains cell (query, key) of head `head` (0-based). InputError when the trace lacks the attention
// matrices or the head does not exist.
CellExplanation explain_cell(const Trace& trace, int head, int query, int key);

// The explanation as numbered steps, every number formatted as the tables format it.
std::string render_explanation(const CellExplanation& e, const Trace& trace, const RenderOptions& options);

// One entry of a projection, Q, K, V (of a head) or O: row `row` of its input (X, Xc for the keys and values
// of cross-attention, the heads' concat for O) times column `col` of the weights, term by term, plus the
// bias. The inputs and the result are the trace's; the weights and the bias the model's.
struct ProjectionExplanation {
  std::string stage, symbol;                 // "queries", "Q"
  std::string input_symbol, weight_symbol, bias_symbol;  // "X", "W_q", "b_q"
  int head = 0, row = 0, col = 0;
  std::string token, column;                 // the row's token, the column's label ("q3")
  std::vector<std::string> input_labels;     // the input's columns (the embeddings' dimensions, or a0 …)
  std::vector<float> inputs, weights, products;  // input[row][k], W[k][col], their product (float32)
  bool has_bias = false;
  float bias = 0;
  float value = 0;  // the trace's own entry: Σ products + bias, as the backend added them up
};

// InputError when `stage` is not a projection of the trace, or the cell or head is out of range.
ProjectionExplanation explain_projection(const Trace& trace, const Model& model, const std::string& stage, int head, int row, int col);
std::string render_projection(const ProjectionExplanation& e, const RenderOptions& options);

// Any entry of a stage that is not an attention matrix, explained with the trace's numbers: a projection as
// above; E as the word's row of the embeddings; PE by its sine or cosine; X as E + PE; concat as the head's
// context; a trained model's layer norm (layer_norm, final_norm) as its row's mean and variance, the normalised
// entry, times the learned gain plus the bias. (The context A is the weighted sum of the values:
// render_explanation's last step, per key.)
std::string render_entry(const Trace& trace, const Model& model, const std::string& stage, int head, int row, int col,
                         const RenderOptions& options);

}  // namespace attnviz
