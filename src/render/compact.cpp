// The compact layout of a matrix: one shaded cell per value, columns by number, so a whole attention
// pattern fits a projector's terminal (16 × 16 within 80 columns, 30 × 30 within 120). The numbers are one
// flag away (--layout full) and the weights' top keys are still listed under the table. The explorer draws
// its heatmap with it too, through a CompactView: a window of the matrix, a cursor cell, a hidden row.
#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "colormap.hpp"
#include "text_table.hpp"

namespace attnviz::render_detail {

namespace {

// Five levels, blank to full: a value's strength relative to the largest in the matrix.
constexpr std::array<std::string_view, 5> kUnicodeLevels{" ", "░", "▒", "▓", "█"};
constexpr std::array<std::string_view, 5> kAsciiLevels{" ", ".", ":", "+", "#"};

int digits(Eigen::Index n) { return n < 10 ? 1 : 1 + digits(n / 10); }

// The largest finite magnitude of the matrix (0 when none).
float largest(const Stage& stage) {
  float m = 0.0f;
  for (Eigen::Index r = 0; r < stage.data.rows(); ++r)
    for (Eigen::Index c = 0; c < stage.data.cols(); ++c)
      if (std::isfinite(stage.data(r, c))) m = std::max(m, std::fabs(stage.data(r, c)));
  return m;
}

// The row labels, "12 mickey", padded to one width; with a cursor, "▸ " marks its row and "  " the others.
std::vector<std::string> row_labels(const Stage& stage, const RenderOptions& options, const CompactView& view) {
  const Eigen::Index rows = stage.data.rows();
  const int index_width = digits(rows - 1);
  std::vector<std::string> labels;
  int width = 0;
  for (Eigen::Index r = 0; r < rows; ++r) {
    const std::string label = r < static_cast<Eigen::Index>(stage.row_labels.size()) ? stage.row_labels[static_cast<std::size_t>(r)] : "";
    std::string mark;
    if (view.cursor) mark = view.cursor->first == r ? (options.unicode ? "▸ " : "> ") : "  ";
    labels.push_back(fmt::format("{}{:>{}} {}", mark, r, index_width, fit_label(label, label_limit(options.width), options.unicode)));
    width = std::max(width, display_width(labels.back()));
  }
  for (auto& l : labels) l += std::string(static_cast<std::size_t>(width - display_width(l)), ' ');
  return labels;
}

CompactGeometry geometry_of(const Stage& stage, const RenderOptions& options, const std::vector<std::string>& labels) {
  CompactGeometry g;
  const auto cols = static_cast<int>(stage.data.cols());
  g.label_width = labels.empty() ? 0 : display_width(labels.front());
  const int room = options.width - g.label_width - 1;
  g.cell = room >= 3 * cols ? 3 : 2;
  g.per_block = std::max(1, room / g.cell);
  g.header_lines = digits(stage.data.cols() - 1);
  return g;
}

}  // namespace

CompactGeometry compact_geometry(const Stage& stage, const RenderOptions& options, const CompactView& view) {
  return geometry_of(stage, options, row_labels(stage, options, view));
}

std::string compact_grid(const Stage& stage, const ValueScale& scale, const RenderOptions& options, const CompactView& view) {
  const auto& levels = options.unicode ? kUnicodeLevels : kAsciiLevels;
  const std::string_view masked_glyph = options.unicode ? "×" : "x";
  const Eigen::Index rows = stage.data.rows(), cols = stage.data.cols();
  const float top = largest(stage);
  const std::vector<std::string> labels = row_labels(stage, options, view);
  const CompactGeometry g = geometry_of(stage, options, labels);
  // A window shows one block of its columns; without one, blocks of what fits the width.
  const bool window = view.cols > 0;
  const Eigen::Index per_block = window ? view.cols : g.per_block;
  const Eigen::Index col_begin = window ? view.col0 : 0, col_end = window ? std::min<Eigen::Index>(cols, view.col0 + view.cols) : cols;
  const Eigen::Index row_begin = view.rows > 0 ? view.row0 : 0, row_end = view.rows > 0 ? std::min<Eigen::Index>(rows, view.row0 + view.rows) : rows;

  auto strength = [&](float v) { return top > 0 ? std::min(1.0f, std::fabs(v) / top) : 0.0f; };
  // Colour follows the same per-matrix range: a probability by its share of the largest, a signed value by
  // its position on the diverging map (already relative to the largest magnitude).
  auto colour_t = [&](float v) { return scale.sequential ? strength(v) : scale.position(v); };
  // One cell's glyph(s), padded to the cell less its separator.
  auto glyph_of = [&](Eigen::Index r, float v) {
    std::string glyph;
    if (view.hidden_row && *view.hidden_row == r) glyph = "?";
    else if (!std::isfinite(v)) glyph = std::string(masked_glyph);
    else glyph = std::string(levels[static_cast<std::size_t>(std::lround(strength(v) * 4.0f))]);
    if (g.cell == 3) glyph += glyph == masked_glyph || glyph == "?" ? " " : glyph;
    return glyph;
  };
  const bool has_cursor = view.cursor.has_value();
  const Eigen::Index cursor_row = has_cursor ? view.cursor->first : -1, cursor_col = has_cursor ? view.cursor->second : -1;

  std::string out;
  const int column_digits = digits(cols - 1);
  for (Eigen::Index first = col_begin; first < col_end; first += per_block) {
    const Eigen::Index last = std::min(col_end, first + per_block);
    if (!window && per_block < cols)
      out += fmt::format("{}columns {}{}{} of {}\n", first ? "\n" : "", first, options.unicode ? "–" : "-", last - 1, cols);
    // The column numbers, one digit per line, over each cell.
    for (int d = column_digits - 1; d >= 0; --d) {
      std::string line(static_cast<std::size_t>(g.label_width + 1), ' ');
      for (Eigen::Index c = first; c < last; ++c) {
        const auto power = static_cast<Eigen::Index>(std::pow(10, d));
        const bool shown = c >= power || d == 0;
        line += shown ? std::to_string(c / power % 10) : " ";
        line += std::string(static_cast<std::size_t>(g.cell - 1), ' ');
      }
      line.erase(line.find_last_not_of(' ') + 1);
      out += line + "\n";
    }
    for (Eigen::Index r = row_begin; r < row_end; ++r) {
      std::string line = labels[static_cast<std::size_t>(r)];
      const bool cursor_row_here = r == cursor_row;
      for (Eigen::Index c = first; c < last; ++c) {
        const float v = stage.data(r, c);
        // The separator before the cell: "[" opens the cursor's cell, "]" closes the one before.
        line += cursor_row_here && c == cursor_col ? "[" : cursor_row_here && c == cursor_col + 1 ? "]" : " ";
        const bool hidden = view.hidden_row && *view.hidden_row == r;  // unpainted: its colour would tell
        line += hidden ? glyph_of(r, v) : paint_at(glyph_of(r, v), scale.map, std::isfinite(v) ? colour_t(v) : NAN, options.color);
      }
      if (cursor_row_here && cursor_col == last - 1) line += "]";
      line.erase(line.find_last_not_of(' ') + 1);
      out += line + "\n";
    }
  }
  return out;
}

std::string compact_legend(const Stage& stage, const ValueScale& scale, const RenderOptions& options, const CompactView& view) {
  const auto& levels = options.unicode ? kUnicodeLevels : kAsciiLevels;
  const std::string_view masked_glyph = options.unicode ? "×" : "x";
  const Eigen::Index cols = stage.data.cols();
  const float top = largest(stage);
  // What a cell means, and where the numbers are.
  auto number = [&](float v) { return format_number(v, options.precision, options.unicode); };
  std::string shades;
  for (std::size_t i = 1; i < levels.size(); ++i) shades += levels[i];
  std::string sign;
  if (!scale.sequential && options.color != ColorDepth::none) sign = " (colour keeps the sign)";
  else if (!scale.sequential && scale.min < 0) sign = " (signs: --layout full)";
  std::vector<std::string> items{fmt::format("compact: {} = {}up to {}, the largest in this matrix{}", shades,
                                             scale.sequential ? "" : "|value| ", number(top), sign)};
  items.push_back(fmt::format("blank = under {}", number(top / 8)));
  if (scale.any_masked) items.push_back(fmt::format("{} = masked", masked_glyph));
  if (view.hidden_row) items.push_back("? = hidden");
  items.push_back(scale.any_finite ? fmt::format("range: {} {} {}", number(scale.min), options.unicode ? "…" : "..", number(scale.max))
                                   : std::string("range: no finite values"));
  items.push_back(view.numbers);
  std::string out = join_wrapped(items, options.unicode ? " · " : "; ", options.width, 2);
  // The columns by name, when they are not the rows' words and say more than their number (q0, q1, …: the
  // header has them already). A window: its columns.
  const auto numbered = [&] {
    for (std::size_t c = 0; c < stage.col_labels.size(); ++c) {
      const std::string& label = stage.col_labels[c];
      const std::size_t digits_at = label.find_first_of("0123456789");
      if (digits_at == std::string::npos || label.substr(digits_at) != std::to_string(c)) return false;
    }
    return true;
  };
  if (stage.col_labels != stage.row_labels && !numbered()) {
    std::vector<std::string> names{"columns:"};
    const Eigen::Index begin = view.cols > 0 ? view.col0 : 0, end = view.cols > 0 ? std::min<Eigen::Index>(cols, view.col0 + view.cols) : cols;
    for (Eigen::Index c = begin; c < end; ++c)
      names.push_back(fmt::format("{} {}", c, fit_label(c < static_cast<Eigen::Index>(stage.col_labels.size()) ? stage.col_labels[static_cast<std::size_t>(c)] : "",
                                                        label_limit(options.width), options.unicode)));
    out += join_wrapped(names, "  ", options.width, 2);
  }
  return out;
}

std::string render_compact(const Stage& stage, const ValueScale& scale, const RenderOptions& options, const CompactView& view) {
  return compact_grid(stage, scale, options, view) + compact_legend(stage, scale, options, view);
}

}  // namespace attnviz::render_detail
