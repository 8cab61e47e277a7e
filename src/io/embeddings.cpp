#include "attnviz/embeddings.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/tokenizer.hpp"
#include "embeddings_loaders.hpp"
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

namespace io {

bool RowCollector::begin_row(const std::string& word) {
  if (!index.emplace(word, static_cast<int>(words.size())).second) return false;
  words.push_back(word);
  starts.push_back(values.size());
  return true;
}

void RowCollector::check_memory(const std::string& source, std::size_t seen_words) const {
  // The values twice (read here, then the matrix), a word's string and index entry (~96 bytes), and
  // ~32 bytes for each word remembered only to refuse a repeat.
  const double bytes = 2.0 * sizeof(float) * static_cast<double>(values.size()) + 96.0 * static_cast<double>(words.size()) +
                       32.0 * static_cast<double>(seen_words);
  if (bytes > memory_budget())
    attnviz::check_memory(bytes, fmt::format("keeping {} word vector{} ({} numbers) from '{}'", words.size(), words.size() == 1 ? "" : "s",
                                             values.size(), source),
                          "keep fewer words (--vocab-limit), use a file with fewer dimensions, or raise --max-memory");
}

void RowCollector::finish(Embeddings& emb, int dim) {
  const auto n = static_cast<Eigen::Index>(words.size());
  emb.vectors.resize(n, dim);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int c = 0; c < dim; ++c) emb.vectors(i, c) = values[starts[static_cast<std::size_t>(i)] + static_cast<std::size_t>(c)];
  emb.words = std::move(words);
  emb.index = std::move(index);
  values = {};
  starts = {};
}

}  // namespace io

namespace {

std::string file_stem(const std::filesystem::path& path) {
  std::string stem = path.filename().string();
  for (const char* ext : {".json", ".txt", ".vec"})
    if (stem.size() > std::strlen(ext) && stem.ends_with(ext)) return stem.substr(0, stem.size() - std::strlen(ext));
  return stem;
}

// The first byte that is not white space (or a UTF-8 byte order mark), or -1 for an empty file; InputError
// for UTF-16 and for a NUL byte (/dev/zero, a sparse file: not text).
int first_byte(io::BlockReader& in, const std::string& source) {
  in.fill(3);
  io::check_not_utf16(std::string_view(in.data(), in.available()), source);
  if (in.available() >= 3 && std::memcmp(in.data(), "\xEF\xBB\xBF", 3) == 0) in.consume(3);
  for (;;) {
    if (in.available() == 0 && in.fill(1) == 0) return -1;
    const auto c = static_cast<unsigned char>(*in.data());
    if (c == 0) throw InputError(fmt::format("{}: a NUL byte at byte {}: not a text file", source, in.offset() + 1));
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return c;
    in.consume(1);
  }
}

}  // namespace

Embeddings parse_embeddings(const std::string& text, const std::string& source) {
  io::BlockReader in{std::string_view(text)};
  return io::read_json_embeddings(in, source, source, io::LoadRequest{});
}

Embeddings load_embeddings(const std::filesystem::path& path) {
  io::BlockReader in(path, "embeddings file");
  return io::read_json_embeddings(in, path.string(), file_stem(path), io::LoadRequest{});
}

EmbeddingsFormat sniff_embeddings_format(const std::filesystem::path& path) {
  io::BlockReader in(path, "embeddings file");
  const int c = first_byte(in, path.string());
  if (c < 0) throw InputError(fmt::format("{}: the embeddings file is empty", path.string()));
  if (c == '{') {
    // Our files say "format" near the top; the wink layout starts with its numeric fields.
    in.fill(4096);
    const std::string_view head(in.data(), in.available());
    return head.find("\"attnviz-embeddings\"") != std::string_view::npos ? EmbeddingsFormat::attnviz_json : EmbeddingsFormat::wink_json;
  }
  std::string_view line;
  in.fill(4096);
  line = std::string_view(in.data(), in.available());
  line = line.substr(0, line.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  const auto space = line.find(' ');
  const auto digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  };
  if (space != std::string_view::npos && digits(line.substr(0, space)) && digits(line.substr(space + 1)))
    return EmbeddingsFormat::word2vec_text;
  return EmbeddingsFormat::glove_text;
}

namespace {

io::LoadRequest request_for(const std::vector<std::string>& words_needed, std::size_t vocab_limit) {
  io::LoadRequest request;
  request.keep_all = false;
  request.vocab_limit = vocab_limit;
  for (const auto& w : words_needed) request.needed.insert(lower_case(w));
  return request;
}

// Any layout, told apart by the first byte: '{' is JSON (ours or wink), anything else text.
Embeddings read_any(io::BlockReader& in, const std::string& source, const std::string& stem, const io::LoadRequest& request) {
  const int c = first_byte(in, source);
  if (c < 0) throw InputError(fmt::format("{}: the embeddings file is empty", source));
  if (c == '{') {
    in.enable_progress(source, 50'000'000);
    return io::read_json_embeddings(in, source, stem, request);
  }
  return io::read_text_embeddings(in, source, stem, request);
}

}  // namespace

