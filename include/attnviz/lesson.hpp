// Bundled lessons (data/lessons/*.json, format "attnviz-lesson") and the numbers that show their point:
// how far a word's output moved toward named neighbourhoods of the vocabulary.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attnviz/embeddings.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

struct Neighbourhood {
  std::string name;                // "cartoon"
  std::vector<std::string> words;  // its vector is the mean of these words' embeddings
};

// Optional "options" of a lesson: how its sentences are run (the flags of `run` with the same names).
struct LessonOptions {
  int heads = 0;                      // 0: the model's own (other values: the identity model's split)
  int layer = 1;                      // a trained language model's layer to show (from 1)
  bool causal = false;
  double temperature = 1.0;
  bool no_scale = false;
  std::string positions = "none";
  // The sentences are the same words in other orders: the demo compares each token's output row across
  // the orders, without positions and then with sinusoidal positions.
  bool word_order = false;
};

// What a lesson's description says about one sentence, in a form the numbers can check (check_claims):
// each is optional. The demo says so when one does not hold.
struct LessonClaim {
  int sentence = 1;                     // 1-based
  int head = 1;                         // for attends_to, 1-based
  std::vector<std::string> attends_to;  // exactly the word's top keys (any order; the word itself may be one)
  std::string ends_closer_to;           // the neighbourhood its output ends closest to
  std::string moves_toward;             // attention moves it toward this one, past the claim threshold
  bool no_clear_effect = false;         // the move stays under the threshold
};

struct Lesson {
  std::string name, title, description;
  std::string embeddings = "toy", model = "toy";
  std::vector<std::string> sentences;
  std::string word;  // the word whose shift the lesson is about ("" when the lesson has none)
  std::vector<Neighbourhood> neighbourhoods;
  LessonOptions options;
  std::vector<LessonClaim> claims;
};

// Reads an "attnviz-lesson" file (docs/formats.md). An embeddings or model path in it that is relative is
// taken relative to the lesson file's folder, so a lesson travels with its data.
Lesson load_lesson(const std::filesystem::path& path);
// `attnviz demo SPEC`: a file when SPEC looks like a path (holds '/', ends in .json, or names a file),
// else the bundled lesson of that name.
Lesson resolve_lesson(const std::string& spec, const std::optional<std::string>& data_dir_flag);

// The k largest weights of query row `row` of a weights stage, as (key label, weight), largest first.
std::vector<std::pair<std::string, float>> top_keys(const Stage& weights, int row, int k);

struct Shift {
  std::string neighbourhood;
  float before = 0.0f;  // cosine of the word's embedding row (X) with the neighbourhood
  float after = 0.0f;   // cosine of the word's output row (O) with it
};

// The mean of the neighbourhood's word vectors (InputError for a word the embeddings lack).
Vector neighbourhood_centre(const Embeddings& emb, const Neighbourhood& nb);

// For the first occurrence of `word` in the trace. InputError when the word is not in the sentence or a
// neighbourhood word is not in the embeddings.
std::vector<Shift> word_shift(const Trace& trace, const Embeddings& emb, const std::string& word,
                              const std::vector<Neighbourhood>& neighbourhoods);

// Where each token of `a` is in `b` when `b` is the same words in another order: the k-th occurrence of a
// word in `a` goes to its k-th occurrence in `b`. InputError (naming both) when `b` is not a permutation.
std::vector<int> permutation_between(const std::vector<std::string>& a, const std::vector<std::string>& b);

// One token of a word-order comparison: its positions in both orders, its output rows there and the
// largest absolute difference between them.
struct OrderRow {
  std::string token;
  int position_a = 0, position_b = 0;
  Vector output_a, output_b;
  float max_difference = 0.0f;
};

// Each token of `a` against the same token in `b` (b's words are a's, reordered), by the output stage.
std::vector<OrderRow> compare_word_order(const Trace& a, const Trace& b);

}  // namespace attnviz
