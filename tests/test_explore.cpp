// attnviz explore without a terminal: the key decoder, the state machine through the library, and the real
// executable's screen after --dump-after KEYS compared with what `attnviz explain` and `attnviz run` print.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "attnviz/data.hpp"
#include "attnviz/explain.hpp"
#include "attnviz/explore.hpp"
#include "attnviz/lm.hpp"
#include "attnviz/lm_trace.hpp"
#include "attnviz/train.hpp"
#include "support.hpp"
#include "trace_json.hpp"

using namespace attnviz;
using Catch::Contains;
using explore::Key;
using explore::KeyCode;

namespace {

const std::string kSentence = "the cat chased the mouse";

struct Toy {
  Embeddings emb = resolve_embeddings("toy", test::data_dir().string());
  Model model;
  explore::Context context;
  explicit Toy(const std::string& model_name = "toy", int heads = 0) {
    model = resolve_model(model_name, emb.dim, heads, test::data_dir().string());
    context.embeddings = &emb;
    context.model = &model;
  }
  explore::State after(const std::string& keys, const std::string& sentence = kSentence) const {
    explore::State s = explore::initial_state(context, sentence, 120, 30);
    for (const Key& k : explore::parse_key_script(keys)) s = explore::press(context, s, k);
    return s;
  }
};

test::Run dump(const std::string& keys, std::vector<std::string> extra = {}, const std::string& width = "120") {
  std::vector<std::string> args{"explore", kSentence, "--dump-after", keys, "--width", width, "--height", "30", "--color", "never"};
  args.insert(args.end(), extra.begin(), extra.end());
  return test::run_attnviz(args);
}

// The line of `text` that starts with `prefix` (after leading spaces), or "".
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(prefix);
    if (at != std::string::npos && line.find_first_not_of(' ') == at) return line.substr(at);
  }
  return "";
}

}  // namespace

TEST_CASE("Explore keys: bytes from a terminal decode to keys, partial sequences wait", "[explore]") {
  std::string in = "q\x1b[A\x1b[B\x1bOC\x1b[D\t\x1b[Z\r\x7f\x03\x15" "é";
  auto keys = explore::decode_input(in, false);
  std::vector<KeyCode> codes;
  for (const auto& k : keys) codes.push_back(k.code);
  CHECK(codes == std::vector<KeyCode>{KeyCode::character, KeyCode::up, KeyCode::down, KeyCode::right, KeyCode::left, KeyCode::tab,
                                      KeyCode::backtab, KeyCode::enter, KeyCode::backspace, KeyCode::ctrl_c, KeyCode::ctrl_u,
                                      KeyCode::character});
  CHECK(keys.front().is('q'));
  CHECK(keys.back().text == "é");
  CHECK(in.empty());

  SECTION("a mouse press in SGR form is a click at 0-based column and row; its release is nothing") {
    std::string mouse = "\x1b[<0;12;5M\x1b[<0;12;5m";
    keys = explore::decode_input(mouse, false);
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].code == KeyCode::click);
    CHECK(keys[0].x == 11);
    CHECK(keys[0].y == 4);
  }
  SECTION("an incomplete sequence stays pending; a lone ESC is Escape once the input is final") {
    std::string part = "\x1b[";
    CHECK(explore::decode_input(part, false).empty());
    CHECK(part == "\x1b[");
    part += "A";
    keys = explore::decode_input(part, false);
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].code == KeyCode::up);
    std::string esc = "\x1b";
    CHECK(explore::decode_input(esc, false).empty());
    keys = explore::decode_input(esc, true);
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].code == KeyCode::escape);
  }
  SECTION("the --dump-after notation") {
    keys = explore::parse_key_script("a<up><s-tab><lt><space><click:3,4><resize:100x30>");
    REQUIRE(keys.size() == 7);
    CHECK(keys[0].is('a'));
    CHECK(keys[1].code == KeyCode::up);
    CHECK(keys[2].code == KeyCode::backtab);
    CHECK(keys[3].is('<'));
    CHECK(keys[4].is(' '));
    CHECK((keys[5].code == KeyCode::click && keys[5].x == 3 && keys[5].y == 4));
    CHECK((keys[6].code == KeyCode::resize && keys[6].x == 100 && keys[6].y == 30));
    CHECK_THROWS_WITH(explore::parse_key_script("<up"), Contains("never closed"));
    CHECK_THROWS_WITH(explore::parse_key_script("<foo>"), Contains("unknown key <foo>"));
  }
}

