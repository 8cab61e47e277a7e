// A streaming JSON reader over a BlockReader: strings (escapes and surrogates checked), values skipped or
// kept as text, object members one by one, and rows of numbers read straight into floats, with messages that
// name the source, line and column. The embeddings loader (embeddings_json.cpp) reads "vectors" with it row
// by row, because a DOM of a 300 MB file would not fit.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "block_reader.hpp"
#include "parse_float.hpp"

namespace attnviz::io {

constexpr std::size_t kMaxNumberChars = 512;

class JsonReader {
 public:
  JsonReader(BlockReader& in, std::string source) : in_(in), source_(std::move(source)) {}

  // The next byte (after nothing is skipped), or -1 at the end.
  int peek() {
    if (in_.available() == 0 && in_.fill(1) == 0) return -1;
    return static_cast<unsigned char>(*in_.data());
  }
  void advance() { in_.consume(1); }

  void skip_ws() {
    for (;;) {
      const int c = peek();
      if (c == '\n') {
        ++line_;
        line_start_ = in_.offset() + 1;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return;
      }
      advance();
    }
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw InputError(fmt::format("{}: malformed JSON at line {}, column {}: {}", source_, line_, in_.offset() - line_start_ + 1, why));
  }

  std::string describe_next() {
    const int c = peek();
    if (c < 0) return "the end of the file";
    if (c >= 0x20 && c < 0x7F) return fmt::format("'{}'", static_cast<char>(c));
    return fmt::format("byte 0x{:02x}", c);
  }

  void expect(char c, const char* what) {
    skip_ws();
    if (peek() != static_cast<unsigned char>(c)) fail(fmt::format("expected {}, found {}", what, describe_next()));
    advance();
  }

  // A JSON string (the opening quote is next), unescaped to UTF-8; raw bytes are appended to `raw` too.
  std::string read_string(std::string* raw = nullptr) {
    if (peek() != '"') fail(fmt::format("expected a string, found {}", describe_next()));
    advance();
    if (raw) *raw += '"';
    std::string out;
    for (;;) {
      const int c = peek();
      if (c < 0) fail("the file ends inside a string");
      advance();
      if (raw) *raw += static_cast<char>(c);
      if (c == '"') {
        // JSON text is UTF-8 (RFC 8259); a word or label with broken bytes could be neither matched nor printed.
        const bool ascii = std::all_of(out.begin(), out.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
        if (!ascii && sanitize_utf8(out) != out) fail("a string that is not valid UTF-8 (save the file as UTF-8)");
        return out;
      }
      if (c < 0x20) fail("a control character inside a string (escape it)");
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      const int e = peek();
      if (e < 0) fail("the file ends inside a string");
      advance();
      if (raw) *raw += static_cast<char>(e);
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, read_escape(raw)); break;
        default: fail(fmt::format("an invalid escape '\\{}' in a string", static_cast<char>(e)));
      }
    }
  }

