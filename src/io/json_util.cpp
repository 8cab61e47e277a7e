#include "json_util.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "attnviz/error.hpp"

namespace attnviz::io {

void check_input_path(const std::filesystem::path& path, const std::string& what) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found)
    throw InputError(fmt::format("{} '{}' does not exist", what, path.string()));
  if (ec)  // a symlink loop, a folder that cannot be searched
    throw InputError(fmt::format("cannot read {} '{}': {}", what, path.string(), ec.message()));
  if (status.type() == std::filesystem::file_type::directory)
    throw InputError(fmt::format("{} '{}' is a directory, not a file", what, path.string()));
}

std::string read_file(const std::filesystem::path& path, const std::string& what) {
  check_input_path(path, what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("cannot read {} '{}': permission denied or unreadable", what, path.string()));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("cannot read {} '{}'", what, path.string()));
  return s.str();
}

namespace {

// 1-based line and column of a byte offset.
std::pair<std::size_t, std::size_t> line_column(const std::string& text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

std::string type_name(const json& v) {
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  if (v.is_boolean()) return "a boolean";
  return "null";
}

}  // namespace

json parse_json(const std::string& text, const std::string& source) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    auto [line, column] = line_column(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string why = e.what();
    if (auto p = why.find("syntax error"); p != std::string::npos) why = why.substr(p);
    throw InputError(fmt::format("{}: malformed JSON at line {}, column {}: {}", source, line, column, why));
  } catch (const json::out_of_range& e) {
    // The only out_of_range a parse raises: a number beyond double ("1e999").
    std::string why = e.what();
    if (auto p = why.find("number overflow"); p != std::string::npos) why = why.substr(p);
    throw InputError(fmt::format("{}: a number is too large to be a finite float32: {}", source, why));
  }
}

void check_header(const json& doc, const std::string& expected_format, const std::string& source) {
  if (!doc.is_object()) throw InputError(fmt::format("{}: expected a JSON object at the top, found {}", source, type_name(doc)));
  auto format = doc.find("format");
  if (format == doc.end())
    throw InputError(fmt::format("{}: missing field \"format\" (expected \"{}\")", source, expected_format));
  if (!format->is_string() || format->get<std::string>() != expected_format)
    throw InputError(fmt::format("{}: field \"format\" is {}, expected \"{}\"", source, format->dump(), expected_format));
  auto version = doc.find("version");
  if (version == doc.end()) throw InputError(fmt::format("{}: missing field \"version\" (expected 1)", source));
  if (!version->is_number_integer() || version->get<long long>() != 1)
    throw InputError(fmt::format("{}: unsupported \"version\" {} (this attnviz reads version 1)", source, version->dump()));
}

const json& require(const json& obj, const std::string& key, const std::string& source) {
  auto it = obj.find(key);
  if (it == obj.end()) throw InputError(fmt::format("{}: missing field \"{}\"", source, key));
  return *it;
}

std::string get_string(const json& obj, const std::string& key, const std::string& source,
                       std::optional<std::string> fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (fallback) return *fallback;
    throw InputError(fmt::format("{}: missing field \"{}\"", source, key));
  }
  if (!it->is_string()) throw InputError(fmt::format("{}: field \"{}\" must be a string, found {}", source, key, type_name(*it)));
  return it->get<std::string>();
}

int get_positive_int(const json& obj, const std::string& key, const std::string& source) {
  const json& v = require(obj, key, source);
  if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 1'000'000)
    throw InputError(fmt::format("{}: field \"{}\" must be a positive integer, found {}", source, key, v.dump()));
  return static_cast<int>(v.get<long long>());
}

float to_float(const json& value, const std::string& where, const std::string& source) {
  if (!value.is_number())
    throw InputError(fmt::format("{}: {} must be a number, found {}", source, where, type_name(value)));
  double d = value.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max()))
    throw InputError(fmt::format("{}: {} is not a finite float32 number ({})", source, where, value.dump()));
  return static_cast<float>(d);
}

Matrix get_matrix(const json& value, const std::string& field, int rows, int cols, const std::string& source) {
  if (!value.is_array()) throw InputError(fmt::format("{}: \"{}\" must be an array of rows, found {}", source, field, type_name(value)));
  const int found_rows = static_cast<int>(value.size());
  if (found_rows == 0) throw InputError(fmt::format("{}: \"{}\" is empty", source, field));
  const json& first = value[0];
  const int found_cols = first.is_array() ? static_cast<int>(first.size()) : -1;
  if (found_cols < 0) throw InputError(fmt::format("{}: \"{}\"[0] must be an array of numbers, found {}", source, field, type_name(first)));
  if ((rows >= 0 && found_rows != rows) || (cols >= 0 && found_cols != cols))
    throw InputError(fmt::format("{}: \"{}\" has shape {} × {}, expected {} × {}", source, field, found_rows, found_cols,
                                 rows >= 0 ? std::to_string(rows) : "any", cols >= 0 ? std::to_string(cols) : "any"));
  Matrix m(found_rows, found_cols);
  for (int r = 0; r < found_rows; ++r) {
    const json& row = value[static_cast<std::size_t>(r)];
    if (!row.is_array() || static_cast<int>(row.size()) != found_cols)
      throw InputError(fmt::format("{}: \"{}\" row {} has {} entries, expected {}", source, field, r,
                                   row.is_array() ? std::to_string(row.size()) : type_name(row), found_cols));
    for (int c = 0; c < found_cols; ++c)
      m(r, c) = to_float(row[static_cast<std::size_t>(c)], fmt::format("\"{}\"[{}][{}]", field, r, c), source);
  }
  return m;
}

Vector get_vector(const json& value, const std::string& field, int size, const std::string& source) {
  if (!value.is_array()) throw InputError(fmt::format("{}: \"{}\" must be an array of numbers, found {}", source, field, type_name(value)));
  if (size >= 0 && static_cast<int>(value.size()) != size)
    throw InputError(fmt::format("{}: \"{}\" has {} entries, expected {}", source, field, value.size(), size));
  Vector v(static_cast<Eigen::Index>(value.size()));
  for (std::size_t i = 0; i < value.size(); ++i)
    v(static_cast<Eigen::Index>(i)) = to_float(value[i], fmt::format("\"{}\"[{}]", field, i), source);
  return v;
}

}  // namespace attnviz::io
