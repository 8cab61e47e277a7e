// Terminal rendering: policies, number format, tables, colour, column blocks, widths.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../src/render/colormap.hpp"
#include "attnviz/render.hpp"

using namespace attnviz;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// A 2 × 3 attention matrix: two queries over three keys, each row summing to 1.
Stage small_weights() {
  Stage s;
  s.name = "weights";
  s.symbol = "P";
  s.head = 0;
  s.row_axis = "queries";
  s.col_axis = "keys";
  s.row_labels = {"the", "mouse"};
  s.col_labels = {"the", "mouse", "squeaks"};
  s.data.resize(2, 3);
  s.data << 1.0f, 0.0f, 0.0f,  //
      0.25f, 0.5f, 0.25f;
  return s;
}

// Signed scores with one masked (−∞) cell, as a causal mask leaves them.
Stage small_scores() {
  Stage s;
  s.name = "scaled_scores";
  s.symbol = "S'";
  s.row_axis = "queries";
  s.col_axis = "keys";
  s.row_labels = {"a", "cat"};
  s.col_labels = {"a", "cat", "sat"};
  s.data.resize(2, 3);
  s.data << -1.5f, 0.25f, -kInf,  //
      2.0f, -0.0001f, 0.5f;
  return s;
}

// An n × n attention stage with n labelled tokens, for the wide-matrix tests.
Stage square_scores(int n) {
  Stage s;
  s.name = "scores";
  s.symbol = "S";
  s.head = 1;
  s.row_axis = "queries";
  s.col_axis = "keys";
  s.data.resize(n, n);
  for (int i = 0; i < n; ++i) {
    s.row_labels.push_back("tok" + std::to_string(i));
    s.col_labels.push_back("tok" + std::to_string(i));
    for (int j = 0; j < n; ++j) s.data(i, j) = static_cast<float>((i * 7 + j * 3) % 11) - 5.0f;
  }
  return s;
}

RenderOptions plain(bool unicode = true) {
  RenderOptions o;
  o.color = ColorDepth::none;
  o.unicode = unicode;
  return o;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::size_t count(const std::string& text, const std::string& piece) {
  std::size_t n = 0;
  for (auto at = text.find(piece); at != std::string::npos; at = text.find(piece, at + piece.size())) ++n;
  return n;
}

// Every rendering must: end with a newline, have no trailing spaces, and keep lines within the width.
void check_layout(const std::string& text, int width) {
  REQUIRE_FALSE(text.empty());
  CHECK(text.back() == '\n');
  for (const auto& line : lines_of(text)) {
    INFO("line: " << line);
    CHECK(display_width(line) <= width);
    if (!line.empty()) CHECK(line.back() != ' ');
  }
}

}  // namespace

TEST_CASE("Render: a 2x3 stage without colour matches the golden text (unicode)", "[render]") {
  const std::string expected =
      "weights P · head 1 of 2 · 2 × 3\n"
      "rows: queries · columns: keys\n"
      "┌───────┬───────┬───────┬─────────┐\n"
      "│       │   the │ mouse │ squeaks │\n"
      "├───────┼───────┼───────┼─────────┤\n"
      "│ the   │ 1.000 │ 0.000 │   0.000 │\n"
      "│ mouse │ 0.250 │ 0.500 │   0.250 │\n"
      "└───────┴───────┴───────┴─────────┘\n"
      "range: 0.000 … 1.000\n";
  CHECK(render_stage(small_weights(), 2, plain()) == expected);
}

TEST_CASE("Render: a 2x3 stage without colour matches the golden text (ASCII)", "[render]") {
  const std::string expected =
      "scaled_scores S' - 2 x 3\n"
      "rows: queries - columns: keys\n"
      "+-----+--------+-------+-------+\n"
      "|     |      a |   cat |   sat |\n"
      "+-----+--------+-------+-------+\n"
      "| a   | -1.500 | 0.250 |  -inf |\n"
      "| cat |  2.000 | 0.000 | 0.500 |\n"
      "+-----+--------+-------+-------+\n"
      "range: -1.500 .. 2.000; -inf = masked\n";
  CHECK(render_stage(small_scores(), 1, plain(false)) == expected);
}

