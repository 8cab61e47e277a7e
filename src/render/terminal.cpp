// Terminal rendering (docs/architecture.md): the colour, locale and width policies, and each stage as a titled,
// labelled table with numbers always printed, colour as a second channel and glyph shading as a third.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <limits>
#include <string_view>

#include "attnviz/error.hpp"
#include "attnviz/render.hpp"
#include "colormap.hpp"

namespace attnviz {
namespace {

// ---------------------------------------------------------------------------------------------------
// Small string helpers

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool non_empty(const std::optional<std::string>& value) { return value && !value->empty(); }

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::optional<std::string>(value) : std::nullopt;
}

std::string repeat(std::string_view piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

std::string rstrip(std::string text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// ---------------------------------------------------------------------------------------------------
// UTF-8 and terminal columns

struct CodePoint {
  char32_t value = 0;
  std::size_t length = 1;
  bool valid = false;
};

CodePoint decode_utf8(std::string_view s, std::size_t i) {
  auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return {lead, 1, true};
  std::size_t length = lead >= 0xF5 ? 0 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || i + length > s.size()) return {};
  auto value = static_cast<char32_t>(lead & (0x7F >> length));
  for (std::size_t k = 1; k < length; ++k) {
    auto next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xC0) != 0x80) return {};
    value = (value << 6) | (next & 0x3Fu);
  }
  return {value, length, true};
}

struct Range {
  char32_t first, last;
};

// Zero-width code points: combining marks, zero-width spaces and joiners, variation selectors.
constexpr std::array<Range, 9> kZeroWidth{{{0x0300, 0x036F}, {0x0483, 0x0489}, {0x1AB0, 0x1AFF},
                                           {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x20D0, 0x20FF},
                                           {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}}};

// East Asian wide and fullwidth blocks (a cheap approximation of Unicode's EastAsianWidth W and F), and
// the emoji blocks that terminals draw two columns wide.
constexpr std::array<Range, 13> kWide{{{0x1100, 0x115F},
                                       {0x2E80, 0x303E},
                                       {0x3041, 0x33FF},
                                       {0x3400, 0x4DBF},
                                       {0x4E00, 0x9FFF},
                                       {0xA000, 0xA4CF},
                                       {0xAC00, 0xD7A3},
                                       {0xF900, 0xFAFF},
                                       {0xFE30, 0xFE4F},
                                       {0xFF00, 0xFF60},
                                       {0xFFE0, 0xFFE6},
                                       {0x1F300, 0x1FAFF},
                                       {0x20000, 0x3FFFD}}};

bool in_ranges(char32_t c, auto const& ranges) {
  return std::any_of(ranges.begin(), ranges.end(), [c](Range r) { return c >= r.first && c <= r.last; });
}

bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

int codepoint_width(char32_t c) {
  if (is_control(c) || in_ranges(c, kZeroWidth)) return 0;
  return in_ranges(c, kWide) ? 2 : 1;
}

// Bytes taken by the escape sequence at s[i] (an ESC): CSI "ESC [ … final" (final byte 0x40–0x7E),
// OSC "ESC ] … BEL" or "… ESC \", or a two-byte escape.
std::size_t escape_length(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  if (j >= s.size()) return 1;
  if (s[j] == '[') {
    for (++j; j < s.size(); ++j)
      if (s[j] >= 0x40 && s[j] <= 0x7E) return j + 1 - i;
    return s.size() - i;
  }
  if (s[j] == ']') {
    for (++j; j < s.size(); ++j) {
      if (s[j] == '\a') return j + 1 - i;
      if (s[j] == '\x1b' && j + 1 < s.size() && s[j + 1] == '\\') return j + 2 - i;
    }
    return s.size() - i;
  }
  return 2;
}

using render_detail::map_name;
using render_detail::sanitize;
using render_detail::scale_of;
using render_detail::ValueScale;

