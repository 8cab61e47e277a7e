// What a terminal is sent: ANSI escape sequences that paint a cell, and the columns text takes on screen
// (escapes at zero width, wide and zero-width code points), so the layout (terminal.cpp) can measure.
#include "ansi.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "attnviz/utf8.hpp"

namespace attnviz::render_detail {
namespace {

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

// The escape that paints a cell: the swatch (quantised to the depth) with black or white text, whichever
// contrasts more with the colour actually shown.
std::string sgr(const Swatch& swatch, ColorDepth depth) {
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

}  // namespace

Swatch swatch_at(ColorMap map, float t) { return {colormap_color(map, t), ansi16_for(map, t)}; }

Swatch swatch_of(const ValueScale& scale, float value) {
  if (!std::isfinite(value)) return {kMaskedGrey, kMaskedAnsi16};
  return swatch_at(scale.map, scale.position(value));
}

std::string paint(const std::string& text, const Swatch& swatch, ColorDepth depth) {
  if (depth == ColorDepth::none) return text;
  return sgr(swatch, depth) + text + "\x1b[0m";
}


std::string paint_at(const std::string& text, ColorMap map, float t, ColorDepth depth) {
  return paint(text, std::isfinite(t) ? swatch_at(map, t) : Swatch{kMaskedGrey, kMaskedAnsi16}, depth);
}

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

}  // namespace attnviz::render_detail

namespace attnviz {

using render_detail::codepoint_width;
using render_detail::escape_length;

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

std::string paint_weight(const std::string& text, float weight, const RenderOptions& options) {
  return render_detail::paint_at(text, options.palette == Palette::colorblind ? ColorMap::cividis : ColorMap::viridis, weight, options.color);
}

}  // namespace attnviz