TEST_CASE("Render: the title names the head only for per-head stages", "[render]") {
  auto weights = render_stage(small_weights(), 4, plain());
  CHECK(lines_of(weights)[0] == "weights P · head 1 of 4 · 2 × 3");
  auto scores = render_stage(small_scores(), 4, plain());
  CHECK(lines_of(scores)[0] == "scaled_scores S' · 2 × 3");
  CHECK(lines_of(render_stage(small_weights(), 2, plain(false)))[0] == "weights P - head 1 of 2 - 2 x 3");
}

TEST_CASE("Render: format_number prints fixed decimals and never -0", "[render]") {
  CHECK(format_number(0.41234f, 3) == "0.412");
  CHECK(format_number(-1.25f, 3) == "-1.250");
  CHECK(format_number(2.0f, 1) == "2.0");
  CHECK(format_number(-0.0001f, 3) == "0.000");
  CHECK(format_number(-0.0f, 3) == "0.000");
  CHECK(format_number(-0.4f, 0) == "0");
  CHECK(format_number(-0.6f, 0) == "-1");
  CHECK(format_number(-kInf, 3) == "−∞");
  CHECK(format_number(-kInf, 3, false) == "-inf");
  CHECK(format_number(kInf, 3) == "∞");
  CHECK(format_number(kInf, 3, false) == "inf");
  CHECK(format_number(std::numeric_limits<float>::quiet_NaN(), 3) == "NaN");
}

TEST_CASE("Render: a tiny negative cell never prints as -0.000", "[render]") {
  auto text = render_stage(small_scores(), 1, plain());
  CHECK(text.find("-0.000") == std::string::npos);
  CHECK(text.find(" 0.000 ") != std::string::npos);
}

TEST_CASE("Render: masked cells print −∞ and the legend says so", "[render]") {
  auto unicode = render_stage(small_scores(), 1, plain());
  CHECK(count(unicode, "−∞") == 2);  // the cell and the legend
  CHECK(unicode.find("−∞ = masked") != std::string::npos);

  auto ascii = render_stage(small_scores(), 1, plain(false));
  CHECK(ascii.find("-inf = masked") != std::string::npos);
  CHECK(ascii.find("−∞") == std::string::npos);

  // Weights never hold −∞ (softmax gives 0), so their legend does not mention masking.
  CHECK(render_stage(small_weights(), 1, plain()).find("masked") == std::string::npos);

  // In colour the masked cell is neutral grey with white text.
  RenderOptions o;
  o.color = ColorDepth::truecolor;
  auto colored = render_stage(small_scores(), 1, o);
  CHECK(colored.find("\x1b[38;2;255;255;255;48;2;48;48;48m    −∞ \x1b[0m") != std::string::npos);
}

TEST_CASE("Render: colour output paints weights with viridis in 24-bit colour", "[render]") {
  RenderOptions o;
  o.color = ColorDepth::truecolor;
  auto text = render_stage(small_weights(), 1, o);
  // viridis(1) = #fde725 for the weight 1.0, viridis(0) = #440154 for the zeros.
  CHECK(text.find("48;2;253;231;37m") != std::string::npos);
  CHECK(text.find("48;2;68;1;84m") != std::string::npos);
  CHECK(text.find("viridis") != std::string::npos);
  // Numbers are always printed, colour or not.
  CHECK(text.find(" 1.000 ") != std::string::npos);
  CHECK(text.find(" 0.250 ") != std::string::npos);
  check_layout(text, o.width);
}

TEST_CASE("Render: every coloured cell resets its colour", "[render]") {
  for (auto depth : {ColorDepth::truecolor, ColorDepth::ansi256, ColorDepth::basic16}) {
    RenderOptions o;
    o.color = depth;
    auto text = render_stage(small_scores(), 1, o);
    INFO("depth " << static_cast<int>(depth));
    // Each escape that sets a colour is closed by a reset before the next one opens.
    CHECK(count(text, "\x1b[") == 2 * count(text, "\x1b[0m"));
    for (const auto& line : lines_of(text))
      if (line.find("\x1b[") != std::string::npos) {
        auto last_escape = line.rfind("\x1b[");
        CHECK(line.compare(last_escape, 4, "\x1b[0m") == 0);
      }
    check_layout(text, o.width);
  }
  CHECK(render_stage(small_scores(), 1, plain()).find('\x1b') == std::string::npos);
}

