// The explorer's screen as text: the configuration line, the stage's heatmap with its cursor (shaded cells,
// short labels, scrolled to keep the cursor in view), the selected cell explained by explain's own renderer
// (src/render/explain_text.cpp), the message line and the help line.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "../render/colormap.hpp"
#include "../render/text_table.hpp"
#include "attnviz/compare.hpp"
#include "attnviz/explain.hpp"
#include "attnviz/explore.hpp"
#include "attnviz/tokenizer.hpp"

namespace attnviz::explore {

namespace {

// The heatmap takes what the panel leaves; the panel keeps at least this many columns.
constexpr int kPanelMin = 36;
constexpr int kGap = 2;
constexpr int kMaxLabel = 8;

// `text` cut to `width` terminal columns (plain text: no escapes).
std::string cut(const std::string& text, int width) {
  if (display_width(text) <= width) return text;
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t len = 1;
    while (i + len < text.size() && (static_cast<unsigned char>(text[i + len]) & 0xC0) == 0x80) ++len;
    if (display_width(out + text.substr(i, len)) > width) break;
    out += text.substr(i, len);
    i += len;
  }
  return out;
}

std::string pad(const std::string& text, int width, bool left = false) {
  const int w = display_width(text);
  if (w >= width) return text;
  const std::string fill(static_cast<std::size_t>(width - w), ' ');
  return left ? fill + text : text + fill;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

// A row of one of explain's tables (text_table: indented by 3, cells apart by at least two spaces); these
// are cut, never wrapped, and are what `shorten` elides.
bool table_row(const std::string& line) {
  return line.rfind("   ", 0) == 0 && line.size() > 3 && line[3] != ' ' && line.find("  ", 3) != std::string::npos;
}

// Plain lines wrapped at spaces to `width` (continuations indented by 3), long words cut.
std::vector<std::string> wrap_lines(const std::vector<std::string>& lines, int width) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    if (display_width(line) <= width || table_row(line)) {
      out.push_back(cut(line, width));
      continue;
    }
    // Continuations go 3 columns deeper than the line's own indentation.
    const std::size_t indent = std::min(line.find_first_not_of(' '), line.size());
    const int room = std::max(8, width - static_cast<int>(indent));
    for (const std::string& piece : split_lines(render_detail::wrap_text(line.substr(indent), room, 3)))
      out.push_back(cut(line.substr(0, indent) + piece, width));
  }
  return out;
}

// `lines` shortened to `rows` by eliding rows of its longest table (the longest run of lines indented by 3),
// keeping the table's header and the rows around the marked one (explain marks the selected key with an
// arrow), so the steps after the table stay on screen.
std::vector<std::string> shorten(std::vector<std::string> lines, int rows, bool unicode) {
  const auto excess = static_cast<int>(lines.size()) - rows;
  if (excess <= 0) return lines;
  std::size_t best = 0, best_length = 0;
  for (std::size_t i = 0; i < lines.size();) {
    std::size_t j = i;
    while (j < lines.size() && table_row(lines[j])) ++j;
    if (j - i > best_length) best = i, best_length = j - i;
    i = j == i ? i + 1 : j;
  }
  const std::string ellipsis = unicode ? "   …" : "   ...";
  // The table's body is [best + 1, best + best_length); keep `keep` of its lines around the marked one.
  const int body = static_cast<int>(best_length) - 1;
  const int keep = body - excess - 1;  // one line for the ellipsis
  if (keep < 1) {
    lines.resize(static_cast<std::size_t>(std::max(0, rows - 1)));
    lines.push_back(ellipsis);
    return lines;
  }
  int marked = 0;
  for (int k = 0; k < body; ++k)
    if (lines[best + 1 + static_cast<std::size_t>(k)].find(unicode ? "←" : "<-") != std::string::npos) marked = k;
  const int first = std::clamp(marked - keep / 2, 0, body - keep);
  std::vector<std::string> out(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(best + 1));
  if (first > 0) out.push_back(ellipsis);
  for (int k = first; k < first + keep; ++k) out.push_back(lines[best + 1 + static_cast<std::size_t>(k)]);
  if (first + keep < body) out.push_back(ellipsis);
  out.insert(out.end(), lines.begin() + static_cast<std::ptrdiff_t>(best + best_length), lines.end());
  if (static_cast<int>(out.size()) > rows) {
    out.resize(static_cast<std::size_t>(std::max(0, rows - 1)));
    out.push_back(ellipsis);
  }
  return out;
}

