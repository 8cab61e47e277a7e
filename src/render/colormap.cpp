// Colour maps and terminal colour quantisation.
//
// Sources of the control points:
//  - viridis and cividis: matplotlib's lib/matplotlib/_cm_listed.py (_viridis_data, _cividis_data), 256
//    entries each; we keep 17 evenly spaced entries (indices round(i·255/16)), converted to 0–255. viridis
//    is by Stéfan van der Walt and Nathaniel Smith (CC0); cividis by Nuñez, Anderton and Renslow (2018).
//  - blue–white–red and purple–white–orange: ColorBrewer's 11-class RdBu and PuOr (Cynthia Brewer,
//    colorbrewer2.org), which matplotlib's RdBu and PuOr interpolate. Those 11 colours are the whole
//    definition, so we embed them all, reversed so that negative values are the cool colour.
// Between control points we interpolate linearly in sRGB, as matplotlib's LinearSegmentedColormap does.
#include "colormap.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include "attnviz/stages.hpp"

namespace attnviz {
namespace {

constexpr std::array<Rgb, 17> kViridis{{
    {68, 1, 84},    {72, 24, 106},  {71, 45, 123},  {66, 64, 134},  {59, 82, 139},   {51, 99, 141},
    {44, 114, 142}, {38, 130, 142}, {33, 145, 140}, {31, 159, 136}, {39, 173, 129},  {61, 188, 116},
    {92, 200, 99},  {129, 211, 77}, {170, 220, 50}, {213, 226, 26}, {253, 231, 37},
}};

constexpr std::array<Rgb, 17> kCividis{{
    {0, 34, 78},      {0, 46, 106},     {26, 56, 111},    {50, 67, 109},    {67, 78, 108},
    {83, 90, 109},    {97, 101, 111},   {111, 112, 115},  {125, 124, 120},  {139, 135, 120},
    {154, 147, 118},  {170, 160, 115},  {187, 173, 109},  {204, 186, 100},  {221, 200, 88},
    {239, 215, 72},   {254, 232, 56},
}};

// RdBu reversed: #053061 … #f7f7f7 … #67001f.
constexpr std::array<Rgb, 11> kBlueWhiteRed{{
    {5, 48, 97},     {33, 102, 172},  {67, 147, 195}, {146, 197, 222}, {209, 229, 240}, {247, 247, 247},
    {253, 219, 199}, {244, 165, 130}, {214, 96, 77},  {178, 24, 43},   {103, 0, 31},
}};

// PuOr reversed: #2d004b … #f7f7f7 … #7f3b08.
constexpr std::array<Rgb, 11> kPurpleWhiteOrange{{
    {45, 0, 75},     {84, 39, 136},   {128, 115, 172}, {178, 171, 210}, {216, 218, 235}, {247, 247, 247},
    {254, 224, 182}, {253, 184, 99},  {224, 130, 20},  {179, 88, 6},    {127, 59, 8},
}};

std::span<const Rgb> control_points(ColorMap map) {
  switch (map) {
    case ColorMap::viridis: return kViridis;
    case ColorMap::cividis: return kCividis;
    case ColorMap::blue_white_red: return kBlueWhiteRed;
    case ColorMap::purple_white_orange: return kPurpleWhiteOrange;
  }
  return kViridis;
}

unsigned char lerp(unsigned char a, unsigned char b, float f) {
  return static_cast<unsigned char>(std::lround(static_cast<float>(a) + (static_cast<float>(b) - a) * f));
}

// sRGB channel (0–255) to linear light, as WCAG 2 defines it.
double linear(unsigned char channel) {
  double c = channel / 255.0;
  return c <= 0.03928 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

int squared_distance(Rgb a, Rgb b) {
  int dr = a.r - b.r, dg = a.g - b.g, db = a.b - b.b;
  return dr * dr + dg * dg + db * db;
}

}  // namespace

Rgb colormap_color(ColorMap map, float t) {
  auto points = control_points(map);
  if (std::isnan(t)) t = 0.5f;
  t = std::clamp(t, 0.0f, 1.0f);
  float position = t * static_cast<float>(points.size() - 1);
  auto i = std::min(static_cast<std::size_t>(position), points.size() - 2);
  float f = position - static_cast<float>(i);
  const Rgb& a = points[i];
  const Rgb& b = points[i + 1];
  return {lerp(a.r, b.r, f), lerp(a.g, b.g, f), lerp(a.b, b.b, f)};
}

double relative_luminance(Rgb color) {
  return 0.2126 * linear(color.r) + 0.7152 * linear(color.g) + 0.0722 * linear(color.b);
}

Rgb text_color_for(Rgb background) {
  // WCAG contrast ratio (L1 + 0.05) / (L2 + 0.05) against black and against white; pick the larger.
  double l = relative_luminance(background);
  double against_black = (l + 0.05) / 0.05;
  double against_white = 1.05 / (l + 0.05);
  return against_black >= against_white ? Rgb{0, 0, 0} : Rgb{255, 255, 255};
}

namespace render_detail {
namespace {

constexpr std::array<unsigned char, 6> kCubeLevels{0, 95, 135, 175, 215, 255};

int nearest_cube_level(unsigned char channel) {
  int best = 0;
  for (int i = 1; i < 6; ++i)
    if (std::abs(kCubeLevels[i] - channel) < std::abs(kCubeLevels[best] - channel)) best = i;
  return best;
}

// xterm's default 16 colours.
constexpr std::array<Rgb, 16> kAnsi16{{
    {0, 0, 0},       {205, 0, 0},     {0, 205, 0},     {205, 205, 0},   {0, 0, 238},     {205, 0, 205},
    {0, 205, 205},   {229, 229, 229}, {127, 127, 127}, {255, 0, 0},     {0, 255, 0},     {255, 255, 0},
    {92, 92, 255},   {255, 0, 255},   {0, 255, 255},   {255, 255, 255},
}};

}  // namespace

Rgb ansi256_rgb(int index) {
  if (index >= 232) {
    auto v = static_cast<unsigned char>(8 + 10 * (index - 232));
    return {v, v, v};
  }
  int i = std::max(index, 16) - 16;
  return {kCubeLevels[i / 36], kCubeLevels[(i / 6) % 6], kCubeLevels[i % 6]};
}

int nearest_ansi256(Rgb color) {
  int cube = 16 + 36 * nearest_cube_level(color.r) + 6 * nearest_cube_level(color.g) +
             nearest_cube_level(color.b);
  // The grey ramp is finer than the cube's greys, so greys and near-greys often land closer there.
  int mean = (color.r + color.g + color.b) / 3;
  int grey = 232 + std::clamp((mean - 8 + 5) / 10, 0, 23);
  return squared_distance(color, ansi256_rgb(grey)) < squared_distance(color, ansi256_rgb(cube)) ? grey : cube;
}

ValueScale scale_of(const Stage& stage, Palette palette, bool matrix_range) {
  ValueScale scale;
  for (Eigen::Index r = 0; r < stage.data.rows(); ++r)
    for (Eigen::Index c = 0; c < stage.data.cols(); ++c) {
      float v = stage.data(r, c);
      if (std::isinf(v) && v < 0) scale.any_masked = true;
      if (!std::isfinite(v)) continue;
      scale.min = scale.any_finite ? std::min(scale.min, v) : v;
      scale.max = scale.any_finite ? std::max(scale.max, v) : v;
      scale.any_finite = true;
    }
  scale.max_abs = std::max(std::fabs(scale.min), std::fabs(scale.max));
  scale.sequential = stage.name == stage_name::weights || (scale.any_finite && scale.min >= 0 && scale.max <= 1);
  if (scale.sequential && matrix_range && scale.any_finite && scale.max > 0) scale.top = scale.max;
  bool colorblind = palette == Palette::colorblind;
  if (scale.sequential)
    scale.map = colorblind ? ColorMap::cividis : ColorMap::viridis;
  else
    scale.map = colorblind ? ColorMap::purple_white_orange : ColorMap::blue_white_red;
  return scale;
}

std::string_view map_name(ColorMap map, bool unicode) {
  switch (map) {
    case ColorMap::viridis: return "viridis";
    case ColorMap::cividis: return "cividis";
    case ColorMap::blue_white_red: return unicode ? "blue–white–red" : "blue-white-red";
    case ColorMap::purple_white_orange: return unicode ? "purple–white–orange" : "purple-white-orange";
  }
  return "";
}

Rgb ansi16_rgb(int index) { return kAnsi16[static_cast<std::size_t>(std::clamp(index, 0, 15))]; }

int ansi16_for(ColorMap map, float t) {
  // Indices: 1 red, 2 green, 3 yellow, 4 blue, 5 magenta, 6 cyan, 7 white, 8 grey, 9–15 their bright forms.
  static constexpr std::array<int, 5> viridis{4, 6, 2, 10, 11};
  static constexpr std::array<int, 4> cividis{4, 8, 3, 11};
  static constexpr std::array<int, 5> blue_white_red{4, 12, 7, 9, 1};
  static constexpr std::array<int, 5> purple_white_orange{5, 13, 7, 11, 3};
  std::span<const int> bins = viridis;
  if (map == ColorMap::cividis) bins = cividis;
  if (map == ColorMap::blue_white_red) bins = blue_white_red;
  if (map == ColorMap::purple_white_orange) bins = purple_white_orange;
  if (std::isnan(t)) t = 0.5f;
  auto bin = static_cast<std::size_t>(std::clamp(t, 0.0f, 1.0f) * static_cast<float>(bins.size()));
  return bins[std::min(bin, bins.size() - 1)];
}

}  // namespace render_detail
}  // namespace attnviz
