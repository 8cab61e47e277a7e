// Test helpers for checking printed numbers against a trace exported with --json.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnviz/matrix.hpp"
#include "attnviz/render.hpp"

namespace attnviz::test {

// A row of trace_stage as a vector.
inline Vector row_vector(const std::vector<float>& v) {
  Vector out(static_cast<Eigen::Index>(v.size()));
  for (std::size_t c = 0; c < v.size(); ++c) out(static_cast<Eigen::Index>(c)) = v[c];
  return out;
}

// Stage `name` (of `head`, or the head-less one when head < 0) of an exported trace, as float rows (null:
// −∞). The JSON numbers read back as the same float32 (docs/formats.md).
inline std::vector<std::vector<float>> trace_stage(const nlohmann::json& trace, const std::string& name, int head = -1) {
  for (const auto& s : trace.at("stages"))
    if (s.at("name") == name && (head < 0 ? s.at("head").is_null() : s.at("head") == head)) {
      std::vector<std::vector<float>> rows;
      for (const auto& r : s.at("data")) {
        rows.emplace_back();
        for (const auto& v : r)
          rows.back().push_back(v.is_null() ? -std::numeric_limits<float>::infinity() : v.get<float>());
      }
      return rows;
    }
  throw std::runtime_error("trace has no stage " + name);
}

// How many digits follow the decimal point of a printed number ("0.123" -> 3; "1" -> 0).
inline int decimals_of(const std::string& printed) {
  auto dot = printed.find('.');
  return dot == std::string::npos ? 0 : static_cast<int>(printed.size() - dot - 1);
}

// `value` formatted as attnviz prints it, with as many decimals as `printed` shows.
inline std::string same_digits(float value, const std::string& printed) {
  return format_number(value, decimals_of(printed), true);
}

// Every number printed on `line`: "1.234", "-0.5", "−∞" (a number here has a decimal point; "√8" and
// "head 2" are not numbers).
inline std::vector<std::string> numbers_in(const std::string& line) {
  static const std::string minus_infinity = "−∞";
  auto digit = [&](std::size_t i) { return i < line.size() && line[i] >= '0' && line[i] <= '9'; };
  std::vector<std::string> out;
  for (std::size_t i = 0; i < line.size();) {
    if (line.compare(i, minus_infinity.size(), minus_infinity) == 0) {
      out.push_back(minus_infinity);
      i += minus_infinity.size();
      continue;
    }
    std::size_t j = i + (line[i] == '-' ? 1 : 0);
    if (!digit(j) || (i > 0 && (digit(i - 1) || line[i - 1] == '.'))) {
      ++i;
      continue;
    }
    while (digit(j)) ++j;
    if (j < line.size() && line[j] == '.' && digit(j + 1)) {
      ++j;
      while (digit(j)) ++j;
      out.push_back(line.substr(i, j - i));
    }
    i = j;
  }
  return out;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace attnviz::test
