// A teacher making their own lesson: `attnviz lesson new`, `attnviz words`, their own small embeddings with
// the identity model (--gain, the note on nearly uniform rows), --exclude-self, and the stand-ins for the
// function words the bundled GloVe words lack. Every test runs the real executable.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "support.hpp"
#include "trace_json.hpp"

using namespace attnviz;
using Catch::Contains;
using test::run_attnviz;
using test::run_shell;
using test::TempDir;

namespace {

// A teacher's own embeddings: four words, four small dimensions (dot products well under 1).
const char* kSmall = R"({"format": "attnviz-embeddings", "version": 1, "name": "small", "dim": 4,
  "dimension_labels": ["animal", "food", "place", "action"],
  "vectors": {"cat": [0.6, 0.1, 0.0, 0.1], "fish": [0.4, 0.5, 0.0, 0.0], "eats": [0.1, 0.3, 0.0, 0.6],
              "kitchen": [0.0, 0.3, 0.6, 0.1], "the": [0.2, 0.2, 0.2, 0.2]}})";

nlohmann::json json_of(const std::vector<std::string>& args) {
  auto r = run_attnviz(args);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

// The largest weight of each row of head 1's weights.
std::vector<float> row_maxima(const nlohmann::json& trace) {
  std::vector<float> out;
  for (const auto& row : test::trace_stage(trace, "weights", 0)) out.push_back(*std::max_element(row.begin(), row.end()));
  return out;
}

}  // namespace

TEST_CASE("lesson new: writes a starting lesson that validates, runs with its claims holding, and is the docs' example", "[teacher]") {
  TempDir dir;
  const auto made = run_shell("cd '" + dir.path().string() + "' && \"$ATTNVIZ\" lesson new bat");
  REQUIRE(made.exit_code == 0);
  CHECK_THAT(made.out, Contains("wrote bat.json") && Contains("attnviz demo ./bat.json"));
  const auto file = dir.path() / "bat.json";
  REQUIRE(std::filesystem::exists(file));
  const auto doc = nlohmann::json::parse(test::read_text(file));
  CHECK(doc["format"] == "attnviz-lesson");
  CHECK(doc["name"] == "bat");

  // It runs as it is, and none of its claims is contradicted by the numbers.
  const auto run = run_attnviz({"demo", file.string(), "--color", "never"});
  REQUIRE(run.exit_code == 0);
  CHECK(run.err.empty());
  CHECK_THAT(run.out, Contains("A bat that flies or a bat that hits"));
  CHECK_THAT(run.out, !Contains("the lesson says"));

  // The schema accepts it (scripts/validate.py, when python3 with jsonschema is there).
  const auto validated = run_shell("command -v python3 >/dev/null && python3 -c 'import jsonschema' 2>/dev/null || exit 77; python3 '" +
                                   (test::source_dir() / "scripts" / "validate.py").string() + "' '" + file.string() + "'");
  if (validated.exit_code != 77) CHECK(validated.exit_code == 0);

  // A second time: refused, the file untouched.
  const std::string before = test::read_text(file);
  const auto again = run_shell("cd '" + dir.path().string() + "' && \"$ATTNVIZ\" lesson new bat");
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Contains("'bat.json' exists already"));
  CHECK(test::read_text(file) == before);

  // A dangling link is there too: writing through it would create a file somewhere else.
  const auto link = dir.path() / "link.json";
  std::filesystem::create_symlink(dir.path() / "elsewhere.json", link);
  const auto through = run_attnviz({"lesson", "new", "bat", "--out", link.string()});
  CHECK(through.exit_code == 2);
  CHECK_THAT(through.err, Contains("exists already"));
  CHECK(!std::filesystem::exists(dir.path() / "elsewhere.json"));

  // A path ending in .json names the file; the lesson takes its stem as name.
  const auto path = dir.path() / "sub-lesson.json";
  REQUIRE(run_attnviz({"lesson", "new", path.string()}).exit_code == 0);
  CHECK(nlohmann::json::parse(test::read_text(path))["name"] == "sub-lesson");

  const auto bad = run_attnviz({"lesson", "new", "my lesson!"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("is not a lesson name"));
  const auto action = run_attnviz({"lesson", "make", "bat"});
  CHECK(action.exit_code == 2);
  CHECK_THAT(action.err, Contains("unknown action 'make'"));

  // docs/formats.md shows exactly what `lesson new bat --out -` prints.
  const auto printed = run_attnviz({"lesson", "new", "bat", "--out", "-"});
  REQUIRE(printed.exit_code == 0);
  CHECK_THAT(test::read_text(test::source_dir() / "docs" / "formats.md"), Contains(printed.out));
}

