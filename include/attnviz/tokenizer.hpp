// Sentence -> tokens. Lower-cases (Unicode's simple case mapping), splits on white space, drops punctuation;
// a hyphenated word is one token when the vocabulary has it, otherwise its parts. Invalid UTF-8 becomes
// U+FFFD, so every token is valid UTF-8 and can be printed and exported safely.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "attnviz/utf8.hpp"

namespace attnviz {

// One word of a sentence as read: lower-cased, punctuation dropped, outer hyphens trimmed (`whole`), and its
// non-empty parts between hyphens (`parts`: just `whole` when it has no hyphen).
struct WordCandidate {
  std::string whole;
  std::vector<std::string> parts;
};
// The sentence read once: its words in order. Which form a word takes depends on the vocabulary (resolve_words).
std::vector<WordCandidate> word_candidates(std::string_view sentence);
// The tokens of words read by word_candidates: each whole when `known` has it, else its parts.
std::vector<std::string> resolve_words(const std::vector<WordCandidate>& words, const std::function<bool(const std::string&)>& known);

// word_candidates then resolve_words: `known` says whether the vocabulary has a word (used only to keep
// hyphenated words whole).
std::vector<std::string> tokenize(std::string_view sentence, const std::function<bool(const std::string&)>& known);

// A word lower-cased as the tokenizer lower-cases it (NFC, then each letter's lower-case form, composed
// again), so a word typed on the command line ("Mickey", "Łódź") matches its token ("mickey", "łódź").
std::string lower_case(std::string_view word);

}  // namespace attnviz
