// Word embeddings (DESIGN.md §2, format "attnviz-embeddings").
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "attnviz/matrix.hpp"

namespace attnviz {

struct Embeddings {
  std::string name;
  std::string description;
  int dim = 0;
  std::vector<std::string> dimension_labels;  // always `dim` labels: from the file, or "d0", "d1", ...
  std::vector<std::string> words;             // in file order
  Matrix vectors;                             // words.size() × dim, row i is words[i]
  std::unordered_map<std::string, int> index; // word -> row

  bool has(const std::string& word) const { return index.count(word) != 0; }
  std::optional<int> find(const std::string& word) const;
  Vector vector(const std::string& word) const;  // throws InputError for an unknown word
};

// Loads and validates an embeddings JSON file; every fault is an InputError naming the file and field.
Embeddings load_embeddings(const std::filesystem::path& path);
Embeddings parse_embeddings(const std::string& text, const std::string& source);

// Up to `count` known words closest to `word` by edit distance (for "did you mean" hints).
std::vector<std::string> suggest_words(const Embeddings& emb, const std::string& word, std::size_t count = 3);

}  // namespace attnviz