TEST_CASE("Explore: moving the cursor explains the new cell with explain's own numbers", "[explore]") {
  const auto first = dump("<down><down>");
  const auto moved = dump("<down><down><right>");
  REQUIRE(first.exit_code == 0);
  REQUIRE(moved.exit_code == 0);
  const auto explain_the = test::run_attnviz({"explain", kSentence, "--query", "chased", "--key", "the"});
  const auto explain_cat = test::run_attnviz({"explain", kSentence, "--query", "chased", "--key", "cat"});
  REQUIRE(explain_cat.exit_code == 0);
  for (const std::string step : {"7. the weight: P =", "5. exp:", "S' − max ="}) {
    const std::string want_the = line_starting(explain_the.out, step), want_cat = line_starting(explain_cat.out, step);
    REQUIRE(!want_cat.empty());
    CHECK(want_the != want_cat);
    CHECK(test::text_from(first.out, step) == want_the);
    CHECK(test::text_from(moved.out, step) == want_cat);
  }
  CHECK_THAT(moved.out, Contains("query \"chased\" (2) → key \"cat\" (1)"));
  // Tab back to the scores: the q·k terms and the sum, as explain prints them.
  const auto scores = dump("<down><down><right><s-tab><s-tab>");
  CHECK_THAT(scores.out, Contains("scores S · 5 × 5"));
  CHECK(test::text_from(scores.out, "S = ") == line_starting(explain_cat.out, "S = "));
  CHECK(test::text_from(scores.out, "q0 ") == line_starting(explain_cat.out, "q0 "));
}

TEST_CASE("Explore: t and T change the temperature by √2, the weights those of run --temperature", "[explore]") {
  const Toy toy;
  for (const auto& [keys, temperature] : std::vector<std::pair<std::string, std::string>>{{"t", "0.7071067811865476"}, {"T", "1.4142135623730951"}, {"tt", "0.5"}}) {
    INFO(keys);
    const explore::State s = toy.after(keys);
    CHECK(s.temperature(toy.context) == Approx(std::stod(temperature)).epsilon(1e-12));
    // Every weight equals the trace of `run --temperature`, to the bit.
    PipelineOptions options;
    options.attention.temperature = static_cast<float>(std::stod(temperature));
    const Trace run = run_attention(toy.emb, toy.model, kSentence, options);
    CHECK(s.trace.find("weights", 0)->data == run.find("weights", 0)->data);
    const auto screen = dump(keys + "<down><right>");
    const auto explained = test::run_attnviz({"explain", kSentence, "--query", "cat", "--key", "cat", "--temperature", temperature});
    CHECK(test::text_from(screen.out, "7. the weight: P =") == line_starting(explained.out, "7. the weight: P ="));
  }
  CHECK_THAT(dump("t").out, Contains("T 0.7071"));
  CHECK(toy.after("tT").trace.find("weights", 0)->data == toy.after("").trace.find("weights", 0)->data);
}

TEST_CASE("Explore: c masks the upper triangle, x the diagonal, s drops the scale, p adds positions", "[explore]") {
  const Toy toy;
  const explore::State causal = toy.after("c");
  const Matrix& P = causal.trace.find("weights", 0)->data;
  const Matrix& S = causal.trace.find("scaled_scores", 0)->data;
  for (Eigen::Index i = 0; i < P.rows(); ++i)
    for (Eigen::Index j = i + 1; j < P.cols(); ++j) {
      CHECK(P(i, j) == 0.0f);
      CHECK((std::isinf(S(i, j)) && S(i, j) < 0));
    }
  const auto screen = dump("c<right><right>", {}, "200");
  CHECK_THAT(screen.out, Contains("mask causal"));
  CHECK_THAT(screen.out, Contains("exactly 0: a masked key gets no attention"));
  CHECK_THAT(dump("c<right><right><s-tab>").out, Contains("hides \"chased\" from \"the\""));
  CHECK(toy.after("cc").trace.find("weights", 0)->data == toy.after("").trace.find("weights", 0)->data);

  const explore::State self = toy.after("x");
  for (Eigen::Index i = 0; i < 5; ++i) CHECK(self.trace.find("weights", 0)->data(i, i) == 0.0f);
  CHECK_THAT(dump("x").out, Contains("mask no self"));
  const explore::State refused = toy.after("cx");
  CHECK(!refused.exclude_self);
  CHECK_THAT(refused.message, Contains("\"the\" (the first word) would have nothing to attend to"));

  const explore::State unscaled = toy.after("s");
  CHECK(unscaled.trace.config.scale == 1.0f);
  PipelineOptions no_scale;
  no_scale.attention.scale = false;
  CHECK(unscaled.trace.find("weights", 0)->data == run_attention(toy.emb, toy.model, kSentence, no_scale).find("weights", 0)->data);
  CHECK_THAT(dump("s").out, Contains("unscaled"));

  const explore::State positions = toy.after("p");
  CHECK(positions.trace.config.positions == "sinusoidal");
  CHECK(positions.trace.find("positional_encoding") != nullptr);
  CHECK_THAT(dump("p").out, Contains("stage 9/12"));
}

