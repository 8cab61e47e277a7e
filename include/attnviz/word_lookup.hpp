// Word lookup: a sentence read once into word candidates, then resolved against the embeddings (known words,
// subword pieces, zero vectors, or an error naming every unknown word with the closest known words).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attnviz/embeddings.hpp"
#include "attnviz/tokenizer.hpp"

namespace attnviz {

// What to do with a word the embeddings lack (--unknown): an input error that names it (the default);
// split it into the longest known pieces, WordPiece-style ("cocreated" -> co ##created, each piece its own
// token); or give it a zero vector with a warning.
enum class UnknownWords { error, subword, zero };
UnknownWords parse_unknown_words(const std::string& name);  // "error" | "subword" | "zero"; InputError otherwise

// Tokens of `sentence` in `emb`'s vocabulary. InputError for an empty sentence or unknown words (all of them
// named, with suggestions); `what` names the sentence in messages ("the sentence", "the context").
std::vector<std::string> tokens_for(const Embeddings& emb, const std::string& sentence, const std::string& what = "the sentence");

// A sentence's tokens resolved against the embeddings: labels as shown ("co", "##created"), the embedding
// row of each (-1: a zero vector), a note per token ("" when it is a word of the embeddings), and warnings.
struct TokenLookup {
  std::vector<std::string> labels;
  std::vector<int> rows;
  std::vector<std::string> notes;
  std::vector<std::string> warnings;
  std::vector<std::string> stand_ins;  // for the header: which missing function word took which vector
};

// The most frequent function words some embeddings lack (the bundled GloVe words have no one-letter words):
// "a" takes the vector of "an" (the same article), "i" that of "me" (the same pronoun). With --unknown error
// (the default) or subword, a missing word of this list that has its stand-in in the embeddings gets the
// stand-in's vector, and the token's note and the trace's notes say so. nullopt for any other word.
std::optional<std::string> stand_in_for(const std::string& word);
TokenLookup lookup_tokens(const Embeddings& emb, const std::string& sentence, UnknownWords unknown,
                          const std::string& what = "the sentence");
// The same for a sentence already read (word_candidates): each candidate whole when the embeddings know it
// (or it has no hyphen), else its parts.
TokenLookup lookup_tokens(const Embeddings& emb, const std::vector<WordCandidate>& words, UnknownWords unknown,
                          const std::string& what = "the sentence");

// Greedy longest-match split of `word` into pieces the embeddings know (WordPiece without "##" entries: a
// continuation piece is looked up bare and labelled "##piece"); nullopt when some part matches nothing.
std::optional<std::vector<std::pair<std::string, int>>> split_subwords(const Embeddings& emb, const std::string& word);
// The same, given longest_word(emb) (a caller splitting many words computes it once).
std::optional<std::vector<std::pair<std::string, int>>> split_subwords(const Embeddings& emb, const std::string& word, std::size_t longest);
// The byte length of the longest word the embeddings know (0 when they know none).
std::size_t longest_word(const Embeddings& emb);

// Every word a loader must keep so that `sentence` can be looked up with `unknown`: each token, both
// whole and split at hyphens, and with --unknown subword every substring of it of at most
// kMaxLoadedPieceBytes (so with --embeddings FILE, subword pieces are at most that long).
constexpr std::size_t kMaxLoadedPieceBytes = 48;
std::vector<std::string> words_for_lookup(const std::string& sentence, UnknownWords unknown);
std::vector<std::string> words_for_lookup(const std::vector<WordCandidate>& words, UnknownWords unknown);

// Up to `count` known words closest to `word` by edit distance (for "did you mean" hints).
std::vector<std::string> suggest_words(const Embeddings& emb, const std::string& word, std::size_t count = 3);

}  // namespace attnviz
