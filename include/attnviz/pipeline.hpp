// Sentence in, trace out: tokenize, look up the embeddings, add positions, run a backend.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attnviz/attention.hpp"
#include "attnviz/embeddings.hpp"
#include "attnviz/model.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

// What to do with a word the embeddings lack (--unknown): an input error that names it (the default);
// split it into the longest known pieces, WordPiece-style ("cocreated" -> co ##created, each piece its own
// token); or give it a zero vector with a warning.
enum class UnknownWords { error, subword, zero };
UnknownWords parse_unknown_words(const std::string& name);  // "error" | "subword" | "zero"; InputError otherwise

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
};

// Memory one n × m cell costs beyond its float32 when it is also written out, measured on `attnviz run` with
// 2000 tokens (docs/reliability.md), rounded up: as JSON (the document tree and its text), as terminal
// tables (text with colour escapes).
inline constexpr double kJsonBytesPerCell = 40;
inline constexpr double kTableBytesPerCell = 64;

// "512 KiB", "1.5 GiB": a size for messages.
std::string format_bytes(double bytes);

// Tokens of `sentence` in `emb`'s vocabulary. InputError for an empty sentence or unknown words (all of them
// named, with suggestions); `what` names the sentence in messages ("the sentence", "the context").
std::vector<std::string> tokens_for(const Embeddings& emb, const std::string& sentence, const std::string& what = "the sentence");

// A sentence's tokens resolved against the embeddings: labels as shown ("co", "##created"), the embedding
// row of each (-1: a zero vector), a note per token ("" when it is a word of the embeddings), and warnings.
struct TokenLookup {
  std::vector<std::string> labels;
  std::vector<int> rows;
  std::vector<std::string> notes;
  std::vector<std::string> warnings;
  std::vector<std::string> stand_ins;  // for the header: which missing function word took which vector
};

// The most frequent function words some embeddings lack (the bundled GloVe words have no one-letter words):
// "a" takes the vector of "an" (the same article), "i" that of "me" (the same pronoun). With --unknown error
// (the default) or subword, a missing word of this list that has its stand-in in the embeddings gets the
// stand-in's vector, and the token's note and the trace's notes say so. nullopt for any other word.
std::optional<std::string> stand_in_for(const std::string& word);
TokenLookup lookup_tokens(const Embeddings& emb, const std::string& sentence, UnknownWords unknown,
                          const std::string& what = "the sentence");

// Greedy longest-match split of `word` into pieces the embeddings know (WordPiece without "##" entries: a
// continuation piece is looked up bare and labelled "##piece"); nullopt when some part matches nothing.
std::optional<std::vector<std::pair<std::string, int>>> split_subwords(const Embeddings& emb, const std::string& word);
// The same, given longest_word(emb) (a caller splitting many words computes it once).
std::optional<std::vector<std::pair<std::string, int>>> split_subwords(const Embeddings& emb, const std::string& word, std::size_t longest);
// The byte length of the longest word the embeddings know (0 when they know none).
std::size_t longest_word(const Embeddings& emb);

// Every word a loader must keep so that `sentence` can be looked up with `unknown`: each token, both
// whole and split at hyphens, and with --unknown subword every substring of it of at most
// kMaxLoadedPieceBytes (so with --embeddings FILE, subword pieces are at most that long).
constexpr std::size_t kMaxLoadedPieceBytes = 48;
std::vector<std::string> words_for_lookup(const std::string& sentence, UnknownWords unknown);

// The embedding rows of `tokens` (n × d).
Matrix embed(const Embeddings& emb, const std::vector<std::string>& tokens);

// The sinusoidal positional encoding of "Attention Is All You Need": n × d,
// PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).
Matrix sinusoidal_positions(int n, int d);

// The backend's input for `sentence` (and options.context): tokens, embeddings, positions. Fills `trace`'s
// sentence, tokens and context tokens, and appends its positional_encoding and embeddings stages.
AttentionInput prepare_input(const Embeddings& emb, const Model& model, const std::string& sentence,
                             const PipelineOptions& options, Trace& trace);

// InputError when `backend` would store n × m matrices (scores, scaled scores, weights, per head) that, with
// `output_bytes_per_cell` more for each cell written out (`outputs_named`), exceed `max_memory_bytes`;
// suggests --backend flash, `shorter` or --max-memory. Called before anything n × m is allocated.
void check_attention_memory(const Backend& backend, double n, double m, int heads, double max_memory_bytes,
                            double output_bytes_per_cell = 0, const std::string& outputs_named = "",
                            const std::string& shorter = "a shorter sentence");

// The stages after the embeddings, computed by `backend` on `in` with options.attention: refused (InputError)
// before any work when they would exceed --max-memory or the backend cannot, and when a number overflows.
std::vector<Stage> compute_stages(const Backend& backend, const Model& model, const AttentionInput& in, const PipelineOptions& options,
                                  StageTimes& times);
// The trace's configuration for `model` computed by `backend` with `options`.
TraceConfig trace_config(const std::string& embeddings, const Model& model, const std::string& backend, const PipelineOptions& options);

// Every stage of the catalogue (stages.hpp) for `sentence`. The model's d_model must equal the embeddings' dim.
// With positions, three stages come first: token_embeddings (E, the words' own rows), positional_encoding
// (PE) and embeddings (X = E + PE). With a context, context_embeddings (the key/value side's rows, its own
// positions added) follows embeddings.
Trace run_attention(const Embeddings& emb, const Model& model, const std::string& sentence, const PipelineOptions& options);

// Cosine similarity of two row vectors (0 when either is zero).
float cosine(const Vector& a, const Vector& b);

}  // namespace attnviz