const Stage* shown_stage(const State& s) {
  if (const Stage* st = s.trace.find(s.stage, s.head)) return st;
  return s.trace.find(s.stage);
}

int cursor_col(const State& s, const Stage& st) { return st.is_attention() ? s.key : s.dim; }

// Where the heatmap sits and which part of the matrix it shows.
struct Grid {
  const Stage* stage = nullptr;
  bool numbers = true;  // numbers in the cells, else one shading character per cell
  int precision = 2;
  int number_width = 0;  // of the printed numbers
  int cell = 0;          // columns a cell takes, without its separator
  int label = 0;         // the row labels' column, with the cursor mark
  int row0 = 0, rows = 0, col0 = 0, cols = 0;  // the rows and columns in view
  int top = 3, left = 0;                       // the screen row of the first matrix row, the column of the first cell
  int width = 0;                               // the heatmap's columns on screen
};

bool shading(const Context& context) { return context.render.glyphs || (context.render.color != ColorDepth::ansi256 && context.render.color != ColorDepth::truecolor); }

std::string row_label(const Stage& st, int r) {
  const std::string name = r < static_cast<int>(st.row_labels.size()) ? st.row_labels[static_cast<std::size_t>(r)] : std::to_string(r);
  return cut(fmt::format("{} {}", r, render_detail::sanitize(name)), kMaxLabel + 3);
}

// The first index of a window of `shown` out of `total` that keeps `cursor` in view, centred when it can.
int window_start(int cursor, int shown, int total) {
  if (shown >= total) return 0;
  return std::clamp(cursor - shown / 2, 0, total - shown);
}

std::vector<std::string> panel_content(const Context& context, const State& s);

// The columns the panel asks for: its widest table row (prose wraps), within [kPanelMin, 64].
int panel_need(const std::vector<std::string>& panel) {
  int need = kPanelMin;
  for (const std::string& line : panel)
    if (table_row(line)) need = std::max(need, display_width(line));
  return std::min(need, 64);
}

Grid grid_of(const Context& context, const State& s) {
  Grid g;
  g.stage = shown_stage(s);
  if (!g.stage) return g;
  const Stage& st = *g.stage;
  const int n = static_cast<int>(st.data.rows()), m = static_cast<int>(st.data.cols());
  for (int r = 0; r < n; ++r) g.label = std::max(g.label, display_width(row_label(st, r)));
  g.label += 2;  // "▸ " before the cursor's row
  g.precision = std::min(context.render.precision, 2);
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < m; ++c)
      g.number_width = std::max(g.number_width, display_width(format_number(st.data(r, c), g.precision, context.render.unicode)));
  const int glyph = shading(context) ? 1 : 0;
  g.cell = g.number_width + glyph;
  // Numbers in the cells when they fit beside the panel's tables; else one shaded character per cell.
  // The heatmap leaves the panel the columns its tables need; a wide matrix scrolls (at least 8 columns shown).
  const int room = s.width - panel_need(panel_content(context, s)) - kGap;
  if (g.label + m * (g.cell + 1) + 1 > room) {
    g.numbers = false;
    g.cell = 1;
  }
  const int max_width = std::min(s.width - kPanelMin - kGap, std::max(room, g.label + 1 + 8 * (g.cell + 1)));
  g.cols = std::max(1, std::min(m, (max_width - g.label - 1) / (g.cell + 1)));
  g.rows = std::max(1, std::min(n, s.height - 7));  // config, title, header, legend (2), message, help
  g.col0 = window_start(cursor_col(s, st), g.cols, m);
  g.row0 = window_start(s.row, g.rows, n);
  g.left = g.label + 1;
  g.width = g.label + g.cols * (g.cell + 1) + 1;
  return g;
}

