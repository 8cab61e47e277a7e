// The bundled GloVe subset, the mouse lesson on real vectors, and what happens to unknown words.
#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "attnviz/data.hpp"
#include "attnviz/lesson.hpp"
#include "attnviz/pipeline.hpp"
#include "support.hpp"

using namespace attnviz;
using attnviz::test::run_attnviz;
using Catch::Contains;

namespace {

float gain(const Trace& trace, const Embeddings& emb, const std::string& toward) {
  const auto shift = word_shift(trace, emb, "mouse", {Neighbourhood{toward, {toward}}});
  return shift[0].after - shift[0].before;
}

}  // namespace

TEST_CASE("GloVe: the bundled subset is 100-d, under 10 MB, and has every word of the lessons", "[glove]") {
  const auto path = attnviz::test::data_dir() / "embeddings" / "glove-100d.json";
  CHECK(std::filesystem::file_size(path) <= 10'000'000u);
  const Embeddings e = resolve_embeddings("glove", std::nullopt);  // the alias
  CHECK(e.name == "glove-100d");
  CHECK(e.dim == 100);
  CHECK(e.words.size() >= 9000);
  CHECK(e.words[0] == "the");  // most frequent first
  const Lesson lesson = load_lesson(attnviz::test::data_dir() / "lessons" / "mouse-glove.json");
  for (const auto& s : lesson.sentences) CHECK_NOTHROW(tokens_for(e, s));
  CHECK(default_model_for(e, std::nullopt) == "identity");
}

TEST_CASE("GloVe: attention moves mouse toward cartoon beside Disney, toward computer beside a computer", "[glove]") {
  const Lesson lesson = load_lesson(attnviz::test::data_dir() / "lessons" / "mouse-glove.json");
  REQUIRE(lesson.sentences.size() == 2);
  REQUIRE(lesson.model == "identity");
  const Embeddings emb = resolve_embeddings(lesson.embeddings, std::nullopt);
  const Model model = resolve_model(lesson.model, emb.dim, 0, std::nullopt);
  const Trace disney = run_attention(emb, model, lesson.sentences[0], {});
  const Trace computer = run_attention(emb, model, lesson.sentences[1], {});
  CHECK(gain(disney, emb, "cartoon") > gain(disney, emb, "computer"));
  CHECK(gain(computer, emb, "computer") > gain(computer, emb, "cartoon"));
  // And for the lesson's neighbourhoods, each sentence's own one gains most.
  const auto d = word_shift(disney, emb, lesson.word, lesson.neighbourhoods);
  const auto c = word_shift(computer, emb, lesson.word, lesson.neighbourhoods);
  CHECK(d[0].after - d[0].before > d[1].after - d[1].before);
  CHECK(c[1].after - c[1].before > c[0].after - c[0].before);
}

