// Every fuzz seed and every input a fuzzer ever crashed on, replayed through the same harness the fuzzer
// runs (fuzz/harnesses.cpp), in the normal and the sanitizer builds: a fixed crash stays fixed even where
// clang and libFuzzer are absent.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <catch2/catch.hpp>

#include "../fuzz/harnesses.hpp"
#include "../src/cli/cli.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using attnviz::fuzz::harnesses;

namespace {

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the harness on every file of fuzz/<folder>/<name>/; returns how many.
int replay(const std::string& folder, const attnviz::fuzz::NamedHarness& h) {
  const fs::path dir = fs::path(ATTNVIZ_SOURCE_DIR) / "fuzz" / folder / h.name;
  if (!fs::is_directory(dir)) return 0;
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    INFO(entry.path().string());
    CHECK_NOTHROW(h.run(bytes_of(entry.path())));
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("Fuzz: every seed of every harness passes its invariants", "[fuzz]") {
  REQUIRE(harnesses().size() == 6);
  for (const auto& h : harnesses()) {
    INFO("harness " << h.name);
    CHECK(replay("corpus", h) >= 4);  // each harness has a seed corpus
    CHECK(attnviz::fuzz::find_harness(h.name) == h.run);
  }
  CHECK(attnviz::fuzz::find_harness("no-such-harness") == nullptr);
}

TEST_CASE("Fuzz: every input a fuzzer crashed on is fixed", "[fuzz]") {
  int count = 0;
  for (const auto& h : harnesses()) count += replay("regressions", h);
  CHECK(count >= 1);
}

namespace {

// Standard output of `parser.execute()` after parsing `args`.
std::string output_of(attnviz::cli::Parser& parser, const std::vector<std::string>& args) {
  std::ostringstream captured;
  std::streambuf* const saved = std::cout.rdbuf(captured.rdbuf());
  int code = -1;
  if (const auto done = parser.parse(args)) {
    code = *done;
  } else {
    code = parser.execute();
  }
  std::cout.rdbuf(saved);
  CHECK(code == 0);
  return captured.str();
}

}  // namespace

TEST_CASE("Fuzz: a reused Parser forgets the options of the previous command line", "[fuzz][cli]") {
  // The command-line fuzzer parses millions of vectors with one Parser; each parse must start from the
  // defaults, exactly as a fresh process does.
  const std::vector<std::string> plain{"run", "the cat chased the mouse", "--stages", "weights", "--color", "never"};
  attnviz::cli::Parser fresh;
  const std::string expected = output_of(fresh, plain);
  REQUIRE(expected.find("weights P") != std::string::npos);

  attnviz::cli::Parser reused;
  const std::string causal = output_of(reused, {"run", "the cat chased the mouse", "--stages", "weights", "--color", "never", "--causal",
                                                "--temperature", "0.5", "--precision", "1", "--ascii"});
  CHECK(causal != expected);
  CHECK(output_of(reused, plain) == expected);
  CHECK(output_of(reused, {"the cat chased the mouse", "--stages", "weights", "--color", "never"}) == expected);
}