TEST_CASE("words: lists the embeddings' words, by prefix, and says which function words stand in", "[teacher]") {
  const auto all = run_attnviz({"words", "--width", "100"});
  REQUIRE(all.exit_code == 0);
  CHECK_THAT(all.out, Contains("185 words of the embeddings 'toy', in alphabetical order:"));
  CHECK_THAT(all.out, Contains("mickey") && Contains("mouse") && Contains("cartoon"));
  for (const auto& line : test::lines_of(all.out)) CHECK(display_width(line) <= 100);

  const auto mo = run_attnviz({"words", "Mo"});
  REQUIRE(mo.exit_code == 0);
  CHECK_THAT(mo.out, Contains("starting with 'mo'") && Contains("mouse"));
  CHECK_THAT(mo.out, !Contains("cartoon"));

  const auto none = run_attnviz({"words", "zzq"});
  CHECK(none.exit_code == 0);
  CHECK_THAT(none.out, Contains("no word of the embeddings 'toy' starts with 'zzq'"));

  const auto glove = run_attnviz({"words", "a", "--embeddings", "glove"});
  REQUIRE(glove.exit_code == 0);
  CHECK_THAT(glove.out, Contains("'a' takes the vector of 'an'"));
  // The words kept count against --max-memory, as in every command that reads embeddings.
  const auto budget = run_attnviz({"words", "ban", "--embeddings", "glove", "--max-memory", "64K"});
  CHECK(budget.exit_code == 2);
  CHECK(budget.out.empty());
  CHECK_THAT(budget.err, Contains("more than --max-memory allows (64 KiB)"));

  TempDir dir;
  const auto small = dir.write("small.json", kSmall);
  const auto mine = run_attnviz({"words", "--embeddings", small.string()});
  REQUIRE(mine.exit_code == 0);
  CHECK_THAT(mine.out, Contains("5 words of the embeddings 'small'") && Contains("cat  eats  fish  kitchen  the"));

  // A capital beyond ASCII, and a decomposed accent, are read as the tokenizer reads a sentence's word.
  const auto accents = dir.write("accents.txt", "\xC3\xA9" "cole 0.5 0.6\nthe 0.3 0.4\n");  // split: "\xA9c" would be one escape
  for (const std::string prefix : {"\xC3\x89", "e\xCC\x81" "c"}) {  // "É", "é" as e + combining acute
    const auto r = run_attnviz({"words", prefix, "--embeddings", accents.string()});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("1 word of the embeddings 'accents'") && Contains("\xC3\xA9" "cole"));
  }
}

