// attnviz explore in a real terminal (tmux): keys recompute what the screen shows, with explain's and run's
// numbers; every way out (q, Ctrl-C, SIGTERM, a crash signal) leaves the shell as it was: the alternate
// screen closed, echo on. Mouse clicks select a cell; resizes redraw.
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

#include "support.hpp"
#include "tmux.hpp"

using namespace attnviz;
using Catch::Contains;
using test::Tmux;

namespace {

const std::string kSentence = "the cat chased the mouse";

// Runs explore (through `sh -c` that first writes the shell's pid, which exec gives to explore, when
// `pid_file`); after it ends the pane prints the terminal's echo setting ("ECHO:echo" or "ECHO:-echo") and
// its exit status.
std::string explore_command(const std::string& args, const std::string& env = "TERM=xterm-256color", const std::string& pid_file = "") {
  std::string run = "env LANG=C.UTF-8 " + env + " '" + std::string(ATTNVIZ_EXE) + "' explore '" + kSentence + "' " + args;
  if (!pid_file.empty()) run = "sh -c " + Tmux::quote("echo $$ > '" + pid_file + "'; exec " + run);
  return run + "; s=$?; echo ECHO:$(stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\{0,1\\}echo'); (exit $s)";
}

std::string explained(const std::vector<std::string>& extra, const std::string& prefix) {
  std::vector<std::string> args{"explain", kSentence};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = test::run_attnviz(args);
  REQUIRE(r.exit_code == 0);
  return test::text_from(r.out, prefix);
}

// The terminal as the shell had it: the alternate screen closed and echo on.
void check_restored(Tmux& term, const std::string& exit_line) {
  const std::string s = term.wait_for(exit_line);
  CHECK(term.display("#{alternate_on}") == "0");
  CHECK_THAT(s, Contains("ECHO:echo"));
  CHECK_THAT(s, !Contains("ECHO:-echo"));
}

bool skip() {
  if (Tmux::available()) return false;
  WARN("tmux is not installed: skipping the real-terminal tests (scripts/install-deps --test installs it)");
  return true;
}

}  // namespace

TEST_CASE("Explore in a terminal: keys recompute the screen with explain's numbers, q restores the shell", "[explore][tmux]") {
  if (skip()) return;
  Tmux term(explore_command("--color never"), 120, 30);
  term.wait_for("weights P · 5 × 5");
  CHECK(term.display("#{alternate_on}") == "1");
  term.keys("Down Right");
  std::string s = term.wait_for("query \"cat\" (1) → key \"cat\" (1)");
  CHECK(test::text_from(s, "7. the weight: P =") == explained({"--query", "cat", "--key", "cat"}, "7. the weight: P ="));
  term.keys("Right Right");
  s = term.wait_for("query \"cat\" (1) → key \"the\" (3)");
  CHECK(test::text_from(s, "7. the weight: P =") == explained({"--query", "cat", "--key", "the#2"}, "7. the weight: P ="));

  term.keys("t");  // the temperature down by √2: the weights of run --temperature 0.7071…
  s = term.wait_for("T 0.7071");
  CHECK(test::text_from(s, "7. the weight: P =") ==
        explained({"--query", "cat", "--key", "the#2", "--temperature", "0.7071067811865476"}, "7. the weight: P ="));
  term.keys("T T");
  s = term.wait_for("T 1.414");
  CHECK(test::text_from(s, "7. the weight: P =") ==
        explained({"--query", "cat", "--key", "the#2", "--temperature", "1.4142135623730951"}, "7. the weight: P ="));

  term.keys("c");  // "cat" may not look at the later "the": masked, weight exactly 0
  s = term.wait_for("mask causal");
  CHECK_THAT(s, Contains("(exactly 0: a masked key"));

  term.keys("e C-u");
  term.keys("-l 'the dog chased the cat'");
  term.wait_for("sentence: the dog chased the cat");
  term.keys("Enter");
  s = term.wait_for("\"the dog chased the cat\" · ");
  CHECK_THAT(s, Contains("1 dog"));

  term.keys("q");
  check_restored(term, "EXIT=0");
}

TEST_CASE("Explore in a terminal: Ctrl-C, SIGTERM and a crash signal restore the terminal too", "[explore][tmux]") {
  if (skip()) return;
  SECTION("Ctrl-C") {
    Tmux term(explore_command("--color never"), 100, 30);
    term.wait_for("weights P · 5 × 5");
    term.keys("C-c");
    check_restored(term, "EXIT=0");
  }
  for (const int sig : {SIGTERM, SIGSEGV}) {
    DYNAMIC_SECTION("signal " << sig) {
      test::TempDir dir;
      const auto pid_file = dir.path() / "pid";
      // The shell writes the pid explore will have (exec keeps it) before starting it.
      Tmux term(explore_command("--color never", "TERM=xterm-256color", pid_file.string()), 100, 30);
      term.wait_for("weights P · 5 × 5");
      int pid = 0;
      std::ifstream(pid_file) >> pid;
      REQUIRE(pid > 0);
      REQUIRE(::kill(pid, sig) == 0);
      check_restored(term, "EXIT=" + std::to_string(128 + sig));
    }
  }
}

