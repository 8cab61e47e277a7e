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
#include "attnviz/stages.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/utf8.hpp"

namespace attnviz::explore {

namespace {

// The heatmap takes what the panel leaves; the panel keeps at least this many columns.
constexpr int kPanelMin = 36;
constexpr int kGap = 2;
constexpr int kLegendWidth = 44;  // the heatmap's columns at least, for its legend, when the screen has them

// `text` cut to `width` terminal columns (plain text: no escapes).
std::string cut(const std::string& text, int width) {
  if (display_width(text) <= width) return text;
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = next_code_point_start(text, i) - i;
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

// A row of one of explain's tables: cut, never wrapped, and what `shorten` elides.
bool table_row(const std::string& line) { return render_detail::is_table_row(line); }

// Plain lines wrapped at spaces to `width` (continuations indented by 3), long words cut.
std::vector<std::string> wrap_lines(const std::vector<std::string>& lines, int width) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    if (display_width(line) <= width || table_row(line)) {
      out.push_back(cut(line, width));
      continue;
    }
    // Continuations go 3 columns deeper than the line's own indentation.
    for (const std::string& piece : split_lines(render_detail::wrap_indented(line, width))) out.push_back(cut(piece, width));
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

// The heatmap is the compact layout (src/render/compact.cpp) of the stage shown, with the cursor's cell,
// a window of the matrix that keeps the cursor in view, and in a guess the row hidden.
struct Grid {
  const Stage* stage = nullptr;
  RenderOptions options;                  // the compact layout's: its width is the heatmap's
  render_detail::CompactView view;
  render_detail::CompactGeometry geometry;
  std::vector<std::string> legend;        // wrapped to the heatmap's width
  int top = 0;                            // the screen row of the first matrix row
};

constexpr int kBodyTop = 2;  // the configuration and the title come first

Grid grid_of(const Context& context, const State& s) {
  Grid g;
  g.stage = shown_stage(s);
  if (!g.stage) return g;
  const Stage& st = *g.stage;
  const int n = static_cast<int>(st.data.rows()), m = static_cast<int>(st.data.cols());
  g.view.cursor = std::pair{s.row, cursor_col(s, st)};
  if (s.mode == Mode::guess && st.name == "weights") g.view.hidden_row = s.row;
  g.view.numbers = "[ ] = the cell explained beside";
  g.options = context.render;
  g.options.layout = Layout::compact;
  // The heatmap takes what it needs (every column at its widest, or the legend's width) when the panel keeps
  // the columns its tables need; else what they leave, but at least 8 columns of cells.
  const int room = s.width - panel_need(panel_content(context, s)) - kGap;
  g.options.width = 1000;
  const int label = render_detail::compact_geometry(st, g.options, g.view).label_width;
  const int want = std::max(label + 1 + 3 * m + 1, kLegendWidth);
  g.options.width = std::min({want, std::max(room, label + 1 + 8 * 2 + 1), s.width - kPanelMin - kGap});
  g.geometry = render_detail::compact_geometry(st, g.options, g.view);
  g.view.cols = std::min(m, g.geometry.per_block);
  g.view.col0 = window_start(cursor_col(s, st), g.view.cols, m);
  const auto scale = render_detail::scale_of(st, context.render.palette);
  g.legend = wrap_lines(split_lines(render_detail::compact_legend(st, scale, g.options, g.view)), g.options.width);
  // The rows: what the body leaves after the column numbers and the legend (at least 3).
  const int body = s.height - kBodyTop - 2;  // the message and help lines close the screen
  g.view.rows = std::clamp(body - g.geometry.header_lines - static_cast<int>(g.legend.size()), std::min(n, 3), n);
  g.view.row0 = window_start(s.row, g.view.rows, n);
  g.top = kBodyTop + g.geometry.header_lines;
  return g;
}

std::vector<std::string> heatmap_lines(const Context& context, const Grid& g) {
  const auto scale = render_detail::scale_of(*g.stage, context.render.palette);
  std::vector<std::string> lines = split_lines(render_detail::compact_grid(*g.stage, scale, g.options, g.view));
  lines.insert(lines.end(), g.legend.begin(), g.legend.end());
  return lines;
}

// The first line: the sentence (and the context of cross-attention) and every setting that shapes the
// numbers: embeddings, model, head, layer, temperature, scale, mask, positions, backend. In three lengths;
// the longest that leaves the sentence whole, else the shortest with the sentence cut.
std::string config_line(const Context& context, const State& s) {
  const TraceConfig& c = s.trace.config;
  const bool unicode = context.render.unicode;
  const std::string dot = unicode ? " · " : " | ";
  std::vector<std::string> masks;
  if (c.causal) masks.push_back("causal");  // the trace's: a trained model is causal whatever the key
  if (context.pipeline.attention.mask) masks.push_back("file");  // --mask (x adds the diagonal, not a file)
  if (s.exclude_self) masks.push_back("no self");
  std::string mask;
  for (const auto& m : masks) mask += (mask.empty() ? "" : "+") + m;
  if (mask.empty()) mask = "none";
  const std::string root = unicode ? fmt::format("1/√{}", c.d_k) : fmt::format("1/sqrt({})", c.d_k);
  const std::string temperature = fmt::format("{:.4g}", s.temperature(context));
  const std::string emb = render_detail::sanitize(c.embeddings), model = render_detail::sanitize(c.model);
  const std::string layer = fmt::format("{}/{}", s.layer + 1, layer_count(context));
  const std::string forms[]{
      fmt::format("embeddings {}{}model {}{}head {}/{}{}layer {}{}T {}{}scale {}{}mask {}{}positions {}{}backend {}", emb, dot, model, dot,
                  s.head + 1, c.heads, dot, layer, dot, temperature, dot, s.scale ? root : "off", dot, mask, dot, c.positions, dot, c.backend),
      fmt::format("{}/{}{}head {}/{}{}layer {}{}T {}{}{}{}mask {}{}pos {}{}{}", emb, model, dot, s.head + 1, c.heads, dot, layer, dot,
                  temperature, dot, s.scale ? "scale " + root : "unscaled", dot, mask, dot, c.positions, dot, c.backend),
      fmt::format("{}/{} h{}/{} L{} T={} {} mask:{} pos:{} {}", render_detail::fit_label(emb, 12, unicode), render_detail::fit_label(model, 12, unicode),
                  s.head + 1, c.heads, layer, temperature, s.scale ? root : "unscaled", mask, c.positions, c.backend)};
  // The sentence, and the context's sentence as "→ context" (the keys' and values' side).
  const std::string sentence = render_detail::sanitize(s.sentence);
  const std::string context_sentence = c.context ? render_detail::sanitize(*c.context) : "";
  const std::string arrow = unicode ? " ← " : " <- ";
  const int quotes = 2 + (c.context ? 2 + display_width(arrow) : 0);
  const int text = display_width(sentence) + display_width(context_sentence) + quotes;
  std::string config = forms[2];
  for (const std::string& form : forms)
    if (text + display_width(dot) + display_width(form) <= s.width) {
      config = form;
      break;
    }
  // What is left for the sentence(s); cut with an ellipsis, the context getting at most half.
  auto shorten_to = [&](const std::string& t, int room) { return render_detail::fit_label(t, std::max(1, room), unicode); };
  const int room = s.width - display_width(config) - display_width(dot) - quotes;
  std::string out;
  if (c.context) {
    const int context_room = std::max(display_width(context_sentence) <= room / 2 ? display_width(context_sentence) : room / 2, 1);
    const std::string shown_context = shorten_to(context_sentence, context_room);
    out = fmt::format("\"{}\"{}\"{}\"", shorten_to(sentence, std::max(1, room - display_width(shown_context))), arrow, shown_context);
  } else {
    out = fmt::format("\"{}\"", shorten_to(sentence, room));
  }
  return cut(out + dot + config, s.width);
}

std::string title_line(const Context& context, const State& s, const Grid& g) {
  const Stage& st = *g.stage;
  const std::vector<std::string> names = stage_names(s.trace);
  const auto at = std::find(names.begin(), names.end(), st.name) - names.begin();
  const std::string dot = context.render.unicode ? " · " : " | ";
  const std::string name = fmt::format("{} {}{}{} {} {}", st.name, st.symbol, dot, st.data.rows(), context.render.unicode ? "×" : "x", st.data.cols());
  const std::string axes = fmt::format("{}rows: {}, columns: {}", dot, st.row_axis, st.col_axis);
  const std::string stage = fmt::format("{}stage {}/{} (Tab)", dot, at + 1, names.size());
  std::string window;
  const auto& v = g.view;
  if (v.rows < st.data.rows() || v.cols < st.data.cols())
    window = fmt::format("{}showing rows {}-{}, columns {}-{}", dot, v.row0, v.row0 + v.rows - 1, v.col0, v.col0 + v.cols - 1);
  // The window matters more than the axes' names when the line is short.
  if (display_width(name + axes + stage + window) > s.width) return cut(name + stage + window, s.width);
  return name + axes + stage + window;
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
  // The other stages: a projection's dot product term by term, E, PE, X = E + PE, the heads' concat, by
  // explain's renderer, under the stage's formula from the catalogue.
  if (const StageInfo* info = find_stage_info(st.name)) lines.push_back(std::string(info->formula));
  for (const std::string& line : split_lines(render_entry(s.trace, model_of(context, s), st.name, s.head, s.row, s.dim, options))) lines.push_back(line);
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
l / L        next / previous layer (a trained model: --model wordnet-lm)
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
  const int body_top = kBodyTop, body_bottom = s.height - 2;  // [body_top, body_bottom)
  // Left: the heatmap and its legend. The list of keys (?) takes the whole width instead, so that every key
  // is on screen at 80 × 24 (beside the heatmap, the list was cut after n).
  const bool keys = s.mode == Mode::help;
  const std::vector<std::string> left = keys ? std::vector<std::string>{} : heatmap_lines(context, g);
  // Right: the explanation, the nearest words or the keys.
  const int panel_left = keys ? 0 : g.options.width + kGap;
  const int panel_width = s.width - panel_left;
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
    if (i < panel.size()) line = pad(line, panel_left) + panel[i];
    screen[static_cast<std::size_t>(y)] = line;
  }
  const bool edit_message = s.mode == Mode::edit && !s.message.empty();  // why Enter did not take the sentence
  if (s.mode != Mode::edit && display_width(s.message) > s.width) {
    // A message wider than the screen goes on over the help line (? shows the keys again): its first two
    // wrapped lines.
    const std::vector<std::string> lines = wrap_lines({s.message}, s.width);
    screen[static_cast<std::size_t>(s.height - 2)] = lines.front();
    screen[static_cast<std::size_t>(s.height - 1)] = lines.size() > 1 ? lines[1] : "";
  } else {
    screen[static_cast<std::size_t>(s.height - 2)] = cut(s.mode == Mode::edit ? edit_line(context, s) : s.message, s.width);
    screen[static_cast<std::size_t>(s.height - 1)] = cut(edit_message ? s.message : help_line(context, s), s.width);
  }
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
  // A row's cells follow its label, each `cell` columns: the separator (or a bracket of the cursor) and glyphs.
  const int r = y - g.top, c = x - g.geometry.label_width;
  if (r < 0 || r >= g.view.rows || c < 0 || c >= g.view.cols * g.geometry.cell) return std::nullopt;
  return std::pair{g.view.row0 + r, g.view.col0 + c / g.geometry.cell};
}

}  // namespace attnviz::explore
