#include "text_table.hpp"

#include <algorithm>

#include "attnviz/render.hpp"

namespace attnviz::render_detail {

std::string text_table(const std::vector<std::vector<std::string>>& rows, int indent) {
  std::vector<int> width;
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], display_width(row[c]));
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line(static_cast<std::size_t>(indent), ' ');
    for (std::size_t c = 0; c < row.size(); ++c) {
      const auto pad = static_cast<std::size_t>(width[c] - display_width(row[c]));
      if (c == 0)
        line += row[c] + std::string(pad, ' ');
      else
        line += "  " + std::string(pad, ' ') + row[c];
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string join_wrapped(const std::vector<std::string>& items, const std::string& separator, int width, int indent) {
  std::string out, line;
  for (const auto& item : items) {
    if (!line.empty() && display_width(line) + display_width(separator) + display_width(item) > width) {
      out += line + "\n";
      line = std::string(static_cast<std::size_t>(indent), ' ') + item;
    } else {
      line += (line.empty() ? "" : separator) + item;
    }
  }
  return out + line + "\n";
}

std::string wrap_text(const std::string& text, int width, int indent) {
  std::vector<std::string> words;
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return join_wrapped(words, " ", width, indent);
}

}  // namespace attnviz::render_detail