TEST_CASE("Render: text colour follows the background's luminance", "[render]") {
  CHECK(text_color_for({0, 0, 0}) == Rgb{255, 255, 255});
  CHECK(text_color_for({255, 255, 255}) == Rgb{0, 0, 0});
  CHECK(text_color_for({253, 231, 37}) == Rgb{0, 0, 0});        // viridis yellow
  CHECK(text_color_for({68, 1, 84}) == Rgb{255, 255, 255});     // viridis purple
  CHECK(text_color_for({5, 48, 97}) == Rgb{255, 255, 255});     // deep blue
  CHECK(text_color_for({247, 247, 247}) == Rgb{0, 0, 0});       // the diverging centre
  CHECK(relative_luminance({0, 0, 0}) == Approx(0.0));
  CHECK(relative_luminance({255, 255, 255}) == Approx(1.0));

  RenderOptions o;
  o.color = ColorDepth::truecolor;
  auto text = render_stage(small_weights(), 1, o);
  CHECK(text.find("\x1b[38;2;0;0;0;48;2;253;231;37m 1.000 \x1b[0m") != std::string::npos);
  CHECK(text.find("\x1b[38;2;255;255;255;48;2;68;1;84m 0.000 \x1b[0m") != std::string::npos);
}

TEST_CASE("Render: colour maps interpolate between the embedded control points", "[render]") {
  CHECK(colormap_color(ColorMap::viridis, 0.0f) == Rgb{68, 1, 84});
  CHECK(colormap_color(ColorMap::viridis, 0.5f) == Rgb{33, 145, 140});
  CHECK(colormap_color(ColorMap::viridis, 1.0f) == Rgb{253, 231, 37});
  CHECK(colormap_color(ColorMap::viridis, 7.0f) == Rgb{253, 231, 37});  // clamped
  CHECK(colormap_color(ColorMap::viridis, -1.0f) == Rgb{68, 1, 84});
  CHECK(colormap_color(ColorMap::cividis, 0.0f) == Rgb{0, 34, 78});
  CHECK(colormap_color(ColorMap::cividis, 1.0f) == Rgb{254, 232, 56});
  CHECK(colormap_color(ColorMap::blue_white_red, 0.0f) == Rgb{5, 48, 97});
  CHECK(colormap_color(ColorMap::blue_white_red, 0.5f) == Rgb{247, 247, 247});
  CHECK(colormap_color(ColorMap::blue_white_red, 1.0f) == Rgb{103, 0, 31});
  CHECK(colormap_color(ColorMap::purple_white_orange, 0.0f) == Rgb{45, 0, 75});
  CHECK(colormap_color(ColorMap::purple_white_orange, 0.5f) == Rgb{247, 247, 247});
  CHECK(colormap_color(ColorMap::purple_white_orange, 1.0f) == Rgb{127, 59, 8});
  // Halfway between viridis's first two control points (t = 1/32).
  CHECK(colormap_color(ColorMap::viridis, 1.0f / 32.0f) == Rgb{70, 13, 95});
}

TEST_CASE("Render: signed stages use a diverging map centred at 0", "[render]") {
  RenderOptions o;
  o.color = ColorDepth::truecolor;
  auto text = render_stage(small_scores(), 1, o);
  // Scaled by the largest magnitude (2.0): 2.0 is the red end, -1.5 three quarters of the way to blue.
  CHECK(text.find("48;2;103;0;31m  2.000 ") != std::string::npos);
  CHECK(text.find("48;2;" + [] {
          Rgb c = colormap_color(ColorMap::blue_white_red, 0.125f);
          return std::to_string(c.r) + ";" + std::to_string(c.g) + ";" + std::to_string(c.b);
        }() + "m -1.500 ") != std::string::npos);
  CHECK(text.find("48;2;247;247;247m 0.000 ") != std::string::npos);  // -0.0001 is nearly white
  CHECK(text.find("blue–white–red, centred at 0") != std::string::npos);
  CHECK(text.find("legend: -2.000 ") != std::string::npos);
  CHECK(text.find(" 2.000 · blue") != std::string::npos);
  CHECK(text.find("range: -1.500 … 2.000") != std::string::npos);
}

TEST_CASE("Render: any stage with every value in [0, 1] is sequential", "[render]") {
  Stage s = small_weights();
  s.name = "embeddings";  // not weights, but all its values are probabilities
  RenderOptions o;
  o.color = ColorDepth::truecolor;
  CHECK(render_stage(s, 1, o).find("viridis") != std::string::npos);
  s.data(0, 0) = 1.5f;
  CHECK(render_stage(s, 1, o).find("centred at 0") != std::string::npos);
}

