// Internal to src/render: what every view of a stage shares (which colour map a stage uses, where a value
// sits on it, labels made safe to show), and terminal colour quantisation. The maps themselves are public
// (render.hpp); how a colour becomes an escape sequence for a 256- or 16-colour terminal is a detail of the
// terminal renderer.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "attnviz/render.hpp"

namespace attnviz::render_detail {

// How a stage's values map to colour: a sequential map over [0, 1] when every value is a probability,
// else a diverging map centred at 0 and scaled by the largest magnitude, so 0 is always white.
struct ValueScale {
  bool sequential = false;
  bool any_finite = false;
  bool any_masked = false;
  float min = 0, max = 0, max_abs = 0;
  float top = 1;  // a sequential map runs from 0 to `top`: 1, or the matrix's largest value (matrix_range)
  ColorMap map = ColorMap::viridis;

  // Where `value` sits on the map, 0 to 1.
  float position(float value) const {
    if (sequential) return top > 0 && top != 1 ? std::min(1.0f, value / top) : value;
    return max_abs > 0 ? 0.5f + 0.5f * value / max_abs : 0.5f;
  }
  // How strong `value` is, 0 to 1, for glyph shading: the value itself for probabilities, the
  // magnitude relative to the largest for signed values (the sign is in the printed number).
  float magnitude(float value) const {
    if (sequential) return std::clamp(value, 0.0f, 1.0f);
    return max_abs > 0 ? std::min(1.0f, std::fabs(value) / max_abs) : 0.0f;
  }
};

// `matrix_range`: a sequential map runs from 0 to the matrix's largest value instead of 0 to 1 (HTML's
// --html-range matrix).
ValueScale scale_of(const Stage& stage, Palette palette, bool matrix_range = false);

// The map's name as the legends print it ("viridis", "blue–white–red").
std::string_view map_name(ColorMap map, bool unicode);

// A label or token as we may show it: control characters (a newline, an ESC from a crafted file) and
// invalid UTF-8 become '?', so data can neither break a table nor drive the terminal (ansi.cpp).
std::string sanitize(std::string_view text);

// The nearest xterm-256 colour among the 6×6×6 cube (16–231) and the grey ramp (232–255). Indices 0–15
// are never chosen: terminals redefine them, so their colour is unknown.
int nearest_ansi256(Rgb color);
Rgb ansi256_rgb(int index);  // 16–255

// The 16-colour stand-in for `map` at t in [0, 1]: the map's range cut into equal bins, each an ANSI colour
// (0–7 normal, 8–15 bright) of the map's hue there. Bins rather than nearest-RGB, because terminals
// redefine these colours and nearest-RGB against one assumed palette turned pale red white but pale blue
// blue; equal bins keep a diverging map symmetric (blue, bright blue, white, bright red, red).
int ansi16_for(ColorMap map, float t);
Rgb ansi16_rgb(int index);  // xterm's default palette, used only to choose black or white text
inline constexpr int kMaskedAnsi16 = 8;  // "bright black": the dark grey of most palettes

// `text` painted with `map`'s colour at t in [0, 1] (a non-finite t: the masked grey), nothing at
// ColorDepth::none (ansi.cpp).
std::string paint_at(const std::string& text, ColorMap map, float t, ColorDepth depth);
// A label made safe (sanitize) and cut to `width` columns with an ellipsis.
std::string fit_label(std::string_view text, int width, bool unicode);

// What the explorer adds to the compact layout (the report's tables leave it at its defaults).
struct CompactView {
  int row0 = 0, rows = 0;  // the rows shown: [row0, row0 + rows); 0 rows: all
  int col0 = 0, cols = 0;  // the columns shown, in one block; 0 columns: all, in blocks that fit the width
  std::optional<std::pair<int, int>> cursor;  // {row, column}: "▸ " before its row's label, [ ] around its cell
  std::optional<int> hidden_row;              // its cells drawn as '?', unpainted (the class guesses them)
  std::string numbers = "numbers: --layout full";  // where the legend sends the reader for the numbers
};

// Where the grid's parts are, for a caller that places it on a screen (the explorer's mouse clicks): a row
// is `label_width` columns of label, then per cell a separator and cell − 1 columns of glyphs.
struct CompactGeometry {
  int label_width = 0;   // the row labels, the cursor mark included
  int cell = 3;          // columns per cell with its separator: 3 (two glyphs) when every column fits, else 2
  int per_block = 1;     // the columns that fit options.width
  int header_lines = 1;  // the lines of column numbers above the first row
};
CompactGeometry compact_geometry(const Stage& stage, const RenderOptions& options, const CompactView& view = {});

// The compact layout of a stage (compact.cpp): the grid of shaded cells, keys by number, and its legend;
// `scale` is the stage's (scale_of). The title and axes come before it, from render_stage.
std::string render_compact(const Stage& stage, const ValueScale& scale, const RenderOptions& options, const CompactView& view = {});
// Its two parts: the column numbers and the rows; the legend (and the columns' names when they are not the rows').
std::string compact_grid(const Stage& stage, const ValueScale& scale, const RenderOptions& options, const CompactView& view = {});
std::string compact_legend(const Stage& stage, const ValueScale& scale, const RenderOptions& options, const CompactView& view = {});

}  // namespace attnviz::render_detail
