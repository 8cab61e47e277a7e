// Word embeddings: our JSON format (docs/formats.md, "attnviz-embeddings"), and the files teachers bring: GloVe
// text, word2vec text and the wink JSON layout, recognised by content (docs/embeddings.md).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "attnviz/matrix.hpp"

namespace attnviz {

struct Embeddings {
  std::string name;
  std::string description;
  std::string format = "attnviz JSON";        // which layout the file had: attnviz JSON, wink JSON, GloVe text, word2vec text
  std::size_t file_words = 0;                 // words in the file, kept or not (a streamed file keeps only some)
  int dim = 0;
  std::vector<std::string> dimension_labels;  // always `dim` labels: from the file, or "d0", "d1", ...
  std::vector<std::string> words;             // in file order
  Matrix vectors;                             // words.size() × dim, row i is words[i]
  std::unordered_map<std::string, int> index; // word -> row

  bool has(const std::string& word) const { return index.count(word) != 0; }
  std::optional<int> find(const std::string& word) const;
  Vector vector(const std::string& word) const;  // throws InputError for an unknown word
};

// Loads and validates an embeddings JSON file, every word of it; every fault is an InputError naming the
// file and field.
Embeddings load_embeddings(const std::filesystem::path& path);
Embeddings parse_embeddings(const std::string& text, const std::string& source);

// The default of --vocab-limit: how many of a file's first words are kept besides the words asked for.
inline constexpr std::size_t kDefaultVocabLimit = 50000;

enum class EmbeddingsFormat { attnviz_json, wink_json, glove_text, word2vec_text };

// Which layout `path` has, from its first bytes: '{' is JSON (ours has "format": "attnviz-embeddings", the
// wink layout "dimensions" and "vectors"); otherwise text, word2vec when the first line is two integers
// ("count dim"), else GloVe ("word v1 ... vd" per line). JSON is told apart only while loading.
EmbeddingsFormat sniff_embeddings_format(const std::filesystem::path& path);

// Loads any supported layout, streaming: keeps every word of `words_needed` that the file has, plus the
// first `vocab_limit` words of the file (the pool for suggestions and nearest neighbours), and skips the
// numbers of every other word unparsed. Malformed files are an InputError naming the line (text) or the
// word and field (JSON). A progress bar goes to standard error for files over 50 MB when it is a terminal.
Embeddings load_embeddings_for(const std::filesystem::path& path, const std::vector<std::string>& words_needed,
                               std::size_t vocab_limit = kDefaultVocabLimit);
// The same from text already in memory; `source` names it in errors.
Embeddings parse_embeddings_for(std::string_view text, const std::string& source, const std::vector<std::string>& words_needed,
                                std::size_t vocab_limit = kDefaultVocabLimit);

}  // namespace attnviz