std::string cell_text(const Context& context, const State& s, const Grid& g, int r, int c) {
  const Stage& st = *g.stage;
  const float v = st.data(r, c);
  const bool hidden = s.mode == Mode::guess && r == s.row && st.name == "weights";
  if (hidden) return pad("?", g.cell, true);
  const auto scale = render_detail::scale_of(st, context.render.palette);
  std::string text = g.numbers ? pad(format_number(v, g.precision, context.render.unicode), g.number_width, true) : "";
  if (shading(context) || !g.numbers) text += shading(context) ? std::string(render_detail::shade_glyph(scale, v, context.render.unicode)) : " ";
  return render_detail::paint_value(text, scale, v, context.render.color);
}

std::vector<std::string> heatmap_lines(const Context& context, const State& s, const Grid& g) {
  const Stage& st = *g.stage;
  const int cur_col = cursor_col(s, st);
  const bool unicode = context.render.unicode;
  std::vector<std::string> lines;
  // The column labels, cut to the cell (numbers only: a shading cell has room for one digit of the index).
  std::string header(static_cast<std::size_t>(g.label), ' ');
  for (int c = g.col0; c < g.col0 + g.cols; ++c) {
    const std::string name = g.numbers ? render_detail::sanitize(st.col_labels[static_cast<std::size_t>(c)]) : std::to_string(c % 10);
    header += ' ' + pad(cut(name, g.cell), g.cell, true);
  }
  lines.push_back(header);
  for (int r = g.row0; r < g.row0 + g.rows; ++r) {
    std::string line = pad((r == s.row ? (unicode ? "▸ " : "> ") : "  ") + row_label(st, r), g.label);
    for (int c = g.col0; c < g.col0 + g.cols; ++c) {
      const bool cursor = r == s.row && c == cur_col;
      line += cursor ? "[" : (r == s.row && c == cur_col + 1) ? "]" : " ";
      line += cell_text(context, s, g, r, c);
    }
    line += (r == s.row && cur_col == g.col0 + g.cols - 1) ? "]" : " ";
    lines.push_back(line);
  }
  return lines;
}

std::string config_line(const Context& context, const State& s) {
  const TraceConfig& c = s.trace.config;
  const bool unicode = context.render.unicode;
  const std::string dot = unicode ? " · " : " | ";
  std::string mask = c.causal ? "causal" : "none";
  if (context.pipeline.attention.mask) mask = c.causal ? "causal + file" : "file";
  if (s.exclude_self) mask += " + no self";
  const std::string scale = !s.scale ? "scale off" : unicode ? fmt::format("scale 1/√{}", c.d_k) : fmt::format("scale 1/sqrt({})", c.d_k);
  std::string config = fmt::format("embeddings {}{}model {}{}head {}/{}{}layer 1/1{}T {:.4g}{}{}{}mask {}{}positions {}{}{}", c.embeddings, dot, c.model, dot,
                                   s.head + 1, c.heads, dot, dot, s.temperature(context), dot, scale, dot, mask, dot, c.positions, dot,
                                   c.backend);
  const std::string sentence_full = render_detail::sanitize(s.sentence);
  const auto fits = [&](const std::string& candidate) { return display_width(candidate) + display_width(sentence_full) + display_width(dot) + 2 <= s.width; };
  if (!fits(config))  // the short form
    config = fmt::format("{}/{}{}head {}/{}{}layer 1/1{}T {:.4g}{}{}{}mask {}{}pos {}{}{}", c.embeddings, c.model, dot, s.head + 1, c.heads, dot,
                         dot, s.temperature(context), dot, !s.scale ? "unscaled" : scale, dot, mask, dot, c.positions, dot, c.backend);
  if (!fits(config))  // the shortest: the sentence matters more than the separators
    config = fmt::format("{}/{} h{}/{} L1/1 T={:.4g} {} mask:{} pos:{} {}", c.embeddings, c.model, s.head + 1, c.heads, s.temperature(context),
                         !s.scale ? "unscaled" : scale.substr(6), mask, c.positions, c.backend);
  const int room = s.width - display_width(config) - display_width(dot) - 2;
  std::string sentence = render_detail::sanitize(s.sentence);
  if (display_width(sentence) > room) sentence = cut(sentence, std::max(1, room - 1)) + (unicode ? "…" : "~");
  return cut(fmt::format("\"{}\"{}{}", sentence, dot, config), s.width);
}

