// Sentence in, trace out: tokenize, look up the embeddings, add positions, run a backend.
#pragma once

#include <optional>
#include <string>

#include "attnviz/attention.hpp"
#include "attnviz/embeddings.hpp"
#include "attnviz/model.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

struct PipelineOptions {
  std::string backend = "cpu";
  AttentionOptions attention;
  std::string positions = "none";      // "none" or "sinusoidal"
  std::optional<std::string> context;  // cross-attention: keys and values come from this sentence
  double max_memory_bytes = 2.0 * 1024 * 1024 * 1024;  // refuse n × m stages larger than this
};

// Tokens of `sentence` in `emb`'s vocabulary. InputError for an empty sentence or unknown words (all of them
// named, with suggestions); `what` names the sentence in messages ("the sentence", "the context").
std::vector<std::string> tokens_for(const Embeddings& emb, const std::string& sentence, const std::string& what = "the sentence");

// The embedding rows of `tokens` (n × d).
Matrix embed(const Embeddings& emb, const std::vector<std::string>& tokens);

// The sinusoidal positional encoding of "Attention Is All You Need": n × d,
// PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).
Matrix sinusoidal_positions(int n, int d);

// The backend's input for `sentence` (and options.context): tokens, embeddings, positions. Fills `trace`'s
// sentence, tokens and context tokens, and appends its positional_encoding and embeddings stages.
AttentionInput prepare_input(const Embeddings& emb, const Model& model, const std::string& sentence,
                             const PipelineOptions& options, Trace& trace);

// InputError when `backend` would store n × m matrices (scores, scaled scores, weights, per head) larger
// than `max_memory_bytes`, suggesting --max-memory or --backend flash.
void check_attention_memory(const Backend& backend, double n, double m, int heads, double max_memory_bytes);

// Every stage of DESIGN.md §1 for `sentence`. The model's d_model must equal the embeddings' dim.
Trace run_attention(const Embeddings& emb, const Model& model, const std::string& sentence, const PipelineOptions& options);

// Cosine similarity of two row vectors (0 when either is zero).
float cosine(const Vector& a, const Vector& b);

}  // namespace attnviz
