#include "attnviz/embeddings.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "attnviz/error.hpp"
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

// The first byte that is not white space (or a UTF-8 byte order mark), or -1 for an empty file.
int first_byte(io::BlockReader& in) {
  in.fill(3);
  if (in.available() >= 3 && std::memcmp(in.data(), "\xEF\xBB\xBF", 3) == 0) in.consume(3);
  for (;;) {
    if (in.available() == 0 && in.fill(1) == 0) return -1;
    const auto c = static_cast<unsigned char>(*in.data());
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
  const int c = first_byte(in);
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
  const int c = first_byte(in);
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

}  // namespace attnviz