  // Skips one value, checking its syntax; appends its text to `raw` when given (for the header fields).
  void skip_value(std::string* raw, int depth = 0) {
    if (depth > 256) fail("values nested more than 256 deep");
    skip_ws();
    const int c = peek();
    if (c == '"') {
      read_string(raw);
    } else if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      advance();
      if (raw) *raw += static_cast<char>(c);
      skip_ws();
      if (peek() == close) {
        advance();
        if (raw) *raw += close;
        return;
      }
      for (;;) {
        if (c == '{') {
          skip_ws();
          read_string(raw);
          expect(':', "':' after a key");
          if (raw) *raw += ':';
        }
        skip_value(raw, depth + 1);
        skip_ws();
        const int d = peek();
        if (d == ',') {
          advance();
          if (raw) *raw += ',';
        } else if (d == close) {
          advance();
          if (raw) *raw += close;
          return;
        } else {
          fail(fmt::format("expected ',' or '{}', found {}", close, describe_next()));
        }
      }
    } else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
      // A number or literal: its characters, checked by nlohmann when the header is parsed (or here).
      std::string token;
      for (int d = peek(); d >= 0 && (std::isalnum(d) || d == '-' || d == '+' || d == '.'); d = peek()) {
        token += static_cast<char>(d);
        advance();
      }
      if (!raw && !nlohmann::json::accept(token)) fail(fmt::format("'{}' is not a JSON value", token));
      if (raw) *raw += token;
    } else {
      fail(fmt::format("expected a value, found {}", describe_next()));
    }
  }

  // The numbers of one vector row (the '[' is next) into `out`; `field` ("vectors.mouse") names it in errors.
  // `check_memory` is called after the first 64 KiB window and every 16,384 numbers after it (it throws past
  // --max-memory), so even one endless row is stopped.
  void read_row(std::vector<float>& out, const std::string& field, const std::function<void()>& check_memory) {
    const int c = peek();
    if (c != '[') {
      const char* kind = c == '"' ? "a string" : c == '{' ? "an object" : (c == 't' || c == 'f') ? "a boolean" : c == 'n' ? "null" : "a number";
      if (c < 0 || !(c == '"' || c == '{' || c == 't' || c == 'f' || c == 'n' || c == '-' || (c >= '0' && c <= '9')))
        fail(fmt::format("expected a value, found {}", describe_next()));
      throw InputError(fmt::format("{}: \"{}\" must be an array of numbers, found {}", source_, field, kind));
    }
    advance();
    bool after_number = false;  // whether a ',' or ']' comes next
    std::size_t i = read_row_fast(out, after_number);
    check_memory();
    if (i == kRowDone) return;
    for (;;) {
      if ((i & 16383) == 0) check_memory();
      skip_ws();
      if (after_number || i == 0) {
        const int d = peek();
        if (d == ']') {
          advance();
          return;
        }
        if (after_number) {
          if (d != ',') fail(fmt::format("expected ',' or ']' in the numbers of \"{}\", found {}", field, describe_next()));
          advance();
          skip_ws();
        }
      }
      in_.fill(kMaxNumberChars);
      const char* begin = in_.data();
      const char* end = begin + in_.available();
      float v = 0.0f;
      const char* after = parse_float(begin, end, v);
      if (!after) {
        const int d = peek();
        if (d == '-' || (d >= '0' && d <= '9')) {
          std::string text;
          for (const char* q = begin; q < end && q - begin < 40 && (std::isalnum(static_cast<unsigned char>(*q)) || *q == '-' || *q == '+' || *q == '.'); ++q) text += *q;
          double value = 0.0;
          const bool valid = std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc::invalid_argument;
          if (valid)
            throw InputError(fmt::format("{}: \"{}\"[{}] is not a finite float32 number ({} is too large to be a finite float32)",
                                         source_, field, i, text));
          fail(fmt::format("'{}' is not a valid JSON number", text));
        }
        const char* kind = d == '"' ? "a string" : (d == '{' || d == '[') ? (d == '{' ? "an object" : "an array") : (d == 't' || d == 'f') ? "a boolean" : d == 'n' ? "null" : nullptr;
        if (!kind) fail(fmt::format("expected a number, found {}", describe_next()));
        throw InputError(fmt::format("{}: \"{}\"[{}] must be a number, found {}", source_, field, i, kind));
      }
      if (after == end && !in_.source_done()) fail("a number longer than 512 characters");
      in_.consume(static_cast<std::size_t>(after - begin));
      out.push_back(v);
      ++i;
      after_number = true;
    }
  }

  static constexpr std::size_t kRowDone = static_cast<std::size_t>(-1);

  // The common case of read_row on raw pointers: well-formed numbers within the buffered window. Returns
  // kRowDone after the ']', else how many numbers it read, leaving the rest (and any error) to read_row
  // with `after_number` saying whether a separator or a number comes next.
  std::size_t read_row_fast(std::vector<float>& out, bool& after_number) {
    in_.fill(1 << 16);
    const char* const begin = in_.data();
    const char* const end = begin + in_.available();
    // Stop short of the window's end unless the file ends there, so that no number is cut.
    const char* const safe = in_.source_done() ? end : end - std::min<std::size_t>(kMaxNumberChars, in_.available());
    const char* p = begin;
    std::size_t count = 0;
    const auto skip_blanks = [&] {
      while (p < safe && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
        if (*p == '\n') ++line_, line_start_ = in_.offset() + static_cast<std::uint64_t>(p - begin) + 1;
        ++p;
      }
    };
    after_number = false;
    for (;;) {
      skip_blanks();
      if (p >= safe || *p == ']') break;  // read_row ends an empty row or reports a misplaced ']'
      float v = 0.0f;
      const char* after = parse_float(p, safe, v);
      if (!after || after == safe) break;
      out.push_back(v);
      ++count;
      p = after;
      after_number = true;
      skip_blanks();
      if (p < safe && *p == ']') {
        in_.consume(static_cast<std::size_t>(p - begin) + 1);
        return kRowDone;
      }
      if (p >= safe || *p != ',') break;
      ++p;
      after_number = false;
    }
    in_.consume(static_cast<std::size_t>(p - begin));
    return count;
  }

  // The members of an object whose '{' was just read: for each, reads the key and ':' and calls
  // `on_member(key)` with the value next; `what` names the values in errors.
  void members(const char* what, const std::function<void(const std::string&)>& on_member) {
    skip_ws();
    if (peek() == '}') {
      advance();
      return;
    }
    for (;;) {
      skip_ws();
      const std::string key = read_string();
      expect(':', "':' after a key");
      skip_ws();
      on_member(key);
      skip_ws();
      const int c = peek();
      if (c == '}') {
        advance();
        return;
      }
      if (c != ',') fail(fmt::format("expected ',' or '}}' after {}, found {}", what, describe_next()));
      advance();
    }
  }

  // Skips a row that is not kept, unparsed (the point of streaming): a flat array of numbers up to its ']'.
  void skip_row() {
    if (peek() != '[') return skip_value(nullptr);
    advance();
    for (;;) {
      if (in_.available() == 0 && in_.fill(1) == 0) fail("the file ends inside an array");
      const char* begin = in_.data();
      const char* end = begin + in_.available();
      for (const char* q = begin; q < end; ++q) {
        const char c = *q;
        if (c == ']') {
          in_.consume(static_cast<std::size_t>(q - begin) + 1);
          return;
        }
        if (c == '\n') {
          ++line_;
          line_start_ = in_.offset() + static_cast<std::uint64_t>(q - begin) + 1;
        } else if (c == '[' || c == '{' || c == '"') {
          in_.consume(static_cast<std::size_t>(q - begin));
          fail("a word's vector must be a flat array of numbers");
        }
      }
      in_.consume(static_cast<std::size_t>(end - begin));
    }
  }

 private:
  unsigned read_hex4(std::string* raw) {
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = peek();
      if (h < 0 || !std::isxdigit(h)) fail("an invalid \\u escape (4 hexadecimal digits expected)");
      advance();
      if (raw) *raw += static_cast<char>(h);
      v = v * 16 + static_cast<unsigned>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    return v;
  }

  char32_t read_escape(std::string* raw) {
    unsigned cp = read_hex4(raw);
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("a lone surrogate in a \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair: \uD83D\uDE00
      if (peek() != '\\') fail("a lone surrogate in a \\u escape");
      advance();
      if (raw) *raw += '\\';
      if (peek() != 'u') fail("a lone surrogate in a \\u escape");
      advance();
      if (raw) *raw += 'u';
      const unsigned lo = read_hex4(raw);
      if (lo < 0xDC00 || lo > 0xDFFF) fail("a lone surrogate in a \\u escape");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      fail("a lone surrogate in a \\u escape");
    }
    return cp;
  }

  BlockReader& in_;
  std::string source_;
  std::size_t line_ = 1;
  std::uint64_t line_start_ = 0;
};

}  // namespace attnviz::io
