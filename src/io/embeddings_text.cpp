// GloVe text ("word v1 ... vd" per line) and word2vec text (the same after a "count dim" header line),
// streamed: the file is read in 4 MiB blocks, each line's word is found with memchr, and only the numbers
// of kept words are parsed. Every line's field count is checked (counting spaces is cheap); numbers and
// duplicates only for kept words (docs/embeddings.md, "Streaming").
#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/tokenizer.hpp"
#include "embeddings_loaders.hpp"
#include "parse_float.hpp"

namespace attnviz::io {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A word or field for a message: its first 40 bytes, control characters escaped (a NUL would cut the message).
std::string shorten(std::string_view s) { return escape_controls(s.size() > 40 ? std::string(s.substr(0, 40)) + "…" : std::string(s)); }

}  // namespace

Embeddings read_text_embeddings(BlockReader& in, const std::string& source, const std::string& stem, const LoadRequest& request) {
  in.enable_progress(source, 50'000'000);
  std::string_view line;
  std::size_t line_no = 0;
  if (!next_line(in, line, source, line_no)) throw InputError(fmt::format("{}: the embeddings file is empty", source));
  ++line_no;

  Embeddings e;
  e.name = stem;
  std::size_t header_count = 0;
  bool word2vec = false;
  int dim = 0;
  std::string dim_origin;
  {
    // word2vec text starts with "count dim"; GloVe text with a word and its numbers.
    const auto space = line.find(' ');
    if (space != std::string_view::npos && line.find(' ', space + 1) == std::string_view::npos && all_digits(line.substr(0, space)) &&
        all_digits(line.substr(space + 1))) {
      word2vec = true;
      const auto parse = [&](std::string_view s) {
        std::size_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || v == 0 || v > 100'000'000)
          throw InputError(fmt::format("{}:1: the word2vec header \"{}\" must be two positive integers (word count, dimension)", source, line));
        return v;
      };
      header_count = parse(line.substr(0, space));
      const std::size_t d = parse(line.substr(space + 1));
      if (d > 100'000) throw InputError(fmt::format("{}:1: the word2vec header says {} dimensions; at most 100000 are supported", source, d));
      dim = static_cast<int>(d);
      dim_origin = "the header on line 1";
    }
  }
  e.format = word2vec ? "word2vec text" : "GloVe text";

  RowCollector rows;
  std::size_t row = 0;  // data rows seen (the first vocab_limit are the pool)
  bool have_line = !word2vec;
  for (;;) {
    if (!have_line) {
      if (!next_line(in, line, source, line_no)) break;
      ++line_no;
    }
    have_line = false;
    if (line.empty()) continue;  // a blank line, e.g. at the end

    const auto space = line.find(' ');
    if (space == 0) throw InputError(fmt::format("{}:{}: the line starts with a space; expected a word, then its numbers", source, line_no));
    if (space == std::string_view::npos)
      throw InputError(fmt::format("{}:{}: the word \"{}\" has no numbers{}", source, line_no, shorten(line),
                                   dim ? fmt::format(", expected {}", dim) : ""));
    std::string_view word = line.substr(0, space);
    std::string_view numbers = line.substr(space + 1);
    const auto fields = static_cast<std::size_t>(std::count(numbers.begin(), numbers.end(), ' ')) + 1;
    if (dim == 0) {
      if (fields > 100'000) throw InputError(fmt::format("{}:{}: {} numbers on one line; at most 100000 dimensions are supported", source, line_no, fields));
      dim = static_cast<int>(fields);
      dim_origin = fmt::format("line {}", line_no);
    }
    const auto expected = static_cast<std::size_t>(dim);
    if (fields > expected) {
      // A few GloVe files (840B) have words with spaces ("  . . ."): the last `dim` fields are the numbers.
      // A second field that is a number means the row is too long instead.
      const std::string_view second = numbers.substr(0, numbers.find(' '));
      float probe = 0.0f;
      if (parse_float(second.data(), second.data() + second.size(), probe) == second.data() + second.size())
        throw InputError(fmt::format("{}:{}: the word \"{}\" has {} numbers, expected {} (as on {})", source, line_no, shorten(word), fields,
                                     dim, dim_origin));
      ++row;
      continue;  // a word with spaces: the tokenizer never makes one, so it is never needed
    }
    if (fields < expected)
      throw InputError(fmt::format("{}:{}: the word \"{}\" has {} numbers, expected {} (as on {})", source, line_no, shorten(word), fields, dim,
                                   dim_origin));

    // Looked up lower-cased as the tokenizer lower-cases (lower_case), which also turns invalid UTF-8 into
    // U+FFFD as in the tokenizer's tokens, so the word can be looked up, printed and exported.
    const std::string lower = escape_controls(lower_case(word));  // control characters escaped for the terminal
    if (request.keeps(lower, row)) {
      const std::string shown = escape_controls(sanitize_utf8(word));  // as typed, for telling case variants from duplicates
      const bool fresh = rows.begin_row(lower);
      if (!fresh) {
        // Case variants of a word ("Apple", "apple") are one word here: the first (most frequent) wins. The
        // same spelling twice is a broken file.
        const auto& first = rows.words[static_cast<std::size_t>(rows.index.at(lower))];
        if (first == shown)
          throw InputError(fmt::format("{}:{}: the word \"{}\" appears a second time", source, line_no, shorten(word)));
      } else {
        const std::size_t at = rows.values.size();
        rows.values.resize(at + expected);
        const char* p = numbers.data();
        const char* end = numbers.data() + numbers.size();
        for (std::size_t k = 0; k < expected; ++k) {
          const char* after = parse_float(p, end, rows.values[at + k]);
          if (!after || (after != end && *after != ' ')) {
            const char* field_end = static_cast<const char*>(std::memchr(p, ' ', static_cast<std::size_t>(end - p)));
            const std::string_view bad(p, static_cast<std::size_t>((field_end ? field_end : end) - p));
            throw InputError(fmt::format("{}:{}: number {} of the word \"{}\" is \"{}\", not a finite number", source, line_no, k + 1,
                                         shorten(word), shorten(bad)));
          }
          p = after + 1;
        }
        rows.words.back() = shown;
        rows.check_memory(source);
      }
    }
    ++row;
  }
  if (row == 0) throw InputError(fmt::format("{}: no word vectors in the file (only {})", source, word2vec ? "the header line" : "blank lines"));
  if (word2vec && row != header_count)
    throw InputError(fmt::format("{}:1: the word2vec header says {} words, but the file has {}", source, header_count, row));

  // Words are stored lower-case, as the tokenizer makes them (the escapes stay as they are).
  for (auto& w : rows.words) w = lower_case(w);
  e.dim = dim;
  e.file_words = row;
  for (int i = 0; i < dim; ++i) e.dimension_labels.push_back(fmt::format("d{}", i));
  e.description = fmt::format("{} word vectors from {}", e.format, source);
  rows.finish(e, dim);
  return e;
}

}  // namespace attnviz::io
