// Attention weights (docs/formats.md, format "attnviz-model") and the built-in `identity` model.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "attnviz/matrix.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

struct LoadedLm;  // a trained language model (train.hpp)

// Shapes (row-vector convention): W_q, W_k: d_model × (heads·d_k); W_v: d_model × (heads·d_v);
// W_o: (heads·d_v) × d_model; b_q, b_k: heads·d_k; b_v: heads·d_v; b_o: d_model. Absent biases are zero.
struct Model {
  std::string name;
  std::string description;
  WeightsOrigin origin = WeightsOrigin::unstated;  // the file's optional "origin": "hand-set" or "trained"
  double gain = 1.0;                               // the identity model's --gain (W_q = gain · I)
  int d_model = 0;
  int heads = 1;
  int d_k = 0;
  int d_v = 0;
  Matrix W_q, W_k, W_v, W_o;
  Vector b_q, b_k, b_v, b_o;
  bool has_biases = false;
  // Set for one layer of a trained language model (lm_trace.hpp): the W and b above are that layer's, and
  // run_attention traces the language model's own forward through it.
  std::shared_ptr<const LoadedLm> language_model;
  int layer = 0;   // 0-based
  int layers = 1;  // how many the model has
};

Model load_model(const std::filesystem::path& path);
// Whether the file is an attnviz-model version 2 file (a trained language model: lm.hpp, lm_trace.hpp).
bool is_language_model_file(const std::filesystem::path& path);
Model parse_model(const std::string& text, const std::string& source);

// One model of `heads` heads whose every W is the identity and whose biases are zero: attention is pure
// similarity of the embeddings. Head h sees dimensions [h·d_model/heads, (h+1)·d_model/heads).
// `gain` (--gain): W_q = gain · I, so every score is `gain` times the dot product; the name says it
// ("identity, gain 4") when it is not 1. InputError unless 0 < gain < 1e6.
Model identity_model(int d_model, int heads = 1, double gain = 1.0);

}  // namespace attnviz