std::string title_line(const Context& context, const State& s, const Grid& g) {
  const Stage& st = *g.stage;
  const std::vector<std::string> names = stage_names(s.trace);
  const auto at = std::find(names.begin(), names.end(), st.name) - names.begin();
  const std::string dot = context.render.unicode ? " · " : " | ";
  std::string out = fmt::format("{} {}{}{} {} {}{}rows: {}, columns: {}{}stage {}/{} (Tab)", st.name, st.symbol, dot, st.data.rows(),
                                context.render.unicode ? "×" : "x", st.data.cols(), dot, st.row_axis, st.col_axis, dot, at + 1,
                                names.size());
  if (g.rows < st.data.rows() || g.cols < st.data.cols())
    out += fmt::format("{}showing rows {}-{}, columns {}-{}", dot, g.row0, g.row0 + g.rows - 1, g.col0, g.col0 + g.cols - 1);
  return cut(out, s.width);
}

// The steps of explain's text that belong to a stage: scores 1, scaled scores 2-3, weights 4-7.
std::vector<std::string> explain_steps(const std::string& text, int first, int last) {
  std::vector<std::string> out;
  int step = 0;
  for (const std::string& line : split_lines(text)) {
    if (line.size() > 2 && line[0] >= '1' && line[0] <= '9' && line[1] == '.') step = line[0] - '0';
    if (step >= first && step <= last) out.push_back(line);
  }
  return out;
}

std::vector<std::string> explanation(const Context& context, const State& s, int width) {
  const Stage& st = *shown_stage(s);
  RenderOptions options = context.render;
  options.color = ColorDepth::none;
  options.width = 1000;  // one line per sentence: the panel wraps them (and may leave out the "why" lines)
  (void)width;
  const auto num = [&](float v) { return format_number(v, options.precision, options.unicode); };
  const std::string query = st.row_labels[static_cast<std::size_t>(s.row)];
  std::vector<std::string> lines;
  if (st.is_attention()) {
    const CellExplanation e = explain_cell(s.trace, s.head, s.row, s.key);
    lines.push_back(fmt::format("query \"{}\" ({}) {} key \"{}\" ({})", e.query_token, e.query, options.unicode ? "→" : "->", e.key_token, e.key));
    const std::string text = render_explanation(e, s.trace, options);
    const auto steps = st.name == "scores" ? explain_steps(text, 1, 1) : st.name == "scaled_scores" ? explain_steps(text, 2, 3)
                                                                                                     : explain_steps(text, 4, 7);
    lines.insert(lines.end(), steps.begin(), steps.end());
    return lines;
  }
  const std::string column = st.col_labels[static_cast<std::size_t>(s.dim)];
  lines.push_back(fmt::format("cell: token \"{}\" ({}), column {} ({})", query, s.row, column, s.dim));
  if (st.name == "context") {
    // A = P V: the weighted sum over the keys, each term from explain's numbers for (query, key).
    lines.push_back(fmt::format("A[{}][{}] = {} over the keys of P {} v[{}]", query, column, options.unicode ? "Σ" : "sum",
                                options.unicode ? "×" : "x", column));
    std::vector<std::vector<std::string>> rows{{"key", "P", fmt::format("v[{}]", column), options.unicode ? "P × v" : "P x v"}};
    const int m = static_cast<int>(s.trace.find("weights", s.head)->data.cols());
    float context_value = 0;
    for (int j = 0; j < m; ++j) {
      const CellExplanation e = explain_cell(s.trace, s.head, s.row, j);
      rows.push_back({e.key_token, num(e.weight()), num(e.v(s.dim)), num(e.share(s.dim))});
      context_value = e.context(s.dim);
    }
    for (const std::string& line : split_lines(render_detail::text_table(rows, 3))) lines.push_back(line);
    lines.push_back(fmt::format("   A = {} (the trace's context row)", num(context_value)));
    return lines;
  }
  lines.push_back(fmt::format("value {} = {}", st.symbol.empty() ? st.name : st.symbol, num(st.data(s.row, s.dim))));
  static const std::vector<std::pair<std::string, std::string>> kFormulas{
      {"token_embeddings", "E: the word's own vector from the embeddings"},
      {"positional_encoding", "PE: sin and cos of the position at falling frequencies"},
      {"embeddings", "X: the vector attention starts from (E + PE with positions)"},
      {"context_embeddings", "the context sentence's vectors: the keys' and values' side"},
      {"queries", "Q = X W_q: what each word looks for"},
      {"keys", "K = X W_k: what each word offers to be found by"},
      {"values", "V = X W_v: what each word hands on when attended to"},
      {"concat", "the heads' context rows side by side"},
      {"output", "O = A W_o: the word's new, contextualized vector"}};
  for (const auto& [name, formula] : kFormulas)
    if (name == st.name) lines.push_back(formula);
  lines.push_back("Tab to scores, scaled_scores, weights or context: their cells are explained step by step");
  return lines;
}

