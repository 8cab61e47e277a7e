// attnviz compare and run --neighbours: the numbers equal those of run's trace; nearest neighbours are
// deterministic and say which entry is the word itself.
#include <catch2/catch.hpp>

#include "attnviz/compare.hpp"
#include "attnviz/data.hpp"
#include "attnviz/pipeline.hpp"
#include "support.hpp"
#include "trace_json.hpp"

using namespace attnviz;
using Catch::Contains;

namespace {

const std::string kMickey = "Mickey Mouse is an American cartoon character";
const std::string kComputer = "a computer mouse is a hand-held pointing device";

using test::row_vector;

// The cells of the table row labelled `label` in box-drawn output ("│ output 1 │ 0.194 │ ...").
std::vector<std::string> table_row(const std::string& out, const std::string& label) {
  for (const auto& line : test::lines_of(out))
    if (line.rfind("│ " + label + " ", 0) == 0) return test::numbers_in(line);
  FAIL("no table row " << label << " in:\n" << out);
  return {};
}

std::string line_starting(const std::string& out, const std::string& prefix) {
  for (const auto& line : test::lines_of(out))
    if (line.rfind(prefix, 0) == 0) return line;
  FAIL("no line starting with '" << prefix << "' in:\n" << out);
  return {};
}

}  // namespace

TEST_CASE("Compare: nearest_words ranks by cosine, ties in vocabulary order, nothing excluded", "[compare]") {
  const Embeddings emb = parse_embeddings(R"({"format": "attnviz-embeddings", "version": 1, "name": "t", "dim": 2,
    "vectors": {"b": [1, 0], "a": [2, 0], "c": [0, 1], "d": [1, 1]}})", "test");
  Vector v(2);
  v << 1, 0;
  const auto near = nearest_words(emb, v, 3);
  REQUIRE(near.size() == 3);
  CHECK(near[0].word == "b");  // b and a tie at 1: file order
  CHECK(near[1].word == "a");
  CHECK(near[2].word == "d");
  CHECK(near[2].cosine == Approx(std::sqrt(0.5f)));
  CHECK(nearest_words(emb, v, 10).size() == 4);
}

TEST_CASE("Compare: the library's comparison reads the traces' own rows", "[compare]") {
  const std::string dir = test::data_dir().string();
  const Embeddings emb = resolve_embeddings("toy", dir);
  const Model model = resolve_model("toy", emb.dim, 0, dir);
  const std::vector<Trace> traces{run_attention(emb, model, kMickey, {}), run_attention(emb, model, kComputer, {})};
  const WordComparison c = compare_word(emb, traces, "Mouse", {}, 4);
  CHECK(c.word == "mouse");
  CHECK(c.rows == std::vector<int>{1, 2});
  CHECK(c.outputs[1] == Vector(traces[1].find("output")->data.row(2)));
  CHECK(c.output_cosines(0, 1) == cosine(c.outputs[0], c.outputs[1]));
  CHECK(c.probe_source == WordComparison::ProbeSource::dimensions);  // the toy's dimensions are words
  CHECK(std::find(c.probes.begin(), c.probes.end(), "cartoon") != c.probes.end());
  CHECK(c.neighbours_before[0].front().word == "mouse");  // the embedding is nearest to itself
  // The lesson's point, seen through the probes: cartoon beside Mickey, device beside a computer.
  const auto at = [&](const std::string& w) { return static_cast<std::size_t>(std::find(c.probes.begin(), c.probes.end(), w) - c.probes.begin()); };
  CHECK(c.probe_after[0][at("cartoon")] > c.probe_after[0][at("device")]);
  CHECK(c.probe_after[1][at("device")] > c.probe_after[1][at("cartoon")]);
  CHECK_THROWS_WITH(compare_word(emb, {traces[0], run_attention(emb, model, "the cat", {})}, "mouse", {}, 3),
                    Contains("'mouse' is not in sentence 2"));
}