TEST_CASE("Render: the colour-blind palette uses cividis and purple–white–orange", "[render]") {
  RenderOptions o;
  o.color = ColorDepth::truecolor;
  o.palette = Palette::colorblind;
  auto weights = render_stage(small_weights(), 1, o);
  CHECK(weights.find("48;2;254;232;56m 1.000 ") != std::string::npos);
  CHECK(weights.find("cividis") != std::string::npos);
  auto scores = render_stage(small_scores(), 1, o);
  CHECK(scores.find("48;2;127;59;8m  2.000 ") != std::string::npos);
  CHECK(scores.find("purple–white–orange, centred at 0") != std::string::npos);
}

TEST_CASE("Render: 256-colour output uses the xterm cube and grey ramp", "[render]") {
  using namespace render_detail;
  CHECK(nearest_ansi256({0, 0, 0}) == 16);
  CHECK(nearest_ansi256({255, 255, 255}) == 231);
  CHECK(nearest_ansi256({255, 0, 0}) == 196);
  CHECK(nearest_ansi256({128, 128, 128}) == 244);  // grey ramp: 8 + 10·12
  CHECK(nearest_ansi256({48, 48, 48}) == 236);
  CHECK(nearest_ansi256({253, 231, 37}) == 220);  // viridis yellow → (255, 215, 0)
  CHECK(ansi256_rgb(220) == Rgb{255, 215, 0});

  RenderOptions o;
  o.color = ColorDepth::ansi256;
  auto text = render_stage(small_weights(), 1, o);
  CHECK(text.find("\x1b[38;5;16;48;5;220m 1.000 \x1b[0m") != std::string::npos);
  CHECK(text.find("48;2;") == std::string::npos);
}

TEST_CASE("Render: 16-colour output keeps the sign's hue and adds glyph shading", "[render]") {
  using namespace render_detail;
  // Equal bins along the map, symmetric about the diverging map's white centre.
  CHECK(ansi16_for(ColorMap::blue_white_red, 0.0f) == 4);   // blue
  CHECK(ansi16_for(ColorMap::blue_white_red, 0.3f) == 12);  // bright blue
  CHECK(ansi16_for(ColorMap::blue_white_red, 0.5f) == 7);   // white
  CHECK(ansi16_for(ColorMap::blue_white_red, 0.7f) == 9);   // bright red
  CHECK(ansi16_for(ColorMap::blue_white_red, 1.0f) == 1);   // red
  CHECK(ansi16_for(ColorMap::viridis, 0.0f) == 4);
  CHECK(ansi16_for(ColorMap::viridis, 1.0f) == 11);
  CHECK(ansi16_for(ColorMap::purple_white_orange, 0.0f) == 5);

  RenderOptions o;
  o.color = ColorDepth::basic16;
  auto text = render_stage(small_scores(), 1, o);
  CHECK(text.find("\x1b[97;41m  2.000 █ \x1b[0m") != std::string::npos);  // white on red, darkest shade
  CHECK(text.find("\x1b[97;44m -1.500 █ \x1b[0m") != std::string::npos);  // white on blue
  CHECK(text.find("\x1b[30;47m 0.000 ░ \x1b[0m") != std::string::npos);  // black on white, lightest
  CHECK(text.find("\x1b[30;100m    −∞   \x1b[0m") != std::string::npos);  // masked: grey, no shade
  CHECK(text.find("48;5;") == std::string::npos);
  check_layout(text, o.width);
}

TEST_CASE("Render: glyph shading shows magnitude without colour", "[render]") {
  RenderOptions o = plain();
  o.glyphs = true;
  const std::string expected =
      "weights P · head 1 of 1 · 2 × 3\n"
      "rows: queries · columns: keys\n"
      "┌───────┬─────────┬─────────┬─────────┐\n"
      "│       │     the │   mouse │ squeaks │\n"
      "├───────┼─────────┼─────────┼─────────┤\n"
      "│ the   │ 1.000 █ │ 0.000 ░ │ 0.000 ░ │\n"
      "│ mouse │ 0.250 ▒ │ 0.500 ▓ │ 0.250 ▒ │\n"
      "└───────┴─────────┴─────────┴─────────┘\n"
      "range: 0.000 … 1.000 · shading: ░▒▓█ = 0 → 1\n";
  CHECK(render_stage(small_weights(), 1, o) == expected);

  o.unicode = false;
  auto ascii = render_stage(small_scores(), 1, o);
  CHECK(ascii.find("|  2.000 # |") != std::string::npos);  // the largest magnitude
  CHECK(ascii.find("| -1.500 # |") != std::string::npos);  // 0.75 of it: the top quarter
  CHECK(ascii.find("| 0.250 . |") != std::string::npos);   // 0.125 of it
  CHECK(ascii.find("| 0.500 : |") != std::string::npos);   // 0.25 of it
  CHECK(ascii.find("shading: .:+# = |value| 0 -> 2.000") != std::string::npos);
}

