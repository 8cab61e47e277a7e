// Bundled lessons (data/lessons/*.json, format "attnviz-lesson") and the numbers that show their point:
// how far a word's output moved toward named neighbourhoods of the vocabulary.
#pragma once

#include <filesystem>
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

struct Lesson {
  std::string name, title, description;
  std::string embeddings = "toy", model = "toy";
  std::vector<std::string> sentences;
  std::string word;  // the word whose shift the lesson is about
  std::vector<Neighbourhood> neighbourhoods;
};

Lesson load_lesson(const std::filesystem::path& path);

// The k largest weights of query row `row` of a weights stage, as (key label, weight), largest first.
std::vector<std::pair<std::string, float>> top_keys(const Stage& weights, int row, int k);

struct Shift {
  std::string neighbourhood;
  float before = 0.0f;  // cosine of the word's embedding row (X) with the neighbourhood
  float after = 0.0f;   // cosine of the word's output row (O) with it
};

// For the first occurrence of `word` in the trace. InputError when the word is not in the sentence or a
// neighbourhood word is not in the embeddings.
std::vector<Shift> word_shift(const Trace& trace, const Embeddings& emb, const std::string& word,
                              const std::vector<Neighbourhood>& neighbourhoods);

}  // namespace attnviz