TEST_CASE("Explore: Tab and Shift-Tab walk the stages, h and H the heads, l says there is one layer", "[explore]") {
  CHECK_THAT(dump("").out, Contains("weights P · 5 × 5"));
  CHECK_THAT(dump("<tab>").out, Contains("context A · 5 × 8"));
  CHECK_THAT(dump("<s-tab>").out, Contains("scaled_scores S' · 5 × 5"));
  CHECK_THAT(dump("<tab><tab><tab><tab>").out, Contains("embeddings X · 5 × 8"));  // after output it wraps around
  const std::vector<std::string> two{"--model", "identity", "--heads", "2"};
  const auto h = dump("h<down><right>", two);
  CHECK_THAT(h.out, Contains("head 2/2"));
  const Toy identity("identity", 2);
  const explore::State s = identity.after("h<down><right>");
  CHECK(s.head == 1);
  const CellExplanation e = explain_cell(s.trace, 1, 1, 1);
  const auto explained = test::run_attnviz({"explain", kSentence, "--query", "cat", "--key", "cat", "--model", "identity", "--heads", "2", "--head", "2"});
  CHECK(test::text_from(h.out, "7. the weight: P =") == line_starting(explained.out, "7. the weight: P ="));
  CHECK(e.head == 1);
  CHECK_THAT(dump("hH", two).out, Contains("head 1/2"));
  CHECK_THAT(dump("h").out, Contains("the model has one head"));
  CHECK_THAT(dump("l").out, Contains("the model has one layer"));
  // At 80 columns the message is wider than the screen: it goes on over the help line, whole, not cut.
  const auto narrow = dump("l", {}, "80");
  REQUIRE(narrow.exit_code == 0);
  const auto lines = test::lines_of(narrow.out);
  REQUIRE(lines.size() >= 2);
  CHECK_THAT(lines[lines.size() - 2], Contains("the model has one layer"));
  CHECK_THAT(lines.back(), Contains("wordnet-lm)"));
  for (const auto& line : lines) CHECK(display_width(line) <= 80);
  // A message that fits leaves the help line in place.
  const auto fits = test::lines_of(dump("h", {}, "80").out);
  REQUIRE(fits.size() >= 2);
  CHECK_THAT(fits[fits.size() - 2], Contains("the model has one head"));
  CHECK_THAT(fits.back(), Contains("? keys") && Contains("q quit"));
}

TEST_CASE("Explore: e edits the sentence, unknown words flagged, Esc keeps the old one", "[explore]") {
  const auto typing = dump("e<c-u>the zzqx chased");
  CHECK_THAT(typing.out, Contains("sentence: the zzqx chased"));
  CHECK_THAT(typing.out, Contains("unknown: zzqx"));
  const auto refused = dump("e<c-u>the zzqx<enter>");
  CHECK_THAT(refused.out, Contains("cannot use this sentence"));
  CHECK_THAT(refused.out, Contains("sentence: the zzqx"));  // still editing
  const auto cancelled = dump("e<c-u>the dog<esc>");
  CHECK_THAT(cancelled.out, Contains("\"the cat chased the mouse\""));
  CHECK_THAT(cancelled.out, Contains("edit cancelled"));
  const auto changed = dump("e<bs><bs><bs><bs><bs>cat<enter>");
  CHECK_THAT(changed.out, Contains("\"the cat chased the cat\""));
  CHECK_THAT(changed.out, Contains("recomputed for"));
  const Toy toy;
  const explore::State s = toy.after("e<c-u>the cat<enter>");
  CHECK(s.trace.tokens == std::vector<std::string>{"the", "cat"});
  CHECK(s.trace.find("weights", 0)->data == run_attention(toy.emb, toy.model, "the cat", {}).find("weights", 0)->data);
}

TEST_CASE("Explore: n nearest words, g guess then reveal, ? keys, q quits, clicks select", "[explore]") {
  const auto nearest = dump("<down>n");
  CHECK_THAT(nearest.out, Contains("nearest vocabulary words of \"cat\""));
  CHECK_THAT(nearest.out, Contains("after attention (O): "));

  const auto guessing = dump("<down>g");
  CHECK_THAT(guessing.out, Contains("which word does \"cat\" attend to most?"));
  CHECK_THAT(guessing.out, Contains("▸ 1 cat   [? ]?  ?  ?  ?"));  // the row is hidden
  const auto revealed = dump("<down>g<right><right><right>g");
  CHECK_THAT(revealed.out, Contains("\"cat\" attends most to \"cat\" (0.866); the guess \"the\" got 0.012"));
  CHECK_THAT(dump("<down>g<right>g").out, Contains("the guess was right"));

  CHECK_THAT(dump("?").out, Contains("t / T        temperature down / up by a factor of √2"));
  CHECK_THAT(dump("q<down>").out, Contains("▸ 0 the"));  // keys after q are not pressed

  // At 80 × 24 the 5 × 5 weights are compact cells three columns apart from column 10 (the separator, then
  // two glyphs), rows from line 3: column 20 of line 5 is in key 3's cell of "chased".
  const auto clicked = test::run_attnviz({"explore", kSentence, "--dump-after", "<click:20,5>", "--color", "never"});
  CHECK_THAT(clicked.out, Contains("query \"chased\" (2) → key \"the\" (3)"));
}

