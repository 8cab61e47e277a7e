// Sentence -> tokens. Lower-cases (ASCII), splits on white space, drops punctuation; a hyphenated word is
// one token when the vocabulary has it, otherwise its parts. Invalid UTF-8 becomes U+FFFD, so every token
// is valid UTF-8 and can be printed and exported safely.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace attnviz {

// `known` says whether the vocabulary has a word (used only to keep hyphenated words whole).
std::vector<std::string> tokenize(std::string_view sentence, const std::function<bool(const std::string&)>& known);

// Appends the UTF-8 encoding of code point `cp`.
void append_utf8(std::string& out, char32_t cp);

// Replaces every invalid UTF-8 sequence by U+FFFD.
std::string sanitize_utf8(std::string_view text);

}  // namespace attnviz
