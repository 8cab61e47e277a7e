// A small causal (GPT-style) transformer language model, trained by attnviz itself (docs/training.md).
//
// Shapes: T tokens of a sentence, C = d_model (the embeddings' width), H heads of width D (d_k = d_v),
// F the MLP's hidden width (0: no MLP), V the vocabulary (the embeddings' words plus <unk>), L layers.
//
//   x⁰ = E[tokens] + P[0..T)                                  T × C   (E frozen: the word vectors)
//   for each layer l:
//     a = LN₁(x)          q = a W_q + b_q, k = a W_k + b_k, v = a W_v + b_v      T × HD
//     A_h = causal softmax(q_h k_hᵀ / √D)   (uniform: 1/(i+1) on j ≤ i; current word: the identity)
//     y = [A_1 v_1 … A_H v_H]                                  T × HD
//     x = x + y W_o + b_o                                      (the residual)
//     with an MLP: x = x + GELU(LN₂(x) W₁ + b₁) W₂ + b₂        T × F → T × C
//   f = LN_f(x)         logits = f Eᵀ + b_out                  T × V   (tied to the embeddings)
//   loss = mean over t < T−1 of −log softmax(logits_t)[token_{t+1}]
//
// The trainable parameters live in one flat buffer (LmLayout says where each tensor is), so the
// optimiser, the gradients of several threads and the file format all walk one array.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "attnviz/matrix.hpp"

namespace attnviz {

template <typename S>
using RowMat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// How each layer mixes the tokens: learned attention (the model), the plain average of the words so far
// (the uniform-attention baseline), or each word alone (the bigram baseline: the current word only).
enum class Mixing { attention, uniform, current };
std::string mixing_name(Mixing m);  // "attention", "uniform", "current-word"

struct LmConfig;
// Bytes of the activations one forward pass over T tokens holds: every layer's, the attention matrix of
// every head, the T × V logits (float32).
double lm_forward_bytes(const LmConfig& c, double T);
// InputError (--max-memory) when `copies` forward passes over T tokens at once (one a thread, or one with
// its gradients) exceed the budget; `why` ends the message (", one a thread for 4 threads").
void check_lm_forward_memory(const LmConfig& c, double T, double copies, const std::string& why = "");
Mixing parse_mixing(const std::string& name);

struct LmConfig {
  int vocab = 0;    // V
  int d_model = 0;  // C
  int layers = 1;   // L
  int heads = 4;    // H
  int d_k = 25;     // D
  int mlp = 0;      // F (0: no MLP)
  int max_len = 32; // longest sentence (positions)
  Mixing mixing = Mixing::attention;
};
// InputError naming the option when a size is out of range.
void check_config(const LmConfig& c);

struct LmTensor {
  std::string name;  // "positions", "W_q", "ln_f_gain", ... (per layer in the file's "layers")
  int layer = -1;    // −1: not in a layer
  int rows = 0, cols = 0;
  std::size_t offset = 0;
  bool decay = false;  // AdamW's weight decay applies (the weight matrices)
  std::size_t size() const { return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols); }
};

class LmLayout {
 public:
  enum Id { ln1_gain, ln1_bias, W_q, b_q, W_k, b_k, W_v, b_v, W_o, b_o, ln2_gain, ln2_bias, W_1, b_1, W_2, b_2, kPerLayer };
  explicit LmLayout(const LmConfig& c);
  const LmTensor& positions() const { return tensors[0]; }
  const LmTensor& layer(int l, Id id) const { return tensors[1 + static_cast<std::size_t>(l) * kPerLayer + id]; }
  const LmTensor& lnf_gain() const { return tensors[tensors.size() - 3]; }
  const LmTensor& lnf_bias() const { return tensors[tensors.size() - 2]; }
  const LmTensor& out_bias() const { return tensors[tensors.size() - 1]; }
  std::vector<LmTensor> tensors;  // absent tensors (W_q of a uniform layer, the MLP's when F = 0) have no rows
  std::size_t size = 0;           // floats in all
};

// The sum of −log p over every predicted token of `sentences` (each at most max_len tokens; one of fewer
// than two tokens predicts nothing) and how many were predicted. With `grad` (the layout's size), adds
// the gradient of scale · (that sum) to it. `embeddings` is V × C.
struct LmLoss {
  double nll = 0;
  std::size_t tokens = 0;
};
template <typename S>
LmLoss lm_forward_backward(const LmConfig& config, const S* params, const RowMat<S>& embeddings,
                           const std::vector<std::vector<int>>& sentences, S* grad, S scale);

// The attention weights of one sentence (at most max_len tokens), forward only: [layer][head], T × T.
std::vector<std::vector<RowMat<float>>> lm_attention(const LmConfig& config, const std::vector<float>& params, const RowMat<float>& embeddings,
                                                     const std::vector<int>& ids);

// The next word's logits (V) after `ids` (1 to max_len tokens) and the attention weights that predicted
// it: [layer][head], T × T (the last row is the predicting position's).
struct LmPrediction {
  Eigen::Matrix<float, 1, Eigen::Dynamic> logits;
  std::vector<std::vector<RowMat<float>>> attention;
};
LmPrediction lm_predict(const LmConfig& config, const std::vector<float>& params, const RowMat<float>& embeddings, const std::vector<int>& ids);

// Every activation of the forward pass of one sentence (1 to max_len tokens), as evaluate and generate
// compute them: what `run` shows of a trained model (src/core/lm_trace.cpp).
struct LmLayerActivations {
  RowMat<float> x_in;     // T × C   the residual stream entering the layer
  RowMat<float> a;        // T × C   LN₁(x_in): what attention reads
  RowMat<float> q, k, v;  // T × HD
  std::vector<RowMat<float>> attention;  // H × (T × T)
  RowMat<float> x_mid;    // T × C   x_in + y W_o + b_o (the residual connection)
  RowMat<float> mlp_out;  // T × C   GELU(LN₂(x_mid) W₁ + b₁) W₂ + b₂ (empty without an MLP)
  RowMat<float> x_out;    // T × C   the layer's output (x_mid + mlp_out, or x_mid)
};
struct LmActivations {
  RowMat<float> x0;                          // T × C   E[tokens] + P[0..T)
  std::vector<LmLayerActivations> layers;
  RowMat<float> f;                           // T × C   LN_f(last layer's output)
  RowMat<float> logits;                      // T × V   f Eᵀ + b_out: row t predicts token t+1
};
LmActivations lm_activations(const LmConfig& config, const std::vector<float>& params, const RowMat<float>& embeddings,
                             const std::vector<int>& ids);

// Sets parameters as training starts: weights N(0, 0.02) (W_o and W_2 divided by √(2L)), positions
// N(0, 0.02), gains 1 (LN_f's 0.1), biases 0, the output bias `out_bias` (log unigram frequencies). Deterministic.
void lm_init(const LmConfig& config, std::vector<float>& params, std::uint64_t seed, const std::vector<float>& out_bias);

// A trained language model, as in an "attnviz-model" version 2 file.
struct LanguageModel {
  std::string name;
  std::string description;
  std::string embeddings;  // the embeddings it reads (bundled name or path): its words + <unk> are the vocabulary
  LmConfig config;
  std::vector<float> params;
  nlohmann::ordered_json training = nlohmann::ordered_json::object();  // how it was trained, as written
  std::vector<LanguageModel> baselines;  // trained alongside: unigram, bigram, uniform-attention
};

nlohmann::ordered_json language_model_json(const LanguageModel& m);
LanguageModel parse_language_model(const std::string& text, const std::string& source);
LanguageModel load_language_model(const std::filesystem::path& path);

}  // namespace attnviz