Embeddings load_embeddings_for(const std::filesystem::path& path, const std::vector<std::string>& words_needed, std::size_t vocab_limit) {
  io::BlockReader in(path, "embeddings file");
  return read_any(in, path.string(), file_stem(path), request_for(words_needed, vocab_limit));
}

Embeddings parse_embeddings_for(std::string_view text, const std::string& source, const std::vector<std::string>& words_needed,
                                std::size_t vocab_limit) {
  io::BlockReader in(text);
  return read_any(in, source, source, request_for(words_needed, vocab_limit));
}

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours ("cta" is
// one edit from "cat"), the typos people make. Three rolling rows of the dynamic programme, kept in `rows`
// between calls (a vocabulary of 50,000 words is compared with every unknown word). Stops early with
// limit + 1 once two consecutive rows exceed `limit` everywhere (a swap reaches back two rows, so one row
// alone is not enough): the distance can then only be larger.
std::size_t edit_distance(const std::string& a, const std::string& b, std::size_t limit, std::vector<std::size_t>& rows) {
  const std::size_t w = b.size() + 1;
  rows.assign(3 * w, 0);
  std::size_t* before = rows.data();     // row i − 2
  std::size_t* previous = before + w;    // row i − 1
  std::size_t* current = previous + w;   // row i
  for (std::size_t j = 0; j < w; ++j) previous[j] = j;
  std::size_t previous_min = 0;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    std::size_t row_min = i;
    for (std::size_t j = 1; j < w; ++j) {
      std::size_t d = std::min(std::min(previous[j], current[j - 1]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d = std::min(d, before[j - 2] + 1);
      current[j] = d;
      row_min = std::min(row_min, d);
    }
    if (row_min > limit && previous_min > limit) return limit + 1;
    previous_min = row_min;
    std::swap(before, previous);  // the old row i − 2 is overwritten next
    std::swap(previous, current);
  }
  return previous[w - 1];
}

// Whether the bag distance of `a` and `b` exceeds `limit`. The bag distance is how many bytes one word has
// that the other lacks, counted with repetition, the larger of the two counts. Every edit changes it by at
// most 1 (a swap not at all), so it is a lower bound of edit_distance, found in linear time, and here
// stops as soon as the answer is known. `counts` holds the byte counts of `a` on entry and on exit.
bool bag_distance_exceeds(const std::string& a, const std::string& b, std::size_t limit, std::array<int, 256>& counts) {
  std::size_t common = 0;  // bytes of b[0, k) matched by a byte of a
  std::size_t k = 0;
  bool exceeds = false;
  while (k < b.size()) {
    if (counts[static_cast<unsigned char>(b[k++])]-- > 0) ++common;
    // b's unmatched bytes so far, or a's bytes that the rest of b cannot all match, are already too many.
    if (k - common > limit || a.size() > common + (b.size() - k) + limit) {
      exceeds = true;
      break;
    }
  }
  for (std::size_t i = 0; i < k; ++i) ++counts[static_cast<unsigned char>(b[i])];
  return exceeds || std::max(a.size(), b.size()) - common > limit;  // (b empty: the loop checked nothing)
}

}  // namespace

std::vector<std::string> suggest_words(const Embeddings& emb, const std::string& word, std::size_t count) {
  // Only words within a third of the length (at least 2 edits) are worth suggesting.
  if (word.size() > 64) return {};
  std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::array<int, 256> counts{};
  for (const char c : word) ++counts[static_cast<unsigned char>(c)];
  std::vector<std::pair<std::size_t, std::string>> scored;
  std::vector<std::size_t> rows;
  for (const auto& w : emb.words) {
    // Cheap lower bounds first (the length gap, then the bag distance): the full distance only for the
    // words that may still be within the limit.
    const std::size_t gap = w.size() > word.size() ? w.size() - word.size() : word.size() - w.size();
    if (gap > limit || bag_distance_exceeds(word, w, limit, counts)) continue;
    if (auto d = edit_distance(word, w, limit, rows); d <= limit) {
      scored.emplace_back(d, w);
      limit = d;  // only the closest words are shown: a farther one can be skipped from now on
    }
  }
  std::sort(scored.begin(), scored.end());
  // Only the closest words: a one-edit typo should not be answered with two-edit guesses.
  std::vector<std::string> out;
  for (std::size_t i = 0; i < scored.size() && i < count && scored[i].first == scored[0].first; ++i) out.push_back(scored[i].second);
  return out;
}

}  // namespace attnviz
