#include <catch2/catch.hpp>

#include <set>

#include "attnviz/tokenizer.hpp"

using attnviz::tokenize;

namespace {
std::vector<std::string> tok(const std::string& s, std::set<std::string> vocab = {}) {
  return tokenize(s, [&](const std::string& w) { return vocab.count(w) != 0; });
}
}  // namespace

TEST_CASE("Tokenizer: lower-cases, splits on white space, drops punctuation", "[tokenizer]") {
  CHECK(tok("Mickey Mouse, is   an\tAmerican!") == std::vector<std::string>{"mickey", "mouse", "is", "an", "american"});
  CHECK(tok("\"Hello\"... (world);") == std::vector<std::string>{"hello", "world"});
  CHECK(tok("don't U.S. 1,928") == std::vector<std::string>{"dont", "us", "1928"});
  CHECK(tok("").empty());
  CHECK(tok("  ,.;!? — … ").empty());
}

TEST_CASE("Tokenizer: a hyphenated word is whole when known, else its parts", "[tokenizer]") {
  CHECK(tok("co-created in 1928", {"co-created"}) == std::vector<std::string>{"co-created", "in", "1928"});
  CHECK(tok("co-created in 1928") == std::vector<std::string>{"co", "created", "in", "1928"});
  CHECK(tok("two--dimensional -leading trailing-") == std::vector<std::string>{"two", "dimensional", "leading", "trailing"});
  CHECK(tok("Hand-Held", {"hand-held"}) == std::vector<std::string>{"hand-held"});
}

TEST_CASE("Tokenizer: a sentence is read once into candidates, then resolved against a vocabulary", "[tokenizer]") {
  const auto words = attnviz::word_candidates("Co-Created, --in-- 1928 ---");
  REQUIRE(words.size() == 3);  // "---" is no word
  CHECK(words[0].whole == "co-created");
  CHECK(words[0].parts == std::vector<std::string>{"co", "created"});
  CHECK(words[1].whole == "in");
  CHECK(words[1].parts == std::vector<std::string>{"in"});
  CHECK(words[2].whole == "1928");
  // Resolving the same candidates against two vocabularies, without reading the sentence again.
  auto known = [](const std::string& w) { return w == "co-created"; };
  auto unknown = [](const std::string&) { return false; };
  CHECK(attnviz::resolve_words(words, known) == std::vector<std::string>{"co-created", "in", "1928"});
  CHECK(attnviz::resolve_words(words, unknown) == std::vector<std::string>{"co", "created", "in", "1928"});
  CHECK(attnviz::resolve_words(words, known) == tok("Co-Created, --in-- 1928 ---", {"co-created"}));
}

TEST_CASE("Tokenizer: Unicode punctuation and spaces, Latin-1 capitals", "[tokenizer]") {
  CHECK(tok("“Café” — ÉCOLE\xC2\xA0ok") == std::vector<std::string>{"café", "école", "ok"});
}

TEST_CASE("Tokenizer: invalid UTF-8 never crashes and never survives into a token", "[tokenizer]") {
  const std::string bad = std::string("ab\xff\xfe") + "cd \xc3" + " \xe2\x82" + " ok \xed\xa0\x80x";
  auto tokens = tok(bad);
  REQUIRE(!tokens.empty());
  for (const auto& t : tokens) CHECK(attnviz::sanitize_utf8(t) == t);
  CHECK(tokens.front() == "abcd");
  CHECK(attnviz::sanitize_utf8("a\xffz") == "a\xEF\xBF\xBDz");
  CHECK(attnviz::sanitize_utf8("\xc0\xaf") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
}

// Found by fuzz_tokenizer (fuzz/regressions/tokenizer/): an invalid byte or punctuation between a letter and
// a combining mark is dropped, and the two must then compose, or the token is not what lower_case (and so an
// embeddings file's word) makes of it.
TEST_CASE("Tokenizer: a combining mark meets its letter once what stood between is dropped", "[tokenizer]") {
  const std::string acute = "\xCC\x81";  // U+0301 COMBINING ACUTE ACCENT
  CHECK(tok("Cafe/" + acute) == std::vector<std::string>{"caf\xC3\xA9"});                // "café", composed
  CHECK(tok("cafe\xFF" + acute + "s") == std::vector<std::string>{"caf\xC3\xA9" "s"});   // invalid byte dropped
  CHECK(tok("Wa/\xDF\xCC\x91") == std::vector<std::string>{"w\xC8\x83"});                // a + U+0311 is U+0203
  for (const char* s : {"Cafe/\xCC\x81", "Wa/\xDF\xCC\x91\xEB\xFF\xEB\xFF", "A-\xCC\x81" "b", "\xCC\x81-a"})
    for (const auto& t : tok(s)) CHECK(attnviz::lower_case(t) == t);
}

// Every script's capitals, not only Latin-1's: GloVe's words were lower-cased by Python's str.lower().
TEST_CASE("Tokenizer: capitals of every script are lower-cased (Unicode simple case mapping)", "[tokenizer]") {
  CHECK(tok("\xC5\x81\xC3\x93" "D\xC5\xB9") == std::vector<std::string>{"\xC5\x82\xC3\xB3" "d\xC5\xBA"});  // ŁÓDŹ -> łódź
  CHECK(tok("\xD0\x9C\xD0\x9E\xD0\xA1\xD0\x9A\xD0\x92\xD0\x90") ==
        std::vector<std::string>{"\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0"});  // МОСКВА -> москва
  CHECK(tok("\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x99\xCE\x91") ==
        std::vector<std::string>{"\xCF\x83\xCE\xBF\xCF\x86\xCE\xB9\xCE\xB1"});  // ΣΟΦΙΑ -> σοφια
  CHECK(attnviz::lower_case("\xC5\x81\xC3\xB3" "d\xC5\xBA") == "\xC5\x82\xC3\xB3" "d\xC5\xBA");
  CHECK(attnviz::lower_case("E\xCC\x81" "COLE") == "\xC3\xA9" "cole");  // decomposed É: composed, then lower
  CHECK(attnviz::lower_case("\xE2\x84\xAA") == "k");  // KELVIN SIGN: NFC is 'K'
  CHECK(attnviz::lower_case("\xE6\x97\xA5\xE6\x9C\xAC") == "\xE6\x97\xA5\xE6\x9C\xAC");  // 日本: no case
}
