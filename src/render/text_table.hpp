// A plain aligned table (no colour, no borders) for the classroom views: explain, compare, neighbours.
#pragma once

#include <string>
#include <vector>

namespace attnviz::render_detail {

// Rows of cells, the first row the header; the first column left-aligned, the others right-aligned; each
// line indented by `indent` spaces. Widths are measured in terminal columns (UTF-8 aware). A table wider than
// `width` (when > 0) is printed in blocks of columns that fit, each repeating the first column.
std::string text_table(const std::vector<std::vector<std::string>>& rows, int indent, int width = 0);

// `items` joined by `separator`, starting a new line (indented by `indent` spaces) where the next item would
// pass `width`; an item wider than the width on its own is broken at its spaces.
std::string join_wrapped(const std::vector<std::string>& items, const std::string& separator, int width, int indent = 0);

// `prefix` then `text`, the text's words wrapped to `width` and continued under its first word (a label and
// its list: "  before:  mouse 1.000, motion 0.894, …").
std::string hanging(const std::string& prefix, const std::string& text, int width);

// A row of text_table indented by 3 (its cells apart by at least two spaces): tables are never re-wrapped.
bool is_table_row(const std::string& line);

// Every line of `text` wider than `width` wrapped at its spaces, keeping its indentation, continuations 3
// columns deeper; table rows (is_table_row) are kept whole. Ends in a newline when `text` does.
std::string wrap_lines_to(const std::string& text, int width);

// One line wrapped at its spaces to `width`, keeping its indentation, continuations 3 columns deeper.
std::string wrap_indented(const std::string& line, int width);

// Prose wrapped at its spaces (continuation lines indented by `indent` spaces), ending in a newline.
std::string wrap_text(const std::string& text, int width, int indent = 0);

}  // namespace attnviz::render_detail