TEST_CASE("Gain: a teacher's small embeddings with the identity model get a readable pattern, and the run says how", "[teacher]") {
  TempDir dir;
  const auto small = dir.write("small.json", kSmall).string();
  const std::vector<std::string> base{"run", "the cat eats the fish in the kitchen", "--embeddings", small, "--unknown", "zero"};
  auto flat_run = run_attnviz({"run", "the cat eats the fish", "--embeddings", small, "--color", "never"});
  REQUIRE(flat_run.exit_code == 0);
  // Nearly uniform rows: the run says so and names the gain that spreads them.
  CHECK_THAT(flat_run.out, Contains("the weights are nearly uniform") && Contains("--gain "));
  const auto flat = row_maxima(json_of({"run", "the cat eats the fish", "--embeddings", small, "--json", "-"}));
  for (float m : flat) CHECK(m < 0.3f);

  const auto sharp_json = json_of({"run", "the cat eats the fish", "--embeddings", small, "--gain", "16", "--json", "-"});
  CHECK(sharp_json["config"]["model"] == "identity, gain 16");
  const auto sharp = row_maxima(sharp_json);
  REQUIRE(sharp.size() == flat.size());
  for (std::size_t i = 0; i < sharp.size(); ++i) CHECK(sharp[i] > flat[i]);
  CHECK(*std::max_element(sharp.begin(), sharp.end()) > 0.6f);  // eats → eats: 0.690
  // The queries are the embeddings times the gain: the stage shows where the sharpness comes from.
  const auto q = test::trace_stage(sharp_json, "queries", 0), x = test::trace_stage(sharp_json, "embeddings");
  CHECK(q[1][0] == Approx(16 * x[1][0]));
  const auto header = run_attnviz({"run", "the cat eats the fish", "--embeddings", small, "--gain", "16", "--color", "never"});
  CHECK_THAT(header.out, Contains("model: identity, gain 16"));
  CHECK_THAT(header.out, !Contains("nearly uniform"));

  const auto toy = run_attnviz({"run", "the cat chased the mouse", "--gain", "4"});
  CHECK(toy.exit_code == 2);
  CHECK_THAT(toy.err, Contains("--gain sharpens the identity model, but the model 'toy' has weights of its own"));
  CHECK(toy.out.empty());
  for (const char* bad : {"0", "-1", "nan"}) {
    const auto r = run_attnviz({"run", "the cat", "--model", "identity", "--gain", bad});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--gain"));
  }
}

TEST_CASE("Exclude-self masks the diagonal, GloVe with the identity model says that it attends mostly to itself", "[teacher]") {
  const std::string sentence = "the mouse clicked on the screen";
  const auto plain = run_attnviz({"run", sentence, "--embeddings", "glove", "--color", "never", "--stages", "weights"});
  REQUIRE(plain.exit_code == 0);
  CHECK_THAT(plain.out, Contains("words attend most to themselves") && Contains("--exclude-self masks the diagonal"));

  const auto doc = json_of({"run", sentence, "--embeddings", "glove", "--exclude-self", "--json", "-"});
  CHECK(doc["config"]["exclude_self"] == true);
  CHECK(doc["config"]["custom_mask"] == false);
  const auto w = test::trace_stage(doc, "weights", 0);
  for (std::size_t i = 0; i < w.size(); ++i) {
    CHECK(w[i][i] == 0.0f);
    float sum = 0;
    for (float v : w[i]) sum += v;
    CHECK(sum == Approx(1.0f).margin(1e-5));
  }
  const auto excluded = run_attnviz({"run", sentence, "--embeddings", "glove", "--exclude-self", "--color", "never", "--stages", "weights"});
  REQUIRE(excluded.exit_code == 0);
  CHECK_THAT(excluded.out, Contains("no self (diagonal masked)"));
  CHECK_THAT(excluded.out, !Contains("attend most to themselves"));

  // With a --mask too: both apply.
  TempDir dir;
  const auto mask = dir.write("mask.json", "[[1,1,1,1,1],[1,1,1,1,0],[1,1,1,1,1],[1,1,1,1,1],[1,1,1,1,1]]");
  const auto both = json_of({"run", "the cat chased the mouse", "--mask", mask.string(), "--exclude-self", "--json", "-"});
  const auto wb = test::trace_stage(both, "weights", 0);
  CHECK(wb[1][1] == 0.0f);
  CHECK(wb[1][4] == 0.0f);
  CHECK(both["config"]["custom_mask"] == true);

  const auto causal = run_attnviz({"run", "the cat chased the mouse", "--exclude-self", "--causal"});
  CHECK(causal.exit_code == 2);
  CHECK_THAT(causal.err, Contains("\"the\" (the first word) would have nothing to attend to"));
  CHECK(causal.out.empty());
  const auto cross = run_attnviz({"run", "the cat", "--context", "the mouse", "--exclude-self"});
  CHECK(cross.exit_code == 2);
  CHECK_THAT(cross.err, Contains("--exclude-self") && Contains("--context"));
  const auto one = run_attnviz({"run", "cat", "--exclude-self"});
  CHECK(one.exit_code == 2);
  CHECK_THAT(one.err, Contains("one-word sentence"));

  // The narration says it too.
  const auto narrated = run_attnviz({"run", "the cat chased the mouse", "--exclude-self", "--narrate", "--stages", "scaled_scores"});
  CHECK_THAT(narrated.out, Contains("no word may look at itself"));
}