TEST_CASE("Render: wide matrices split into column blocks that fit the width", "[render]") {
  Stage s = square_scores(15);
  for (auto depth : {ColorDepth::none, ColorDepth::truecolor, ColorDepth::basic16}) {
    for (bool unicode : {true, false}) {
      RenderOptions o;
      o.color = depth;
      o.unicode = unicode;
      o.width = 40;
      o.layout = Layout::full;  // automatic would draw it compact
      auto text = render_stage(s, 2, o);
      INFO("depth " << static_cast<int>(depth) << ", unicode " << unicode);
      check_layout(text, 40);
      // Each block repeats every row label; each column label appears exactly once.
      std::size_t blocks = count(text, "of 15\n");
      CHECK(blocks > 1);
      CHECK(count(text, std::string(unicode ? "│" : "|") + " tok14 ") == blocks);
      for (int c = 0; c < 15; ++c) {
        auto label = " tok" + std::to_string(c) + " ";
        CHECK(count(text, label) == blocks + 1);  // once as a row label per block, once as a column
      }
    }
  }
  RenderOptions full = plain();
  full.layout = Layout::full;
  auto text = render_stage(s, 2, full);
  CHECK(text.find("columns 1–") != std::string::npos);
  RenderOptions narrow = full;
  narrow.width = 40;
  auto split = render_stage(s, 2, narrow);
  CHECK(split.find("columns 1–3 of 15\n") != std::string::npos);
  CHECK(lines_of(text).size() < lines_of(split).size());
}

TEST_CASE("Render: a column too wide for the width gets a block of its own", "[render]") {
  Stage s = small_scores();
  s.data(1, 0) = 1e20f;  // "100000002004087734272.000": wider than the whole line
  RenderOptions o = plain();
  o.width = 20;
  o.layout = Layout::full;
  auto text = render_stage(s, 1, o);
  CHECK(text.find("column 1 of 3\n") != std::string::npos);
  CHECK(text.find("column 2 of 3\n") != std::string::npos);
  CHECK(text.find("column 3 of 3\n") != std::string::npos);
  for (const auto& line : lines_of(text))
    if (line.find("1000000") == std::string::npos && line.find("───") == std::string::npos &&
        line.find("│") == std::string::npos)
      CHECK(display_width(line) <= 20);
}

TEST_CASE("Render: long and odd labels are cut and cleaned", "[render]") {
  Stage s = small_weights();
  s.col_labels = {"supercalifragilistic", "new\nline", "日本語"};
  s.row_labels = {"\x1b[31mred", "mouse"};
  auto text = render_stage(s, 1, plain());
  CHECK(text.find("supercalifr… │") != std::string::npos);
  CHECK(text.find("new?line") != std::string::npos);
  CHECK(text.find("│ ?[31mred │") != std::string::npos);  // the ESC cannot reach the terminal
  CHECK(text.find("日本語") != std::string::npos);
  check_layout(text, 80);
  // Wide characters count two columns, so the table's lines all have one width.
  auto lines = lines_of(text);
  for (std::size_t i = 2; i + 1 < lines.size(); ++i) CHECK(display_width(lines[i]) == display_width(lines[2]));

  auto ascii = render_stage(s, 1, plain(false));
  CHECK(ascii.find("supercalifr~ |") != std::string::npos);
}

TEST_CASE("Render: no line has trailing spaces in any mode", "[render]") {
  for (auto depth : {ColorDepth::none, ColorDepth::basic16, ColorDepth::ansi256, ColorDepth::truecolor})
    for (bool glyphs : {false, true})
      for (bool unicode : {false, true}) {
        RenderOptions o;
        o.color = depth;
        o.glyphs = glyphs;
        o.unicode = unicode;
        check_layout(render_stage(small_scores(), 1, o), o.width);
        check_layout(render_stage(small_weights(), 3, o), o.width);
      }
}