// `text` cut to at most `max_width` columns, ending in `ellipsis` (one column) when cut. Escape sequences
// pass through at zero width; a cut closes them with a reset so no colour bleeds.
std::string fit(std::string_view text, int max_width, std::string_view ellipsis) {
  if (display_width(std::string(text)) <= max_width) return std::string(text);
  std::string out;
  int width = 0;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\x1b') {
      std::size_t n = escape_length(text, i);
      out.append(text.substr(i, n));
      escaped = true;
      i += n;
      continue;
    }
    CodePoint cp = decode_utf8(text, i);
    int w = cp.valid ? codepoint_width(cp.value) : 1;
    if (width + w > max_width - 1) break;
    out.append(text.substr(i, cp.length));
    width += w;
    i += cp.length;
  }
  if (escaped) out += "\x1b[0m";
  return out + std::string(ellipsis);
}

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

// A cell's colour: the true colour, and its stand-in among the 16 ANSI colours.
struct Swatch {
  Rgb rgb;
  int ansi16;
};

Swatch swatch_at(ColorMap map, float t) { return {colormap_color(map, t), render_detail::ansi16_for(map, t)}; }

// The map's colour for a number; neutral grey for −∞ (and for NaN or +∞, which a correct computation
// never produces).
Swatch swatch_of(const ValueScale& scale, float value) {
  if (!std::isfinite(value)) return {kMaskedGrey, render_detail::kMaskedAnsi16};
  return swatch_at(scale.map, scale.position(value));
}

// The escape that paints a cell: the swatch (quantised to the depth) with black or white text, whichever
// contrasts more with the colour actually shown.
std::string sgr(const Swatch& swatch, ColorDepth depth) {
  using namespace render_detail;
  if (depth == ColorDepth::truecolor) {
    Rgb bg = swatch.rgb, fg = text_color_for(bg);
    return fmt::format("\x1b[38;2;{};{};{};48;2;{};{};{}m", fg.r, fg.g, fg.b, bg.r, bg.g, bg.b);
  }
  if (depth == ColorDepth::ansi256) {
    int bg = nearest_ansi256(swatch.rgb);
    int fg = text_color_for(ansi256_rgb(bg)) == Rgb{0, 0, 0} ? 16 : 231;
    return fmt::format("\x1b[38;5;{};48;5;{}m", fg, bg);
  }
  int bg = swatch.ansi16;
  int fg = text_color_for(ansi16_rgb(bg)) == Rgb{0, 0, 0} ? 30 : 97;
  return fmt::format("\x1b[{};{}m", fg, bg < 8 ? 40 + bg : 100 + bg - 8);
}

std::string paint(const std::string& text, const Swatch& swatch, ColorDepth depth) {
  if (depth == ColorDepth::none) return text;
  return sgr(swatch, depth) + text + "\x1b[0m";
}

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
// Policies

ColorDepth decide_color(const ColorEnvironment& env) {
  auto depth = [&] {
    if (env.colorterm) {
      auto value = lower(*env.colorterm);
      if (value == "truecolor" || value == "24bit") return ColorDepth::truecolor;
    }
    if (env.term && env.term->ends_with("-256color")) return ColorDepth::ansi256;
    return ColorDepth::basic16;
  };
  auto forces = [](const std::optional<std::string>& v) { return non_empty(v) && *v != "0"; };

  if (env.flag == "never") return ColorDepth::none;
  if (env.flag == "always") return depth();
  if (non_empty(env.no_color)) return ColorDepth::none;
  if (forces(env.force_color) || forces(env.clicolor_force)) return depth();
  if (env.term && *env.term == "dumb") return ColorDepth::none;
  return env.is_terminal ? depth() : ColorDepth::none;
}

ColorEnvironment color_environment_from_process(const std::string& flag, bool is_terminal) {
  ColorEnvironment e;
  e.flag = flag;
  e.no_color = environment("NO_COLOR");
  e.force_color = environment("FORCE_COLOR");
  e.clicolor_force = environment("CLICOLOR_FORCE");
  e.term = environment("TERM");
  e.colorterm = environment("COLORTERM");
  e.is_terminal = is_terminal;
  return e;
}

