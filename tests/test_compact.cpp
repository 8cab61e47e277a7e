// The compact heatmap layout: a whole attention pattern in one block that fits the projector's width.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "../src/render/colormap.hpp"
#include "attnviz/data.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/render.hpp"
#include "support.hpp"

using attnviz::display_width;
using attnviz::test::run_attnviz;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The lines of each weights matrix: from its title to its "compact:" legend (inclusive).
std::vector<std::vector<std::string>> weights_blocks(const std::string& out) {
  std::vector<std::vector<std::string>> blocks;
  bool in = false;
  for (const auto& line : lines_of(out)) {
    if (line.starts_with("weights P")) {
      blocks.emplace_back();
      in = true;
    }
    if (in) blocks.back().push_back(line);
    if (in && line.starts_with("compact:")) in = false;
  }
  return blocks;
}

std::string sentence_of(int words) {
  std::string s;
  for (int i = 0; i < words; ++i) s += (i ? " " : "") + std::string(i % 3 == 0 ? "mouse" : i % 3 == 1 ? "cartoon" : "computer");
  return s;
}

}  // namespace

TEST_CASE("Compact: demo mouse --width 80 --stages weights shows each 16 x 16 weights matrix in one block of 80 columns", "[compact][cli]") {
  for (const std::vector<std::string>& extra : {std::vector<std::string>{"--color", "never"}, {"--glyphs", "--color", "never"},
                                                 {"--ascii", "--color", "never"}, {"--color", "always"}}) {
    std::vector<std::string> args{"demo", "mouse", "--width", "80", "--stages", "weights"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_attnviz(args, {{"COLORTERM", "truecolor"}});
    REQUIRE(r.exit_code == 0);
    const auto blocks = weights_blocks(r.out);
    REQUIRE(blocks.size() == 2);
    for (const auto& block : blocks) {
      CHECK_THAT(block[0], Contains("16 "));
      // Title, axes, two lines of column numbers, 16 rows, the legend: no second block of columns.
      REQUIRE(block.size() == 21);
      for (const auto& line : block) {
        INFO(line);
        CHECK(display_width(line) <= 80);
        CHECK_FALSE(line.starts_with("columns "));
      }
      CHECK(block[4].starts_with(" 0 "));
      CHECK(block[19].starts_with("15 "));
    }
  }
  // The full layout of the same matrix needs three blocks at 80 columns.
  const auto full = run_attnviz({"demo", "mouse", "--width", "80", "--stages", "weights", "--color", "never", "--layout", "full"});
  REQUIRE(full.exit_code == 0);
  CHECK_THAT(full.out, Contains("columns 1–"));
  CHECK_THAT(full.out, !Contains("compact:"));
}

TEST_CASE("Compact: a 30 x 30 matrix fits 120 columns in one block, the darkest cell is the largest weight", "[compact][cli]") {
  const auto r = run_attnviz({"run", sentence_of(30), "--width", "120", "--stages", "weights", "--color", "never"});
  REQUIRE(r.exit_code == 0);
  const auto blocks = weights_blocks(r.out);
  REQUIRE(blocks.size() == 1);
  REQUIRE(blocks[0].size() == 35);
  for (const auto& line : blocks[0]) CHECK(display_width(line) <= 120);
  CHECK_THAT(r.out, Contains("█"));
  CHECK_THAT(r.out, Contains("the largest in this matrix"));
  // At 80 columns the same matrix is compact too, one character a cell: still one block, within 80 columns.
  const auto narrow = run_attnviz({"run", sentence_of(30), "--width", "80", "--stages", "weights", "--color", "never"});
  REQUIRE(narrow.exit_code == 0);
  const auto narrow_blocks = weights_blocks(narrow.out);
  REQUIRE(narrow_blocks.size() == 1);
  CHECK(narrow_blocks[0].size() >= 34);  // title, axes, two lines of column numbers, 30 rows, the legend
  CHECK_THAT(narrow.out, !Contains("columns 0–"));
  for (const auto& line : lines_of(narrow.out)) CHECK(display_width(line) <= 80);
}

TEST_CASE("Compact: --layout compact on a small matrix, masked cells, and the legend's scale", "[compact][cli]") {
  const auto r = run_attnviz({"run", "the cat chased the mouse", "--causal", "--layout", "compact", "--stages", "weights,scaled_scores",
                              "--color", "never", "--precision", "2"});
  REQUIRE(r.exit_code == 0);
  const auto lines = lines_of(r.out);
  // scaled_scores of a causal run: the cells above the diagonal are masked (×); row 0 sees only itself.
  bool found = false;
  for (const auto& line : lines)
    if (line.starts_with("0 the ") && line.find("×") != std::string::npos) found = true;
  CHECK(found);
  CHECK_THAT(r.out, Contains("× = masked"));
  // Row 0 of the weights puts all its weight on itself: the largest value, the darkest glyph.
  const auto blocks = weights_blocks(r.out);
  REQUIRE(blocks.size() == 1);
  CHECK(blocks[0][3] == "0 the    ██");
  CHECK_THAT(blocks[0].back(), Contains("compact: ░▒▓█ = up to 1.00, the largest in this matrix"));
  // --layout takes only its three values.
  const auto bad = run_attnviz({"run", "the cat", "--layout", "tiny"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("--layout"));
}

TEST_CASE("Width: labels are whole at wide widths, cut to 12 at 80, descriptions and summaries follow --width", "[compact][cli]") {
  const std::string sentence = "a computer mouse detects two-dimensional motion";
  const auto wide = run_attnviz({"run", sentence, "--width", "250", "--stages", "weights", "--layout", "full", "--color", "never"});
  REQUIRE(wide.exit_code == 0);
  CHECK_THAT(wide.out, Contains("│ two-dimensional │"));
  const auto narrow = run_attnviz({"run", sentence, "--width", "80", "--stages", "weights", "--layout", "full", "--color", "never"});
  REQUIRE(narrow.exit_code == 0);
  CHECK_THAT(narrow.out, Contains("two-dimensi…"));

  for (int width : {40, 60, 100}) {
    const auto demo = run_attnviz({"demo", "mouse", "--width", std::to_string(width), "--stages", "tokens", "--color", "never"});
    REQUIRE(demo.exit_code == 0);
    for (const auto& line : lines_of(demo.out)) {
      INFO("width " << width << ": " << line);
      CHECK(display_width(line) <= width);
    }
  }
}

TEST_CASE("Width: every bundled lesson, every stage, at 60, 80, 100 and 200 columns: no line wider than --width", "[compact][cli]") {
  // The legends of the compact layout ("compact: ░▒▓█ = |value| up to 3.497, … (signs: --layout full)"), the
  // summary's table and the word-order rows were one unbreakable line each, up to 88 columns at 60 or 80.
  for (const char* lesson : {"apple", "bank", "causal", "mouse", "mouse-glove", "mouse-lm", "two-heads", "word-order"})
    for (int width : {60, 80, 100, 200})
      // --step --narrate without a terminal: the narration, the guess and its reveal printed in line too.
      for (const bool step : {false, true}) {
        std::vector<std::string> args{"demo", lesson, "--width", std::to_string(width), "--color", "never"};
        if (step) args.insert(args.end(), {"--step", "--narrate"});
        const auto r = run_attnviz(args);
        REQUIRE(r.exit_code == 0);
        if (step) CHECK_THAT(r.out, Contains(lesson == std::string("word-order") ? "" : "Guess before the softmax"));
        for (const auto& line : lines_of(r.out)) {
          INFO(lesson << " at " << width << (step ? " with --step --narrate: " : ": ") << line);
          CHECK(display_width(line) <= width);
        }
      }
  // compare's tables (a column per sentence and measure) follow the width the same way.
  for (const std::vector<std::string>& probes : {std::vector<std::string>{"--probe", "cartoon,device"}, {}}) {  // {}: the named dimensions
    std::vector<std::string> args{"compare", "Mickey Mouse is an American cartoon character", "a computer mouse is a hand-held pointing device",
                                  "the cat chased the mouse", "--word", "mouse", "--width", "60", "--color", "never"};
    args.insert(args.end(), probes.begin(), probes.end());
    const auto c = run_attnviz(args);
    REQUIRE(c.exit_code == 0);
    CHECK_THAT(c.out, Contains("uniform"));
    for (const auto& line : lines_of(c.out)) {
      INFO("compare at 60: " << line);
      CHECK(display_width(line) <= 60);
    }
  }
}

TEST_CASE("Compact: a view adds a cursor, a window and a hidden row to the same cells", "[compact]") {
  using namespace attnviz;
  const Embeddings emb = resolve_embeddings("toy", test::data_dir().string());
  const Model model = resolve_model("toy", emb.dim, 0, test::data_dir().string());
  const Trace trace = run_attention(emb, model, "the cat chased the mouse", {});
  const Stage& P = *trace.find("weights", 0);
  RenderOptions o;
  o.color = ColorDepth::none;
  o.width = 80;
  const auto scale = render_detail::scale_of(P, o.palette);
  const std::vector<std::string> plain = lines_of(render_detail::compact_grid(P, scale, o));
  REQUIRE(plain.size() == 6);  // the column numbers, then 5 rows
  CHECK(plain[3] == "2 chased ░░ ▒▒ ░░ ░░ ░░");

  render_detail::CompactView view;
  view.cursor = std::pair{2, 1};
  const std::vector<std::string> marked = lines_of(render_detail::compact_grid(P, scale, o, view));
  CHECK(marked[0] == "  " + plain[0]);
  CHECK(marked[3] == "▸ 2 chased ░░[▒▒]░░ ░░ ░░");
  CHECK(marked[4] == "  " + plain[4]);
  const auto geometry = render_detail::compact_geometry(P, o, view);
  CHECK(geometry.label_width == 10);  // "▸ 2 chased"
  CHECK(geometry.cell == 3);
  CHECK(geometry.header_lines == 1);
  CHECK(marked[3].substr(marked[3].find('[')).starts_with("[▒▒]"));

  view.row0 = 1;
  view.rows = 2;
  view.col0 = 3;
  view.cols = 2;
  view.hidden_row = 2;
  const std::vector<std::string> window = lines_of(render_detail::compact_grid(P, scale, o, view));
  REQUIRE(window.size() == 3);
  CHECK(window[0] == "           3  4");
  CHECK(window[1] == "  1 cat");  // its weights on the keys 3 and 4 are under a tenth of the largest: blank
  CHECK(window[2] == "▸ 2 chased ?  ?");
  view.cursor = std::pair{2, 4};
  CHECK(lines_of(render_detail::compact_grid(P, scale, o, view))[2] == "▸ 2 chased ? [? ]");
  const std::string legend = render_detail::compact_legend(P, scale, o, view);
  CHECK_THAT(legend, Contains("? = hidden"));
  CHECK_THAT(legend, Contains("numbers: --layout full"));
}
