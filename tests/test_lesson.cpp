// The lesson's claim on the bundled toy data: "mouse" moves toward the cartoon sense beside Mickey and
// toward the technology sense beside a computer.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "attnviz/data.hpp"
#include "attnviz/lesson.hpp"
#include "attnviz/pipeline.hpp"
#include "support.hpp"

using namespace attnviz;

namespace {

float gain(const std::vector<Shift>& shifts, const std::string& name) {
  for (const auto& s : shifts)
    if (s.neighbourhood == name) return s.after - s.before;
  FAIL("no neighbourhood " << name);
  return 0;
}

}  // namespace

TEST_CASE("Lesson: mouse gains more toward cartoon than device beside Mickey, the reverse beside a computer", "[lesson]") {
  const std::string dir = test::data_dir().string();
  const Lesson lesson = load_lesson(find_data_file("lessons", "mouse", dir));
  const Embeddings emb = resolve_embeddings(lesson.embeddings, dir);
  const Model model = resolve_model(lesson.model, emb.dim, 0, dir);
  REQUIRE(lesson.sentences.size() == 2);
  const std::vector<Neighbourhood> words{{"cartoon", {"cartoon"}}, {"device", {"device"}}};

  const Trace mickey = run_attention(emb, model, lesson.sentences[0], {});
  const auto by_word = word_shift(mickey, emb, "mouse", words);
  CHECK(gain(by_word, "cartoon") > gain(by_word, "device") + 0.05f);
  const auto by_area = word_shift(mickey, emb, "mouse", lesson.neighbourhoods);
  CHECK(gain(by_area, "cartoon") > gain(by_area, "technology") + 0.05f);

  const Trace computer = run_attention(emb, model, lesson.sentences[1], {});
  const auto by_word2 = word_shift(computer, emb, "mouse", words);
  CHECK(gain(by_word2, "device") > gain(by_word2, "cartoon") + 0.05f);
  const auto by_area2 = word_shift(computer, emb, "mouse", lesson.neighbourhoods);
  CHECK(gain(by_area2, "technology") > gain(by_area2, "cartoon") + 0.05f);

  // The top keys the class reads under the weights table.
  const Stage* P = mickey.find("weights", 0);
  REQUIRE(P);
  auto top = top_keys(*P, 1, 3);
  REQUIRE(top.size() == 3);
  CHECK(top[0].first == "mickey");
  CHECK(top[0].second >= top[1].second);
  CHECK(top[1].second >= top[2].second);
}

TEST_CASE("Lesson: every bundled sentence is covered by the toy embeddings", "[lesson]") {
  const std::string dir = test::data_dir().string();
  const Embeddings emb = resolve_embeddings("toy", dir);
  const Model model = resolve_model("toy", emb.dim, 0, dir);
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::data_dir() / "sentences")) {
    if (entry.path().extension() != ".txt") continue;
    INFO(entry.path().filename().string());
    const Trace t = run_attention(emb, model, test::read_text(entry.path()), {});
    CHECK(t.tokens.size() >= 6);
    ++count;
  }
  CHECK(count >= 12);
}
