// One word in several sentences (attnviz compare), and nearest neighbours in the vocabulary (compare and
// run --neighbours): how attention moved the word's vector, measured by cosine similarity.
#pragma once

#include <string>
#include <vector>

#include "attnviz/embeddings.hpp"
#include "attnviz/lesson_truth.hpp"
#include "attnviz/matrix.hpp"
#include "attnviz/render.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

struct Neighbour {
  std::string word;
  float cosine = 0.0f;
};

// The `k` vocabulary words whose embeddings are closest to `v` by cosine, largest first; ties keep the
// vocabulary's file order. Nothing is excluded (the word itself usually comes first: the caller says so).
std::vector<Neighbour> nearest_words(const Embeddings& emb, const Vector& v, int k);

struct WordComparison {
  std::string word;
  std::vector<int> rows;                 // the word's token in each sentence (its first occurrence)
  std::vector<int> occurrences;          // how often it occurs in each sentence
  Vector embedding;                      // its row in the vocabulary
  std::vector<Vector> inputs;            // its X row in each sentence (= embedding unless positions are added)
  std::vector<Vector> outputs;           // its O row in each sentence: the contextualized embedding
  Matrix output_cosines;                 // sentences × sentences: cosine between the outputs
  std::vector<std::string> probes;       // probe words
  enum class ProbeSource { given, dimensions, gain };
  ProbeSource probe_source = ProbeSource::given;  // --probe, or which default rule chose them
  std::vector<std::vector<float>> probe_before;  // [sentence][probe]: cosine of the X row with the probe
  std::vector<std::vector<float>> probe_after;   // [sentence][probe]: cosine of the output with the probe
  // [sentence]: the probes as a lesson's neighbourhoods: with a uniform row's output (the sentence's plain
  // average), the sense margins and the thresholded claim (lesson_truth.hpp). Empty without a model.
  std::vector<LessonNumbers> lessons;
  std::vector<std::vector<Neighbour>> neighbours_before;  // [sentence]: of the X row
  std::vector<std::vector<Neighbour>> neighbours_after;   // [sentence]: of the output

  bool inputs_differ() const;  // whether positions made the X rows differ between sentences
};

// Splits a --probe list ("cartoon,device"); InputError naming a word the embeddings lack.
std::vector<std::string> parse_probe_list(const Embeddings& emb, const std::string& list);

// The default probes: the embeddings' dimension labels that are vocabulary words ("cartoon", "device", ...),
// when there are at least two (ProbeSource::dimensions); otherwise, for each sentence, the vocabulary word
// (other than `word`) whose cosine with the word grew the most from its X row to its output, without repeats,
// in sentence order (ProbeSource::gain).
std::vector<std::string> default_probes(const Embeddings& emb, const std::vector<Trace>& traces, const std::string& word,
                                        WordComparison::ProbeSource* source = nullptr);

// `word` across `traces` (one per sentence). InputError naming the word and the sentence that lacks it.
// Empty `probes` picks default_probes.
// With `model` (the one that made the traces), also the uniform-row baseline of each sentence (lessons).
WordComparison compare_word(const Embeddings& emb, const std::vector<Trace>& traces, const std::string& word,
                            std::vector<std::string> probes, int neighbours, const Model* model = nullptr, int precision = 3);

std::string render_comparison(const WordComparison& c, const std::vector<Trace>& traces, const RenderOptions& options);

// "mouse → mouse (itself) 1.000, rat 0.950, …": the nearest vocabulary words of a vector, the token's own
// word marked.
std::string render_neighbour_list(const std::vector<Neighbour>& list, const std::string& self, const RenderOptions& options);

// run --neighbours K: the nearest vocabulary words of every token's output row.
std::string render_output_neighbours(const Trace& trace, const Embeddings& emb, int k, const RenderOptions& options);

}  // namespace attnviz
