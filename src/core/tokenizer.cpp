#include "attnviz/tokenizer.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace attnviz {

namespace {

constexpr char32_t kReplacement = 0xFFFD;

// The code point at `i`, advancing `i`; an invalid sequence yields U+FFFD and skips one byte.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const CodePoint cp = decode_utf8(s, i);
  i += cp.length;
  return cp.valid ? cp.value : kReplacement;
}

bool is_space(char32_t c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200B) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

bool is_hyphen(char32_t c) { return c == '-' || c == 0x2010 || c == 0x2011; }

// Punctuation and symbols are dropped: ASCII punctuation (but the hyphen), Latin-1 punctuation, the
// General Punctuation block (dashes, quotes, ellipsis), CJK and full-width punctuation, control characters.
bool is_dropped(char32_t c) {
  if (c < 0x20 || c == 0x7F) return true;
  if (c < 0x80) return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-');
  return (c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2012 && c <= 0x206F) ||
         (c >= 0x3001 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) || c == kReplacement;
}

// A word with internal hyphens (outer ones dropped) and its non-empty parts; nothing for a word of hyphens only.
// The word is composed (NFC) again: dropping punctuation can bring a letter and a combining mark together
// ("a/\u0301" reads "a" + U+0301, which is "á"), and a token must be what lower_case makes of it.
void add_candidate(const std::string& raw, std::vector<WordCandidate>& out) {
  const std::string word = nfc(raw);
  const std::size_t first = word.find_first_not_of('-');
  if (first == std::string::npos) return;
  WordCandidate w;
  w.whole = word.substr(first, word.find_last_not_of('-') + 1 - first);
  std::size_t start = 0;
  while (start <= w.whole.size()) {
    std::size_t end = w.whole.find('-', start);
    if (end == std::string::npos) end = w.whole.size();
    if (end > start) w.parts.push_back(w.whole.substr(start, end - start));
    start = end + 1;
  }
  out.push_back(std::move(w));
}

}  // namespace

std::string lower_case(std::string_view word) {
  // Plain ASCII (nearly every word of a vectors file, read once per line): no decoding needed.
  if (std::all_of(word.begin(), word.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    std::string out(word);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  }
  const std::string composed = nfc(word);  // a decomposed "café" is the composed one
  std::string out;
  out.reserve(composed.size());
  for (std::size_t i = 0; i < composed.size();) append_utf8(out, simple_lower(next_code_point(composed, i)));
  // Composed again when a letter changed (a lower-case letter may compose with a mark its capital could
  // not), as word_candidates composes each word; a word already in lower case is NFC as it is.
  return out == composed ? out : nfc(out);
}

std::vector<WordCandidate> word_candidates(std::string_view text) {
  const std::string composed = nfc(text);  // "café" typed decomposed matches the file's composed word
  const std::string_view sentence = composed;
  std::vector<WordCandidate> words;
  std::string word;
  for (std::size_t i = 0; i < sentence.size();) {
    char32_t c = next_code_point(sentence, i);
    if (is_space(c)) {
      add_candidate(word, words);
      word.clear();
    } else if (is_hyphen(c)) {
      word += '-';
    } else if (!is_dropped(c)) {
      append_utf8(word, simple_lower(c));
    }
  }
  add_candidate(word, words);
  return words;
}

std::vector<std::string> resolve_words(const std::vector<WordCandidate>& words, const std::function<bool(const std::string&)>& known) {
  std::vector<std::string> tokens;
  for (const auto& w : words) {
    if (w.parts.size() == 1 && w.parts[0] == w.whole) tokens.push_back(w.whole);  // no hyphen inside
    else if (known(w.whole)) tokens.push_back(w.whole);
    else tokens.insert(tokens.end(), w.parts.begin(), w.parts.end());
  }
  return tokens;
}

std::vector<std::string> tokenize(std::string_view sentence, const std::function<bool(const std::string&)>& known) {
  return resolve_words(word_candidates(sentence), known);
}

}  // namespace attnviz
