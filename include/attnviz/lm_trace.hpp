// A trained language model (attnviz-model version 2, lm.hpp) in the commands that trace one sentence: run,
// explain, compare, explore, demo. One layer's attention becomes a Model (its W_q … b_o) that carries the
// language model, and run_attention then traces the model's own forward (lm_activations, what evaluate and
// generate compute): the embeddings and learned positions, the layer's input and layer norm, its attention
// (computed by the chosen backend, the same as for every model), the residual, the MLP, and after the last
// layer the final layer norm and the next-word predictions.
#pragma once

#include <memory>
#include <string>

#include "attnviz/embeddings.hpp"
#include "attnviz/model.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

struct LoadedLm;

// The attention of layer `layer` (0-based) of `lm` as a Model that carries the language model.
// InputError when the model has no learned attention (a baseline) or no such layer.
Model language_model_layer(std::shared_ptr<const LoadedLm> lm, int layer);

// run_attention for a Model that carries a language model. InputError for what the model's forward does
// not have (sinusoidal positions, a context, a mask, a temperature, no scaling, subword pieces), for a
// sentence longer than its positions, and for other embeddings than the model's.
Trace run_language_model(const Embeddings& emb, const Model& model, const std::string& sentence, const PipelineOptions& options);

// How many of each row's likeliest next words the predictions stage shows (their union is its columns).
inline constexpr int kPredictionsPerRow = 3;

}  // namespace attnviz
