// The fast paths of the unknown-word handling ("did you mean" suggestions, the subword split, the
// tokenizer's hyphen trimming) give exactly what the plain algorithms give, and stay linear on long words.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "attnviz/data.hpp"
#include "attnviz/embeddings.hpp"
#include "attnviz/error.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/tokenizer.hpp"

using namespace attnviz;
using Catch::Contains;

namespace {

// Optimal string alignment distance over bytes, the whole matrix, no early stop.
std::size_t plain_distance(const std::string& a, const std::string& b) {
  const std::size_t w = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * w);  // d[i * w + j]: a[0, i) against b[0, j)
  for (std::size_t i = 0; i <= a.size(); ++i) d[i * w] = i;
  for (std::size_t j = 0; j < w; ++j) d[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j < w; ++j) {
      std::size_t& x = d[i * w + j];
      x = std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) x = std::min(x, d[(i - 2) * w + j - 2] + 1);
    }
  return d.back();
}

// What suggest_words promises: the known words at the smallest distance, if that is within a third of the
// word's length (at least 2), sorted; nothing for words over 64 bytes. Every one of them (suggest_words
// keeps the first `count`).
std::vector<std::string> plain_suggestions(const Embeddings& emb, const std::string& word) {
  if (word.size() > 64) return {};
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& w : emb.words)
    if (const std::size_t d = plain_distance(word, w); d <= limit) scored.emplace_back(d, w);
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (const auto& [d, w] : scored)
    if (d == scored[0].first) out.push_back(w);
  return out;
}

std::vector<std::string> first(std::vector<std::string> v, std::size_t count) {
  if (v.size() > count) v.resize(count);
  return v;
}

// Greedy longest known piece from each position, every end tried.
std::optional<std::vector<std::pair<std::string, int>>> plain_split(const Embeddings& emb, const std::string& word) {
  std::vector<std::pair<std::string, int>> pieces;
  for (std::size_t start = 0; start < word.size();) {
    std::size_t end = word.size();
    for (; end > start; --end)
      if ((end == word.size() || (static_cast<unsigned char>(word[end]) & 0xC0) != 0x80) && emb.has(word.substr(start, end - start))) break;
    if (end == start) return std::nullopt;
    pieces.emplace_back((start ? "##" : "") + word.substr(start, end - start), *emb.find(word.substr(start, end - start)));
    start = end;
  }
  return pieces;
}

Embeddings words_only(const std::vector<std::string>& words) {
  Embeddings e;
  e.name = "w";
  e.dim = 1;
  e.words = words;
  e.vectors = Matrix::Zero(static_cast<Eigen::Index>(words.size()), 1);
  for (std::size_t i = 0; i < words.size(); ++i) e.index[words[i]] = static_cast<int>(i);
  return e;
}

// A random word of 0 to max_len pieces drawn from `alphabet` (single bytes or whole code points).
std::string random_word(std::mt19937& rng, const std::vector<std::string>& alphabet, int max_len) {
  std::string w;
  const int n = std::uniform_int_distribution<int>(0, max_len)(rng);
  for (int i = 0; i < n; ++i) w += alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
  return w;
}

}  // namespace

TEST_CASE("Word lookup: suggestions equal the plain edit-distance search", "[tokenizer][suggest]") {
  const Embeddings toy = resolve_embeddings("toy", std::nullopt);
  std::mt19937 rng(7);
  int found = 0;  // typos that have suggestions
  // Typos of toy words (one to four random edits), so that close words exist at every distance.
  const std::vector<std::string> letters = {"a", "e", "o", "t", "s", "r", "m", "u", "c", "\xC3\xA9"};
  for (int k = 0; k < 600; ++k) {
    std::string w = toy.words[std::uniform_int_distribution<std::size_t>(0, toy.words.size() - 1)(rng)];
    const int edits = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = std::uniform_int_distribution<std::size_t>(0, w.size())(rng);
      const std::string c = letters[std::uniform_int_distribution<std::size_t>(0, letters.size() - 1)(rng)];
      switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
        case 0: w.insert(at, c); break;
        case 1: if (at < w.size()) w.erase(at, 1); break;
        case 2: if (at < w.size()) w.replace(at, 1, c); break;
        default: if (at + 1 < w.size()) std::swap(w[at], w[at + 1]);
      }
    }
    INFO("word '" << w << "'");
    const auto all = plain_suggestions(toy, w);
    CHECK(suggest_words(toy, w) == first(all, 3));
    CHECK(suggest_words(toy, w, 1) == first(all, 1));
    found += all.empty() ? 0 : 1;
  }
  // A vocabulary of random words over four letters: many ties at each distance, repeated letters.
  const std::vector<std::string> abcd = {"a", "b", "c", "d"};
  std::vector<std::string> vocab;
  for (int i = 0; i < 300; ++i) vocab.push_back(random_word(rng, abcd, 12));
  std::sort(vocab.begin(), vocab.end());
  vocab.erase(std::unique(vocab.begin(), vocab.end()), vocab.end());
  const Embeddings e = words_only(vocab);
  for (int k = 0; k < 400; ++k) {
    const std::string w = random_word(rng, abcd, 16);
    INFO("word '" << w << "'");
    CHECK(suggest_words(e, w, 5) == first(plain_suggestions(e, w), 5));
  }
  CHECK(found > 300);  // both outcomes are exercised
  CHECK(found < 600);
}