TEST_CASE("Render: an empty stage still prints its title", "[render]") {
  Stage s = small_weights();
  s.data.resize(0, 0);
  CHECK(render_stage(s, 1, plain()) ==
        "weights P · head 1 of 1 · 0 × 0\nrows: queries · columns: keys\n(empty)\n");
}

TEST_CASE("Render: tokens are numbered and wrapped to the width", "[render]") {
  std::vector<std::string> tokens{"mickey", "mouse", "is", "a", "cartoon", "mouse"};
  CHECK(render_tokens(tokens, plain()) == "tokens (6): 0 mickey · 1 mouse · 2 is · 3 a · 4 cartoon · 5 mouse\n");
  CHECK(render_tokens(tokens, plain(false)) == "tokens (6): 0 mickey - 1 mouse - 2 is - 3 a - 4 cartoon - 5 mouse\n");
  RenderOptions narrow = plain();
  narrow.width = 30;
  CHECK(render_tokens(tokens, narrow) ==
        "tokens (6): 0 mickey · 1 mouse\n"
        "            2 is · 3 a\n"
        "            4 cartoon\n"
        "            5 mouse\n");
  CHECK(render_tokens({}, plain()) == "tokens (0):\n");
  check_layout(render_tokens(std::vector<std::string>(40, "word"), narrow), 30);
}

TEST_CASE("Render: the colour policy follows flag, NO_COLOR, FORCE_COLOR, TERM and the terminal", "[render]") {
  struct Case {
    const char* what;
    ColorEnvironment env;
    ColorDepth expected;
  };
  using D = ColorDepth;
  auto env = [](std::string flag, bool tty) {
    ColorEnvironment e;
    e.flag = std::move(flag);
    e.is_terminal = tty;
    return e;
  };
  auto with = [](ColorEnvironment e, auto field, std::string value) {
    e.*field = std::move(value);
    return e;
  };
  using E = ColorEnvironment;
  const std::vector<Case> cases{
      {"auto, terminal, no hints", env("auto", true), D::basic16},
      {"auto, pipe", env("auto", false), D::none},
      {"never beats everything", with(with(env("never", true), &E::force_color, "1"), &E::colorterm, "truecolor"),
       D::none},
      {"always on a pipe", env("always", false), D::basic16},
      {"always beats NO_COLOR", with(env("always", false), &E::no_color, "1"), D::basic16},
      {"always beats TERM=dumb", with(env("always", false), &E::term, "dumb"), D::basic16},
      {"always takes depth from COLORTERM", with(env("always", false), &E::colorterm, "truecolor"), D::truecolor},
      {"NO_COLOR on a terminal", with(env("auto", true), &E::no_color, "1"), D::none},
      {"empty NO_COLOR is ignored", with(env("auto", true), &E::no_color, ""), D::basic16},
      {"NO_COLOR beats FORCE_COLOR", with(with(env("auto", true), &E::no_color, "1"), &E::force_color, "1"), D::none},
      {"FORCE_COLOR on a pipe", with(env("auto", false), &E::force_color, "1"), D::basic16},
      {"FORCE_COLOR=0 does not force", with(env("auto", false), &E::force_color, "0"), D::none},
      {"empty FORCE_COLOR does not force", with(env("auto", false), &E::force_color, ""), D::none},
      {"FORCE_COLOR=0 turns colour off on a terminal", with(env("auto", true), &E::force_color, "0"), D::none},
      {"FORCE_COLOR=false turns colour off on a terminal", with(env("auto", true), &E::force_color, "false"), D::none},
      {"FORCE_COLOR=FALSE on a pipe does not force", with(env("auto", false), &E::force_color, "FALSE"), D::none},
      {"FORCE_COLOR=true forces", with(env("auto", false), &E::force_color, "true"), D::basic16},
      {"FORCE_COLOR=false beats CLICOLOR_FORCE", with(with(env("auto", false), &E::force_color, "false"), &E::clicolor_force, "1"), D::none},
      {"CLICOLOR_FORCE on a pipe", with(env("auto", false), &E::clicolor_force, "1"), D::basic16},
      {"CLICOLOR_FORCE=0 does not force", with(env("auto", false), &E::clicolor_force, "0"), D::none},
      {"FORCE_COLOR beats TERM=dumb", with(with(env("auto", false), &E::force_color, "1"), &E::term, "dumb"),
       D::basic16},
      {"TERM=dumb on a terminal", with(env("auto", true), &E::term, "dumb"), D::none},
      {"TERM=xterm-256color", with(env("auto", true), &E::term, "xterm-256color"), D::ansi256},
      {"TERM=screen-256color", with(env("auto", true), &E::term, "screen-256color"), D::ansi256},
      {"TERM=xterm", with(env("auto", true), &E::term, "xterm"), D::basic16},
      {"COLORTERM=truecolor", with(env("auto", true), &E::colorterm, "truecolor"), D::truecolor},
      {"COLORTERM=24bit beats TERM=*-256color",
       with(with(env("auto", true), &E::colorterm, "24bit"), &E::term, "xterm-256color"), D::truecolor},
      {"COLORTERM=yes is no depth hint", with(env("auto", true), &E::colorterm, "yes"), D::basic16},
      {"depth hints do not turn colour on for a pipe", with(env("auto", false), &E::colorterm, "truecolor"),
       D::none},
  };
  REQUIRE(cases.size() >= 15);
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(decide_color(c.env) == c.expected);
  }
}

