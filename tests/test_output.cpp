// Golden terminal output with colour off, and the colour policy through the real executable.
#include <catch2/catch.hpp>

#include <sstream>

#include "attnviz/render.hpp"
#include "support.hpp"

using namespace attnviz::test;
using Catch::Contains;

namespace {

struct Case {
  std::string name;
  std::vector<std::string> args;
};

std::vector<Case> expected_cases() {
  std::istringstream lines(read_text(source_dir() / "tests/expected/cases.txt"));
  std::vector<Case> cases;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    Case c;
    std::istringstream fields(line);
    std::getline(fields, c.name, '\t');
    for (std::string f; std::getline(fields, f, '\t');) c.args.push_back(f);
    cases.push_back(c);
  }
  return cases;
}

bool has_escape(const std::string& s) { return s.find("\x1b[") != std::string::npos; }

}  // namespace

TEST_CASE("Output: golden terminal output with colour off", "[output]") {
  const auto cases = expected_cases();
  REQUIRE(cases.size() >= 4);
  for (const auto& c : cases) {
    INFO("case " << c.name << " (regenerate with scripts/update-expected-output after a deliberate change)");
    const Run r = run_attnviz(c.args);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == read_text(source_dir() / "tests/expected" / (c.name + ".txt")));
    CHECK_FALSE(has_escape(r.out));
    CHECK(r.out.find("-0.000") == std::string::npos);
  }
}

TEST_CASE("Output: the colour policy, through the executable", "[output]") {
  const std::vector<std::string> args{"run", "the cat chased the mouse", "--stages", "weights"};
  auto with = [&](std::map<std::string, std::string> env, std::vector<std::string> extra = {}) {
    auto a = args;
    a.insert(a.end(), extra.begin(), extra.end());
    return run_attnviz(a, env).out;
  };
  // Standard output is a pipe here, so "auto" means no colour unless forced.
  CHECK_FALSE(has_escape(with({})));
  CHECK(has_escape(with({{"FORCE_COLOR", "1"}})));
  CHECK(has_escape(with({{"CLICOLOR_FORCE", "1"}})));
  CHECK_FALSE(has_escape(with({{"FORCE_COLOR", "0"}})));
  CHECK_FALSE(has_escape(with({{"FORCE_COLOR", "1"}, {"NO_COLOR", "1"}})));
  CHECK(has_escape(with({{"NO_COLOR", "1"}}, {"--color", "always"})));
  CHECK_FALSE(has_escape(with({{"FORCE_COLOR", "1"}}, {"--color", "never"})));
  CHECK_FALSE(has_escape(with({{"TERM", "dumb"}})));
  // Depth: 24-bit, 256 colours, 16 colours.
  // Foreground and background share one escape: "\x1b[38;2;R;G;B;48;2;R;G;Bm".
  CHECK_THAT(with({{"COLORTERM", "truecolor"}}, {"--color", "always"}), Contains(";48;2;"));
  const std::string c256 = with({{"TERM", "xterm-256color"}}, {"--color", "always"});
  CHECK_THAT(c256, Contains("48;5;"));
  CHECK(c256.find("48;2;") == std::string::npos);
  const std::string c16 = with({{"TERM", "xterm"}}, {"--color", "always"});
  CHECK(c16.find("48;5;") == std::string::npos);
  CHECK(c16.find("48;2;") == std::string::npos);
  CHECK(has_escape(c16));
}

TEST_CASE("Output: ASCII when the locale is not UTF-8 or --ascii is given", "[output]") {
  const std::vector<std::string> args{"run", "the cat chased the mouse", "--stages", "weights"};
  CHECK_THAT(run_attnviz(args).out, Contains("┌"));
  const auto c_locale = run_attnviz(args, {{"LANG", "C"}}).out;
  CHECK(c_locale.find("┌") == std::string::npos);
  CHECK_THAT(c_locale, Contains("+--"));
  auto ascii_args = args;
  ascii_args.push_back("--ascii");
  CHECK(run_attnviz(ascii_args).out.find("┌") == std::string::npos);
}

TEST_CASE("Output: tables wider than the terminal are split into column blocks", "[output]") {
  const auto r = run_attnviz({"run", "the cat chased the mouse", "--stages", "embeddings"}, {{"COLUMNS", "50"}});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("columns 1–"));
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(attnviz::display_width(line) <= 50);
  }
}