std::vector<std::string> nearest_panel(const Context& context, const State& s) {
  const std::string& word = s.trace.tokens[static_cast<std::size_t>(s.row)];
  std::vector<std::string> lines{fmt::format("nearest vocabulary words of \"{}\" (cosine), n hides", word)};
  const Stage* X = s.trace.find("embeddings");
  const Stage* O = s.trace.find("output");
  if (X) lines.push_back("before attention (X): " + render_neighbour_list(nearest_words(*context.embeddings, X->data.row(s.row), 5), word, context.render));
  if (O) lines.push_back("after attention (O): " + render_neighbour_list(nearest_words(*context.embeddings, O->data.row(s.row), 5), word, context.render));
  return lines;
}

std::vector<std::string> panel_content(const Context& context, const State& s) {
  if (s.mode == Mode::help) return split_lines(key_help());
  if (s.nearest) return nearest_panel(context, s);
  if (s.mode == Mode::guess)  // nothing on screen may give the answer away
    return {fmt::format("the class guesses: which word does \"{}\" attend to most?", s.trace.tokens[static_cast<std::size_t>(s.row)]),
            "its weights are hidden until the reveal", context.render.unicode ? "←→ move to the guess, g or Enter reveals" : "<- -> move to the guess, g or Enter reveals"};
  return explanation(context, s, 0);
}

std::string help_line(const Context& context, const State& s) {
  if (s.mode == Mode::edit) return "type the new sentence · Enter recomputes · Esc keeps the old one · Ctrl-U clears";
  if (s.mode == Mode::guess) return context.render.unicode ? "←→ the class's guess · g or Enter reveals · q quits" : "<- -> the class's guess | g or Enter reveals | q quits";
  // Every key when the line is wide enough, else the main ones; q and ? always.
  const bool u = context.render.unicode;
  const std::string all = u ? "←↑↓→ cell · Tab stage · h head · t/T temp · s scale · c causal · p pos · x self · e edit · n near · g guess · ? keys · q quit"
                            : "arrows cell | Tab stage | h head | t/T temp | s scale | c causal | p pos | x self | e edit | n near | g guess | ? keys | q quit";
  if (display_width(all) <= s.width) return all;
  return u ? "←↑↓→ cell · Tab stage · t/T temp · c causal · e edit · g guess · ? keys · q quit"
           : "arrows cell | Tab stage | t/T temp | c causal | e edit | g guess | ? keys | q quit";
}

// The edit line: the sentence as typed, then the words the embeddings lack.
std::string edit_line(const Context& context, const State& s) {
  const Embeddings& emb = *context.embeddings;
  std::vector<std::string> unknown;
  for (const std::string& token : tokenize(s.edit_text, [&](const std::string& w) { return emb.has(w); }))
    if (!emb.has(token)) unknown.push_back(token);
  std::string line = fmt::format("sentence: {}{}", render_detail::sanitize(s.edit_text), context.render.unicode ? "▏" : "_");
  if (!unknown.empty()) {
    std::string words;
    for (const auto& w : unknown) words += (words.empty() ? "" : ", ") + render_detail::sanitize(w);
    line += fmt::format("   unknown: {}{}", words, context.pipeline.unknown == UnknownWords::error ? "" : context.pipeline.unknown == UnknownWords::subword ? " (split into pieces)" : " (zero vectors)");
  }
  return line;
}