TEST_CASE("Explore in a terminal: a click selects a cell, resizes redraw, below 80 × 24 a message", "[explore][tmux]") {
  if (skip()) return;
  Tmux term(explore_command(""), 80, 24);
  term.wait_for("weights P · 5 × 5");
  // An SGR mouse press as a terminal sends it: column 21, row 6 (from 1) is the cell of "chased" and key 3.
  term.keys("-H 1b 5b 3c 30 3b 32 31 3b 36 4d 1b 5b 3c 30 3b 32 31 3b 36 6d");
  term.wait_for("query \"chased\" (2) → key \"the\" (3)");
  term.resize(70, 20);
  std::string s = term.wait_for("this one is 70 x 20");
  CHECK_THAT(s, Contains("needs a terminal of at least 80 x 24"));
  term.resize(120, 30);
  s = term.wait_for("query \"chased\" (2) → key \"the\" (3)");
  CHECK_THAT(s, !Contains("this one is"));
  term.keys("q");
  check_restored(term, "EXIT=0");
}

TEST_CASE("Explore in a terminal: NO_COLOR and 16 colours shade the cells with characters", "[explore][tmux]") {
  if (skip()) return;
  for (const std::string env : {"NO_COLOR=1 TERM=xterm-256color", "TERM=xterm"}) {
    INFO(env);
    Tmux term(explore_command("", env), 100, 30);
    const std::string s = term.wait_for("weights P · 5 × 5");
    CHECK_THAT(s, Contains("░"));
    const std::string colours = term.screen(true);
    CHECK(env.starts_with("NO_COLOR") == (colours.find("\x1b[") == std::string::npos));  // tmux writes the cells' colours back
    term.keys("q");
    check_restored(term, "EXIT=0");
  }
}

TEST_CASE("Explore in a terminal: the compact heatmap's cursor follows the keys, a Q cell is its dot product, the top line has the context",
          "[explore][tmux]") {
  if (skip()) return;
  Tmux term(explore_command("--color never --context 'the dog chased the cat'"), 140, 30);
  std::string s = term.wait_for("\"the cat chased the mouse\" ← \"the dog chased the cat\" · toy/toy · head 1/1 · layer 1/1 · T 1 · "
                                "scale 1/√8 · mask none · pos none · cpu");
  CHECK_THAT(s, Contains("▸ 0 the   [▒▒]▒▒ ▒▒ ▒▒ ▒▒"));
  term.keys("Down Right");
  s = term.wait_for("query \"cat\" (1) → key \"dog\" (1)");
  CHECK_THAT(s, Contains("▸ 1 cat"));
  CHECK(test::text_from(s, "1 cat").find('[') != std::string::npos);
  CHECK(test::text_from(s, "0 the").find('[') == std::string::npos);
  term.keys("BTab BTab BTab BTab BTab");  // weights → scaled_scores → scores → values → keys → queries
  term.wait_for("queries Q · 5 × 8");
  term.keys("Right");  // the column of the stage shown: q1
  s = term.wait_for("cell: token \"cat\" (1), column q1 (1)");
  CHECK_THAT(s, Contains("Q[\"cat\"][q1] = Σ over the 8 columns of X: X[\"cat\"][k] × W_q[k][q1]"));
  CHECK_THAT(s, Contains("cartoon     0.200  3.500    0.700"));
  term.keys("q");
  check_restored(term, "EXIT=0");
}

TEST_CASE("Explore in a terminal: l and L switch the trained model's layers, with explain --layer's numbers", "[explore][tmux][lm]") {
  if (skip()) return;
  Tmux term(explore_command("--color never --model wordnet-lm"), 140, 30);
  term.wait_for("layer 1/2");
  term.keys("Down Down Down Down Right");
  term.wait_for("query \"mouse\" (4) → key \"cat\" (1)");
  term.keys("l");
  std::string s = term.wait_for("layer 2 of 2");
  CHECK_THAT(s, Contains("layer 2/2"));
  CHECK(test::text_from(s, "7. the weight: P =") ==
        explained({"--model", "wordnet-lm", "--layer", "2", "--query", "mouse", "--key", "cat"}, "7. the weight: P ="));
  term.keys("L");
  s = term.wait_for("layer 1 of 2");
  CHECK(test::text_from(s, "7. the weight: P =") ==
        explained({"--model", "wordnet-lm", "--layer", "1", "--query", "mouse", "--key", "cat"}, "7. the weight: P ="));
  term.keys("q");
  check_restored(term, "EXIT=0");
}
