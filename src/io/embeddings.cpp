#include "attnviz/embeddings.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/tokenizer.hpp"
#include "json_util.hpp"

namespace attnviz {

std::optional<int> Embeddings::find(const std::string& word) const {
  auto it = index.find(word);
  if (it == index.end()) return std::nullopt;
  return it->second;
}

Vector Embeddings::vector(const std::string& word) const {
  auto row = find(word);
  if (!row) throw InputError(fmt::format("'{}' is not in the embeddings '{}'", word, name));
  return vectors.row(*row);
}

Embeddings parse_embeddings(const std::string& text, const std::string& source) {
  const io::json doc = io::parse_json(text, source);
  io::check_header(doc, "attnviz-embeddings", source);
  Embeddings e;
  e.name = io::get_string(doc, "name", source);
  e.description = io::get_string(doc, "description", source, "");
  e.dim = io::get_positive_int(doc, "dim", source);

  if (auto it = doc.find("dimension_labels"); it != doc.end()) {
    if (!it->is_array() || static_cast<int>(it->size()) != e.dim)
      throw InputError(fmt::format("{}: \"dimension_labels\" must be an array of {} strings (one per dimension), found {}",
                                   source, e.dim, it->is_array() ? std::to_string(it->size()) + " entries" : it->dump()));
    for (const auto& label : *it) {
      if (!label.is_string()) throw InputError(fmt::format("{}: \"dimension_labels\" must hold strings, found {}", source, label.dump()));
      e.dimension_labels.push_back(sanitize_utf8(label.get<std::string>()));
    }
  } else {
    for (int i = 0; i < e.dim; ++i) e.dimension_labels.push_back(fmt::format("d{}", i));
  }

  const io::json& vectors = io::require(doc, "vectors", source);
  if (!vectors.is_object() || vectors.empty())
    throw InputError(fmt::format("{}: \"vectors\" must be a non-empty object mapping words to arrays of {} numbers", source, e.dim));
  e.vectors.resize(static_cast<Eigen::Index>(vectors.size()), e.dim);
  int row = 0;
  for (const auto& [word, values] : vectors.items()) {
    std::string lower = word;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.empty()) throw InputError(fmt::format("{}: \"vectors\" has an empty word", source));
    if (!e.index.emplace(lower, row).second)
      throw InputError(fmt::format("{}: the word \"{}\" appears twice in \"vectors\"", source, lower));
    e.vectors.row(row) = io::get_vector(values, "vectors." + word, e.dim, source);
    e.words.push_back(lower);
    ++row;
  }
  return e;
}

Embeddings load_embeddings(const std::filesystem::path& path) {
  return parse_embeddings(io::read_file(path, "embeddings file"), path.string());
}

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours ("cta" is
// one edit from "cat"), the typos people make.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::vector<std::string> suggest_words(const Embeddings& emb, const std::string& word, std::size_t count) {
  // Only words within a third of the length (at least 2 edits) are worth suggesting.
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& w : emb.words) {
    const std::size_t gap = w.size() > word.size() ? w.size() - word.size() : word.size() - w.size();
    if (gap > limit || word.size() > 64) continue;
    if (auto d = edit_distance(word, w); d <= limit) scored.emplace_back(d, w);
  }
  std::sort(scored.begin(), scored.end());
  // Only the closest words: a one-edit typo should not be answered with two-edit guesses.
  std::vector<std::string> out;
  for (std::size_t i = 0; i < scored.size() && i < count && scored[i].first == scored[0].first; ++i) out.push_back(scored[i].second);
  return out;
}

}  // namespace attnviz