TEST_CASE("Word lookup: the subword split equals the plain greedy split", "[tokenizer][subword]") {
  std::mt19937 rng(11);
  const std::vector<std::string> alphabet = {"a", "b", "c", "\xC3\xA9", "\xE2\x82\xAC"};  // é, €
  std::vector<std::string> vocab;
  for (int i = 0; i < 40; ++i) vocab.push_back(random_word(rng, alphabet, 6));
  vocab.push_back("b");
  std::sort(vocab.begin(), vocab.end());
  vocab.erase(std::unique(vocab.begin(), vocab.end()), vocab.end());
  vocab.erase(std::remove(vocab.begin(), vocab.end(), std::string()), vocab.end());
  const Embeddings e = words_only(vocab);
  int split = 0;
  for (int k = 0; k < 2000; ++k) {
    const std::string w = random_word(rng, alphabet, 30);
    INFO("word '" << w << "'");
    const auto got = split_subwords(e, w);
    REQUIRE(got == plain_split(e, w));
    split += got.has_value();
  }
  CHECK(split > 100);  // both outcomes are exercised
  CHECK(longest_word(e) == std::max_element(vocab.begin(), vocab.end(), [](auto& x, auto& y) { return x.size() < y.size(); })->size());
  CHECK(longest_word(Embeddings{}) == 0);
  CHECK_FALSE(split_subwords(Embeddings{}, "a").has_value());
}

TEST_CASE("Word lookup: a pasted word of 100,000 letters is split and refused in linear time", "[tokenizer][subword]") {
  // The split used to try every end from every start (quadratic: hours for such a word); the tokenizer
  // trimmed leading hyphens one at a time. Each case here finishes in well under a second.
  const Embeddings toy = resolve_embeddings("toy", std::nullopt);
  const std::string long_word(100000, 'a');
  const auto pieces = split_subwords(toy, long_word);
  REQUIRE(pieces.has_value());
  REQUIRE(pieces->size() == long_word.size());
  CHECK(pieces->front() == std::pair<std::string, int>{"a", *toy.find("a")});
  CHECK(pieces->back() == std::pair<std::string, int>{"##a", *toy.find("a")});
  CHECK(tokenize(std::string(100000, '-') + "cat-" + std::string(100000, '-'), [](const std::string&) { return false; }) ==
        std::vector<std::string>{"cat"});
  // Through lookup_tokens: each piece's note and the warning name the word shortened to its first 32
  // bytes (they used to repeat all of it: 100,000 notes of 100 KB each).
  const TokenLookup t = lookup_tokens(toy, std::string(5000, '-') + "cat" + long_word + "-", UnknownWords::subword);
  REQUIRE(t.labels.size() == 100001);
  CHECK(t.labels[0] == "cat");
  CHECK(t.labels[1] == "##a");
  CHECK(t.notes[1] == "split from 'cat" + std::string(29, 'a') + "…'");
  CHECK(t.notes.back() == t.notes[1]);
  REQUIRE(t.warnings.size() == 1);
  CHECK_THAT(t.warnings[0], Contains("split into cat ##a") && Contains("… (100001 pieces)"));
  CHECK(t.warnings[0].size() < 300);
  // A short word is named whole, and a cut never splits a code point ("é" is 2 bytes).
  CHECK(lookup_tokens(toy, "cataa", UnknownWords::subword).notes[0] == "split from 'cataa'");
  const std::string accented = std::string(31, 'a') + "é" + std::string(20, 'a');
  const TokenLookup e = lookup_tokens(toy, accented, UnknownWords::zero);
  CHECK_THAT(e.warnings[0], Contains("'" + std::string(31, 'a') + "…'"));
  // The loader is asked only for pieces of at most kMaxLoadedPieceBytes (linear in the word's length).
  const auto wanted = words_for_lookup(std::string(3000, 'b') + "c" + std::string(3000, 'd'), UnknownWords::subword);
  // b^k and d^k for k ≤ 48, b^i c d^j for i + j ≤ 47 (48·49/2), and the word itself: 1273 (uncapped, the
  // b^i c d^j alone would be 9 million strings of up to 6 KB).
  static_assert(kMaxLoadedPieceBytes == 48);
  CHECK(wanted.size() == 48 + 48 + 48 * 49 / 2 + 1);
  CHECK(std::count_if(wanted.begin(), wanted.end(), [](const std::string& w) { return w.size() > kMaxLoadedPieceBytes; }) == 1);  // the word
  // "q" is no toy word and no piece of one: the whole word cannot be split, and no suggestion is sought.
  CHECK_THROWS_WITH(lookup_tokens(toy, long_word + "q", UnknownWords::subword),
                    Contains("1 word in the sentence cannot be split") && Contains("'" + std::string(32, 'a') + "…'"));
  // Many distinct unknown words are each named once, the first 20 with their suggestions.
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "qz" + std::to_string(i) + " cta ";
  CHECK_THROWS_WITH(lookup_tokens(toy, many, UnknownWords::error), Contains("20001 unknown words") && Contains("'cta' (did you mean 'cat'?)") &&
                                                                       Contains("and 19981 more"));
}