TEST_CASE("GloVe: \"a\" and \"i\" take the vectors of \"an\" and \"me\", said in the header and under the tokens", "[teacher][glove]") {
  const auto r = run_attnviz({"run", "i saw a mouse", "--embeddings", "glove", "--color", "never", "--stages", "tokens"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Contains("note: 'a' is not in the embeddings 'glove-100d': it takes the vector of 'an'"));
  CHECK_THAT(r.out, Contains("note: 'i' is not in the embeddings 'glove-100d': it takes the vector of 'me'"));
  CHECK_THAT(r.out, Contains("2 a: not in the embeddings: the vector of 'an'"));
  const auto doc = json_of({"run", "a mouse", "--embeddings", "glove", "--json", "-"});
  const auto an = json_of({"run", "an mouse", "--embeddings", "glove", "--json", "-"});
  CHECK(doc["tokens"][0] == "a");
  CHECK(test::trace_stage(doc, "embeddings") == test::trace_stage(an, "embeddings"));
  // --unknown zero keeps its meaning: a zero vector, and the warning.
  const auto zero = run_attnviz({"run", "a mouse", "--embeddings", "glove", "--unknown", "zero", "--json", "-"});
  REQUIRE(zero.exit_code == 0);
  CHECK_THAT(zero.err, Contains("'a' is not in the embeddings 'glove-100d': it gets a zero vector"));
  // Another one-letter word still fails, and the error says why.
  const auto x = run_attnviz({"run", "x marks the spot", "--embeddings", "glove"});
  CHECK(x.exit_code == 2);
  CHECK_THAT(x.err, Contains("no one-letter words") && Contains("\"a\" and \"i\" take the vectors of \"an\" and \"me\""));
}

TEST_CASE("HTML: wide tables print in blocks, --html-range matrix, a lesson's page carries its conclusions", "[teacher][html]") {
  const auto glove = run_attnviz({"run", "the mouse clicked", "--embeddings", "glove", "--html", "-"});
  REQUIRE(glove.exit_code == 0);
  // 100 dimensions: on screen one scrolling table, on paper blocks of 12 columns with the row labels.
  CHECK_THAT(glove.out, Contains("<div class=\"scroll screen-only\">"));
  CHECK_THAT(glove.out, Contains("columns 0–11 of 100") && Contains("columns 96–99 of 100"));
  CHECK_THAT(glove.out, Contains(".print-only { display: block; }"));
  // A 3 × 3 weights matrix is narrow: no blocks for it.
  const auto narrow = run_attnviz({"run", "the cat chased", "--html", "-"});
  REQUIRE(narrow.exit_code == 0);
  CHECK_THAT(narrow.out, !Contains("columns 0–11 of 3"));

  const auto unit = run_attnviz({"run", "the cat chased the mouse", "--html", "-", "--stages", "weights"});
  const auto matrix = run_attnviz({"run", "the cat chased the mouse", "--html", "-", "--stages", "weights", "--html-range", "matrix"});
  REQUIRE(matrix.exit_code == 0);
  CHECK_THAT(matrix.out, Contains("this matrix's own range, 0 to its largest value"));
  CHECK_THAT(unit.out, !Contains("own range"));
  CHECK(unit.out != matrix.out);
  const auto bad = run_attnviz({"run", "the cat", "--html-range", "row"});
  CHECK(bad.exit_code == 2);

  // The word-order lesson's page has the terminal's conclusion; a lesson's page has the summary's key.
  const auto order = run_attnviz({"demo", "word-order", "--html", "-"});
  REQUIRE(order.exit_code == 0);
  const auto order_text = run_attnviz({"demo", "word-order", "--color", "never"});
  CHECK_THAT(order_text.out, Contains("largest difference over all tokens"));
  CHECK_THAT(order.out, Contains("largest difference over all tokens"));
  CHECK_THAT(order.out, Contains("the same rows, only moved") && Contains("the rows differ"));
  const auto mouse = run_attnviz({"demo", "mouse", "--html", "-"});
  CHECK_THAT(mouse.out, Contains("<h2>Summary</h2>") && Contains("claim needs the word to move 0.05 or more"));
  // Under each weights table the page has what the terminal prints there: row checks and top keys.
  CHECK_THAT(unit.out, Contains("row checks: the sum of each row of P") && Contains("top 3 keys per query"));
  const auto heads = run_attnviz({"demo", "two-heads", "--html", "-"});
  CHECK_THAT(heads.out, Contains("What each head does") && Contains("previous-word head"));
}

TEST_CASE("Heads: the two-heads lesson's meaning head shows its focused rows, its even rows marked, not a key picked by noise", "[teacher][heads]") {
  // Head 1 of the two-heads model is named "broad" (10 of its 15 rows, the function words, are flat): its
  // strongest-key list read "on→water the→water … by→bank", keys chosen by a weight of 0.077 against 0.067,
  // and the guide repeated "on → bank" as reading by meaning. The rows that focus do read by meaning.
  const auto r = run_attnviz({"demo", "two-heads", "--color", "never", "--stages", "weights", "--width", "100"});
  REQUIRE(r.exit_code == 0);
  const std::string first = r.out.substr(r.out.find("what each head does"));
  const std::string head1 = first.substr(0, first.find("head 2:")), head2 = first.substr(first.find("head 2:"), first.find("layer 1") - first.find("head 2:"));
  CHECK_THAT(head1, Contains("head 1: broad head"));
  for (const char* focused : {"grassy→river", "bank→bank", "river→river", "water→river", "flow→river"}) CHECK_THAT(head1, Contains(focused));
  for (const char* flat : {"we→(even)", "on→(even)", "of→(even)", "by→(even)"}) CHECK_THAT(head1, Contains(flat));
  CHECK_THAT(head1, !Contains("on→water"));
  CHECK_THAT(head2, Contains("bank→grassy") && !Contains("(even)→") && Contains("(even): the row spreads its weight evenly"));
  CHECK_THAT(head2.substr(0, head2.find("(even):")), !Contains("(even)"));
}

TEST_CASE("Heads: a multi-head run ends with what each head does, named from its weights", "[teacher][heads]") {
  const auto two = run_attnviz({"demo", "two-heads", "--color", "never", "--stages", "weights", "--width", "100"});
  REQUIRE(two.exit_code == 0);
  CHECK_THAT(two.out, Contains("what each head does (2 heads"));
  CHECK_THAT(two.out, Contains("head 2: previous-word head"));
  CHECK_THAT(two.out, Contains("strongest key:"));
  CHECK_THAT(two.out, Contains("layer 1") && Contains("h1") && Contains("h2"));
  // One head: no summary.
  const auto one = run_attnviz({"run", "the cat chased the mouse", "--color", "never", "--stages", "weights"});
  CHECK_THAT(one.out, !Contains("what each head does"));
  // Not without the weights among the stages.
  const auto out = run_attnviz({"demo", "two-heads", "--color", "never", "--stages", "output"});
  CHECK_THAT(out.out, !Contains("what each head does"));
}