TEST_CASE("Explore: 80 × 24 at least, glyph shading without colour, bad input exits 2", "[explore]") {
  const auto small = test::run_attnviz({"explore", kSentence, "--dump-after", "", "--width", "60"});
  CHECK(small.exit_code == 0);
  CHECK_THAT(small.out, Contains("needs a terminal of at least 80 x 24"));
  CHECK_THAT(test::run_attnviz({"explore", kSentence, "--dump-after", "<resize:80x20>"}).out, Contains("this one is 80 x 20"));
  const auto plain = test::run_attnviz({"explore", kSentence, "--dump-after", ""}, {{"NO_COLOR", "1"}});
  CHECK_THAT(plain.out, Contains("compact: ░▒▓█"));
  CHECK(plain.out.find('\x1b') == std::string::npos);
  const auto sixteen = test::run_attnviz({"explore", kSentence, "--dump-after", "", "--color", "always"}, {{"TERM", "xterm"}});
  CHECK_THAT(sixteen.out, Contains("\x1b["));
  CHECK_THAT(sixteen.out, Contains("█"));
  // Every line of the screen fits: 24 lines, none wider than 80 columns.
  std::istringstream in(plain.out);
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines) CHECK(display_width(line) <= 80);
  CHECK(lines == 24);

  // 30 tokens at 80 × 24: the heatmap scrolls to the cursor, the panel keeps its table's selected row and
  // the weight, every line fits.
  const std::string long_sentence =
      "clever little mouse and the hungry cat watched the dog in the kitchen as mickey and donald drew the cartoon on the computer "
      "screen at night by the river bank";
  std::string keys;
  for (int i = 0; i < 20; ++i) keys += "<down><right>";
  const auto wide = test::run_attnviz({"explore", long_sentence, "--dump-after", keys});
  REQUIRE(wide.exit_code == 0);
  CHECK_THAT(wide.out, Contains("30 × 30"));
  CHECK_THAT(wide.out, Contains("▸ 20 on"));
  CHECK_THAT(wide.out, Contains("query \"on\" (20) → key \"on\" (20)"));
  CHECK_THAT(wide.out, Contains("on        0.079    -0.267         0.766  ←"));
  CHECK_THAT(wide.out, Contains("7. the weight: P = 0.766 ÷ 24.819 = 0.031"));
  std::istringstream wide_lines(wide.out);
  for (std::string line; std::getline(wide_lines, line);) CHECK(display_width(line) <= 80);

  const auto bad = test::run_attnviz({"explore", kSentence, "--dump-after", "<nope>"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("unknown key <nope>"));
  CHECK(bad.out.empty());
  const auto no_terminal = test::run_attnviz({"explore", kSentence});
  CHECK(no_terminal.exit_code == 2);
  CHECK_THAT(no_terminal.err, Contains("needs a terminal"));
  const auto unknown = test::run_attnviz({"explore", "the zzqx", "--dump-after", ""});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Contains("zzqx"));
}

