// The HTML report: one self-contained page per run (docs/html-report.md). Everything the page shows comes
// from the trace (renderers only read it: docs/architecture.md); the colours come from the same maps, chosen by
// the same rule (render_detail::scale_of), as the terminal tables.
//
// Safety: every piece of data (sentence, tokens, labels, names, notes) goes through escape_html exactly
// once, at the point where it is written into the page; nothing else on the page comes from input. The
// page has no script, and its Content-Security-Policy forbids scripts and every load, so even a bug in
// the escaping could neither run code nor reach the network.
#include "attnviz/html.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "attnviz/error.hpp"
#include "attnviz/report.hpp"
#include "attnviz/softmax.hpp"
#include "attnviz/stages.hpp"
#include "attnviz/utf8.hpp"
#include "attnviz/version.hpp"
#include "colormap.hpp"

namespace attnviz {
namespace {

using render_detail::ValueScale;

// No fetch of any kind (default-src covers scripts, images, fonts, frames, connections); inline CSS only.
// base-uri and form-action do not fall back to default-src, so they are named too.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

constexpr const char* kStyle = R"css(
:root { color-scheme: light; }
body { font: 16px/1.45 system-ui, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 1.5rem; color: #111; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .4rem; border-bottom: 2px solid #ddd; }
p.lead { max-width: 60rem; }
p.sentence { font-size: 1.3rem; margin: .3rem 0 .6rem; }
dl.config { display: grid; grid-template-columns: max-content auto; gap: .05rem 1rem; margin: .5rem 0; }
dl.config dt { font-weight: 600; }
dl.config dd { margin: 0; }
ol.tokens { list-style: none; padding: 0; margin: .4rem 0; display: flex; flex-wrap: wrap; gap: .2rem .9rem; }
ol.tokens .index { color: #666; font-size: .8em; margin-right: .25em; }
nav.stages { font-size: .9rem; margin: .4rem 0; }
nav.stages a { margin-right: .6rem; }
p.note { background: #fff8e0; border-left: 4px solid #e0b000; padding: .2rem .6rem; }
details.stage { margin: .8rem 0; border: 1px solid #ccc; border-radius: 6px; padding: .3rem .8rem; }
details.stage > summary { cursor: pointer; font-weight: 600; font-size: 1.1rem; }
.scroll { overflow-x: auto; }
table.heatmap { border-collapse: collapse; margin: .3rem 0; font: 14px/1.2 ui-monospace, "DejaVu Sans Mono", monospace; font-variant-numeric: tabular-nums; }
table.heatmap caption { caption-side: top; text-align: left; font: .9rem system-ui, "DejaVu Sans", sans-serif; color: #444; padding: .2rem 0; }
table.heatmap th { padding: 2px 6px; background: #f2f2f2; white-space: nowrap; font-weight: 600; }
table.heatmap thead th { text-align: right; }
table.heatmap tbody th { text-align: left; }
table.heatmap th.corner { font-weight: 400; color: #555; font-size: .8em; text-align: left; }
table.heatmap td { padding: 2px 6px; text-align: right; border: 1px solid #fff; white-space: nowrap; color: #000; }
table.heatmap td.w { color: #fff; }
.legend { display: flex; flex-wrap: wrap; align-items: center; gap: .3rem .9rem; font-size: .9rem; margin: .3rem 0; }
.ramp { display: inline-block; width: 12rem; height: .9rem; border: 1px solid #888; vertical-align: middle; margin: 0 .3rem; }
.swatch { display: inline-block; width: 1.6rem; height: .9rem; border: 1px solid #888; vertical-align: middle; margin-right: .3rem; }
table.shift { border-collapse: collapse; margin: .4rem 0; }
table.shift th, table.shift td { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; }
table.shift th:first-child, table.shift td:first-child { text-align: left; }
footer { margin-top: 2rem; color: #666; font-size: .85rem; }
pre.text { font: 14px/1.35 ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap; background: #f7f7f7; padding: .5rem .8rem; }
.print-only { display: none; }
div.heads { display: grid; gap: 0 .8rem; align-items: start; }
div.heads table.heatmap { font-size: 11px; }
div.heads details.stage > summary { font-size: .95rem; }
@media print {
  .print-only { display: block; }
  .screen-only { display: none; }
  table.print-block { border-collapse: collapse; margin: .3rem 0; font: 8pt/1.2 ui-monospace, "DejaVu Sans Mono", monospace; break-inside: avoid; page-break-inside: avoid; }
  table.print-block caption { caption-side: top; text-align: left; color: #444; }
  table.print-block th { padding: 1px 4px; background: #f2f2f2; white-space: nowrap; }
  table.print-block td { padding: 1px 4px; text-align: right; border: 1px solid #fff; white-space: nowrap; color: #000; }
  table.print-block td.w { color: #fff; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { margin: 0; font-size: 11pt; }
  nav.stages { display: none; }
  details.stage { border: none; padding: 0; break-inside: avoid; page-break-inside: avoid; }
  details.stage::details-content { content-visibility: visible; display: block; }
  details.stage > summary { list-style: none; }
  details.stage > summary::-webkit-details-marker { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .scroll { overflow: visible; }
  table.heatmap { font-size: 8pt; break-inside: avoid; page-break-inside: avoid; }
}
)css";

// A number as the cells show it (fixed decimals, "−∞" when masked).
std::string shown(float value, int precision) { return format_number(value, precision, true); }

// A float32 exactly: the shortest decimal that reads back as the same float (as the JSON trace writes it).
std::string exact(float value) {
  if (std::isinf(value)) return value < 0 ? "−∞" : "∞";
  if (std::isnan(value)) return "NaN";
  return fmt::format("{}", value);
}

std::string hex(Rgb c) { return fmt::format("#{:02x}{:02x}{:02x}", c.r, c.g, c.b); }

std::string label_at(const std::vector<std::string>& labels, Eigen::Index i) {
  auto k = static_cast<std::size_t>(i);
  return k < labels.size() ? labels[k] : std::to_string(i);
}

// "weights P", "scaled_scores S'"
std::string stage_name(const Stage& s) { return s.symbol.empty() ? s.name : s.name + " " + s.symbol; }
std::string symbol(const Stage& s) { return s.symbol.empty() ? s.name : s.symbol; }

// "rows: queries" has one row per query; the singular names a cell's row and column in the hover text.
std::string singular(const std::string& axis) {
  if (axis == "queries") return "query";
  if (axis == "keys") return "key";
  if (axis == "tokens") return "token";
  if (axis == "dimensions") return "dimension";
  return axis;
}

std::string stage_id(std::size_t section, const Stage& s) {
  return fmt::format("s{}-{}{}", section + 1, s.name, s.head ? fmt::format("-h{}", *s.head + 1) : "");
}

bool is_open(const HtmlOptions& options, const std::string& name) {
  return options.open_stages.empty() ||
         std::find(options.open_stages.begin(), options.open_stages.end(), name) != options.open_stages.end();
}

// ---------------------------------------------------------------------------------------------------
// The hover text of a cell: its value exactly, what its row and column are, and its arithmetic.

// The softmax of each row of S', step by step as the reference computed the weights (softmax.hpp): the
// hover text shows the trace's own numbers.
std::vector<RowSoftmax> softmax_rows_of(const Matrix& scaled) {
  std::vector<RowSoftmax> rows;
  std::vector<float> row(static_cast<std::size_t>(scaled.cols()));
  for (Eigen::Index i = 0; i < scaled.rows(); ++i) {
    for (Eigen::Index j = 0; j < scaled.cols(); ++j) row[static_cast<std::size_t>(j)] = scaled(i, j);
    rows.push_back(softmax_row(row));
  }
  return rows;
}

// The stages a stage's arithmetic reads: S for S', S' (and its softmax sums) for P.
struct Arithmetic {
  const Stage* scores = nullptr;
  const Stage* scaled = nullptr;
  std::vector<RowSoftmax> softmax;  // of each row of S', for the weights
  float scale = 1.0f, temperature = 1.0f;
  int d_k = 0;
};

bool same_shape(const Stage* other, const Stage& stage) {
  return other && other->data.rows() == stage.data.rows() && other->data.cols() == stage.data.cols();
}

// A stage of the same head and shape as `stage`, or nullptr (a backend may omit the attention matrices).
const Stage* companion(const Trace& trace, std::string_view name, const Stage& stage) {
  const Stage* other = trace.find(name, stage.head);
  return same_shape(other, stage) ? other : nullptr;
}

Arithmetic arithmetic_for(const Trace& trace, const Stage& stage) {
  Arithmetic a;
  a.scale = trace.config.scale;
  a.temperature = trace.config.temperature;
  a.d_k = trace.config.d_k;
  if (!stage.is_attention()) return a;
  a.scores = companion(trace, stage_name::scores, stage);
  a.scaled = companion(trace, stage_name::scaled_scores, stage);
  if (stage.name == stage_name::weights && a.scaled) a.softmax = softmax_rows_of(a.scaled->data);
  return a;
}

// Lines of plain text; the caller escapes each and joins them with a line break the tooltip shows.
std::vector<std::string> arithmetic_lines(const Stage& stage, const Arithmetic& a, Eigen::Index i, Eigen::Index j) {
  const std::string cell = fmt::format("[{}][{}]", i, j);
  const float v = stage.data(i, j);
  std::vector<std::string> lines;
  if (stage.name == stage_name::scores) {
    lines.push_back(fmt::format("S{0} = Q[{1}] · K[{2}], a dot product over d_k = {3}", cell, i, j, a.d_k));
  } else if (stage.name == stage_name::scaled_scores) {
    if (!std::isfinite(v)) {
      lines.push_back(fmt::format("masked: query {} may not attend to key {}, so S'{} = −∞ and P{} = 0", i, j, cell, cell));
    } else {
      lines.push_back(fmt::format("S'{0} = S{0} × scale / T", cell));
      if (a.scores)
        lines.push_back(fmt::format("= {} × {} / {} = {}", exact(a.scores->data(i, j)), exact(a.scale), exact(a.temperature), exact(v)));
    }
  } else if (stage.name == stage_name::weights) {
    if (a.scaled && !std::isfinite(a.scaled->data(i, j))) {
      lines.push_back(fmt::format("P{0} = 0: S'{0} = −∞ (masked) and exp(−∞) = 0", cell));
    } else {
      lines.push_back(fmt::format("P{0} = exp(S'{0} − max) / Σ (max and Σ of row {1}: hover over its label)", cell, i));
      if (a.scaled) {
        const auto r = static_cast<std::size_t>(i);
        const RowSoftmax& row = a.softmax[r];
        lines.push_back(fmt::format("= exp({} − {}) / {}", exact(a.scaled->data(i, j)), exact(row.max), exact(row.sum)));
        lines.push_back(fmt::format("= {} / {} = {}", exact(row.exps[static_cast<std::size_t>(j)]), exact(row.sum), exact(v)));
      }
    }
  } else if (stage.name == stage_name::context) {
    lines.push_back(fmt::format("A{} = Σₖ P[{}][k] · V[k][{}]: the values, weighted by query {}'s attention", cell, i, j, i));
  } else if (stage.name == stage_name::concat) {
    lines.push_back("the heads' contexts A_h side by side");
  } else if (stage.name == stage_name::output) {
    lines.push_back(fmt::format("O{0} = (A · W_o + b_o){0}: the contextualized embedding", cell));
  } else if (stage.name == stage_name::queries || stage.name == stage_name::keys || stage.name == stage_name::values) {
    const std::string w = stage.name == stage_name::queries ? "q" : stage.name == stage_name::keys ? "k" : "v";
    lines.push_back(fmt::format("{0}{1} = (X · W_{2} + b_{2}){1}, this head's columns", symbol(stage), cell, w));
  }
  return lines;
}

// The escaped lines joined by a line break that the tooltip shows.
std::string tooltip(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "&#10;") + escape_html(line);
  return out;
}

std::string cell_title(const Stage& stage, int heads, const Arithmetic& a, Eigen::Index i, Eigen::Index j) {
  std::vector<std::string> lines;
  std::string head = stage.head && heads > 1 ? fmt::format(" (head {} of {})", *stage.head + 1, heads) : "";
  lines.push_back(fmt::format("{}[{}][{}] = {}{}", symbol(stage), i, j, exact(stage.data(i, j)), head));
  if (stage.is_attention())
    lines.push_back(fmt::format("query “{}” → key “{}”", label_at(stage.row_labels, i), label_at(stage.col_labels, j)));
  else
    lines.push_back(fmt::format("{} “{}” · {} “{}”", singular(stage.row_axis), label_at(stage.row_labels, i),
                                singular(stage.col_axis), label_at(stage.col_labels, j)));
  for (auto& line : arithmetic_lines(stage, a, i, j)) lines.push_back(std::move(line));
  return tooltip(lines);
}

// A row label's hover text: its index, and for the weights the row's softmax maximum and sum, which every
// cell of the row uses.
std::string row_title(const Stage& stage, const Arithmetic& a, Eigen::Index i) {
  std::vector<std::string> lines{fmt::format("row {}: {} “{}”", i, singular(stage.row_axis), label_at(stage.row_labels, i))};
  if (stage.name == stage_name::weights && a.scaled) {
    const auto r = static_cast<std::size_t>(i);
    lines.push_back(fmt::format("max = {}: the largest S' of row {}", exact(a.softmax[r].max), i));
    lines.push_back(fmt::format("Σ = {}: the sum of exp(S'[{}][k] − max) over the row", exact(a.softmax[r].sum), i));
  }
  return tooltip(lines);
}

// ---------------------------------------------------------------------------------------------------
// A stage: its table and legend

// A cell's colour attributes: its background, and class "w" (white text) where white contrasts more.
std::string cell_colour(const ValueScale& scale, float value) {
  Rgb bg = std::isfinite(value) ? colormap_color(scale.map, scale.position(value)) : kMaskedGrey;
  return fmt::format(R"({}style="background:{}")", text_color_for(bg) == Rgb{255, 255, 255} ? R"(class="w" )" : "", hex(bg));
}

std::string legend(const ValueScale& scale, int precision) {
  std::string stops;
  for (int k = 0; k <= 16; ++k)
    stops += fmt::format(",{} {}%", hex(colormap_color(scale.map, static_cast<float>(k) / 16.0f)), k * 100 / 16);
  std::string ramp = fmt::format(R"html(<span class="ramp" style="background:linear-gradient(to right{})"></span>)html", stops);
  std::string out = R"(<div class="legend"><span>legend:</span>)";
  if (scale.sequential && scale.top != 1.0f)
    out += fmt::format("<span>0{}{} · {}: this matrix's own range, 0 to its largest value (not 0 to 1)</span>", ramp,
                       escape_html(shown(scale.top, precision)), escape_html(render_detail::map_name(scale.map, true)));
  else if (scale.sequential)
    out += fmt::format("<span>0{}1 · {}</span>", ramp, escape_html(render_detail::map_name(scale.map, true)));
  else
    out += fmt::format("<span>{}{}{} · {}, centred at 0</span>", escape_html(shown(-scale.max_abs, precision)), ramp,
                       escape_html(shown(scale.max_abs, precision)), escape_html(render_detail::map_name(scale.map, true)));
  out += scale.any_finite
             ? fmt::format("<span>range: {} … {}</span>", escape_html(shown(scale.min, precision)), escape_html(shown(scale.max, precision)))
             : std::string("<span>range: no finite values</span>");
  if (scale.any_masked)
    out += fmt::format(R"(<span><span class="swatch" style="background:{}"></span>−∞ = masked (weight 0)</span>)", hex(kMaskedGrey));
  return out + "</div>\n";
}

// Columns per printed block: a 14-pixel monospace cell of "-0.000" at 8pt fits about 14 on A4 or Letter
// paper beside the row labels; 12 leaves room.
constexpr Eigen::Index kPrintColumns = 12;

// The table of columns [first, last) of a stage; `hover`: every cell carries its arithmetic (the screen
// table; the printed blocks leave it out, paper has no hover).
std::string table_html(const Trace& trace, const Stage& stage, const ValueScale& scale, const Arithmetic& arithmetic, Eigen::Index first,
                       Eigen::Index last, const HtmlOptions& options, bool hover) {
  const int heads = trace.config.heads;
  // The printed blocks are tables of their own class, so "table.heatmap" stays one table per stage.
  std::string out = hover ? R"(<table class="heatmap">)" : R"(<table class="print-block">)";
  const bool block = first > 0 || last < stage.data.cols();
  out += fmt::format("<caption>rows: {} · columns: {}{}</caption>\n", escape_html(stage.row_axis), escape_html(stage.col_axis),
                     block ? fmt::format(" · columns {}–{} of {}", first, last - 1, stage.data.cols()) : "");
  out += fmt::format(R"(<thead><tr><th scope="col" class="corner">{} ↓ · {} →</th>)", escape_html(singular(stage.row_axis)),
                     escape_html(singular(stage.col_axis)));
  for (Eigen::Index j = first; j < last; ++j)
    out += fmt::format(R"(<th scope="col" title="column {}">{}</th>)", j, escape_html(label_at(stage.col_labels, j)));
  out += "</tr></thead>\n<tbody>\n";
  for (Eigen::Index i = 0; i < stage.data.rows(); ++i) {
    out += hover ? fmt::format(R"(<tr><th scope="row" title="{}">{}</th>)", row_title(stage, arithmetic, i), escape_html(label_at(stage.row_labels, i)))
                 : fmt::format(R"(<tr><th scope="row">{}</th>)", escape_html(label_at(stage.row_labels, i)));
    for (Eigen::Index j = first; j < last; ++j) {
      const float v = stage.data(i, j);
      out += hover ? fmt::format(R"(<td {} title="{}">{}</td>)", cell_colour(scale, v), cell_title(stage, heads, arithmetic, i, j),
                                 escape_html(shown(v, options.precision)))
                   : fmt::format(R"(<td {}>{}</td>)", cell_colour(scale, v), escape_html(shown(v, options.precision)));
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table>";
}

std::string text_html(const std::string& text);

// The terminal's text renderers' options for what the page shows as text: 100 columns, the page's precision.
RenderOptions text_options(const HtmlOptions& options) {
  RenderOptions text;
  text.width = 100;
  text.precision = options.precision;
  return text;
}

std::string stage_html(const Trace& trace, const Stage& stage, std::size_t section, const HtmlOptions& options) {
  const int heads = trace.config.heads;
  std::string summary = stage_name(stage);
  if (stage.head) summary += fmt::format(" · head {} of {}", *stage.head + 1, heads);
  summary += fmt::format(" · {} × {}", stage.data.rows(), stage.data.cols());

  std::string out = fmt::format(R"(<details class="stage" id="{}" data-stage="{}" data-head="{}"{}>)", escape_html(stage_id(section, stage)),
                                escape_html(stage.name), stage.head ? std::to_string(*stage.head) : "",
                                is_open(options, stage.name) && (!options.open_head || !stage.head || *stage.head == *options.open_head)
                                    ? " open"
                                    : "");
  out += fmt::format("<summary>{}</summary>\n", escape_html(summary));
  if (stage.data.rows() == 0 || stage.data.cols() == 0) return out + "<p>(empty)</p></details>\n";

  const ValueScale scale = render_detail::scale_of(stage, options.palette, options.matrix_range);
  const Arithmetic arithmetic = arithmetic_for(trace, stage);
  const Eigen::Index cols = stage.data.cols();
  const bool wide = cols > kPrintColumns;
  // On screen the whole table scrolls; on paper a wide one is cut into blocks of columns, each repeating the
  // row labels, as the terminal splits a table that is wider than its width.
  out += fmt::format(R"(<div class="scroll{}">)", wide ? " screen-only" : "");
  out += table_html(trace, stage, scale, arithmetic, 0, cols, options, true);
  out += "</div>\n";
  if (wide)
    for (Eigen::Index first = 0; first < cols; first += kPrintColumns)
      out += fmt::format(R"(<div class="print-only">{}</div>)", table_html(trace, stage, scale, arithmetic, first,
                                                                        std::min(cols, first + kPrintColumns), options, false)) +
             "\n";
  out += legend(scale, options.precision);
  // Under a weights table, as in the terminal: each row's sum and entropy, and its top keys.
  if (stage.name == stage_name::weights) {
    const RenderOptions text = text_options(options);
    const Stage* scaled = trace.find(stage_name::scaled_scores, stage.head);
    out += text_html(render_row_checks(stage, scaled, heads, text) + render_top_keys(stage, 3, heads, text, scaled));
  }
  return out + "</details>\n";
}

// Plain text as the terminal prints it, line by line (escape_html would turn its line breaks into '?').
std::string text_html(const std::string& text) {
  std::string out = "<pre class=\"text\">";
  for (std::size_t start = 0, end; start < text.size(); start = end + 1) {
    end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += escape_html(text.substr(start, end - start)) + "\n";
  }
  return out + "</pre>\n";
}

// ---------------------------------------------------------------------------------------------------
// A section: one sentence

std::string config_html(const TraceConfig& c) {
  auto item = [](const std::string& term, const std::string& value) {
    return fmt::format("<dt>{}</dt><dd>{}</dd>", escape_html(term), escape_html(value));
  };
  std::string out = R"(<dl class="config">)";
  out += item("embeddings", fmt::format("{} ({} dimensions)", c.embeddings, c.d_model));
  out += item("model", fmt::format("{} ({}{} head{}, d_k {}, d_v {})", c.model, c.layers > 0 ? fmt::format("layer {} of {}, ", c.layer, c.layers) : "",
                                   c.heads, c.heads == 1 ? "" : "s", c.d_k, c.d_v));
  out += item("backend", c.backend);
  out += item("scale", c.scale == 1.0f ? "none (1)" : fmt::format("1/√{} = {}", c.d_k, exact(c.scale)));
  out += item("temperature", exact(c.temperature));
  std::string mask = c.causal ? "causal (each token sees itself and earlier tokens)" : c.custom_mask ? "custom" : "none";
  if (c.exclude_self) mask = (mask == "none" ? "" : mask + "; ") + "no self (the diagonal masked: no word attends to itself)";
  out += item("mask", mask);
  out += item("positions", c.positions);
  if (c.context) out += item("context", *c.context);
  return out + "</dl>\n";
}

std::string tokens_html(const std::string& label, const std::vector<std::string>& tokens) {
  std::string out = fmt::format("<p>{} ({}):</p>\n<ol class=\"tokens\" start=\"0\">", escape_html(label), tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i)
    out += fmt::format(R"(<li><span class="index">{}</span>{}</li>)", i, escape_html(tokens[i]));
  return out + "</ol>\n";
}

std::string shift_html(const LessonNumbers& n, int precision) {
  std::string out = fmt::format("<h3>“{}” before and after attention</h3>\n<p>Cosine similarity of the word to each neighbourhood "
                                "of the vocabulary: its embedding X (before), the output a uniform attention row would give "
                                "(uniform: every word the query sees weighted the same, the sentence’s plain average), and its "
                                "output O (after). Pattern: after − uniform, what the attention pattern adds.</p>\n",
                                escape_html(n.word));
  out += R"(<table class="shift"><thead><tr><th scope="col">neighbourhood</th><th scope="col">before</th><th scope="col">uniform</th><th scope="col">after</th><th scope="col">change</th><th scope="col">pattern</th></tr></thead><tbody>)";
  auto signed_value = [&](float v) {
    std::string t = shown(v, precision);
    return t.front() == '-' ? t : "+" + t;
  };
  for (std::size_t k = 0; k < n.neighbourhoods.size(); ++k)
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", escape_html(n.neighbourhoods[k]),
                       escape_html(shown(n.before[k], precision)), escape_html(shown(n.uniform[k], precision)),
                       escape_html(shown(n.after[k], precision)), escape_html(signed_value(n.after[k] - n.before[k])),
                       escape_html(signed_value(n.after[k] - n.uniform[k])));
  if (n.neighbourhoods.size() >= 2) {
    out += fmt::format("<tr><th scope=\"row\">closer to</th><td>{}</td><td>{}</td><td>{}</td><td></td><td></td></tr>",
                       escape_html(n.margin_before.closer), escape_html(n.margin_uniform.closer), escape_html(n.margin_after.closer));
    out += fmt::format("<tr><th scope=\"row\">by</th><td>{}</td><td>{}</td><td>{}</td><td></td><td></td></tr>",
                       escape_html(shown(n.margin_before.by, precision)), escape_html(shown(n.margin_uniform.by, precision)),
                       escape_html(shown(n.margin_after.by, precision)));
  }
  out += "</tbody></table>\n";
  const std::string claim = claim_line(n, precision, true);
  if (!claim.empty()) out += fmt::format("<p class=\"claim\">{}</p>\n", escape_html(claim));
  return out;
}

std::string section_html(const HtmlSection& s, std::size_t index, std::size_t count, const HtmlOptions& options) {
  const Trace& trace = s.trace;
  std::string out = fmt::format(R"(<section class="trace" id="s{}">)", index + 1);
  out += "\n";
  out += count > 1 ? fmt::format("<h2>Sentence {} of {}</h2>\n", index + 1, count) : std::string("<h2>Sentence</h2>\n");
  out += fmt::format("<p class=\"sentence\">“{}”</p>\n", escape_html(trace.sentence));
  out += config_html(trace.config);
  for (const auto& note : trace.notes) out += fmt::format("<p class=\"note\">note: {}</p>\n", escape_html(note));
  out += tokens_html("tokens", trace.tokens);
  if (!trace.context_tokens.empty()) out += tokens_html("context tokens", trace.context_tokens);

  out += R"(<nav class="stages">stages:)";
  for (const Stage& stage : trace.stages)
    out += fmt::format(R"( <a href="#{}">{}{}</a>)", escape_html(stage_id(index, stage)), escape_html(stage.name),
                       stage.head && trace.config.heads > 1 ? fmt::format(" h{}", *stage.head + 1) : "");
  out += "</nav>\n";
  for (const Stage& stage : trace.stages) out += stage_html(trace, stage, index, options);
  if (trace.config.heads > 1) {
    const RenderOptions text = text_options(options);
    const std::string heads = render_heads_summary(trace, text);
    if (!heads.empty()) out += "<h3>What each head does</h3>\n" + text_html(heads);
  }
  if (s.lesson) out += shift_html(*s.lesson, options.precision);
  return out + "</section>\n";
}

// The page's head, heading and lead paragraph (options.title and description, when given, before the
// defaults), and its end: one layout for every page attnviz writes.
std::string page_begin(const HtmlOptions& options, const std::string& default_heading, const std::string& default_title, const std::string& lead);
std::string page_end();

}  // namespace

std::string escape_html(std::string_view text) {
  // First make the text safe to show at all (the terminal's rule: control characters and invalid UTF-8,
  // surrogates included, become '?').
  const std::string safe = render_detail::sanitize(text);
  std::string out;
  out.reserve(safe.size() + safe.size() / 8);
  for (std::size_t i = 0; i < safe.size();) {
    const std::size_t n = decode_utf8(safe, i).length;  // valid: sanitize made it so
    if (n > 1) {
      out.append(safe, i, n);
      i += n;
      continue;
    }
    switch (safe[i]) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += safe[i];
    }
    ++i;
  }
  return out;
}

namespace {

std::string page_begin(const HtmlOptions& options, const std::string& default_heading, const std::string& default_title, const std::string& lead) {
  const std::string heading = !options.title.empty() ? options.title : default_heading;
  const std::string page_title = !options.title.empty() ? "attnviz: " + options.title : default_title;
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += fmt::format("<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n", kContentSecurityPolicy);
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<meta name=\"generator\" content=\"attnviz {}\">\n", kVersion);
  out += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n", escape_html(page_title), kStyle);
  out += fmt::format("<header><h1>{}</h1>\n", escape_html(heading));
  if (!options.description.empty()) out += fmt::format("<p class=\"lead\">{}</p>\n", escape_html(options.description));
  return out + fmt::format("<p class=\"lead\">{}</p>\n</header>\n", lead);  // `lead` is HTML
}

std::string page_end() {
  return fmt::format("<footer>Made by attnviz {}. This page is one file: it loads nothing and runs no script.</footer>\n</body>\n</html>\n",
                     kVersion);
}

}  // namespace

std::string render_html(const Trace& trace, const HtmlOptions& options) {
  return render_html(std::vector<HtmlSection>{HtmlSection{trace, {}, {}}}, options);
}

std::string render_html(const std::vector<HtmlSection>& sections, const HtmlOptions& options) {
  std::size_t cells = 0;
  for (const auto& section : sections)
    for (const Stage& stage : section.trace.stages) cells += static_cast<std::size_t>(stage.data.size());
  if (cells > options.max_cells)
    throw InputError(fmt::format("--html: the page would hold {} table cells, more than a browser shows comfortably ({}); "
                                 "use a shorter sentence, or --json for the data", cells, options.max_cells));
  const std::string first_sentence = sections.empty() ? std::string() : sections.front().trace.sentence;
  std::string out = page_begin(options, "Attention, stage by stage", fmt::format("attnviz: “{}”", first_sentence),
                               "Each table is one stage of attention, computed on the sentence below. Rows of the n × n "
                               "tables are queries (the token that is looking), columns are keys (the tokens looked at). A cell's colour is its "
                               "value; hover over it to see the number exactly and how it was computed. Click a stage's title to fold it.");
  for (std::size_t i = 0; i < sections.size(); ++i) out += section_html(sections[i], i, sections.size(), options);
  if (!options.closing.empty())
    out += "<section class=\"closing\"><h2>Summary</h2>\n" + text_html(options.closing) + "</section>\n";
  return out + page_end();
}

std::string render_model_view_html(const std::vector<Trace>& layers, const HtmlOptions& options) {
  std::size_t cells = 0;
  for (const Trace& t : layers)
    for (const Stage& stage : t.stages)
      if (stage.name == stage_name::weights) cells += static_cast<std::size_t>(stage.data.size());
  if (cells > options.max_cells)
    throw InputError(fmt::format("--html: the page would hold {} table cells, more than a browser shows comfortably ({}); use a shorter sentence",
                                 cells, options.max_cells));
  const std::string sentence = layers.empty() ? std::string() : layers.front().sentence;
  std::string out = page_begin(options, "Every head, one sentence", fmt::format("attnviz: every head of “{}”", sentence),
                               "Each table is one head's attention weights on the sentence below, one row of heads per layer "
                               "(BertViz's model view). Rows are queries (the word that is looking), columns keys (the words "
                               "looked at); a word sees only itself and the words before it. Hover over a cell for its number and "
                               "its arithmetic.");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const Trace& t = layers[l];
    out += fmt::format(R"(<section class="trace" id="s{}">)", l + 1);
    out += fmt::format("\n<h2>Layer {} of {}</h2>\n", t.config.layer, t.config.layers);
    if (l == 0) {
      out += fmt::format("<p class=\"sentence\">“{}”</p>\n", escape_html(t.sentence));
      out += config_html(t.config);
    }
    out += fmt::format(R"html(<div class="heads" style="grid-template-columns: repeat({}, minmax(0, 1fr))">)html", t.config.heads);
    out += "\n";
    HtmlOptions open = options;
    open.open_stages.clear();  // every head unfolded
    for (const Stage& stage : t.stages)
      if (stage.name == stage_name::weights) out += stage_html(t, stage, l, open);
    out += "</div>\n</section>\n";
  }
  return out + page_end();
}

}  // namespace attnviz
