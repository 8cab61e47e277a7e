// Element-by-element comparison of a backend's stages with the Eigen reference (STYLE.md 2): absolute +
// relative tolerance, masked cells (−∞ in the reference) skipped, the first mismatches printed.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "attnviz/matrix.hpp"
#include "attnviz/trace.hpp"

namespace attnviz::test {

struct Tolerance {
  float abs = 1e-5f;
  float rel = 1e-4f;
};

struct Comparison {
  long long checked = 0;         // cells compared
  long long skipped = 0;         // masked cells (−∞ in the reference, and in the result)
  long long mismatches = 0;
  std::vector<std::string> first;  // the first mismatches, "[row][col] got … want …"
  bool ok() const { return mismatches == 0; }
};

// |got − want| ≤ abs + rel · |want| for every cell; a −∞ reference cell must be −∞ in `got` and is not
// compared further; NaN anywhere is a mismatch. A shape difference is one mismatch.
inline Comparison compare_matrices(const Matrix& got, const Matrix& want, Tolerance tol = {}, std::size_t max_listed = 5) {
  Comparison c;
  if (got.rows() != want.rows() || got.cols() != want.cols()) {
    c.mismatches = 1;
    c.first.push_back(fmt::format("shape {} × {}, want {} × {}", got.rows(), got.cols(), want.rows(), want.cols()));
    return c;
  }
  for (Eigen::Index i = 0; i < want.rows(); ++i)
    for (Eigen::Index j = 0; j < want.cols(); ++j) {
      const float g = got(i, j), w = want(i, j);
      bool bad;
      if (std::isinf(w) && w < 0) {
        bad = !(std::isinf(g) && g < 0);
        if (!bad) {
          ++c.skipped;
          continue;
        }
      } else {
        bad = !(std::fabs(g - w) <= tol.abs + tol.rel * std::fabs(w));  // NaN compares false: a mismatch
      }
      ++c.checked;
      if (!bad) continue;
      ++c.mismatches;
      if (c.first.size() < max_listed) c.first.push_back(fmt::format("[{}][{}] got {:.9g} want {:.9g}", i, j, g, w));
    }
  return c;
}

// Every stage of `got` against the stage of the same name and head in `want` (stages `got` lacks, like the
// n × n ones of a flash backend, are not compared). Empty when all match; otherwise one line per
// mismatching stage with its first mismatches, to print.
inline std::string compare_traces(const std::vector<Stage>& got, const std::vector<Stage>& want, Tolerance tol = {}) {
  std::string report;
  for (const Stage& g : got) {
    const Stage* w = nullptr;
    for (const Stage& s : want)
      if (s.name == g.name && s.head == g.head) w = &s;
    const std::string name = g.head ? fmt::format("{} (head {})", g.name, *g.head) : g.name;
    if (!w) {
      report += fmt::format("{}: not in the reference\n", name);
      continue;
    }
    const Comparison c = compare_matrices(g.data, w->data, tol);
    if (c.ok()) continue;
    report += fmt::format("{}: {} of {} cells differ:", name, c.mismatches, c.checked);
    for (const auto& m : c.first) report += " " + m + ";";
    report += "\n";
  }
  return report;
}

}  // namespace attnviz::test