TEST_CASE("Compare CLI: vectors, cosines, probes and neighbours equal run's numbers", "[compare][cli]") {
  test::TempDir dir;
  const auto json = (dir.path() / "traces.json").string();
  const auto r = test::run_attnviz({"compare", kMickey, kComputer, "--word", "mouse", "--probe", "cartoon,device", "--precision", "6",
                                    "--width", "250", "--neighbours", "4", "--json", json});
  INFO("stderr: " << r.err << "\nstdout:\n" << r.out);
  REQUIRE(r.exit_code == 0);
  const auto traces = nlohmann::json::parse(test::read_text(json));
  REQUIRE(traces.size() == 2);

  // The traces are run's traces.
  for (std::size_t s = 0; s < 2; ++s) {
    const auto single = (dir.path() / "run.json").string();
    REQUIRE(test::run_attnviz({"run", s == 0 ? kMickey : kComputer, "--json", single}).exit_code == 0);
    auto trace = traces[s];
    REQUIRE(trace.contains("lesson"));  // compare adds the probes' lesson object to run's trace
    trace.erase("lesson");
    CHECK(nlohmann::json::parse(test::read_text(single)) == trace);
  }
  const Embeddings emb = resolve_embeddings("toy", test::data_dir().string());
  const std::vector<int> rows{1, 2};
  std::vector<Vector> outputs;
  for (std::size_t s = 0; s < 2; ++s) {
    const auto O = test::trace_stage(traces[s], "output");
    outputs.push_back(row_vector(O[static_cast<std::size_t>(rows[s])]));
    const auto printed = table_row(r.out, "output " + std::to_string(s + 1));
    REQUIRE(printed.size() == static_cast<std::size_t>(outputs[s].cols()));
    for (std::size_t c = 0; c < printed.size(); ++c) CHECK(printed[c] == test::same_digits(outputs[s](static_cast<Eigen::Index>(c)), printed[c]));
  }
  const auto embedding = table_row(r.out, "embedding");
  for (std::size_t c = 0; c < embedding.size(); ++c)
    CHECK(embedding[c] == test::same_digits(emb.vector("mouse")(static_cast<Eigen::Index>(c)), embedding[c]));

  // Cosine between the outputs (the table's row "output 1": 1, then the cosine with output 2).
  const auto first = table_row(r.out.substr(r.out.find("cosine between the outputs")), "output 1");
  REQUIRE(first.size() == 2);
  CHECK(first[1] == test::same_digits(cosine(outputs[0], outputs[1]), first[1]));

  // Probes before and after.
  const auto cartoon = test::numbers_in(line_starting(r.out, "  cartoon"));
  // Columns: before, uniform 1, after 1, uniform 2, after 2.
  REQUIRE(cartoon.size() == 5);
  CHECK(cartoon[0] == test::same_digits(cosine(emb.vector("mouse"), emb.vector("cartoon")), cartoon[0]));
  CHECK(cartoon[2] == test::same_digits(cosine(outputs[0], emb.vector("cartoon")), cartoon[2]));
  CHECK(cartoon[4] == test::same_digits(cosine(outputs[1], emb.vector("cartoon")), cartoon[4]));
  for (std::size_t s = 0; s < 2; ++s) {
    const auto& lesson = traces[s]["lesson"];
    CHECK(lesson["after"]["cartoon"].get<double>() == Approx(cosine(outputs[s], emb.vector("cartoon"))).margin(1e-6));
    CHECK(cartoon[1 + 2 * s] == test::same_digits(lesson["uniform"]["cartoon"].get<float>(), cartoon[1 + 2 * s]));
  }

  // Neighbours after attention equal run --neighbours for the same token, and the library's list.
  const RenderOptions ro{ColorDepth::none, true, 80, 6};
  for (std::size_t s = 0; s < 2; ++s) {
    const std::string expected = render_neighbour_list(nearest_words(emb, outputs[s], 4), "mouse", ro);
    CHECK_THAT(line_starting(r.out, "  after, sentence " + std::to_string(s + 1)), Contains(expected));
    const auto run = test::run_attnviz({"run", s == 0 ? kMickey : kComputer, "--neighbours", "4", "--precision", "6", "--stages", "output"});
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(line_starting(run.out, "  mouse"), Contains(expected));
  }
  CHECK_THAT(line_starting(r.out, "  before:"), Contains("mouse (itself) 1.000000"));
}

TEST_CASE("Compare CLI: a word missing from a sentence, or an unknown probe, is an input error naming it", "[compare][cli]") {
  auto missing = test::run_attnviz({"compare", kMickey, "the cat chased the dog", "--word", "mouse"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("'mouse' is not in sentence 2"));
  CHECK(missing.out.empty());
  auto unknown = test::run_attnviz({"compare", kMickey, kComputer, "--word", "mouse", "--probe", "cartoon,zebraz"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Contains("'zebraz'"));
  auto no_word = test::run_attnviz({"compare", kMickey, kComputer});
  CHECK(no_word.exit_code == 2);
  CHECK_THAT(no_word.err, Contains("--word"));
  auto help = test::run_attnviz({"compare", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Contains("Examples:"));
}

TEST_CASE("Run CLI: --neighbours lists every token's nearest words and marks the token itself", "[compare][cli]") {
  const auto r = test::run_attnviz({"run", "the cat chased the mouse", "--neighbours", "2", "--stages", "output"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("nearest 2 words in the vocabulary to each token's output"));
  for (const char* token : {"  the ", "  cat ", "  chased ", "  mouse "}) CHECK_THAT(r.out, Contains(token));
  CHECK_THAT(r.out, Contains("(itself)"));
  auto bad = test::run_attnviz({"run", "the cat", "--neighbours", "0"});
  CHECK(bad.exit_code == 2);
}
