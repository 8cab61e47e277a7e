// Terminal rendering of the trace: heatmap tables with labelled axes, a legend with the
// range, colour by policy and depth, UTF-8 box drawing or ASCII, column blocks for wide matrices.
// Everything here is a pure function of its arguments, so the tests can pin every case.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attnviz/trace.hpp"

namespace attnviz {

enum class ColorDepth { none, basic16, ansi256, truecolor };

// The inputs of the colour policy, read once from the flag and the process's environment.
struct ColorEnvironment {
  std::string flag = "auto";               // --color auto|always|never
  std::optional<std::string> no_color;     // NO_COLOR
  std::optional<std::string> force_color;  // FORCE_COLOR
  std::optional<std::string> clicolor_force;  // CLICOLOR_FORCE
  std::optional<std::string> term;         // TERM
  std::optional<std::string> colorterm;    // COLORTERM
  bool is_terminal = false;                // whether standard output is a terminal
};

// --color wins; then NO_COLOR (non-empty: off); FORCE_COLOR / CLICOLOR_FORCE (non-empty and not "0": on);
// TERM=dumb (off); otherwise colour only on a terminal. Depth: COLORTERM=truecolor|24bit -> 24-bit,
// TERM=*-256color -> 256 colours, else 16 colours.
ColorDepth decide_color(const ColorEnvironment& env);
ColorEnvironment color_environment_from_process(const std::string& flag, bool is_terminal);

// Box drawing when the locale is UTF-8 (LC_ALL, then LC_CTYPE, then LANG) and --ascii is not given.
bool decide_unicode(bool ascii_flag, const std::optional<std::string>& lc_all,
                    const std::optional<std::string>& lc_ctype, const std::optional<std::string>& lang);
bool decide_unicode_from_process(bool ascii_flag);

// Terminal width: --width when given (> 0), else COLUMNS, else the terminal's, else 80.
int decide_width(std::optional<int> width_flag);

enum class Palette { standard, colorblind };

// How a matrix is drawn: full (every number in a box-drawn table, split into column blocks when wider than
// the width), compact (one shaded cell per value, keys by number: a 16 × 16 matrix fits 80 columns, a 30 × 30
// one 120), or automatic (compact exactly when the full table would be split).
enum class Layout { automatic, full, compact };
Layout parse_layout(const std::string& name);  // "auto" | "full" | "compact"; InputError otherwise

struct RenderOptions {
  ColorDepth color = ColorDepth::none;
  bool unicode = true;     // box drawing and "−∞"; ASCII otherwise
  int width = 80;          // the widest line we may print
  int precision = 3;       // digits after the decimal point
  bool glyphs = false;     // shading characters in each cell, for projectors and printouts
  Palette palette = Palette::standard;
  Layout layout = Layout::automatic;
};

// A number as printed in the tables: fixed `precision` decimals, never "-0.000"; -inf as "−∞" ("-inf"
// in ASCII); NaN as "NaN".
std::string format_number(float value, int precision, bool unicode = true);

// One stage as a titled table: a title line ("weights P — head 1 of 1 — 15 × 15"), an axis line
// ("rows: queries · columns: keys"), the table (split into column blocks that repeat the row labels when
// wider than options.width), and a legend line with the range and the colour map.
std::string render_stage(const Stage& stage, int heads, const RenderOptions& options);

// `text` on the colour of an attention weight in [0, 1] (the weights tables' sequential map, in `options`'
// palette) when `options` has colour; `text` unchanged otherwise.
std::string paint_weight(const std::string& text, float weight, const RenderOptions& options);

// The token list as one numbered row ("0 mickey  1 mouse  ...").
std::string render_tokens(const std::vector<std::string>& tokens, const RenderOptions& options);

// The longest row or column label printed whole at `width` columns: 12, more on wide terminals (an eighth of
// the width, at most 40). Longer labels are cut with an ellipsis.
int label_limit(int width);

// Length of `text` in terminal columns (UTF-8 aware; escape sequences count zero).
int display_width(const std::string& text);

}  // namespace attnviz

// ---- Colour maps (src/render/colormap.cpp), shared by the terminal tables and any other view. ----

namespace attnviz {

struct Rgb {
  unsigned char r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

// Sequential maps for values in [0, 1]; diverging maps for signed values, white at the centre (t = 0.5).
enum class ColorMap { viridis, cividis, blue_white_red, purple_white_orange };

// The colour of `map` at t in [0, 1] (clamped), interpolated linearly in sRGB between control points.
Rgb colormap_color(ColorMap map, float t);

// The neutral dark grey of masked (−∞) cells. Every map's dark end is tinted (viridis purple, cividis blue)
// and cividis's mid grey is much lighter, so a masked cell never reads as a value.
inline constexpr Rgb kMaskedGrey{48, 48, 48};

// WCAG 2 relative luminance of an sRGB colour: 0 for black, 1 for white.
double relative_luminance(Rgb color);

// Black or white, whichever contrasts more with `background` (WCAG contrast ratio).
Rgb text_color_for(Rgb background);

}  // namespace attnviz
