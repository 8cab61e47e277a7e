// Reading our JSON input formats with errors that name the file, the field and what was expected.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "attnviz/matrix.hpp"

namespace attnviz::io {

using json = nlohmann::ordered_json;

// InputError when `path` is missing, a directory, a symlink loop or cannot be looked at ("WHAT 'PATH' ...").
void check_input_path(const std::filesystem::path& path, const std::string& what);

// InputError "SOURCE: UTF-16 is not supported; save as UTF-8" when `head`, a file's first bytes, starts with
// a UTF-16 byte order mark or pairs ASCII with NUL bytes.
void check_not_utf16(std::string_view head, const std::string& source);

// The whole file as bytes; InputError when it is missing, a directory or unreadable, UTF-16, holds a NUL
// byte (not JSON text), or when it and its parsed document would exceed --max-memory (limits.hpp): a regular
// file is refused by its size before it is read, a pipe or device once that much has been read.
std::string read_file(const std::filesystem::path& path, const std::string& what);

// Parses JSON text; a syntax error is an InputError with the line and column, a key that appears twice in
// one object an InputError naming the key and where it is (the schemas and scripts/validate.py refuse them).
json parse_json(const std::string& text, const std::string& source);

// A JSON string as it may be shown: quoted, with control characters and quotes escaped (\u001b).
std::string quoted_key(const std::string& key);

// InputError naming the first field of `obj` that is not in `allowed` ("unknown field"); `where` says which
// object it is ("" for the top, " in blocks[0]").
void check_fields(const json& obj, std::initializer_list<std::string_view> allowed, const std::string& source,
                  const std::string& where = "");

// Checks `"format": expected` and `"version": 1` at the top of an object.
void check_header(const json& doc, const std::string& expected_format, const std::string& source);

const json& require(const json& obj, const std::string& key, const std::string& source);
std::string get_string(const json& obj, const std::string& key, const std::string& source,
                       std::optional<std::string> fallback = std::nullopt);
// A string field that must not be empty ("name").
std::string get_nonempty_string(const json& obj, const std::string& key, const std::string& source);
int get_positive_int(const json& obj, const std::string& key, const std::string& source);

// A finite float32 from a JSON number; `where` names it in the error ("W_q[2][3]").
float to_float(const json& value, const std::string& where, const std::string& source);

// rows × cols matrix of finite numbers (rows or cols < 0: any, but rectangular).
Matrix get_matrix(const json& value, const std::string& field, int rows, int cols, const std::string& source);
Vector get_vector(const json& value, const std::string& field, int size, const std::string& source);

}  // namespace attnviz::io
