// The classroom: --narrate paragraphs, the --step controller (driven through streams, through pipes and
// /dev/null, and in a real terminal with tmux), and the projector options --glyphs and --palette.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "attnviz/data.hpp"
#include "attnviz/narration.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/report.hpp"
#include "attnviz/step.hpp"
#include "support.hpp"
#include "tmux.hpp"
#include "trace_json.hpp"

using namespace attnviz;
using Catch::Contains;
using test::Tmux;

namespace {

const std::string kSentence = "the cat chased the mouse";

Trace toy_trace(const std::string& model_name = "toy", int heads = 0) {
  const std::string dir = test::data_dir().string();
  const Embeddings emb = resolve_embeddings("toy", dir);
  return run_attention(emb, resolve_model(model_name, emb.dim, heads, dir), kSentence, {});
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

const Stage& weights_of(const Trace& t) { return *t.find("weights", 0); }

}  // namespace

TEST_CASE("Narration: a paragraph for every report stage, none for an unknown name", "[classroom]") {
  for (const auto& name : report_stage_names()) {
    INFO(name);
    CHECK(narration(name).size() > 100);
  }
  CHECK(narration("nonsense").empty());
  CHECK_THAT(narration("scaled_scores"), Contains("square root"));
  CHECK_THAT(narration("weights"), Contains("add up to 1"));
}

TEST_CASE("Narration follows the run: scaling, temperature, where the weights came from, d_k as dimensions", "[classroom]") {
  const auto narrated = [](std::vector<std::string> extra) {
    std::vector<std::string> args{"run", kSentence, "--narrate", "--stages", "queries,scaled_scores", "--color", "never", "--width", "200"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = test::run_attnviz(args);
    REQUIRE(r.exit_code == 0);
    // The paragraphs wrap at 100 columns: read them as one line each.
    std::string flat;
    for (char ch : r.out) flat += ch == '\n' ? ' ' : ch;
    for (std::size_t at; (at = flat.find("  ")) != std::string::npos;) flat.erase(at, 1);
    return flat;
  };
  const std::string toy = narrated({});
  CHECK_THAT(toy, Contains("divided by the square root of the number of dimensions of a key (d_k = 8, so by 2.83)"));
  CHECK_THAT(toy, Contains("set by hand"));
  CHECK_THAT(toy, !Contains("learned in training. Think"));
  CHECK_THAT(toy, !Contains("divided by the temperature"));
  CHECK_THAT(toy, !Contains("key's length"));

  const std::string no_scale = narrated({"--no-scale"});
  CHECK_THAT(no_scale, Contains("NOT divided by the square root"));
  CHECK_THAT(no_scale, !Contains("The scores are divided"));

  const std::string cold = narrated({"--temperature", "0.5"});
  CHECK_THAT(cold, Contains("divided by the temperature T = 0.5"));
  CHECK_THAT(cold, Contains("below 1 stretches the gaps"));
  CHECK_THAT(narrated({"--temperature", "2"}), Contains("above 1 shrinks the gaps"));

  const std::string identity = narrated({"--model", "identity"});
  CHECK_THAT(identity, Contains("that are here the identity"));
  CHECK_THAT(identity, Contains("d_k = 8"));

  // A model file that does not say where its weights came from; one that says "trained".
  test::TempDir dir;
  std::string model = test::read_text(test::data_dir() / "models" / "toy.json");
  const std::string hand = "\"origin\": \"hand-set\",";
  REQUIRE(model.find(hand) != std::string::npos);
  const auto unstated = dir.write("unstated.json", std::string(model).replace(model.find(hand), hand.size(), ""));
  const auto trained = dir.write("trained.json", std::string(model).replace(model.find(hand), hand.size(), "\"origin\": \"trained\","));
  CHECK_THAT(narrated({"--model", unstated.string()}), Contains("read from the model file, which does not say how they were made"));
  CHECK_THAT(narrated({"--model", trained.string()}), Contains("(W_q) that were learned in training"));
  const auto bad = dir.write("bad.json", std::string(model).replace(model.find(hand), hand.size(), "\"origin\": \"guessed\","));
  const auto r = test::run_attnviz({"run", kSentence, "--model", bad.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("\"origin\" must be \"hand-set\" or \"trained\""));
  CHECK(r.out.empty());
}

TEST_CASE("Narration: --narrate puts each paragraph before its stage, once per stage even with two heads", "[classroom]") {
  const Trace trace = toy_trace("identity", 2);
  ReportOptions options;
  options.render.width = 80;
  const std::string plain = render_report(trace, options);
  options.narrate = true;
  const std::string narrated = render_report(trace, options);
  CHECK(count(plain, "Softmax turns") == 0);
  CHECK(count(narrated, "Softmax turns") == 1);
  CHECK(count(narrated, "Each token now asks a question") == 1);
  CHECK(narrated.find("Softmax turns") < narrated.find("weights P"));
  CHECK(narrated.find("First the sentence is cut") < narrated.find("tokens (5)"));
  for (const auto& line : test::lines_of(narrated)) CHECK(display_width(line) <= 100);  // tables fit 80; text wraps
}

TEST_CASE("Report: before_stage sees each stage in order, the pieces add up to the whole report", "[classroom]") {
  const Trace trace = toy_trace();
  ReportOptions options;
  options.stages = {"tokens", "queries", "weights", "output"};
  const std::string whole = render_report(trace, options);
  std::string shown;
  std::vector<std::string> seen;
  options.before_stage = [&](const std::string& text, const Stage& next) {
    shown += text;
    seen.push_back(next.name);
    return true;
  };
  shown += render_report(trace, options);
  CHECK(seen == std::vector<std::string>{"queries", "weights", "output"});
  CHECK(shown == whole);

  seen.clear();
  options.before_stage = [&](const std::string&, const Stage& next) {
    seen.push_back(next.name);
    return next.name != "weights";  // quit before the softmax
  };
  CHECK(render_report(trace, options).empty());
  CHECK(seen == std::vector<std::string>{"queries", "weights"});
}

TEST_CASE("Step: not interactive, it never reads and never prompts, but still asks and reveals", "[classroom]") {
  const Trace trace = toy_trace();
  std::istringstream in("q\nq\n");
  std::ostringstream out;
  StepController step(in, out, false);
  CHECK(step.before_stage("A\n", *trace.find("queries", 0), 1));
  CHECK(step.before_stage("B\n", weights_of(trace), 1));
  CHECK_FALSE(step.quit());
  CHECK(in.tellg() == 0);  // nothing was read
  CHECK_THAT(out.str(), !Contains("[next:"));
  CHECK_THAT(out.str(), Contains("A\nB\n"));
  CHECK_THAT(out.str(), Contains("which key will"));
  CHECK_THAT(out.str(), Contains("attends most to"));
}

TEST_CASE("Step: interactive, Enter continues and q quits", "[classroom]") {
  const Trace trace = toy_trace();
  std::istringstream in("\n  \nQ\n\n");
  std::ostringstream out;
  StepController step(in, out, true);
  CHECK(step.before_stage("one\n", *trace.find("queries", 0), 1));
  CHECK_THAT(out.str(), Contains("[next: queries Q, head 1 of 1"));
  CHECK(step.before_stage("two\n", *trace.find("keys", 0), 1));
  CHECK_FALSE(step.pause("three\n", "sentence 2 of 2"));
  CHECK(step.quit());
  const auto before = out.str();
  CHECK_FALSE(step.before_stage("four\n", *trace.find("values", 0), 1));
  CHECK(out.str() == before);  // after q nothing more is shown
  CHECK_THAT(before, Contains("three\n"));
}

// The prompts wrap to --width as the rest of the text does, and the cursor waits within it.
TEST_CASE("Step: the prompts and the second try wrap to the width", "[classroom]") {
  const Trace trace = toy_trace();
  for (const int width : {30, 40, 60}) {
    std::istringstream in("\ncat\ndog\n");  // continue, a wrong guess (cat is 2nd), a second wrong one
    std::ostringstream out;
    StepController step(in, out, true, true, 3, width);
    step.set_guess_query("mouse");
    CHECK(step.before_stage("", *trace.find("queries", 0), 1));
    step.before_stage("", weights_of(trace), 1);
    std::string shown = out.str();
    INFO("width " << width << ":\n" << shown);
    std::string flat;  // the words in order, however they wrapped
    for (const char c : shown)
      if (!(c == ' ' || c == '\n') || (!flat.empty() && flat.back() != ' ')) flat += c == '\n' ? ' ' : c;
    CHECK_THAT(flat, Contains("[next:") && Contains("Your guess (a word") && Contains("One more try"));
    CHECK_THAT(flat, Contains("Not \"cat\" (it comes 2nd of 5)."));
    // A terminal echoes the typed line and its Enter after each prompt; the stream does not, so the
    // newline is put back after each prompt's space. Every line, that space included, fits.
    for (const std::string end : {"quit] ", "quits): ", "answer): "}) {
      REQUIRE(shown.find(end) != std::string::npos);
      for (auto at = shown.find(end); at != std::string::npos; at = shown.find(end, at + end.size() + 1)) shown.insert(at + end.size(), "\n");
    }
    for (const auto& line : test::lines_of(shown)) CHECK(display_width(line) <= width);
  }
}

TEST_CASE("Step: the end of input stops the waiting", "[classroom]") {
  const Trace trace = toy_trace();
  std::istringstream in("");
  std::ostringstream out;
  StepController step(in, out, true);
  CHECK(step.before_stage("", *trace.find("queries", 0), 1));
  CHECK(step.before_stage("", *trace.find("keys", 0), 1));
  CHECK(step.before_stage("", weights_of(trace), 1));
  CHECK(count(out.str(), "[next:") == 1);  // the first prompt found no input; then no more prompts
  CHECK_THAT(out.str(), Contains("attends most to"));
}

TEST_CASE("Step: the guess, then the reveal", "[classroom]") {
  const Trace trace = toy_trace();
  const Stage& P = weights_of(trace);
  auto play = [&](const std::string& input, std::optional<std::string> query) {
    std::istringstream in(input);
    std::ostringstream out;
    StepController step(in, out, true);
    step.set_guess_query(std::move(query));
    step.before_stage("", P, 1);
    return out.str();
  };
  // mouse attends most to itself (0.407), then to cat (0.373): see the weights table.
  const std::string second = play("cat\n", "mouse");
  CHECK_THAT(second, Contains("which key will \"mouse\" attend to most?"));
  CHECK_THAT(second, Contains("\"mouse\" attends most to \"mouse\": weight 0.407 (next: \"cat\" 0.373)"));
  CHECK_THAT(second, Contains("Your guess \"cat\" comes 2nd of 5, with weight 0.373"));
  CHECK(second.find("Your guess (a word") < second.find("attends most to"));
  CHECK_THAT(play("Mouse\n", "mouse"), Contains("Your guess \"mouse\" is right"));
  CHECK_THAT(play("dog\n", "mouse"), Contains("\"dog\" is not a key"));
  CHECK_THAT(play("\n", "mouse"), !Contains("Your guess \""));
  // Without a chosen query: of the words whose strongest key is another word, the clearest: chased → cat
  // (0.410). (cat's row is clearer, 0.866, but its winner is cat itself: guessing "itself" teaches little.)
  CHECK_THAT(play("\n", std::nullopt), Contains("\"chased\" attends most to \"cat\": weight 0.410"));
  std::istringstream none;
  std::ostringstream sink;
  StepController step(none, sink, false);
  CHECK(step.guess_row(P) == 2);
  step.set_guess_query("mouse");
  CHECK(step.guess_row(P) == 4);
}

TEST_CASE("Step CLI: with input from a pipe or /dev/null it runs to the end without waiting", "[classroom][cli]") {
  test::TempDir dir;
  const auto out = dir.path() / "out.txt";
  // The shell, not this process, writes the pipe: attnviz never reads it, and must not wait for it.
  auto run_shell = [&](const std::string& before, const std::string& args, const std::string& after) {
    const std::string command = before + "timeout 20 '" + ATTNVIZ_EXE + "' " + args + " --color never " + after + " >'" + out.string() + "' 2>&1";
    const int status = std::system(command.c_str());
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);  // 124 would mean it waited until timeout killed it
    return test::read_text(out);
  };
  const std::string piped = run_shell("printf 'q\\nq\\n' | ", "run '" + kSentence + "' --step --query mouse", "");
  const auto plain = test::run_attnviz({"run", kSentence, "--color", "never"});
  CHECK_THAT(piped, !Contains("[next:"));
  CHECK_THAT(piped, Contains("which key will \"mouse\" attend to most?"));
  CHECK(count(piped, "·") == count(plain.out, "·"));  // every stage is there: q on a pipe is not a key press
  CHECK_THAT(piped, Contains("output O"));

  const std::string demo = run_shell("", "demo mouse --step --narrate", "</dev/null");
  CHECK(count(demo, "which key will \"mouse\" attend to most?") == 2);
  CHECK_THAT(demo, Contains("summary"));
}

TEST_CASE("Step CLI: --query must be a word of the sentence and needs --step", "[classroom][cli]") {
  const auto dog = test::run_attnviz({"run", kSentence, "--step", "--query", "dog"});
  CHECK(dog.exit_code == 2);
  CHECK_THAT(dog.err, Contains("--query 'dog'"));
  const auto alone = test::run_attnviz({"run", kSentence, "--query", "mouse"});
  CHECK(alone.exit_code == 2);
  CHECK_THAT(alone.err, Contains("--step"));
}

TEST_CASE("Projector CLI: --glyphs shades every cell, --palette colorblind switches the maps", "[classroom][cli]") {
  const auto glyphs = test::run_attnviz({"run", "the cat", "--stages", "weights", "--glyphs", "--color", "never"});
  REQUIRE(glyphs.exit_code == 0);
  CHECK_THAT(glyphs.out, Contains("0.986 █"));
  const auto plain = test::run_attnviz({"run", "the cat", "--stages", "weights", "--color", "never"});
  CHECK_THAT(plain.out, !Contains("█"));
  const auto ascii = test::run_attnviz({"run", "the cat", "--stages", "weights", "--glyphs", "--ascii"});
  CHECK_THAT(ascii.out, Contains("0.986 #"));
  const std::map<std::string, std::string> truecolor{{"COLORTERM", "truecolor"}};
  const auto cb = test::run_attnviz({"run", "the cat", "--stages", "weights", "--color", "always", "--palette", "colorblind"}, truecolor);
  CHECK_THAT(cb.out, Contains("cividis"));
  const auto standard = test::run_attnviz({"run", "the cat", "--stages", "weights", "--color", "always"}, truecolor);
  CHECK_THAT(standard.out, Contains("viridis"));
  CHECK_THAT(standard.out, !Contains("cividis"));
  const auto bad = test::run_attnviz({"run", "the cat", "--palette", "pastel"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("--palette"));
}

// ---- A real terminal: tmux runs attnviz in a pseudo-terminal; send-keys types, capture-pane reads. ----

namespace {

std::string attnviz_command(const std::string& args) {
  return std::string("env LANG=C.UTF-8 COLUMNS=200 '") + ATTNVIZ_EXE + "' " + args;
}

}  // namespace

TEST_CASE("Step in a real terminal: each stage after Enter, the guess then the reveal, q quits", "[classroom][tmux]") {
  if (!Tmux::available()) {
    WARN("tmux is not installed: skipping the real-terminal test (scripts/install-deps --test installs it)");
    return;
  }
  SECTION("every stage, in order, each after a key") {
    Tmux term(attnviz_command("run '" + kSentence + "' --step --query mouse --color never"));
    std::string s = term.wait_for("[next: embeddings X");
    CHECK_THAT(s, Contains("tokens (5)"));
    CHECK_THAT(s, !Contains("embeddings X ·"));  // it waits: the table is not there yet
    const std::vector<std::string> stages{"embeddings X", "queries Q", "keys K", "values V", "scores S", "scaled_scores S'"};
    for (std::size_t k = 0; k < stages.size(); ++k) {
      term.keys("Enter");
      s = term.wait_for(stages[k] + " ·");
      if (k + 1 < stages.size()) {
        s = term.wait_for("[next: " + stages[k + 1]);
        CHECK_THAT(s, !Contains(stages[k + 1] + " ·"));
      }
    }
    s = term.wait_for("which key will \"mouse\" attend to most?");
    CHECK_THAT(s, !Contains("weights P ·"));  // the answer is not on screen before the guess
    CHECK_THAT(s, !Contains("attends most to"));
    term.keys("cat Enter");
    s = term.wait_for("One more try");
    CHECK_THAT(s, Contains("Not \"cat\" (it comes 2nd of 5)"));
    CHECK_THAT(s, !Contains("attends most to"));
    term.keys("Enter");
    s = term.wait_for("weights P ·");
    CHECK_THAT(s, Contains("\"mouse\" attends most to \"mouse\": weight 0.407"));
    CHECK_THAT(s, Contains("Your guess \"cat\" comes 2nd of 5"));
    for (const char* next : {"context A", "concat A", "output O"}) {
      term.wait_for(std::string("[next: ") + next);
      term.keys("Enter");
      term.wait_for(std::string(next) + " ·");
    }
    s = term.wait_for("EXIT=0");
  }
  SECTION("q quits at once, exit 0") {
    Tmux term(attnviz_command("run '" + kSentence + "' --step --color never"));
    term.wait_for("[next: embeddings X");
    term.keys("Enter");
    term.wait_for("[next: queries Q");
    term.keys("q Enter");
    const std::string s = term.wait_for("EXIT=0");
    CHECK_THAT(s, !Contains("queries Q ·"));
  }
  SECTION("input from /dev/null: the terminal shows everything and nothing waits") {
    Tmux term(attnviz_command("run '" + kSentence + "' --step --color never </dev/null"));
    const std::string s = term.wait_for("EXIT=0");
    CHECK_THAT(s, Contains("output O ·"));
    CHECK_THAT(s, !Contains("[next:"));
  }
}

TEST_CASE("Step: a wrong guess gets a second try, a lesson's claimed keys count as right", "[classroom]") {
  const Trace trace = toy_trace();
  const Stage& P = weights_of(trace);
  auto play = [&](const std::string& input, std::vector<std::string> expected = {}) {
    std::istringstream in(input);
    std::ostringstream out;
    StepController step(in, out, true);
    step.set_guess_query("mouse");
    step.set_expected(std::move(expected));
    step.before_stage("", P, 1);
    return out.str();
  };
  // mouse: itself 0.407, then cat 0.373.
  const std::string again = play("cat\nmouse\n");
  CHECK_THAT(again, Contains("Not \"cat\" (it comes 2nd of 5). One more try"));
  CHECK_THAT(again, Contains("Your second guess \"mouse\" is right."));
  CHECK(again.find("One more try") < again.find("attends most to"));  // the answer only after the second try
  const std::string twice_wrong = play("the\ndog\n");
  CHECK_THAT(twice_wrong, Contains("Your second guess \"dog\" is not a key of this sentence."));
  CHECK_THAT(play("zebra\n\n"), Contains("\"zebra\" is not a word of this sentence. One more try"));
  CHECK_THAT(play("mouse\n"), !Contains("One more try"));
  // The lesson claims mouse attends most to mouse and cat: cat is right, and the reveal says the claim.
  const std::string claimed = play("cat\n", {"mouse", "cat"});
  CHECK_THAT(claimed, !Contains("One more try"));
  CHECK_THAT(claimed, Contains("The lesson says \"mouse\" attends most to mouse and cat."));
  CHECK_THAT(claimed, Contains("Your guess \"cat\" is right: one of them (2nd of 5, weight 0.373)."));
  CHECK_THAT(play("the\n\n", {"mouse", "cat"}), Contains("Not \"the\""));
}

TEST_CASE("Step in a real terminal: q quits without Enter, a wrong guess gets a second try", "[classroom][tmux]") {
  if (!Tmux::available()) {
    WARN("tmux is not installed: skipping the real-terminal test");
    return;
  }
  SECTION("q alone") {
    Tmux term(attnviz_command("run '" + kSentence + "' --step --color never"));
    term.wait_for("[next: embeddings X");
    term.keys("q");  // no Enter
    const std::string s = term.wait_for("EXIT=0");
    CHECK_THAT(s, !Contains("embeddings X ·"));
  }
  SECTION("any key continues; the second try") {
    Tmux term(attnviz_command("run '" + kSentence + "' --step --query mouse --stages tokens,queries,weights --color never"));
    term.wait_for("[next: queries Q");
    term.keys("Space");  // not Enter: any key continues
    term.wait_for("which key will \"mouse\" attend to most?");
    term.keys("the Enter");
    std::string s = term.wait_for("One more try");
    CHECK_THAT(s, !Contains("attends most to"));
    term.keys("mouse Enter");
    s = term.wait_for("EXIT=0");
    CHECK_THAT(s, Contains("Your second guess \"mouse\" is right."));
  }
}

TEST_CASE("Width: piped output takes the width of the terminal the user sits at", "[classroom][tmux]") {
  if (!Tmux::available()) {
    WARN("tmux is not installed: skipping the real-terminal test");
    return;
  }
  test::TempDir dir;
  const auto file = dir.path() / "piped.txt";
  // Standard output is a pipe; standard error is the 100-column terminal; COLUMNS is not set.
  Tmux term(std::string("env -u COLUMNS LANG=C.UTF-8 '") + ATTNVIZ_EXE +
                "' run 'Mickey Mouse is an American cartoon character co-created in 1928 by Walt Disney and Ub Iwerks' "
                "--color never --stages tokens,weights --layout full | cat > '" + file.string() + "'",
            100, 30);
  term.wait_for("EXIT=0");
  int widest = 0;
  for (const auto& line : test::lines_of(test::read_text(file))) widest = std::max(widest, display_width(line));
  CHECK(widest > 80);   // not the 80 of an unknown width
  CHECK(widest <= 100);
}

TEST_CASE("Step in a real terminal: a lesson scores the guess against what it claims", "[classroom][tmux]") {
  if (!Tmux::available()) {
    WARN("tmux is not installed: skipping the real-terminal test");
    return;
  }
  // The mouse lesson claims "mouse" attends most to mickey, mouse and cartoon in sentence 1: cartoon (3rd)
  // counts as right.
  Tmux term(attnviz_command("demo mouse --step --stages weights --color never"));
  term.wait_for("which key will \"mouse\" attend to most?");
  term.keys("cartoon Enter");
  std::string s = term.wait_for("[next: sentence 2 of 2");
  CHECK_THAT(s, Contains("The lesson says \"mouse\" attends most to mickey, mouse and cartoon."));
  CHECK_THAT(s, Contains("Your guess \"cartoon\" is right: one of them (3rd of 16"));
  CHECK_THAT(s, !Contains("One more try"));
  term.keys("q");
  term.wait_for("EXIT=0");
}
