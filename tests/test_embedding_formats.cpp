// The embeddings formats teachers bring (GloVe text, word2vec text, the wink JSON layout, ours), loaded by
// content and streamed: the words asked for plus the first --vocab-limit words; malformed files exit 2
// naming the line (text) or the word (JSON).
#include <charconv>
#include <cmath>
#include <random>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../src/io/parse_float.hpp"
#include "attnviz/embeddings.hpp"
#include "attnviz/error.hpp"
#include "support.hpp"

using namespace attnviz;
using attnviz::test::run_attnviz;
using attnviz::test::TempDir;
using Catch::Contains;

namespace {

const char* kGlove = "the 0.1 0.2 0.3\ncat -1.5 2 0.25\nchased 1e-3 -0.125 3\nmouse 0.5 0.5 -0.5\n";

// A wink-layout file: each row is the vector, then its L2 norm and its index.
const char* kWink = R"({"precision":8,"l2NormIndex":3,"wordIndex":4,"size":3,"dimensions":3,
"words":["the","cat","mouse"],
"vectors":{"the":[0.1,0.2,0.3,0.37,0],"cat":[-1.5,2,0.25,2.51,1],"mouse":[0.5,0.5,-0.5,0.87,2]},
"unkVector":[0,0,0,0,-1]})";

void require_exit_2(const TempDir& dir, const std::string& name, const std::string& content, const std::string& sentence,
                    const std::string& fragment) {
  const auto path = dir.write(name, content);
  const auto r = run_attnviz({"run", sentence, "--embeddings", path.string()});
  INFO("file " << name << "; stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(fragment));
  CHECK(r.out.empty());
}

}  // namespace

TEST_CASE("Embedding formats: GloVe text, every value read exactly", "[formats]") {
  TempDir dir;
  const auto path = dir.write("vectors.txt", kGlove);
  CHECK(sniff_embeddings_format(path) == EmbeddingsFormat::glove_text);
  const Embeddings e = load_embeddings_for(path, {"cat", "mouse"});
  CHECK(e.format == "GloVe text");
  CHECK(e.name == "vectors");
  CHECK(e.dim == 3);
  CHECK(e.file_words == 4);
  CHECK(e.words == std::vector<std::string>{"the", "cat", "chased", "mouse"});
  CHECK(e.vector("cat")(0) == -1.5f);
  CHECK(e.vector("chased")(0) == 1e-3f);
  CHECK(e.vector("mouse")(2) == -0.5f);
  CHECK(e.dimension_labels == std::vector<std::string>{"d0", "d1", "d2"});
}

TEST_CASE("Embedding formats: word2vec text with its count-dim header, CRLF and trailing blanks", "[formats]") {
  TempDir dir;
  const auto path = dir.write("w2v.txt", "2 3\r\nCat 1 2 3 \r\nmouse 4 5 6\r\n");
  CHECK(sniff_embeddings_format(path) == EmbeddingsFormat::word2vec_text);
  const Embeddings e = load_embeddings_for(path, {});
  CHECK(e.format == "word2vec text");
  CHECK(e.words == std::vector<std::string>{"cat", "mouse"});
  CHECK(e.vector("mouse")(2) == 6.0f);
}

TEST_CASE("Embedding formats: the wink JSON layout drops the norm and index columns", "[formats]") {
  TempDir dir;
  const auto path = dir.write("wink.json", kWink);
  CHECK(sniff_embeddings_format(path) == EmbeddingsFormat::wink_json);
  const Embeddings e = load_embeddings_for(path, {"mouse"});
  CHECK(e.format == "wink JSON");
  CHECK(e.dim == 3);
  CHECK(e.words == std::vector<std::string>{"the", "cat", "mouse"});
  CHECK(e.vector("cat")(1) == 2.0f);
  CHECK(e.vectors.cols() == 3);
}

TEST_CASE("Embedding formats: our JSON through load_embeddings_for is the same as load_embeddings", "[formats]") {
  const auto path = attnviz::test::data_dir() / "embeddings" / "toy.json";
  CHECK(sniff_embeddings_format(path) == EmbeddingsFormat::attnviz_json);
  const Embeddings all = load_embeddings(path);
  const Embeddings streamed = load_embeddings_for(path, {"mouse"});
  CHECK(streamed.words == all.words);
  CHECK(streamed.vectors == all.vectors);
  CHECK(streamed.dimension_labels == all.dimension_labels);
  CHECK(streamed.name == "toy");
}

TEST_CASE("Embedding formats: a big file keeps the words asked for plus the first --vocab-limit words", "[formats]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 100; ++i) text += fmt::format("w{} {} {}\n", i, i, -i);
  const auto path = dir.write("many.txt", text);
  const Embeddings e = load_embeddings_for(path, {"w70", "W42", "absent"}, 3);
  CHECK(e.words == std::vector<std::string>{"w0", "w1", "w2", "w42", "w70"});
  CHECK(e.file_words == 100);
  CHECK(e.vector("w70")(1) == -70.0f);

  // The same through the wink layout.
  std::string wink = R"({"dimensions":2,"vectors":{)";
  for (int i = 0; i < 100; ++i) wink += fmt::format("{}\"w{}\":[{},{}]", i ? "," : "", i, i, -i);
  const auto wink_path = dir.write("many.json", wink + "}}");
  const Embeddings w = load_embeddings_for(wink_path, {"w70"}, 2);
  CHECK(w.words == std::vector<std::string>{"w0", "w1", "w70"});

  // On the command line: a word beyond the limit is still found, and the default limit keeps everything here.
  auto r = run_attnviz({"run", "w99 w98", "--embeddings", path.string(), "--vocab-limit", "1", "--json", "-"});
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["tokens"] == nlohmann::json{"w99", "w98"});
  // Suggestions come from the kept words.
  auto miss = run_attnviz({"run", "w5x", "--embeddings", path.string()});
  CHECK(miss.exit_code == 2);
  CHECK_THAT(miss.err, Contains("'w5x' (did you mean 'w5'"));
}