TEST_CASE("Explore: the heatmap is run's compact layout, with the cursor's cell in brackets", "[explore][compact]") {
  const auto screen = dump("<down><down><right>");
  const auto compact = test::run_attnviz({"run", kSentence, "--layout", "compact", "--stages", "weights", "--color", "never", "--width", "120"});
  REQUIRE(screen.exit_code == 0);
  REQUIRE(compact.exit_code == 0);
  CHECK_THAT(screen.out, Contains("▸ 2 chased ░░[▒▒]░░ ░░ ░░"));
  // Every row of the matrix as compact draws it for run: the explorer's row without its mark and brackets.
  const std::vector<std::string> words{"the", "cat", "chased", "the", "mouse"};
  for (int r = 0; r < 5; ++r) {
    const std::string want = test::text_from(compact.out, std::to_string(r) + " " + words[static_cast<std::size_t>(r)]);
    REQUIRE(!want.empty());
    std::string got = test::text_from(screen.out, std::to_string(r) + " " + words[static_cast<std::size_t>(r)]);
    for (char& ch : got)
      if (ch == '[' || ch == ']') ch = ' ';
    INFO(got);
    CHECK(got.starts_with(want + "  "));
  }
  CHECK_THAT(screen.out, Contains("compact: ░▒▓█ = up to 0.866, the largest"));
  CHECK_THAT(screen.out, Contains("[ ] = the cell explained beside"));
  // A stage wider than the screen is a window around the cursor, every line within the width.
  const std::string long_sentence = "clever little mouse and the hungry cat watched the dog in the kitchen as mickey and donald drew the "
                                    "cartoon on the computer screen at night by the river bank";
  const auto wide = test::run_attnviz({"explore", long_sentence, "--dump-after", "<right><right><right><right><right><right><right><right><right><right><right><right><right><right><right><right><right><right><right><right><right><right><right><right><right>", "--color", "never"});
  REQUIRE(wide.exit_code == 0);
  CHECK_THAT(wide.out, Contains("showing rows 0-"));
  CHECK_THAT(wide.out, Contains("query \"clever\" (0) → key \"night\" (25)"));
  std::istringstream lines(wide.out);
  for (std::string line; std::getline(lines, line);) CHECK(display_width(line) <= 80);
  CHECK(test::text_from(wide.out, "0 clever").find('[') != std::string::npos);
}

TEST_CASE("Explore: the top line names every setting, with --context, the context sentence", "[explore]") {
  const auto line = [](const test::Run& r) { return r.out.substr(0, r.out.find('\n')); };
  CHECK(line(dump("", {}, "80")) == "\"the cat chased the mouse\" · toy/toy h1/1 L1/1 T=1 1/√8 mask:none pos:none cpu");
  CHECK(line(dump("", {}, "120")) ==
        "\"the cat chased the mouse\" · toy/toy · head 1/1 · layer 1/1 · T 1 · scale 1/√8 · mask none · pos none · cpu");
  CHECK(line(dump("", {}, "200")) == "\"the cat chased the mouse\" · embeddings toy · model toy · head 1/1 · layer 1/1 · T 1 · "
                                     "scale 1/√8 · mask none · positions none · backend cpu");
  CHECK(line(dump("tscp", {}, "200")) == "\"the cat chased the mouse\" · embeddings toy · model toy · head 1/1 · layer 1/1 · T 0.7071 · "
                                         "scale off · mask causal · positions sinusoidal · backend cpu");
  CHECK_THAT(line(dump("h", {"--model", "identity", "--heads", "2"}, "200")), Contains("model identity · head 2/2"));
  const std::vector<std::string> cross{"--context", "the dog chased the cat"};
  CHECK(line(dump("", cross, "140")) == "\"the cat chased the mouse\" ← \"the dog chased the cat\" · toy/toy · head 1/1 · layer 1/1 · T 1 · "
                                        "scale 1/√8 · mask none · pos none · cpu");
  const std::string narrow = line(dump("", cross, "80"));
  CHECK(narrow == "\"the cat ch…\" ← \"the dog c…\" · toy/toy h1/1 L1/1 T=1 1/√8 mask:none pos:none cpu");
  CHECK(display_width(narrow) <= 80);
  test::TempDir dir;
  const auto mask = dir.path() / "mask.json";
  std::ofstream(mask) << "[[1,1,1,1,1],[1,1,1,1,1],[1,1,1,1,1],[1,1,1,1,1],[1,1,1,1,0]]";
  CHECK_THAT(line(dump("", {"--mask", mask.string()}, "200")), Contains("mask file"));
  CHECK_THAT(line(dump("x", {"--mask", mask.string()}, "200")), Contains("mask file+no self"));
}

