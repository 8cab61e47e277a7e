// Every field of the embeddings and model files is validated, and the error names it.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "attnviz/embeddings.hpp"
#include "attnviz/error.hpp"
#include "attnviz/model.hpp"
#include "attnviz/word_lookup.hpp"
#include "support.hpp"

using namespace attnviz;
using Catch::Contains;

namespace {
const char* kEmb = R"({"format": "attnviz-embeddings", "version": 1, "name": "t", "dim": 2,
  "dimension_labels": ["x", "y"], "vectors": {"Cat": [1, 0], "dog": [0.5, 0.5]}})";
std::string model_json(const std::string& wq = "[[1,0],[0,1]]", const std::string& extra = "") {
  return R"({"format": "attnviz-model", "version": 1, "name": "m", "d_model": 2, "heads": 1, "W_q": )" + wq +
         R"(, "W_k": [[1,0],[0,1]], "W_v": [[1,0],[0,1]], "W_o": [[1,0],[0,1]])" + extra + "}";
}
}  // namespace

TEST_CASE("Loaders: a valid embeddings file, words lower-cased", "[loaders]") {
  const Embeddings e = parse_embeddings(kEmb, "e.json");
  CHECK(e.dim == 2);
  CHECK(e.words == std::vector<std::string>{"cat", "dog"});
  CHECK(e.vector("dog")(1) == 0.5f);
  CHECK(e.dimension_labels == std::vector<std::string>{"x", "y"});
  CHECK(suggest_words(e, "cta") == std::vector<std::string>{"cat"});
}

TEST_CASE("Loaders: suggestions are the closest words by edit distance, swaps counting one", "[loaders]") {
  // Distances from "kitten" (6 letters: at most 2 edits are suggested): mitten 1, smitten 2, kitchen 2,
  // sitting 3, ktiten 1 (a swap), kitten itself 0 is not there, "xx" is 6.
  std::string text = R"({"format": "attnviz-embeddings", "version": 1, "name": "t", "dim": 1, "vectors": {)";
  for (const char* w : {"mitten", "smitten", "kitchen", "sitting", "ktiten", "xx"}) text += fmt::format(R"("{}": [1], )", w);
  text += R"("zz": [1]}})";
  const Embeddings e = parse_embeddings(text, "e.json");
  CHECK(suggest_words(e, "kitten") == std::vector<std::string>{"ktiten", "mitten"});
  CHECK(suggest_words(e, "kitchenn") == std::vector<std::string>{"kitchen"});
  CHECK(suggest_words(e, "sittnig") == std::vector<std::string>{"sitting"});  // one swap
  CHECK(suggest_words(e, "smittenxx") == std::vector<std::string>{"smitten"});  // 2 edits, 9 letters: limit 3
  CHECK(suggest_words(e, "qqqqqqqqq").empty());
}

TEST_CASE("Loaders: bad embeddings files name the field", "[loaders]") {
  auto bad = [](const std::string& text) { return parse_embeddings(text, "e.json"); };
  CHECK_THROWS_WITH(bad("{\"format\": "), Contains("e.json: malformed JSON at line 1"));
  CHECK_THROWS_WITH(bad(R"({"format": "nope", "version": 1})"), Contains("\"format\" is \"nope\""));
  CHECK_THROWS_WITH(bad(R"({"format": "attnviz-embeddings", "version": 2})"), Contains("version"));
  CHECK_THROWS_WITH(bad(R"({"format": "attnviz-embeddings", "version": 1, "name": "t", "dim": 0})"), Contains("\"dim\""));
  CHECK_THROWS_WITH(bad(R"({"format": "attnviz-embeddings", "version": 1, "name": "t", "dim": 2, "vectors": {"a": [1]}})"),
                    Contains("\"vectors.a\" has 1 entries, expected 2"));
  CHECK_THROWS_WITH(bad(R"({"format": "attnviz-embeddings", "version": 1, "name": "t", "dim": 1, "vectors": {"a": ["x"]}})"),
                    Contains("must be a number"));
  CHECK_THROWS_WITH(bad(R"({"format": "attnviz-embeddings", "version": 1, "name": "t", "dim": 1, "vectors": {"a": [1e39]}})"),
                    Contains("not a finite float32"));
  CHECK_THROWS_WITH(bad(R"({"format": "attnviz-embeddings", "version": 1, "name": "t", "dim": 1, "vectors": {"a": [1], "A": [2]}})"),
                    Contains("appears twice"));
  CHECK_THROWS_WITH(bad(R"({"format": "attnviz-embeddings", "version": 1, "name": "t", "dim": 2, "dimension_labels": ["x"], "vectors": {"a": [1, 2]}})"),
                    Contains("dimension_labels"));
  CHECK_THROWS_AS(bad("[]"), InputError);
}

TEST_CASE("Loaders: a model's shapes are checked against d_model and heads", "[loaders]") {
  const Model m = parse_model(model_json("[[1,0],[0,1]]", R"(, "b_o": [1, 2])"), "m.json");
  CHECK(m.d_k == 2);
  CHECK(m.has_biases);
  CHECK(m.b_o(1) == 2.0f);
  CHECK(m.b_q.size() == 2);
  CHECK_THROWS_WITH(parse_model(model_json("[[1,0,0],[0,1,0]]"), "m.json"), Contains("\"W_k\" has shape 2 × 2, expected 2 × 3"));
  CHECK_THROWS_WITH(parse_model(model_json("[[1,0]]"), "m.json"), Contains("\"W_q\" has shape 1 × 2, expected 2 × any"));
  CHECK_THROWS_WITH(parse_model(model_json("[[1,0],[0]]"), "m.json"), Contains("\"W_q\" row 1 has 1 entries"));
  CHECK_THROWS_WITH(parse_model(model_json("[[1,0],[0,1]]", R"(, "b_v": [1])"), "m.json"), Contains("\"b_v\" has 1 entries, expected 2"));
  CHECK_THROWS_WITH(parse_model(model_json("[[1,0],[0,\"a\"]]"), "m.json"), Contains("\"W_q\"[1][1] must be a number"));
  std::string three_heads = model_json();
  three_heads.replace(three_heads.find("\"heads\": 1"), 10, "\"heads\": 3");
  CHECK_THROWS_WITH(parse_model(three_heads, "m.json"), Contains("do not split into 3 heads"));
}

TEST_CASE("Loaders: the identity model needs heads dividing the size", "[loaders]") {
  const Model m = identity_model(8, 2);
  CHECK(m.d_k == 4);
  CHECK(m.W_o.isIdentity());
  CHECK_THROWS_WITH(identity_model(8, 3), Contains("--heads 3 does not divide the embedding size 8"));
}

TEST_CASE("Loaders: missing files and directories are input errors", "[loaders]") {
  test::TempDir dir;
  CHECK_THROWS_WITH(load_embeddings(dir.path() / "none.json"), Contains("does not exist"));
  CHECK_THROWS_WITH(load_model(dir.path()), Contains("is a directory"));
}
