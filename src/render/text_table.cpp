#include "text_table.hpp"

#include <algorithm>

#include "attnviz/render.hpp"

namespace attnviz::render_detail {

std::string text_table(const std::vector<std::vector<std::string>>& rows, int indent, int width) {
  std::vector<int> widths;
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (widths.size() <= c) widths.push_back(0);
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  // The columns after the first, in blocks that fit `width` (each block repeats the first column); one block
  // when there is no width or the whole table fits.
  std::vector<std::pair<std::size_t, std::size_t>> blocks;  // [first, last) of the columns after column 0
  const int first_column = indent + (widths.empty() ? 0 : widths[0]);
  for (std::size_t c = 1; c < widths.size();) {
    std::size_t end = c;
    int used = first_column;
    while (end < widths.size() && (end == c || width <= 0 || used + 2 + widths[end] <= width)) used += 2 + widths[end++];
    blocks.emplace_back(c, end);
    c = end;
  }
  if (blocks.empty()) blocks.emplace_back(1, 1);
  std::string out;
  for (const auto& [begin, end] : blocks)
    for (const auto& row : rows) {
      std::string line(static_cast<std::size_t>(indent), ' ');
      auto cell = [&](std::size_t c) { return c < row.size() ? row[c] : std::string(); };
      auto pad = [&](std::size_t c) { return std::string(static_cast<std::size_t>(widths[c] - display_width(cell(c))), ' '); };
      if (!widths.empty()) line += cell(0) + pad(0);
      for (std::size_t c = begin; c < end; ++c) line += "  " + pad(c) + cell(c);
      line.erase(line.find_last_not_of(' ') + 1);
      out += line + "\n";
    }
  return out;
}

std::string join_wrapped(const std::vector<std::string>& items, const std::string& separator, int width, int indent) {
  std::string out, line;
  const std::string margin(static_cast<std::size_t>(indent), ' ');
  for (const auto& item : items) {
    if (!line.empty() && display_width(line) + display_width(separator) + display_width(item) > width) {
      out += line + "\n";
      line = margin + item;
    } else {
      line += (line.empty() ? "" : separator) + item;
    }
    // An item wider than the width on its own (the line holds only it, after the margin) breaks at its spaces;
    // its last piece stays the line, for the items after it.
    if (display_width(line) > width && item.find(' ') != std::string::npos) {
      std::string piece = line.substr(0, line.size() - item.size());  // the margin, or nothing
      bool empty = true;
      for (std::size_t at = 0; at <= item.size();) {
        const std::size_t end = std::min(item.find(' ', at), item.size());
        const std::string word = item.substr(at, end - at);
        at = end + 1;
        if (word.empty()) continue;
        if (!empty && display_width(piece) + 1 + display_width(word) > width) {
          out += piece + "\n";
          piece = margin;
          empty = true;
        }
        piece += (empty ? "" : " ") + word;
        empty = false;
      }
      line = piece;
    }
  }
  return out + line + "\n";
}

namespace {

// The words of `text` between its spaces, appended to `words`.
std::vector<std::string> add_words(std::vector<std::string> words, const std::string& text) {
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t end = std::min(text.find(' ', start), text.size());
    if (end > start) words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

}  // namespace

std::string hanging(const std::string& prefix, const std::string& text, int width) {
  return join_wrapped(add_words({prefix}, text), " ", width, display_width(prefix) + 1);
}

std::string wrap_text(const std::string& text, int width, int indent) { return join_wrapped(add_words({}, text), " ", width, indent); }

bool is_table_row(const std::string& line) {
  return line.rfind("   ", 0) == 0 && line.size() > 3 && line[3] != ' ' && line.find("  ", 3) != std::string::npos;
}

std::string wrap_indented(const std::string& line, int width) {
  const std::size_t indent = std::min(line.find_first_not_of(' '), line.size());
  const int room = std::max(8, width - static_cast<int>(indent));
  std::string out;
  const std::string wrapped = wrap_text(line.substr(indent), room, 3);
  for (std::size_t start = 0; start < wrapped.size();) {
    const std::size_t end = wrapped.find('\n', start);
    out += line.substr(0, indent) + wrapped.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string wrap_lines_to(const std::string& text, int width) {
  std::string out;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    const bool newline = end != std::string::npos;
    if (!newline) end = text.size();
    const std::string line = text.substr(start, end - start);
    std::string wrapped = display_width(line) <= width || is_table_row(line) ? line + "\n" : wrap_indented(line, width);
    if (!newline) wrapped.pop_back();
    out += wrapped;
    start = end + 1;
  }
  return out;
}

}  // namespace attnviz::render_detail