TEST_CASE("Explore: a cell of Q, K, V or O is its projection, term by term, with the trace's numbers", "[explore]") {
  const Toy two("identity", 2);
  for (const std::string stage : {"queries", "keys", "values", "output"}) {
    const explore::State s = two.after("h");
    const Stage& out = stage == "output" ? *s.trace.find(stage) : *s.trace.find(stage, 1);
    const Stage& in = *s.trace.find(stage == "output" ? "concat" : "embeddings");
    const ProjectionExplanation e = explain_projection(s.trace, two.model, stage, 1, 2, 3);
    INFO(stage);
    const Matrix& W = stage == "queries" ? two.model.W_q : stage == "keys" ? two.model.W_k : stage == "values" ? two.model.W_v : two.model.W_o;
    const int column = stage == "output" ? 3 : 3 + (stage == "values" ? two.model.d_v : two.model.d_k);  // head 2's columns
    REQUIRE(e.products.size() == static_cast<std::size_t>(in.data.cols()));
    float sum = 0;
    for (Eigen::Index k = 0; k < in.data.cols(); ++k) {
      CHECK(e.inputs[static_cast<std::size_t>(k)] == in.data(2, k));
      CHECK(e.weights[static_cast<std::size_t>(k)] == W(k, column));
      CHECK(e.products[static_cast<std::size_t>(k)] == in.data(2, k) * W(k, column));
      sum += e.products[static_cast<std::size_t>(k)];
    }
    CHECK(e.value == out.data(2, 3));
    CHECK(sum + e.bias == Approx(e.value).margin(1e-5));
  }
  CHECK_THROWS_WITH(explain_projection(two.after("").trace, two.model, "weights", 0, 0, 0), Contains("not a projection"));

  // On screen: Tab from the weights to the queries (weights, context, concat, output, embeddings, queries).
  const auto queries = dump("<tab><tab><tab><tab><tab><down><right>", {}, "200");
  CHECK_THAT(queries.out, Contains("queries Q · 5 × 8"));
  CHECK_THAT(queries.out, Contains("Q[\"cat\"][q1] = Σ over the 8 columns of X: X[\"cat\"][k] × W_q[k][q1]"));
  const Toy toy;
  const explore::State s = toy.after("<tab><tab><tab><tab><tab><down><right>");
  const ProjectionExplanation e = explain_projection(s.trace, toy.model, "queries", 0, 1, 1);
  const auto num = [](float v) { return format_number(v, 3, true); };
  for (std::size_t k = 0; k < e.inputs.size(); ++k)
    CHECK_THAT(queries.out, Contains(fmt::format("{}  ", e.input_labels[k])) && Contains(num(e.products[k])));
  CHECK_THAT(queries.out, Contains(fmt::format("Q = Σ X × W_q + b_q = {} (the trace's own entry)", num(s.trace.find("queries", 0)->data(1, 1)))));
  CHECK_THAT(queries.out, Contains("cartoon     0.200  3.500    0.700"));
  CHECK_THAT(dump("<tab><tab><tab><down><right>", {}, "200").out, Contains("O[\"cat\"][cartoon] = Σ over the 8 columns of concat"));
  CHECK_THAT(dump("<tab><tab><down><right>", {}, "200").out, Contains("concat[\"cat\"][a1] = A[\"cat\"][a1] of head 1 = "));
  // With positions: PE by its sine or cosine, X = E + PE, each the trace's numbers.
  const explore::State p = toy.after("p<tab><tab><tab><tab><tab><down><down><right><right><right>");
  CHECK(p.stage == "positional_encoding");
  const float pe = sinusoidal_positions(5, 8)(2, 3);
  CHECK_THAT(dump("p<tab><tab><tab><tab><tab><down><down><right><right><right>", {}, "200").out,
             Contains(fmt::format("PE[\"chased\"][device] = cos(p / 10000^(2/8)) with position p = 2")) &&
                 Contains(fmt::format("= cos(0.2000) = {}: the same for every word at position 2", num(pe))));
  const Trace& t = toy.after("p").trace;
  CHECK_THAT(dump("p<tab><tab><tab><tab><tab><tab><down><down><right><right><right>", {}, "200").out,
             Contains(fmt::format("X[\"chased\"][device] = E + PE = {} + {} = {}", num(t.find("token_embeddings")->data(2, 3)), num(pe),
                                  num(t.find("embeddings")->data(2, 3)))));
}

