// Golden terminal output with colour off, and the colour policy through the real executable.
#include <catch2/catch.hpp>

#include <cmath>
#include <regex>
#include <sstream>

#include "../src/backends/kernels/dispatch.hpp"
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

// Equal text, except that a printed decimal may differ by one unit in its last digit (0.857 for 0.858):
// the FMA kernel paths round some products differently from the baseline (a value of 0.85749… or 0.85750…).
bool same_but_last_digit(const std::string& got, const std::string& want) {
  static const std::regex number(R"(-?\d+\.\d+)");
  std::sregex_iterator a(got.begin(), got.end(), number), b(want.begin(), want.end(), number), end;
  std::size_t ga = 0, wa = 0;
  for (; a != end && b != end; ++a, ++b) {
    if (got.compare(ga, static_cast<std::size_t>(a->position()) - ga, want, wa, static_cast<std::size_t>(b->position()) - wa) != 0) return false;
    const std::string x = a->str(), y = b->str();
    const auto decimals = x.size() - x.find('.') - 1;
    if (decimals != y.size() - y.find('.') - 1) return false;
    if (std::abs(std::stod(x) - std::stod(y)) > 1.5 * std::pow(10.0, -static_cast<double>(decimals))) return false;
    ga = static_cast<std::size_t>(a->position() + a->length());
    wa = static_cast<std::size_t>(b->position() + b->length());
  }
  return a == end && b == end && got.substr(ga) == want.substr(wa);
}

}  // namespace

TEST_CASE("Output: golden terminal output with colour off", "[output]") {
  const auto cases = expected_cases();
  REQUIRE(cases.size() >= 4);
  for (const auto& c : cases) {
    INFO("case " << c.name << " (regenerate with scripts/update-expected-output after a deliberate change)");
    // The expected files hold the baseline kernel path's bits (scripts/update-expected-output forces it),
    // the same on every x86-64 machine.
    const Run r = run_attnviz(c.args, {{"ATTNVIZ_CPU", "baseline"}});
    REQUIRE(r.exit_code == 0);
    const std::string want = read_text(source_dir() / "tests/expected" / (c.name + ".txt"));
    CHECK(r.out == want);
    CHECK_FALSE(has_escape(r.out));
    CHECK(r.out.find("-0.000") == std::string::npos);
    // Every other path this CPU runs: the same text, up to one unit in a number's last printed digit.
    for (const auto* path : attnviz::kernels::available()) {
      INFO("kernel path " << path->name);
      const Run p = run_attnviz(c.args, {{"ATTNVIZ_CPU", path->name}});
      REQUIRE(p.exit_code == 0);
      CHECK(same_but_last_digit(p.out, want));
    }
  }
}

TEST_CASE("Output: the last-digit comparison of the kernel paths accepts rounding and nothing else", "[output][kernels]") {
  CHECK(same_but_last_digit("│ 0.857 │ x 1.0", "│ 0.858 │ x 1.0"));
  CHECK(same_but_last_digit("a -0.120 b", "a -0.119 b"));
  CHECK_FALSE(same_but_last_digit("│ 0.856 │", "│ 0.858 │"));
  CHECK_FALSE(same_but_last_digit("│ 0.85 │", "│ 0.858 │"));
  CHECK_FALSE(same_but_last_digit("│ 0.858 │ cat", "│ 0.858 │ dog"));
  CHECK_FALSE(same_but_last_digit("│ 0.858 │", "│ 0.858 │ 0.1"));
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
  const auto r = run_attnviz({"run", "the cat chased the mouse", "--stages", "embeddings", "--layout", "full"}, {{"COLUMNS", "50"}});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("columns 1–"));
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(attnviz::display_width(line) <= 50);
  }
}
