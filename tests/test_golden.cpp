// Golden files: every stage of `attnviz run` against an independent PyTorch implementation
// (tests/golden/README.md; regenerate with `/usr/bin/python3 tests/golden/make_golden.py`).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using attnviz::test::read_text;
using attnviz::test::run_attnviz;
using attnviz::test::source_dir;
using attnviz::test::TempDir;

namespace {

// The goldens are float64 results rounded to float32; attnviz computes in float32. A float32 run of the
// same math uses at most ~0.15 of this tolerance on these cases (tests/golden/make_golden.py checks that).
constexpr double kTolerance = 1e-5;
constexpr int kGoldenVersion = 1;
constexpr std::size_t kMismatchesShown = 5;

std::vector<fs::path> golden_cases() {
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(source_dir() / "tests" / "golden"))
    if (entry.is_directory() && fs::exists(entry.path() / "expected.json")) cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::string stage_id(const json& stage) {
  std::string id = stage.at("name").get<std::string>();
  if (!stage.at("head").is_null()) id += " head " + std::to_string(stage.at("head").get<int>());
  return id;
}

// The stage of `trace` with the same name and head as `want`; nullptr when absent.
const json* find_stage(const json& trace, const json& want) {
  for (const auto& s : trace.at("stages"))
    if (s.value("name", "") == want.at("name") && s.value("head", json()) == want.at("head")) return &s;
  return nullptr;
}

// Compares one stage element by element. Returns an empty string when it matches, else a report of the
// shape difference or the first mismatches (row, col, got, want) and how many there are.
std::string compare_stage(const json& got, const json& want) {
  std::ostringstream report;
  report.precision(9);
  if (got.at("shape") != want.at("shape")) {
    report << "shape " << got.at("shape").dump() << ", want " << want.at("shape").dump();
    return report.str();
  }
  const auto rows = want.at("shape")[0].get<std::size_t>();
  const auto cols = want.at("shape")[1].get<std::size_t>();
  const json& g = got.at("data");
  const json& w = want.at("data");
  if (!g.is_array() || g.size() != rows) return "data does not have " + std::to_string(rows) + " rows";
  std::size_t mismatches = 0;
  double worst = 0.0;
  for (std::size_t i = 0; i < rows; ++i) {
    if (!g[i].is_array() || g[i].size() != cols)
      return "data row " + std::to_string(i) + " does not have " + std::to_string(cols) + " entries";
    for (std::size_t j = 0; j < cols; ++j) {
      const json& a = g[i][j];
      const json& b = w[i][j];
      bool ok;
      if (b.is_null() || a.is_null()) {
        ok = a.is_null() && b.is_null();  // masked must match masked
      } else {
        const double x = a.get<double>(), y = b.get<double>();
        const double err = std::abs(x - y), allowed = kTolerance * std::max(1.0, std::abs(y));
        ok = err <= allowed;
        worst = std::max(worst, err / allowed);
      }
      if (!ok && mismatches++ < kMismatchesShown)
        report << "  (" << i << ", " << j << "): got " << a.dump() << ", want " << b.dump() << "\n";
    }
  }
  if (mismatches == 0) return "";
  std::ostringstream head;
  head << mismatches << " of " << rows * cols << " elements differ (the worst number uses " << worst
       << " × the tolerance 1e-5·max(1,|want|)); first ones:\n";
  return head.str() + report.str();
}

}  // namespace

TEST_CASE("Golden: every stage of the golden cases matches PyTorch", "[golden]") {
  const auto cases = golden_cases();
  REQUIRE(cases.size() >= 8);

  for (const auto& dir : cases) {
    const std::string name = dir.filename().string();
    DYNAMIC_SECTION("case " << name) {
      INFO("golden case " << dir.string() << " (regenerate: /usr/bin/python3 tests/golden/make_golden.py)");
      const json c = json::parse(read_text(dir / "case.json"));
      const json expected = json::parse(read_text(dir / "expected.json"));
      REQUIRE(expected.at("format") == "attnviz-golden");
      REQUIRE(expected.at("version") == kGoldenVersion);

      TempDir tmp;
      const fs::path trace_path = tmp.path() / "trace.json";
      std::vector<std::string> args{"run",     c.at("sentence").get<std::string>(),
                                    "--embeddings", (dir / "embeddings.json").string(),
                                    "--model", (dir / "model.json").string(),
                                    "--json",  trace_path.string(),
                                    "--color", "never"};
      // An argument naming a file of the case's folder (a --mask file) is resolved there.
      for (const auto& a : c.at("args")) {
        const auto arg = a.get<std::string>();
        args.push_back(arg.ends_with(".json") && fs::exists(dir / arg) ? (dir / arg).string() : arg);
      }
      std::string command = "attnviz";
      for (const auto& a : args) command += a.find(' ') == std::string::npos ? " " + a : " \"" + a + "\"";
      INFO("command: " << command);

      const auto run = run_attnviz(args);
      INFO("stderr: " << run.err);
      REQUIRE(run.exit_code == 0);
      REQUIRE(fs::exists(trace_path));
      const json trace = json::parse(read_text(trace_path));

      CHECK(trace.at("tokens") == expected.at("tokens"));
      CHECK(trace.at("config").at("heads") == c.at("heads"));
      CHECK(trace.at("config").at("causal") == c.at("causal"));
      if (c.contains("context_tokens")) CHECK(trace.at("context_tokens") == c.at("context_tokens"));

      for (const auto& want : expected.at("stages")) {
        const std::string id = stage_id(want);
        const json* got = find_stage(trace, want);
        if (got == nullptr) {
          FAIL_CHECK(name << ": the trace has no stage " << id);
          continue;
        }
        const std::string report = compare_stage(*got, want);
        if (!report.empty()) FAIL_CHECK(name << ": stage " << id << ": " << report);
      }
    }
  }
}
