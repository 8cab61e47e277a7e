// The compact layout of a matrix: one shaded cell per value, columns by number, so a whole attention
// pattern fits a projector's terminal (16 × 16 within 80 columns, 30 × 30 within 120). The numbers are one
// flag away (--layout full) and the weights' top keys are still listed under the table.
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

struct Grid {
  int label_width = 0;  // "12 mickey"
  int cell = 3;         // columns per cell: two glyphs and a space, or one and a space
  std::vector<std::string> labels;
};

}  // namespace

std::string render_compact(const Stage& stage, const ValueScale& scale, const RenderOptions& options) {
  const auto& levels = options.unicode ? kUnicodeLevels : kAsciiLevels;
  const std::string_view masked_glyph = options.unicode ? "×" : "x";
  const Eigen::Index rows = stage.data.rows(), cols = stage.data.cols();
  const float top = largest(stage);

  Grid g;
  const int index_width = digits(rows - 1);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const std::string label = r < static_cast<Eigen::Index>(stage.row_labels.size()) ? stage.row_labels[static_cast<std::size_t>(r)] : "";
    g.labels.push_back(fmt::format("{:>{}} {}", r, index_width, fit_label(label, label_limit(options.width), options.unicode)));
    g.label_width = std::max(g.label_width, display_width(g.labels.back()));
  }
  for (auto& l : g.labels) l += std::string(static_cast<std::size_t>(g.label_width - display_width(l)), ' ');
  const int room = options.width - g.label_width - 1;
  g.cell = room >= 3 * cols ? 3 : 2;
  const auto per_block = static_cast<Eigen::Index>(std::max(1, room / g.cell));

  auto strength = [&](float v) { return top > 0 ? std::min(1.0f, std::fabs(v) / top) : 0.0f; };
  // Colour follows the same per-matrix range: a probability by its share of the largest, a signed value by
  // its position on the diverging map (already relative to the largest magnitude).
  auto colour_t = [&](float v) { return scale.sequential ? strength(v) : scale.position(v); };

  std::string out;
  const int column_digits = digits(cols - 1);
  for (Eigen::Index first = 0; first < cols; first += per_block) {
    const Eigen::Index last = std::min(cols, first + per_block);
    if (per_block < cols)
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
    for (Eigen::Index r = 0; r < rows; ++r) {
      std::string line = g.labels[static_cast<std::size_t>(r)] + " ";
      for (Eigen::Index c = first; c < last; ++c) {
        const float v = stage.data(r, c);
        std::string glyph;
        if (!std::isfinite(v)) {
          glyph = std::string(masked_glyph);
        } else {
          const auto level = static_cast<std::size_t>(std::lround(strength(v) * 4.0f));
          glyph = std::string(levels[level]);
        }
        if (g.cell == 3) glyph += glyph == masked_glyph ? " " : glyph;
        line += paint_at(glyph, scale.map, std::isfinite(v) ? colour_t(v) : NAN, options.color) + " ";
      }
      line.erase(line.find_last_not_of(' ') + 1);
      out += line + "\n";
    }
  }

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
  items.push_back(scale.any_finite ? fmt::format("range: {} {} {}", number(scale.min), options.unicode ? "…" : "..", number(scale.max))
                                   : std::string("range: no finite values"));
  items.push_back("numbers: --layout full");
  out += join_wrapped(items, options.unicode ? " · " : "; ", options.width, 2);
  // The columns by name, when they are not the rows' words.
  if (stage.col_labels != stage.row_labels) {
    std::vector<std::string> names{"columns:"};
    for (Eigen::Index c = 0; c < cols; ++c)
      names.push_back(fmt::format("{} {}", c, fit_label(c < static_cast<Eigen::Index>(stage.col_labels.size()) ? stage.col_labels[static_cast<std::size_t>(c)] : "",
                                                        label_limit(options.width), options.unicode)));
    out += join_wrapped(names, "  ", options.width, 2);
  }
  return out;
}

}  // namespace attnviz::render_detail
