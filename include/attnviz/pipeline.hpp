// Sentence in, trace out: look up the words (word_lookup.hpp), add positions (positions.hpp), check the limits
// (limits.hpp), run a backend, build the trace.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attnviz/attention.hpp"
#include "attnviz/embeddings.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/model.hpp"
#include "attnviz/positions.hpp"
#include "attnviz/trace.hpp"
#include "attnviz/word_lookup.hpp"

namespace attnviz {

struct PipelineOptions {
  UnknownWords unknown = UnknownWords::error;
  std::string backend = "cpu";
  AttentionOptions attention;
  std::string positions = "none";      // "none" or "sinusoidal"
  std::optional<std::string> context;  // cross-attention: keys and values come from this sentence
  std::string mask_source = "the mask";  // how messages name attention.mask, e.g. "--mask FILE"
  // --exclude-self: no word may attend to itself (the diagonal masked, on top of attention.mask and the
  // causal rule). Self-attention only: InputError with a context.
  bool exclude_self = false;
  double max_memory_bytes = 2.0 * 1024 * 1024 * 1024;  // refuse n × m stages larger than this
  // What each stored n × m cell also costs in the outputs asked for (kJsonBytesPerCell, kTableBytesPerCell),
  // counted against max_memory_bytes with the matrices themselves.
  double output_bytes_per_cell = 0;
  std::string outputs_named;  // how messages name those outputs, e.g. "their JSON export"
  // What the loaded embeddings and model hold (set by the run from them: loaded_bytes), counted with the
  // run's matrices against max_memory_bytes: the budget holds for the sum.
  double loaded_bytes = 0;
};

// About how many bytes `emb` and `model` hold in memory (vectors, weights, the words and their index).
double loaded_bytes(const Embeddings& emb, const Model& model);

// The embedding rows of `tokens` (n × d).
Matrix embed(const Embeddings& emb, const std::vector<std::string>& tokens);

// The backend's input for `sentence` (and options.context): tokens, embeddings, positions. Fills `trace`'s
// sentence, tokens and context tokens, and appends its positional_encoding and embeddings stages. It checks
// options.exclude_self but the diagonal it masks stays in run_attention's options: a caller computing stages
// itself (the flash walkthrough) refuses --exclude-self.
AttentionInput prepare_input(const Embeddings& emb, const Model& model, const std::string& sentence,
                             const PipelineOptions& options, Trace& trace);

// The stages after the embeddings, computed by `backend` on `in` with options.attention: refused (InputError)
// before any work when they would exceed --max-memory or the backend cannot, and when a number overflows.
std::vector<Stage> compute_stages(const Backend& backend, const Model& model, const AttentionInput& in, const PipelineOptions& options,
                                  StageTimes& times);
// Building the trace (src/core/trace.cpp): its configuration for `model` computed by `backend` with `options`,
// and the notes of a run (the lookup's warnings, what the backend does not store, the positions' sum).
TraceConfig trace_config(const std::string& embeddings, const Model& model, const std::string& backend, const PipelineOptions& options);
void add_run_notes(Trace& trace, const Backend& backend, const PipelineOptions& options);
// The notes of the identity model's run: how many words attend most to themselves (and which function words
// take the rest), or that the rows are nearly uniform and which --gain would spread them.
void add_identity_notes(Trace& trace, const Model& model);

// Every stage of the catalogue (stages.hpp) for `sentence`. The model's d_model must equal the embeddings' dim.
// With positions, three stages come first: token_embeddings (E, the words' own rows), positional_encoding
// (PE) and embeddings (X = E + PE). With a context, context_embeddings (the key/value side's rows, its own
// positions added) follows embeddings.
Trace run_attention(const Embeddings& emb, const Model& model, const std::string& sentence, const PipelineOptions& options);

// Cosine similarity of two row vectors (0 when either is zero).
float cosine(const Vector& a, const Vector& b);

}  // namespace attnviz
