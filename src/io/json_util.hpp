// Reading our JSON input formats with errors that name the file, the field and what was expected.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "attnviz/matrix.hpp"

namespace attnviz::io {

using json = nlohmann::ordered_json;

// InputError when `path` is missing, a directory, a symlink loop or cannot be looked at ("WHAT 'PATH' ...").
void check_input_path(const std::filesystem::path& path, const std::string& what);

// The whole file as bytes; InputError when it is missing, a directory or unreadable.
std::string read_file(const std::filesystem::path& path, const std::string& what);

// Parses JSON text; a syntax error is an InputError with the line and column.
json parse_json(const std::string& text, const std::string& source);

// Checks `"format": expected` and `"version": 1` at the top of an object.
void check_header(const json& doc, const std::string& expected_format, const std::string& source);

const json& require(const json& obj, const std::string& key, const std::string& source);
std::string get_string(const json& obj, const std::string& key, const std::string& source,
                       std::optional<std::string> fallback = std::nullopt);
int get_positive_int(const json& obj, const std::string& key, const std::string& source);

// A finite float32 from a JSON number; `where` names it in the error ("W_q[2][3]").
float to_float(const json& value, const std::string& where, const std::string& source);

// rows × cols matrix of finite numbers (rows or cols < 0: any, but rectangular).
Matrix get_matrix(const json& value, const std::string& field, int rows, int cols, const std::string& source);
Vector get_vector(const json& value, const std::string& field, int size, const std::string& source);

}  // namespace attnviz::io