TEST_CASE("GloVe: demo mouse-glove runs on the command line and names the neighbourhoods", "[glove][cli]") {
  const auto r = run_attnviz({"demo", "mouse-glove", "--stages", "weights", "--color", "never"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("model: identity"));
  CHECK_THAT(r.out, Contains("embeddings: glove-100d (100 dims)"));
  const auto first = r.out.find("\"mouse\" ends closer to cartoon");
  const auto second = r.out.find("\"mouse\" ends closer to technology");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  CHECK(first < second);
  CHECK_THAT(run_attnviz({"demo"}).out, Contains("mouse-glove"));
}

TEST_CASE("GloVe: --embeddings glove defaults to the identity model, the toy embeddings to the toy model", "[glove][cli]") {
  auto r = run_attnviz({"run", "the cat chased the mouse", "--embeddings", "glove", "--json", "-"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["config"]["model"] == "identity");
  CHECK(doc["config"]["embeddings"] == "glove-100d");
  CHECK(doc["config"]["d_model"] == 100);
  auto toy = run_attnviz({"run", "the cat chased the mouse", "--json", "-"});
  REQUIRE(toy.exit_code == 0);
  CHECK(nlohmann::json::parse(toy.out)["config"]["model"] == "toy");
}

TEST_CASE("Unknown words: an error by default, naming them with suggestions", "[glove][cli]") {
  auto r = run_attnviz({"run", "mickey cocreated cartoonz", "--embeddings", "glove"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("2 unknown words"));
  CHECK_THAT(r.err, Contains("'cartoonz' (did you mean 'cartoon"));
  CHECK_THAT(r.err, Contains("--unknown subword"));
  CHECK(r.out.empty());
}

TEST_CASE("Unknown words: --unknown subword splits them WordPiece-style, each piece its own token", "[glove][cli]") {
  auto r = run_attnviz({"run", "mickey cocreated cartoons", "--embeddings", "glove", "--unknown", "subword", "--json", "-"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["tokens"] == nlohmann::json{"mickey", "co", "##created", "cartoons"});
  CHECK_THAT(r.err, Contains("warning: 'cocreated' is not in the embeddings 'glove-100d': split into co ##created"));
  // The continuation piece has the bare word's vector.
  const Embeddings emb = resolve_embeddings("glove", std::nullopt);
  const auto& X = doc["stages"][0];
  REQUIRE(X["name"] == "embeddings");
  CHECK(X["data"][2][0].get<float>() == emb.vector("created")(0));
  // The token table marks the pieces.
  auto table = run_attnviz({"run", "mickey cocreated", "--embeddings", "glove", "--unknown", "subword", "--stages", "tokens"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("2 ##created: split from 'cocreated'"));
  // A word with a part that matches nothing cannot be split.
  auto none = run_attnviz({"run", "mickey qqq", "--embeddings", "glove", "--unknown", "subword"});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Contains("cannot be split"));
  CHECK_THAT(none.err, Contains("'qqq'"));
}

TEST_CASE("Unknown words: split_subwords is greedy longest-match on code points", "[glove]") {
  Embeddings e;
  e.dim = 1;
  e.words = {"un", "unbelie", "believ", "able", "v", "\u00e9", "t"};
  e.vectors = Matrix::Zero(7, 1);
  for (int i = 0; i < 7; ++i) e.index[e.words[static_cast<std::size_t>(i)]] = i;
  const auto labels = [&](const std::string& word) {
    std::vector<std::string> out;
    if (auto pieces = split_subwords(e, word))
      for (const auto& p : *pieces) out.push_back(p.first);
    return out;
  };
  // Greedy: the longest first piece wins even when a shorter one would give fewer pieces.
  CHECK(labels("unbelievable") == std::vector<std::string>{"unbelie", "##v", "##able"});
  CHECK(split_subwords(e, "unbelievable")->at(1).second == 4);  // "##v" is the row of "v"
  CHECK_FALSE(split_subwords(e, "unbelievxble").has_value());
  CHECK(labels("t\u00e9\u00e9") == std::vector<std::string>{"t", "##\u00e9", "##\u00e9"});
}

TEST_CASE("Unknown words: --unknown zero gives a zero vector and a warning", "[glove][cli]") {
  auto r = run_attnviz({"run", "the zzyzx mouse", "--embeddings", "glove", "--unknown", "zero", "--json", "-"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["tokens"] == nlohmann::json{"the", "zzyzx", "mouse"});
  for (const auto& v : doc["stages"][0]["data"][1]) CHECK(v.get<float>() == 0.0f);
  CHECK_THAT(r.err, Contains("warning: 'zzyzx' is not in the embeddings 'glove-100d': it gets a zero vector"));
  CHECK_THAT(doc["notes"].dump(), Contains("zero vector"));
  auto table = run_attnviz({"run", "the zzyzx mouse", "--embeddings", "glove", "--unknown", "zero", "--stages", "tokens"});
  CHECK_THAT(table.out, Contains("1 zzyzx: unknown: zero vector"));
}

TEST_CASE("Unknown words: the loader is asked for every piece a split may need", "[glove]") {
  const auto plain = words_for_lookup("Co-created cats", UnknownWords::error);
  CHECK(plain == std::vector<std::string>{"cats", "co", "co-created", "created"});
  const auto pieces = words_for_lookup("cats", UnknownWords::subword);
  CHECK(pieces == std::vector<std::string>{"a", "at", "ats", "c", "ca", "cat", "cats", "s", "t", "ts"});
}
