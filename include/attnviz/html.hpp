// The HTML report (`--html PATH`): one self-contained page that works offline and forever. It holds the
// sentence, the configuration and every stage of the trace as a heatmap table (queries as rows, keys as
// columns) with a legend, in the terminal's colour maps. Hovering a cell shows its value and arithmetic
// (the `title` attribute, so no script is needed); stages fold with <details>; the page prints on paper.
// No external request of any kind: inline CSS, no script, a Content-Security-Policy that forbids loads.
// See docs/html-report.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attnviz/lesson_truth.hpp"
#include "attnviz/render.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

struct HtmlOptions {
  int precision = 3;  // digits after the decimal point in each cell; the hover text shows the exact float32
  Palette palette = Palette::standard;
  std::string title;        // the page's heading (a lesson's title); empty: a heading from the sentence
  std::string description;  // a paragraph under the heading (a lesson's description); may be empty
  // Stages shown unfolded ("tokens" and stage names, as --stages takes them); empty: every stage. The
  // others are still on the page, folded, and print unfolded.
  std::vector<std::string> open_stages;
  // run --head: of the per-head stages only this head's (0-based) are unfolded; the others fold.
  std::optional<int> open_head;
  // Every cell carries its hover text (0.1–0.3 KB), and browsers crawl past a few hundred thousand cells:
  // a page with more cells than this is refused (InputError) rather than written.
  std::size_t max_cells = 250000;
  // --html-range matrix: each weights matrix's colours run from 0 to its own largest weight (its legend
  // says so), instead of 0 to 1 for every matrix.
  bool matrix_range = false;
  // Plain text shown after the sections, as the terminal prints it after the sentences: a lesson's summary
  // key, its claim notes, a word-order comparison. Empty: none.
  std::string closing;
};

// One sentence's part of the page: its trace and, in a lesson, how the lesson's word moved.
struct HtmlSection {
  const Trace& trace;
  std::string word;           // the lesson's word ("mouse"); empty outside a lesson
  std::optional<LessonNumbers> lesson;  // the word against each neighbourhood: before, uniform, after, the claim
};

// The one escape of the page, for text and attribute values alike: & < > " ' become character
// references, and control characters and invalid UTF-8 become '?' (as in the terminal tables).
std::string escape_html(std::string_view text);

// The whole page for one trace, or for several (a lesson, a comparison) one section each. InputError when
// the page would hold more than options.max_cells cells.
std::string render_html(const Trace& trace, const HtmlOptions& options);
std::string render_html(const std::vector<HtmlSection>& sections, const HtmlOptions& options);

// BertViz's model view (attnviz heads --html): every head's weights for one sentence, one row of heads per
// layer, each head drawn as the page draws any weights stage. `layers`: one trace per layer of a trained
// model (run_attention with language_model_layer).
std::string render_model_view_html(const std::vector<Trace>& layers, const HtmlOptions& options);

}  // namespace attnviz
