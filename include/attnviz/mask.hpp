// The --mask file: a JSON array of n rows of m numbers, each 1 (query i may attend to key j) or 0 (masked).
#pragma once

#include <filesystem>
#include <string>

#include "attnviz/matrix.hpp"

namespace attnviz {

// Parses mask text; every fault is an InputError naming `source` and the cell. The shape is checked
// against the sentence later (allowed_cells in attention.hpp), where n and m are known.
Matrix parse_mask(const std::string& text, const std::string& source);
Matrix load_mask(const std::filesystem::path& path);

}  // namespace attnviz