std::string too_small(const State& s) {
  std::vector<std::string> lines{fmt::format("attnviz explore needs a terminal of at least {} x {};", kMinWidth, kMinHeight),
                                 fmt::format("this one is {} x {}.", s.width, s.height), "Enlarge the window (or use a smaller font); q quits."};
  std::string out;
  for (const auto& line : wrap_lines(lines, std::max(1, s.width))) out += line + "\n";
  return out;
}

}  // namespace

std::string key_help() {
  return R"(arrows       move the cell (a mouse click selects one too)
Tab          next stage      Shift-Tab  previous stage
h / H        next / previous head
l / L        next / previous layer (models with layers)
t / T        temperature down / up by a factor of √2
s            toggle the 1/√d_k scale
c            toggle the causal mask
p            toggle sinusoidal positions
x            toggle excluding the word itself (the diagonal masked)
e            edit the sentence (Enter recomputes, Esc keeps the old one)
n            the nearest words of the selected token's output
g            the class guesses the row's winner, g again reveals it
?            this list (any key closes it)
q            quit (Ctrl-C too)
)";
}

std::string compose_screen(const Context& context, const State& s) {
  if (s.width < kMinWidth || s.height < kMinHeight) return too_small(s);
  const Grid g = grid_of(context, s);
  std::vector<std::string> screen(static_cast<std::size_t>(s.height));
  screen[0] = config_line(context, s);
  screen[1] = title_line(context, s, g);
  const int body_top = 2, body_bottom = s.height - 2;  // [body_top, body_bottom)
  // Left: the heatmap and its legend.
  std::vector<std::string> left = heatmap_lines(context, s, g);
  RenderOptions legend_options = context.render;
  legend_options.width = g.width;
  legend_options.glyphs = shading(context);
  legend_options.precision = g.precision;
  for (const auto& line : split_lines(render_detail::stage_legend(*g.stage, legend_options))) left.push_back(line);
  // Right: the explanation, the nearest words or the keys.
  const int panel_width = s.width - g.width - kGap;
  std::vector<std::string> panel = panel_content(context, s);
  const int rows = body_bottom - body_top;
  std::vector<std::string> wrapped = wrap_lines(panel, panel_width);
  if (static_cast<int>(wrapped.size()) > rows) {  // the "why" lines go first
    std::erase_if(panel, [](const std::string& line) { return line.rfind("   why:", 0) == 0; });
    wrapped = wrap_lines(panel, panel_width);
  }
  panel = std::move(wrapped);
  panel = shorten(panel, rows, context.render.unicode);
  for (int y = body_top; y < body_bottom; ++y) {
    const auto i = static_cast<std::size_t>(y - body_top);
    std::string line = i < left.size() ? left[i] : "";
    if (i < panel.size()) line = pad(line, g.width + kGap) + panel[i];
    screen[static_cast<std::size_t>(y)] = line;
  }
  screen[static_cast<std::size_t>(s.height - 2)] = cut(s.mode == Mode::edit ? edit_line(context, s) : s.message, s.width);
  const bool edit_message = s.mode == Mode::edit && !s.message.empty();  // why Enter did not take the sentence
  screen[static_cast<std::size_t>(s.height - 1)] = cut(edit_message ? s.message : help_line(context, s), s.width);
  std::string out;
  for (auto& line : screen) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::optional<std::pair<int, int>> cell_at(const Context& context, const State& s, int x, int y) {
  if (s.width < kMinWidth || s.height < kMinHeight) return std::nullopt;
  const Grid g = grid_of(context, s);
  if (!g.stage) return std::nullopt;
  const int r = y - g.top, c = x - g.left;
  if (r < 0 || r >= g.rows || c < 0 || c >= g.cols * (g.cell + 1)) return std::nullopt;
  const int within = c % (g.cell + 1);
  if (within == g.cell) return std::nullopt;  // a separator
  return std::pair{g.row0 + r, g.col0 + c / (g.cell + 1)};
}

}  // namespace attnviz::explore