TEST_CASE("Explore: l and L move between the layers of the trained model, with run's and explain's numbers", "[explore][lm]") {
  const Model given = resolve_model("wordnet-lm", 0, 0, test::data_dir().string());
  REQUIRE(given.layers == 2);
  explore::Context context;
  context.embeddings = &given.language_model->emb;
  context.model = &given;
  context.layers = explore::model_layers(given);
  REQUIRE(context.layers.size() == 2);
  CHECK(explore::layer_count(context) == 2);
  CHECK(explore::model_layers(Toy().model).empty());
  const auto after = [&](const std::string& keys) {
    explore::State s = explore::initial_state(context, kSentence, 120, 30);
    for (const Key& k : explore::parse_key_script(keys)) s = explore::press(context, s, k);
    return s;
  };
  for (const auto& [keys, layer] : std::vector<std::pair<std::string, int>>{{"", 0}, {"l", 1}, {"ll", 0}, {"L", 1}, {"lL", 0}}) {
    INFO(keys);
    const explore::State s = after(keys);
    CHECK(s.layer == layer);
    // Every head's weights are those of run --layer N.
    const Model m = resolve_model("wordnet-lm", 0, 0, test::data_dir().string(), layer);
    const Trace run = run_attention(given.language_model->emb, m, kSentence, {});
    for (int h = 0; h < m.heads; ++h) CHECK(s.trace.find("weights", h)->data == run.find("weights", h)->data);
    CHECK(s.trace.config.layer == layer + 1);
  }
  CHECK(after("l").message == "layer 2 of 2");
  CHECK_THAT(after("c").message, Contains("is causal, as it was trained, and takes no other mask"));
  CHECK_THAT(after("x").message, Contains("is causal, as it was trained, and takes no other mask"));
  CHECK_THAT(after("t").message, Contains("not changed: --temperature"));

  // The real executable: the top line, the layer's heads and explain --layer's numbers.
  const std::vector<std::string> lm{"--model", "wordnet-lm"};
  const auto second = dump("hl<down><down><down><down><right>", lm, "200");
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.out, Contains("model wordnet-lm · head 2/4 · layer 2/2"));
  const auto explained =
      test::run_attnviz({"explain", kSentence, "--model", "wordnet-lm", "--layer", "2", "--head", "2", "--query", "mouse", "--key", "cat"});
  REQUIRE(explained.exit_code == 0);
  for (const std::string step : {"7. the weight: P =", "5. exp:"})
    CHECK(test::text_from(second.out, step) == line_starting(explained.out, step));
  CHECK_THAT(dump("", {"--model", "wordnet-lm", "--layer", "2"}, "200").out, Contains("layer 2/2"));
  CHECK_THAT(dump("l", {"--model", "wordnet-lm", "--layer", "2"}, "200").out, Contains("layer 1/2"));
  // After the last layer, the next-word predictions: a cell says how likely its word comes next.
  const auto predictions = dump("l<tab><tab><tab><tab><tab><tab><down>", lm, "200");  // weights, A, concat, O, residual, f, p
  CHECK_THAT(predictions.out, Contains("predictions p"));
  CHECK_THAT(predictions.out, Contains("as the word after \"cat\""));
}

TEST_CASE("Explore: x is run --exclude-self, one implementation, explain names the diagonal mask", "[explore]") {
  const Toy toy;
  PipelineOptions options;
  options.exclude_self = true;
  const Trace run = run_attention(toy.emb, toy.model, kSentence, options);
  const explore::State x = toy.after("x");
  CHECK(x.trace.config.exclude_self);
  CHECK(x.trace.find("weights", 0)->data == run.find("weights", 0)->data);
  // Started with --exclude-self, x turns it off.
  const auto started = dump("", {"--exclude-self"});
  CHECK_THAT(started.out, Contains("mask no self"));
  CHECK_THAT(dump("x", {"--exclude-self"}).out, Contains("mask none"));
  const std::string masked = dump("x<down><down><right><right><s-tab>", {}, "200").out;
  CHECK_THAT(masked, Contains("3. mask: the diagonal mask hides \"chased\" from itself (no word may look at itself), so S' = −∞"));
  // explain as wide as the panel: the same sentence on one line (at 80 columns it wraps).
  const auto explained = test::run_attnviz({"explain", kSentence, "--query", "chased", "--key", "chased", "--exclude-self", "--width", "200"});
  REQUIRE(explained.exit_code == 0);
  CHECK(test::text_from(masked, "3. mask:") == line_starting(explained.out, "3. mask:"));
  CHECK_THAT(dump("cx").out, Contains("(the first word) would have nothing to attend to"));
  CHECK_THAT(dump("x", {"--context", "the dog chased the cat"}).out, Contains("not changed"));
}

TEST_CASE("Explore: the panel's \"why\" paragraph wraps as one paragraph, its continuations under its first word", "[explore]") {
  // explain wrapped its "why" lines at 100 columns before the panel wrapped them again: the scale's reason came
  // out as a ragged line and an orphan ("   the range where softmax still tells them apart", at the depth of
  // a step), which stayed on screen alone when the panel dropped the "why" lines for want of rows.
  for (const std::string width : {"100", "120", "160"}) {
    const auto r = dump("<down><s-tab>", {}, width);  // scaled_scores: step 2 and its why
    REQUIRE(r.exit_code == 0);
    std::istringstream in(r.out);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::size_t why = lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (lines[i].find("why: a sum of 8 products") != std::string::npos) why = i;
    REQUIRE(why < lines.size());
    const int column = display_width(lines[why].substr(0, lines[why].find("why:")));
    std::string paragraph = lines[why].substr(lines[why].find("why:"));
    for (std::size_t i = why + 1; i < lines.size() && lines[i].find("3. mask") == std::string::npos; ++i) {
      INFO("width " << width << ": " << lines[i]);
      // The panel's text on this line starts 3 columns deeper than "why:".
      std::size_t at = 0;
      while (at < lines[i].size() && display_width(lines[i].substr(0, at)) < column) ++at;
      const std::string panel = lines[i].substr(at);
      CHECK(panel.starts_with("   "));
      CHECK(panel.size() > 3);
      CHECK(panel[3] != ' ');
      paragraph += " " + panel.substr(panel.find_first_not_of(' '));
    }
    CHECK_THAT(paragraph, Contains("dividing by √8 keeps the scores in the range where softmax still tells them apart"));
  }
  // Short of rows the "why" lines go, whole: no piece of the reason is left behind.
  const auto s = test::run_attnviz({"explore", "the cat chased the mouse on the mat with the dog and the cat", "--dump-after", "<down><s-tab>",
                                    "--width", "100", "--height", "24", "--color", "never"});
  if (s.exit_code == 0 && s.out.find("why: a sum") == std::string::npos) CHECK_THAT(s.out, !Contains("softmax still tells them apart"));
}

