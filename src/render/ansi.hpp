// Internal to src/render: ANSI colour escapes and cutting text to terminal columns (ansi.cpp), shared by
// the terminal layout (terminal.cpp) and the compact view.
#pragma once

#include <string>
#include <string_view>

#include "colormap.hpp"

namespace attnviz::render_detail {

// A cell's colour: the true colour, and its stand-in among the 16 ANSI colours.
struct Swatch {
  Rgb rgb;
  int ansi16;
};

Swatch swatch_at(ColorMap map, float t);
// The map's colour for a number; neutral grey for −∞ (and for NaN or +∞, which a correct computation
// never produces).
Swatch swatch_of(const ValueScale& scale, float value);
// `text` between the escape that paints it with `swatch` (quantised to `depth`, with black or white text,
// whichever contrasts more) and a reset; `text` itself at ColorDepth::none.
std::string paint(const std::string& text, const Swatch& swatch, ColorDepth depth);

// `text` cut to at most `max_width` columns, ending in `ellipsis` (one column) when cut. Escape sequences
// pass through at zero width; a cut closes them with a reset so no colour bleeds.
std::string fit(std::string_view text, int max_width, std::string_view ellipsis);

}  // namespace attnviz::render_detail
