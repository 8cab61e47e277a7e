// Terminal colour quantisation (internal to src/render). The maps themselves are public (render.hpp); how a
// colour becomes an escape sequence for a 256- or 16-colour terminal is a detail of the terminal renderer.
#pragma once

#include <span>

#include "attnviz/render.hpp"

namespace attnviz::render_detail {

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

}  // namespace attnviz::render_detail