TEST_CASE("Explore: ? lists every key whole on the smallest screen, 80 × 24", "[explore]") {
  // Beside the heatmap the list had 36 columns: its lines were wrapped out of their columns and the list was
  // cut after n ("…"), so g, ? and q were not on screen at the size the explorer says it supports.
  for (const std::string height : {"24", "30"}) {
    const auto r = test::run_attnviz({"explore", kSentence, "--dump-after", "?", "--width", "80", "--height", height, "--color", "never"});
    REQUIRE(r.exit_code == 0);
    std::istringstream keys(explore::key_help());
    int n = 0;
    for (std::string line; std::getline(keys, line); ++n) {
      INFO(height << " rows: " << line << "\n" << r.out);
      CHECK_THAT(r.out, Contains("\n" + line + "\n"));
    }
    CHECK(n >= 14);
  }
}

TEST_CASE("Explore: a layer-norm cell of the trained model is worked out: mean, variance, normalised entry, gain and bias", "[explore][lm]") {
  // The panel showed the catalogue's formula and the cell's value only ("a["cat"][d0] = 0.264"): the one
  // stage of the trained model whose arithmetic the class could not follow.
  const Model first = resolve_model("wordnet-lm", 0, 0, test::data_dir().string(), 0);
  const Model second = resolve_model("wordnet-lm", 0, 0, test::data_dir().string(), 1);
  const LmConfig& c = first.language_model->model.config;
  const LmLayout lay(c);
  const std::vector<float>& params = first.language_model->model.params;
  RenderOptions options;
  options.width = 1000;
  struct Case {
    const Model* model;
    const char* stage;
    const char* input;  // the stage the norm reads
    int row, col;
  };
  for (const Case& k : {Case{&first, "layer_norm", "embeddings", 1, 0}, Case{&first, "layer_norm", "embeddings", 4, 37},
                        Case{&second, "layer_norm", "layer_input", 2, 5}, Case{&second, "final_norm", "residual", 3, 99}}) {
    INFO(k.stage << " of layer " << k.model->layer + 1 << ", cell " << k.row << ", " << k.col);
    const Trace trace = run_attention(first.language_model->emb, *k.model, kSentence, {});
    const auto x = trace.find(k.input)->data.row(k.row).cast<double>();
    const double mean = x.mean(), variance = (x.array() - mean).square().mean();
    const double z = (x(k.col) - mean) / std::sqrt(variance + 1e-5);
    const bool final = std::string(k.stage) == "final_norm";
    const float gain = params[(final ? lay.lnf_gain() : lay.layer(k.model->layer, LmLayout::ln1_gain)).offset + static_cast<std::size_t>(k.col)];
    const float bias = params[(final ? lay.lnf_bias() : lay.layer(k.model->layer, LmLayout::ln1_bias)).offset + static_cast<std::size_t>(k.col)];
    const float value = trace.find(k.stage)->data(k.row, k.col);
    CHECK(std::abs(z * gain + bias - value) < 1e-4);  // the arithmetic shown is the trace's
    const std::string text = render_entry(trace, *k.model, k.stage, 0, k.row, k.col, options);
    for (const std::string& number : {format_number(static_cast<float>(mean), 4, true), format_number(static_cast<float>(variance), 4, true),
                                     format_number(static_cast<float>(z), 4, true), format_number(gain, 3, true), format_number(bias, 3, true),
                                     format_number(value, 3, true) + " (the trace's own entry"})
      CHECK_THAT(text, Contains(number));
    CHECK_THAT(text, Contains(final ? "the final norm's learned gain and bias" : "norm's learned gain and bias"));
  }
  // The real executable's panel: the same lines beside the heatmap of stage a.
  const auto shown = dump("<down><tab><tab><tab><tab><tab><tab><tab><tab>", {"--model", "wordnet-lm"}, "200");
  REQUIRE(shown.exit_code == 0);
  CHECK_THAT(shown.out, Contains("layer_norm a"));
  CHECK_THAT(shown.out, Contains("whose 100 entries have mean"));
}
