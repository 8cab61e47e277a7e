// The streaming embeddings loaders behind load_embeddings / load_embeddings_for (internal).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "attnviz/embeddings.hpp"
#include "block_reader.hpp"

namespace attnviz::io {

// Which words a loader keeps: every word when `keep_all`, else the words asked for plus the first
// `vocab_limit` rows of the file.
struct LoadRequest {
  bool keep_all = true;
  std::unordered_set<std::string> needed;
  std::size_t vocab_limit = std::numeric_limits<std::size_t>::max();

  bool keeps(const std::string& word, std::size_t row) const { return keep_all || row < vocab_limit || needed.count(word) != 0; }
};

// Kept rows as they are read, before the dimension is known for sure: words, one flat float array, lengths.
struct RowCollector {
  std::vector<std::string> words;
  std::vector<float> values;
  std::vector<std::size_t> starts;  // row i is values[starts[i] .. starts[i+1])
  std::unordered_map<std::string, int> index;

  // False when `word` is already kept (the caller reports the duplicate with its position).
  bool begin_row(const std::string& word);
  std::size_t length(std::size_t row) const { return (row + 1 < starts.size() ? starts[row + 1] : values.size()) - starts[row]; }
  // InputError when the rows kept so far, with `seen_words` words remembered besides, would exceed
  // --max-memory (limits.hpp) once copied into the matrix; the loaders call it after each kept row.
  void check_memory(const std::string& source, std::size_t seen_words = 0) const;
  // Moves the rows into `emb` (each cut to `dim` values); the caller checked the lengths.
  void finish(Embeddings& emb, int dim);
};

// Our JSON format or the wink layout, told apart by their keys.
Embeddings read_json_embeddings(BlockReader& in, const std::string& source, const std::string& stem, const LoadRequest& request);
// GloVe text ("word v1 ... vd" per line) or word2vec text (the same after a "count dim" line).
Embeddings read_text_embeddings(BlockReader& in, const std::string& source, const std::string& stem, const LoadRequest& request);

}  // namespace attnviz::io