bool decide_unicode(bool ascii_flag, const std::optional<std::string>& lc_all,
                    const std::optional<std::string>& lc_ctype, const std::optional<std::string>& lang) {
  if (ascii_flag) return false;
  // POSIX precedence: the first variable that is set and non-empty names the character set.
  for (const auto* locale : {&lc_all, &lc_ctype, &lang}) {
    if (!non_empty(*locale)) continue;
    auto name = lower(**locale);
    return name.find("utf-8") != std::string::npos || name.find("utf8") != std::string::npos;
  }
  return false;
}

bool decide_unicode_from_process(bool ascii_flag) {
  return decide_unicode(ascii_flag, environment("LC_ALL"), environment("LC_CTYPE"), environment("LANG"));
}

int decide_width(std::optional<int> width_flag) {
  constexpr int kMinWidth = 20;  // narrower than this, no table is readable anyway
  if (width_flag && *width_flag > 0) return std::max(kMinWidth, *width_flag);
  if (auto columns = environment("COLUMNS")) {
    int value = 0;
    auto [end, error] = std::from_chars(columns->data(), columns->data() + columns->size(), value);
    if (error == std::errc() && end == columns->data() + columns->size() && value > 0)
      return std::max(kMinWidth, value);
  }
  // Standard output first; when it is piped (attnviz ... | less), the terminal the user sits at is still
  // standard error's, standard input's or the controlling terminal's.
  for (int fd : {STDOUT_FILENO, STDERR_FILENO, STDIN_FILENO}) {
    winsize size{};
    if (ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return std::max(kMinWidth, static_cast<int>(size.ws_col));
  }
  if (int tty = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC); tty >= 0) {
    winsize size{};
    const bool known = ioctl(tty, TIOCGWINSZ, &size) == 0 && size.ws_col > 0;
    close(tty);
    if (known) return std::max(kMinWidth, static_cast<int>(size.ws_col));
  }
  return 80;
}

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

namespace render_detail {

std::string paint_at(const std::string& text, ColorMap map, float t, ColorDepth depth) {
  return paint(text, std::isfinite(t) ? swatch_at(map, t) : Swatch{kMaskedGrey, kMaskedAnsi16}, depth);
}

std::string fit_label(std::string_view text, int width, bool unicode) { return fit(sanitize(text), width, symbols(unicode).ellipsis); }

}  // namespace render_detail

std::string paint_weight(const std::string& text, float weight, const RenderOptions& options) {
  const ColorMap map = options.palette == Palette::colorblind ? ColorMap::cividis : ColorMap::viridis;
  return paint(text, std::isfinite(weight) ? swatch_at(map, weight) : Swatch{kMaskedGrey, render_detail::kMaskedAnsi16}, options.color);
}

std::string render_tokens(const std::vector<std::string>& tokens, const RenderOptions& options) {
  std::vector<std::string> items;
  for (std::size_t i = 0; i < tokens.size(); ++i) items.push_back(fmt::format("{} {}", i, sanitize(tokens[i])));
  const Symbols& sym = symbols(options.unicode);
  return wrap_items(fmt::format("tokens ({}): ", tokens.size()), items, sym.separator, options.width, sym.ellipsis);
}

int display_width(const std::string& text) {
  int width = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\x1b') {
      i += escape_length(text, i);
      continue;
    }
    CodePoint cp = decode_utf8(text, i);
    width += cp.valid ? codepoint_width(cp.value) : 1;  // a stray byte shows as one replacement glyph
    i += cp.length;
  }
  return width;
}

namespace render_detail {

// A label or token as we may print it: control characters (a newline, an ESC from a crafted file) and
// invalid UTF-8 become '?', so data can neither break the table nor drive the terminal.
std::string sanitize(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    CodePoint cp = decode_utf8(text, i);
    if (!cp.valid || is_control(cp.value))
      out += '?';
    else
      out.append(text.substr(i, cp.length));
    i += cp.length;
  }
  return out;
}

}  // namespace render_detail

}  // namespace attnviz