TEST_CASE("Render: the locale decides between box drawing and ASCII", "[render]") {
  using O = std::optional<std::string>;
  const O none;
  CHECK(decide_unicode(false, none, none, O("en_US.UTF-8")));
  CHECK(decide_unicode(false, none, none, O("C.utf8")));
  CHECK(decide_unicode(false, none, none, O("de_DE.Utf-8")));
  CHECK_FALSE(decide_unicode(false, none, none, O("C")));
  CHECK_FALSE(decide_unicode(false, none, none, none));
  CHECK_FALSE(decide_unicode(false, none, none, O("en_US.ISO-8859-1")));
  CHECK_FALSE(decide_unicode(true, none, none, O("en_US.UTF-8")));  // --ascii wins
  CHECK_FALSE(decide_unicode(false, O("C"), none, O("en_US.UTF-8")));   // LC_ALL first
  CHECK(decide_unicode(false, O("en_US.UTF-8"), O("C"), O("C")));
  CHECK_FALSE(decide_unicode(false, none, O("POSIX"), O("en_US.UTF-8")));  // then LC_CTYPE
  CHECK(decide_unicode(false, O(""), O(""), O("en_US.UTF-8")));           // empty ones are skipped
}

TEST_CASE("Render: the width comes from the flag, then COLUMNS, then the terminal", "[render]") {
  const char* saved = std::getenv("COLUMNS");
  std::optional<std::string> restore = saved ? std::optional<std::string>(saved) : std::nullopt;

  CHECK(decide_width(120) == 120);
  CHECK(decide_width(5) == 20);  // clamped
  setenv("COLUMNS", "100", 1);
  CHECK(decide_width(std::nullopt) == 100);
  CHECK(decide_width(60) == 60);
  CHECK(decide_width(0) == 100);  // 0 is "not given"
  setenv("COLUMNS", "12", 1);
  CHECK(decide_width(std::nullopt) == 20);
  setenv("COLUMNS", "wide", 1);
  CHECK(decide_width(std::nullopt) >= 20);  // ignored: the terminal's width, or 80
  unsetenv("COLUMNS");
  CHECK(decide_width(std::nullopt) >= 20);

  if (restore) setenv("COLUMNS", restore->c_str(), 1);
}

TEST_CASE("Render: display_width counts terminal columns", "[render]") {
  CHECK(display_width("") == 0);
  CHECK(display_width("hello") == 5);
  CHECK(display_width("héllo") == 5);
  CHECK(display_width("e\xCC\x81") == 1);  // e + combining acute accent
  CHECK(display_width("日本") == 4);
  CHECK(display_width("−∞") == 2);
  CHECK(display_width("┌──┐") == 4);
  CHECK(display_width("\x1b[38;2;0;0;0;48;2;253;231;37m 1.000 \x1b[0m") == 7);
  CHECK(display_width("\x1b[97;41mab\x1b[0mc") == 3);
  CHECK(display_width("\xff") == 1);  // a stray byte shows as one replacement glyph
}