TEST_CASE("Embedding formats: case variants keep the first, the same spelling twice is an error", "[formats]") {
  TempDir dir;
  const auto path = dir.write("cased.txt", "Apple 1 0\napple 0 1\nthe 1 1\n");
  const Embeddings e = load_embeddings_for(path, {"apple"});
  CHECK(e.words == std::vector<std::string>{"apple", "the"});
  CHECK(e.vector("apple")(0) == 1.0f);
}

TEST_CASE("Embedding formats: malformed files exit 2 naming the line or the word", "[formats]") {
  TempDir dir;
  // GloVe text.
  require_exit_2(dir, "short.txt", "the 1 2 3\ncat 1 2\n", "the cat", "short.txt:2: the word \"cat\" has 2 numbers, expected 3 (as on line 1)");
  require_exit_2(dir, "long.txt", "the 1 2\ncat 1 2\nmouse 1 2 3\n", "the cat", "long.txt:3: the word \"mouse\" has 3 numbers, expected 2");
  require_exit_2(dir, "nan.txt", "the 1 2\ncat 1 abc\n", "the cat", "nan.txt:2: number 2 of the word \"cat\" is \"abc\", not a finite number");
  require_exit_2(dir, "inf.txt", "the 1 2\ncat inf 2\n", "the cat", "inf.txt:2: number 1 of the word \"cat\" is \"inf\"");
  require_exit_2(dir, "empty.txt", "", "the cat", "the embeddings file is empty");
  require_exit_2(dir, "blank.txt", "\n\n  \n", "the cat", "the embeddings file is empty");
  require_exit_2(dir, "dup.txt", "the 1 2\ncat 1 2\nthe 3 4\n", "the cat", "dup.txt:3: the word \"the\" appears a second time");
  require_exit_2(dir, "noval.txt", "the 1 2\ncat\n", "the cat", "noval.txt:2: the word \"cat\" has no numbers");
  // word2vec text.
  require_exit_2(dir, "count.txt", "3 2\nthe 1 2\ncat 1 2\n", "the cat", "count.txt:1: the word2vec header says 3 words, but the file has 2");
  require_exit_2(dir, "w2vshort.txt", "2 2\nthe 1 2\ncat 1\n", "the cat", "w2vshort.txt:3: the word \"cat\" has 1 numbers, expected 2 (as on the header on line 1)");
  require_exit_2(dir, "w2vonly.txt", "5 2\n", "the cat", "no word vectors");
  // The wink layout.
  require_exit_2(dir, "winkshort.json", R"({"l2NormIndex":2,"wordIndex":3,"dimensions":2,"vectors":{"the":[1,2,3,0],"cat":[1,2]}})", "the cat",
                 "\"vectors.cat\" has 2 entries, expected 4");
  require_exit_2(dir, "winknan.json", R"({"dimensions":2,"vectors":{"the":[1,"x"],"cat":[1,2]}})", "the cat",
                 "\"vectors.the\"[1] must be a number, found a string");
  require_exit_2(dir, "winkdup.json", R"({"dimensions":2,"vectors":{"the":[1,2],"cat":[1,2],"the":[3,4]}})", "the cat",
                 "the word \"the\" appears twice");
  require_exit_2(dir, "winksyntax.json", "{\"dimensions\":2,\n\"vectors\":{\"the\":[1,2],\n\"cat\":[1 2]}}", "the cat",
                 "malformed JSON at line 3, column 10");
  require_exit_2(dir, "neither.json", R"({"vectors":{"the":[1,2]}})", "the", "missing field \"format\"");
  // Our format, streamed.
  require_exit_2(dir, "ourdup.json", R"({"format":"attnviz-embeddings","version":1,"name":"o","dim":1,"vectors":{"the":[1],"The":[2]}})",
                 "the", "the word \"the\" appears twice");
}

TEST_CASE("Embedding formats: a word with spaces (GloVe 840B) is skipped, not an error", "[formats]") {
  TempDir dir;
  const auto path = dir.write("spaces.txt", "the 1 2\n. . . 3 4\ncat 5 6\n");
  const Embeddings e = load_embeddings_for(path, {});
  CHECK(e.words == std::vector<std::string>{"the", "cat"});
  CHECK(e.file_words == 3);
}

TEST_CASE("Embedding formats: parse_float agrees with std::from_chars", "[formats]") {
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> dist(-5.0, 5.0);
  for (int i = 0; i < 20000; ++i) {
    for (int digits : {3, 5, 6, 7, 9}) {
      const std::string text = fmt::format("{:.{}f}", dist(rng), digits);
      float fast = 0.0f, reference = 0.0f;
      const char* end = text.data() + text.size();
      REQUIRE(attnviz::io::parse_float(text.data(), end, fast) == end);
      std::from_chars(text.data(), end, reference);
      INFO(text);
      REQUIRE(fast == reference);
    }
  }
  for (const std::string text : {"1e-3", "-2.5E+2", "12345678901", "0.000000012345", "1e-50"}) {
    float fast = 0.0f;
    REQUIRE(attnviz::io::parse_float(text.data(), text.data() + text.size(), fast) == text.data() + text.size());
    CHECK(fast == static_cast<float>(std::stod(text)));
  }
  float ignored = 0.0f;
  for (const std::string text : {"abc", "inf", "nan", "1e39", "-", ""}) CHECK(attnviz::io::parse_float(text.data(), text.data() + text.size(), ignored) == nullptr);
}
