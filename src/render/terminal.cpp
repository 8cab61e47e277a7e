// Terminal layout (docs/architecture.md): each stage as a titled, labelled table with numbers always printed,
// colour as a second channel (ansi.cpp) and glyph shading as a third. The policies: terminal_policy.cpp.
#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <string_view>

#include "attnviz/error.hpp"
#include "attnviz/render.hpp"
#include "ansi.hpp"
#include "colormap.hpp"

namespace attnviz {
namespace {

// ---------------------------------------------------------------------------------------------------
// Small string helpers

std::string repeat(std::string_view piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

std::string rstrip(std::string text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

using render_detail::fit;
using render_detail::map_name;
using render_detail::paint;
using render_detail::sanitize;
using render_detail::scale_of;
using render_detail::swatch_at;
using render_detail::swatch_of;
using render_detail::ValueScale;

std::string pad_left(const std::string& text, int width) {
  return std::string(static_cast<std::size_t>(std::max(0, width - display_width(text))), ' ') + text;
}

std::string pad_right(const std::string& text, int width) {
  return text + std::string(static_cast<std::size_t>(std::max(0, width - display_width(text))), ' ');
}

// ---------------------------------------------------------------------------------------------------
// The characters of each mode

struct Symbols {
  std::string_view horizontal, vertical;
  std::array<std::string_view, 3> top, middle, bottom;  // left corner, junction, right corner
  std::string_view ellipsis, separator, legend_separator, times, dots, arrow, dash, minus_infinity;
  std::array<std::string_view, 4> shades;  // light to dark
};

constexpr Symbols kUnicode{
    .horizontal = "─", .vertical = "│",
    .top = {"┌", "┬", "┐"}, .middle = {"├", "┼", "┤"}, .bottom = {"└", "┴", "┘"},
    .ellipsis = "…", .separator = " · ", .legend_separator = " · ", .times = "×", .dots = "…", .arrow = "→",
    .dash = "–", .minus_infinity = "−∞",
    .shades = {"░", "▒", "▓", "█"},
};

// ASCII separates legend items with "; " because " - " would read as a minus beside negative numbers.
constexpr Symbols kAscii{
    .horizontal = "-", .vertical = "|",
    .top = {"+", "+", "+"}, .middle = {"+", "+", "+"}, .bottom = {"+", "+", "+"},
    .ellipsis = "~", .separator = " - ", .legend_separator = "; ", .times = "x", .dots = "..", .arrow = "->",
    .dash = "-", .minus_infinity = "-inf",
    .shades = {".", ":", "+", "#"},
};

const Symbols& symbols(bool unicode) { return unicode ? kUnicode : kAscii; }

constexpr int kRampSwatches = 8;
constexpr float kInfinity = std::numeric_limits<float>::infinity();

// `items` joined by `separator` after `prefix`, broken into lines of at most `width` columns; a later
// line starts under the first item when the prefix is short, else two columns in. An item that fits on
// no line is cut.
std::string wrap_items(const std::string& prefix, const std::vector<std::string>& items,
                       std::string_view separator, int width, std::string_view ellipsis) {
  int prefix_width = display_width(prefix);
  int indent = prefix_width <= width / 2 ? prefix_width : 2;
  int separator_width = display_width(std::string(separator));
  std::string out;
  std::string line = prefix;
  int used = prefix_width;
  bool line_has_item = false;
  for (const auto& item : items) {
    int item_width = display_width(item);
    bool fits = used + (line_has_item ? separator_width : 0) + item_width <= width;
    if (!fits && (line_has_item || used > indent)) {  // a fresh line gives it more room
      out += rstrip(line) + "\n";
      line = std::string(static_cast<std::size_t>(indent), ' ');
      used = indent;
      line_has_item = false;
    }
    std::string piece = item;
    if (used + (line_has_item ? separator_width : 0) + item_width > width)
      piece = fit(item, std::max(1, width - used), ellipsis);
    if (line_has_item) {
      line += separator;
      used += separator_width;
    }
    line += piece;
    used += display_width(piece);
    line_has_item = true;
  }
  return out + rstrip(line) + "\n";
}

// ---------------------------------------------------------------------------------------------------
// Values to colours and shades

std::string_view shade(const ValueScale& scale, float value, const Symbols& sym) {
  if (!std::isfinite(value)) return " ";
  auto level = static_cast<std::size_t>(std::min(3.0f, std::floor(scale.magnitude(value) * 4.0f)));
  return sym.shades[level];
}

// Glyph shading is on when asked for, and always at 16 colours, whose palette the terminal may redefine.
bool shading_on(const RenderOptions& options) {
  return options.glyphs || options.color == ColorDepth::basic16;
}

// ---------------------------------------------------------------------------------------------------
// The table

std::string label_at(const std::vector<std::string>& labels, Eigen::Index i) {
  auto k = static_cast<std::size_t>(i);
  return k < labels.size() ? labels[k] : std::to_string(i);
}

// Everything the drawing needs, measured once: printed labels and numbers, and each column's width.
struct Table {
  std::vector<std::string> row_labels, col_labels;
  std::vector<std::vector<std::string>> numbers;  // [row][col], as printed
  int label_width = 0;
  std::vector<int> column_widths;  // content width: the number, plus " ▓" when shading
  int shade_width = 0;             // 2 when each cell carries a shading glyph
};

Table measure(const Stage& stage, const RenderOptions& options) {
  const Symbols& sym = symbols(options.unicode);
  Table t;
  t.shade_width = shading_on(options) ? 2 : 0;
  for (Eigen::Index r = 0; r < stage.data.rows(); ++r) {
    t.row_labels.push_back(fit(sanitize(label_at(stage.row_labels, r)), label_limit(options.width), sym.ellipsis));
    t.label_width = std::max(t.label_width, display_width(t.row_labels.back()));
    auto& row = t.numbers.emplace_back();
    for (Eigen::Index c = 0; c < stage.data.cols(); ++c)
      row.push_back(format_number(stage.data(r, c), options.precision, options.unicode));
  }
  for (Eigen::Index c = 0; c < stage.data.cols(); ++c) {
    t.col_labels.push_back(fit(sanitize(label_at(stage.col_labels, c)), label_limit(options.width), sym.ellipsis));
    int width = display_width(t.col_labels.back());
    for (const auto& row : t.numbers)
      width = std::max(width, display_width(row[static_cast<std::size_t>(c)]) + t.shade_width);
    t.column_widths.push_back(width);
  }
  return t;
}

struct Block {
  std::size_t first, last;  // columns [first, last)
};

// Columns grouped greedily into blocks no wider than `width`; each block repeats the row labels. A
// column too wide to fit even alone gets a block of its own.
std::vector<Block> column_blocks(const Table& t, int width) {
  const int labels = 1 + t.label_width + 3;  // "│ label │"
  std::vector<Block> blocks;
  for (std::size_t c = 0; c < t.column_widths.size();) {
    Block block{c, c + 1};
    int used = labels + t.column_widths[c] + 3;
    while (block.last < t.column_widths.size() && used + t.column_widths[block.last] + 3 <= width)
      used += t.column_widths[block.last++] + 3;
    blocks.push_back(block);
    c = block.last;
  }
  return blocks;
}

std::string block_header(Block block, std::size_t columns, const Symbols& sym) {
  if (block.last == block.first + 1) return fmt::format("column {} of {}", block.last, columns);
  return fmt::format("columns {}{}{} of {}", block.first + 1, sym.dash, block.last, columns);
}

std::string rule(const Table& t, Block block, const std::array<std::string_view, 3>& corners,
                 const Symbols& sym) {
  std::string line = std::string(corners[0]) + repeat(sym.horizontal, t.label_width + 2);
  for (std::size_t c = block.first; c < block.last; ++c)
    line += std::string(corners[1]) + repeat(sym.horizontal, t.column_widths[c] + 2);
  return line + std::string(corners[2]) + "\n";
}

std::string header_row(const Table& t, Block block, const Symbols& sym) {
  std::string line = std::string(sym.vertical) + " " + pad_right("", t.label_width) + " ";
  for (std::size_t c = block.first; c < block.last; ++c)
    line += std::string(sym.vertical) + " " + pad_left(t.col_labels[c], t.column_widths[c]) + " ";
  return line + std::string(sym.vertical) + "\n";
}

std::string data_row(const Stage& stage, const Table& t, const ValueScale& scale, Block block,
                     std::size_t r, const RenderOptions& options) {
  const Symbols& sym = symbols(options.unicode);
  std::string line = std::string(sym.vertical) + " " + pad_right(t.row_labels[r], t.label_width) + " ";
  for (std::size_t c = block.first; c < block.last; ++c) {
    float value = stage.data(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
    std::string cell(1, ' ');
    cell += pad_left(t.numbers[r][c], t.column_widths[c] - t.shade_width);
    if (t.shade_width > 0) (cell += ' ') += shade(scale, value, sym);
    cell += ' ';
    // The padding is painted too, so each cell reads as one coloured block.
    line += sym.vertical;
    line += paint(cell, swatch_of(scale, value), options.color);
  }
  return line + std::string(sym.vertical) + "\n";
}

std::string draw_block(const Stage& stage, const Table& t, const ValueScale& scale, Block block,
                       const RenderOptions& options) {
  const Symbols& sym = symbols(options.unicode);
  std::string out = rule(t, block, sym.top, sym) + header_row(t, block, sym) + rule(t, block, sym.middle, sym);
  for (std::size_t r = 0; r < t.numbers.size(); ++r) out += data_row(stage, t, scale, block, r, options);
  return out + rule(t, block, sym.bottom, sym);
}

// ---------------------------------------------------------------------------------------------------
// Title and legend

std::string title(const Stage& stage, int heads, const Symbols& sym, int width) {
  std::vector<std::string> items{stage.symbol.empty() ? stage.name : stage.name + " " + stage.symbol};
  if (stage.head)
    items.push_back(heads > 0 ? fmt::format("head {} of {}", *stage.head + 1, heads)
                              : fmt::format("head {}", *stage.head + 1));
  items.push_back(fmt::format("{} {} {}", stage.data.rows(), sym.times, stage.data.cols()));
  return wrap_items("", items, sym.separator, width, sym.ellipsis);
}

std::string axes(const Stage& stage, const Symbols& sym, int width) {
  return wrap_items("", {"rows: " + stage.row_axis, "columns: " + stage.col_axis}, sym.separator, width,
                    sym.ellipsis);
}

// Colour swatches from one end of the map to the other, each carrying its shade when shading is on.
std::string ramp(const ValueScale& scale, const RenderOptions& options) {
  const Symbols& sym = symbols(options.unicode);
  std::string out;
  for (int i = 0; i < kRampSwatches; ++i) {
    float t = (static_cast<float>(i) + 0.5f) / kRampSwatches;
    // The value at t, so the swatch's shade matches what a cell of that value shows.
    float value = scale.sequential ? t : (2 * t - 1) * scale.max_abs;
    std::string glyph = shading_on(options) ? std::string(shade(scale, value, sym)) : " ";
    out += paint(glyph, swatch_at(scale.map, t), options.color);
  }
  return out;
}

std::string legend(const ValueScale& scale, const RenderOptions& options) {
  const Symbols& sym = symbols(options.unicode);
  auto number = [&](float v) { return format_number(v, options.precision, options.unicode); };
  std::vector<std::string> items;
  bool colored = options.color != ColorDepth::none;
  if (colored && scale.sequential) {
    items.push_back(fmt::format("0 {} 1", ramp(scale, options)));
    items.emplace_back(map_name(scale.map, options.unicode));
  } else if (colored) {
    items.push_back(fmt::format("{} {} {}", number(-scale.max_abs), ramp(scale, options), number(scale.max_abs)));
    items.push_back(fmt::format("{}, centred at 0", map_name(scale.map, options.unicode)));
  }
  items.push_back(scale.any_finite ? fmt::format("range: {} {} {}", number(scale.min), sym.dots, number(scale.max))
                                   : std::string("range: no finite values"));
  if (!colored && shading_on(options)) {
    std::string shades = fmt::format("{}", fmt::join(sym.shades, ""));
    items.push_back(scale.sequential
                        ? fmt::format("shading: {} = 0 {} 1", shades, sym.arrow)
                        : fmt::format("shading: {} = |value| 0 {} {}", shades, sym.arrow, number(scale.max_abs)));
  }
  if (scale.any_masked)
    items.push_back(paint(std::string(sym.minus_infinity), swatch_of(scale, -kInfinity), options.color) +
                    " = masked");
  return wrap_items(colored ? "legend: " : "", items, sym.legend_separator, options.width, sym.ellipsis);
}

}  // namespace

// -------------------------------------------------------------------------------------------------------
// Rendering

std::string format_number(float value, int precision, bool unicode) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) {
    if (value > 0) return unicode ? "∞" : "inf";
    return unicode ? "−∞" : "-inf";
  }
  std::string text = fmt::format("{:.{}f}", value, std::clamp(precision, 0, 9));
  // A tiny negative rounds to "-0.000", which claims a sign the printed digits cannot show.
  if (text.front() == '-' && text.find_first_not_of("0.", 1) == std::string::npos) text.erase(0, 1);
  return text;
}

std::string render_stage(const Stage& stage, int heads, const RenderOptions& options) {
  const Symbols& sym = symbols(options.unicode);
  std::string out = title(stage, heads, sym, options.width) + axes(stage, sym, options.width);
  if (stage.data.rows() == 0 || stage.data.cols() == 0) return out + "(empty)\n";

  ValueScale scale = scale_of(stage, options.palette);
  Table table = measure(stage, options);
  auto blocks = column_blocks(table, options.width);
  if (options.layout == Layout::compact || (options.layout == Layout::automatic && blocks.size() > 1))
    return out + render_detail::render_compact(stage, scale, options);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    if (blocks.size() > 1) {
      if (b > 0) out += "\n";
      out += wrap_items("", {block_header(blocks[b], table.column_widths.size(), sym)}, sym.separator,
                        options.width, sym.ellipsis);
    }
    out += draw_block(stage, table, scale, blocks[b], options);
  }
  return out + legend(scale, options);
}

Layout parse_layout(const std::string& name) {
  if (name == "auto") return Layout::automatic;
  if (name == "full") return Layout::full;
  if (name == "compact") return Layout::compact;
  throw InputError(fmt::format("--layout must be auto, full or compact, got '{}'", name));
}

int label_limit(int width) { return std::clamp(width / 8, 12, 40); }

std::string render_tokens(const std::vector<std::string>& tokens, const RenderOptions& options) {
  std::vector<std::string> items;
  for (std::size_t i = 0; i < tokens.size(); ++i) items.push_back(fmt::format("{} {}", i, sanitize(tokens[i])));
  const Symbols& sym = symbols(options.unicode);
  return wrap_items(fmt::format("tokens ({}): ", tokens.size()), items, sym.separator, options.width, sym.ellipsis);
}

namespace render_detail {

std::string fit_label(std::string_view text, int width, bool unicode) { return fit(sanitize(text), width, symbols(unicode).ellipsis); }

}  // namespace render_detail

}  // namespace attnviz
