#include "attnviz/narration.hpp"

#include <array>
#include <utility>

namespace attnviz {

namespace {

// One paragraph per stage, in report order. Plain words first, the symbol after: the student should be
// able to follow without knowing what a matrix product is.
constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kParagraphs{{
    {"tokens",
     "First the sentence is cut into tokens: here one token per word, lower-cased, with punctuation dropped. Each token "
     "gets a number, its position, counted from 0. From now on every table has one row per token."},
    {"token_embeddings",
     "Each token is looked up in a dictionary of vectors. A vector is just a list of numbers, one per dimension, and "
     "words with similar meanings have similar lists. These are the dictionary's vectors alone; the next two tables "
     "add each token's position to them."},
    {"positional_encoding",
     "Attention on its own cannot tell word order: shuffle the words and every token would get the same result. So each "
     "token gets a pattern of waves (sines and cosines) that depends only on its position, and the pattern is added to "
     "its embedding. Row p of this table is what is added to the token at position p."},
    {"embeddings",
     "Each token is looked up in a dictionary of vectors. A vector is just a list of numbers, one per dimension, and "
     "words with similar meanings have similar lists. The toy dimensions have names (animal, cartoon, ...) so you can "
     "read them. Note: a word gets the same numbers in every sentence. That is the problem attention solves. (With "
     "positions on, this table is the dictionary vector plus the position pattern: what attention receives.)"},
    {"context_embeddings",
     "With cross-attention there is a second sentence, the context. The questions (queries) still come from the first "
     "sentence, but the keys and values come from the context: these are the context's vectors, one row per token."},
    {"queries",
     "Each token now asks a question. Its query is a new list of numbers made from its embedding: every entry is a "
     "weighted sum of the embedding's entries, with weights (W_q) that were learned in training. Think of the query as "
     "\"what am I looking for?\"."},
    {"keys",
     "Each token also says what it offers. Its key is made the same way, with another table of learned weights (W_k). "
     "Think of the key as the label on a folder: queries are matched against keys."},
    {"values",
     "Finally each token prepares what it hands over to whoever pays attention to it: its value, made with a third "
     "table of weights (W_v). Keys decide who gets attention; values are what gets passed along."},
    {"scores",
     "Now every query is compared with every key. The score of a pair is the dot product: multiply the query and the "
     "key entry by entry, then add the products up. A large positive score means the key matches the question. Rows "
     "are the tokens asking, columns the tokens looked at. (attnviz explain works one cell out in full.)"},
    {"scaled_scores",
     "The scores are divided by the square root of the key's length (d_k). A sum of many products grows with the "
     "number of entries; without this, the biggest score would dwarf the others and one token would take nearly all "
     "the attention. Where a mask forbids looking (with a causal mask: at later words), the score becomes minus "
     "infinity."},
    {"weights",
     "Softmax turns each row of scores into shares that add up to 1. Take e to the power of each score (after "
     "subtracting the row's largest score, which changes nothing but keeps the numbers small), then divide each by the "
     "row's total. Bigger score, bigger share; every share is between 0 and 1; minus infinity gets exactly 0."},
    {"context",
     "Each token's new vector is a blend of the values. For every key, take its value and multiply it by the share of "
     "attention the token gives that key, then add everything up. A token that gave 80% of its attention to \"cat\" "
     "ends up mostly made of cat's value."},
    {"concat",
     "With several heads, each head did all of the above on its own, with its own tables of weights, so each can look "
     "for a different kind of relation. Their results are put side by side, one long row per token."},
    {"output",
     "A last table of weights (W_o) mixes the result back to the size of an embedding. This is the contextualized "
     "embedding: the same word now has different numbers in different sentences, because it has absorbed what it "
     "attended to. Compare it with the embeddings table above."},
}};

}  // namespace

std::string narration(std::string_view stage_name) {
  for (const auto& [name, text] : kParagraphs)
    if (name == stage_name) return std::string(text);
  return "";
}

}  // namespace attnviz
