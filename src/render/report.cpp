#include "attnviz/report.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/error.hpp"
#include "attnviz/narration.hpp"
#include "attnviz/stages.hpp"
#include "text_table.hpp"

namespace attnviz {

const std::vector<std::string>& report_stage_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all{std::string(kTokensView)};
    for (const auto& info : stage_catalogue()) all.emplace_back(info.name);
    return all;
  }();
  return names;
}

std::vector<std::string> parse_stage_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string name = list.substr(start, end - start);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!name.empty()) {
      const auto& known = report_stage_names();
      if (std::find(known.begin(), known.end(), name) == known.end())
        throw InputError(fmt::format("--stages: unknown stage '{}'; choose from {}", name, fmt::join(known, ", ")));
      out.push_back(name);
    }
    start = end + 1;
  }
  if (out.empty()) throw InputError(fmt::format("--stages is empty; choose from {}", fmt::join(report_stage_names(), ", ")));
  return out;
}

double entropy_bits(const Stage& weights, Eigen::Index i) {
  double h = 0.0;
  for (Eigen::Index j = 0; j < weights.data.cols(); ++j) {
    const double p = weights.data(i, j);
    if (p > 0.0) h -= p * std::log2(p);
  }
  return h;
}

namespace {

bool selected(const ReportOptions& options, const std::string& name) {
  return options.stages.empty() || std::find(options.stages.begin(), options.stages.end(), name) != options.stages.end();
}

std::string sep(const RenderOptions& o) { return o.unicode ? " · " : " | "; }

std::string mask_summary(const TraceConfig& c) {
  std::string mask = c.causal && c.custom_mask ? "causal mask and custom mask" : c.causal ? "causal mask" : c.custom_mask ? "custom mask" : "";
  if (c.exclude_self) return mask.empty() ? "no self (diagonal masked)" : mask + ", no self (diagonal masked)";
  return mask.empty() ? "no mask" : mask;
}

bool masked(const Stage* scaled, Eigen::Index i, Eigen::Index j) {
  return scaled && std::isinf(scaled->data(i, j)) && scaled->data(i, j) < 0.0f;
}

// The columns of query row i that are not masked, largest weight first; ties keep sentence order.
std::vector<Eigen::Index> ranked_keys(const Stage& weights, const Stage* scaled, Eigen::Index i) {
  std::vector<Eigen::Index> order;
  for (Eigen::Index j = 0; j < weights.data.cols(); ++j)
    if (!masked(scaled, i, j)) order.push_back(j);
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return weights.data(i, a) > weights.data(i, b); });
  return order;
}

std::string padded(const std::string& text, int width) {
  return text + std::string(static_cast<std::size_t>(std::max(0, width - display_width(text))), ' ');
}

int label_width(const Stage& stage, int at_least) {
  for (const auto& l : stage.row_labels) at_least = std::max(at_least, display_width(l));
  return at_least;
}

// " (head 1 of 2)" for a per-head stage of a multi-head trace; nothing with one head.
std::string head_suffix(const Stage& stage, int heads) {
  return stage.head && heads > 1 ? fmt::format(" (head {} of {})", *stage.head + 1, heads) : "";
}

// Under the token row: which tokens were split from an unknown word or got a zero vector (--unknown).
std::string render_token_notes(const std::vector<std::string>& tokens, const std::vector<std::string>& notes) {
  std::string out;
  for (std::size_t i = 0; i < tokens.size() && i < notes.size(); ++i)
    if (!notes[i].empty()) out += fmt::format("  * {} {}: {}\n", i, tokens[i], notes[i]);
  return out;
}

using render_detail::join_wrapped;
using render_detail::wrap_text;

// --narrate: the stage's paragraph, wrapped to the width (at most 100 columns, for reading).
std::string narrated(const std::string& stage_name, const TraceConfig& config, const ReportOptions& options) {
  if (!options.narrate) return "";
  return "\n" + wrap_text(narration(stage_name, config), std::min(options.render.width, 100));
}

// The classroom hooks before each stage: --narrate adds the stage's paragraph (once per stage name, not once
// per head), --step shows what is rendered so far and pauses. False when the user quit.
// The paragraph comes first, so the class reads what the next stage does before it appears (and, before
// the softmax, before it guesses).
bool begin_stage(std::string& out, const Stage& stage, const TraceConfig& config, const ReportOptions& options) {
  if (stage.head.value_or(0) == 0) out += narrated(stage.name, config, options);
  if (!options.before_stage) return true;
  const bool go_on = options.before_stage(out, stage);
  out.clear();
  return go_on;
}

}  // namespace

std::string render_row_checks(const Stage& weights, const Stage* scaled, int heads, const RenderOptions& options) {
  const std::string log2 = options.unicode ? "log₂" : "log2";
  std::string out = wrap_text(fmt::format("row checks{}: the sum of each row of P (must be 1) and its entropy in bits (0 = all "
                                          "the weight on one key; max = {} of the keys the query may see = spread evenly)",
                                          head_suffix(weights, heads), log2),
                              options.width, 2);
  const int width = label_width(weights, 5);
  const int number_width = std::max(3, options.precision + 2);
  out += fmt::format("  {}  {:>{}}  {:>7}  {:>5}\n", padded("query", width), "sum", number_width, "entropy", "max");
  for (Eigen::Index i = 0; i < weights.data.rows(); ++i) {
    double sum = 0.0;   // in double, so the check does not add rounding of its own
    int keys = 0;       // keys this query may attend to
    for (Eigen::Index j = 0; j < weights.data.cols(); ++j) {
      sum += weights.data(i, j);
      keys += masked(scaled, i, j) ? 0 : 1;
    }
    out += fmt::format("  {}  {:>{}}  {:>7.2f}  {:>5.2f}\n", padded(weights.row_labels[static_cast<std::size_t>(i)], width),
                       format_number(static_cast<float>(sum), options.precision, options.unicode), number_width,
                       entropy_bits(weights, i), std::log2(std::max(keys, 1)));
  }
  return out;
}

std::string render_top_keys(const Stage& weights, int k, int heads, const RenderOptions& options, const Stage* scaled) {
  bool any_masked = false;
  for (Eigen::Index i = 0; i < weights.data.rows(); ++i)
    for (Eigen::Index j = 0; j < weights.data.cols(); ++j) any_masked = any_masked || masked(scaled, i, j);
  std::string out = fmt::format("top {} keys per query{}{}\n", k, head_suffix(weights, heads), any_masked ? ", masked keys left out" : "");
  const int width = label_width(weights, 0);
  for (Eigen::Index i = 0; i < weights.data.rows(); ++i) {
    std::vector<std::string> items{fmt::format("  {} attends to:", padded(weights.row_labels[static_cast<std::size_t>(i)], width))};
    // Masked keys are left out: a masked key is not "attended to with weight 0".
    const auto order = ranked_keys(weights, scaled, i);
    const std::size_t shown = std::min(order.size(), static_cast<std::size_t>(std::max(k, 0)));
    for (std::size_t t = 0; t < shown; ++t)
      items.push_back(fmt::format("{} {}{}", weights.col_labels[static_cast<std::size_t>(order[t])],
                                  format_number(weights.data(i, order[t]), options.precision, options.unicode), t + 1 < shown ? "," : ""));
    out += join_wrapped(items, " ", options.width, width + 16);
  }
  return out;
}

std::string render_report(const Trace& trace, const ReportOptions& options) {
  const RenderOptions& ro = options.render;
  const TraceConfig& c = trace.config;
  std::string out = wrap_text(fmt::format("sentence: \"{}\"", trace.sentence), ro.width, 2);
  if (c.context) out += wrap_text(fmt::format("context: \"{}\"", *c.context), ro.width, 2);
  std::string scale = c.scale == 1.0f ? "no scaling" : fmt::format("scale 1/√{} = {}", c.d_k, format_number(c.scale, 4, ro.unicode));
  if (!ro.unicode && c.scale != 1.0f) scale = fmt::format("scale 1/sqrt({}) = {}", c.d_k, format_number(c.scale, 4, false));
  out += join_wrapped({fmt::format("embeddings: {} ({} dims)", c.embeddings, c.d_model),
                       fmt::format("model: {} ({}{} head{}, d_k {}, d_v {})", c.model,
                                   c.layers > 0 ? fmt::format("layer {} of {}, ", c.layer, c.layers) : "", c.heads, c.heads == 1 ? "" : "s",
                                   c.d_k, c.d_v),
                       fmt::format("backend: {}", c.backend), scale, fmt::format("temperature {}", c.temperature),
                       mask_summary(c),
                       fmt::format("positions: {}", c.positions)},
                      sep(ro), ro.width);
  for (const auto& note : trace.notes) out += wrap_text("note: " + note, ro.width, 2);

  if (selected(options, "tokens")) {
    out += narrated("tokens", c, options);
    out += "\n" + render_tokens(trace.tokens, ro) + render_token_notes(trace.tokens, trace.token_notes);
    if (!trace.context_tokens.empty())
      out += "context " + render_tokens(trace.context_tokens, ro) + render_token_notes(trace.context_tokens, trace.context_token_notes);
  }
  for (const Stage& stage : trace.stages) {
    if (!selected(options, stage.name)) continue;
    if (options.head && stage.head && *stage.head != *options.head) continue;
    if (!begin_stage(out, stage, c, options)) return out;
    out += "\n" + render_stage(stage, c.heads, ro);
    if (stage.name == stage_name::weights) {
      const Stage* scaled = trace.find(stage_name::scaled_scores, stage.head);
      out += render_row_checks(stage, scaled, c.heads, ro);
      if (options.top_k > 0) out += render_top_keys(stage, options.top_k, c.heads, ro, scaled);
    }
  }
  // With several heads (and no single one chosen with --head), what each does, on one screen.
  if (c.heads > 1 && !options.head && selected(options, std::string(stage_name::weights))) {
    const std::string heads = render_heads_summary(trace, ro);
    if (!heads.empty()) out += "\n" + heads;
  }
  return out;
}

std::string render_timings(const Trace& trace, const RenderOptions& options) {
  if (trace.timings.empty())
    return fmt::format("timings: the {} backend does not measure its steps (the CUDA backends do)\n", trace.config.backend);
  int width = display_width("total");
  double total = 0;
  for (const auto& [what, ms] : trace.timings) {
    width = std::max(width, display_width(what));
    total += ms;
  }
  const auto row = [&](const std::string& what, double ms) {
    return fmt::format("  {}{}  {:>10.3f} ms\n", what, std::string(static_cast<std::size_t>(width - display_width(what)), ' '), ms);
  };
  std::string out = fmt::format("timings of the {} backend (GPU time between CUDA events)\n", trace.config.backend);
  for (const auto& [what, ms] : trace.timings) out += row(what, ms);
  out += row("total", total);
  if (!options.unicode) {
    // The step names may hold ᵀ; spell it out for ASCII terminals.
    for (std::size_t at; (at = out.find("ᵀ")) != std::string::npos;) out.replace(at, std::string("ᵀ").size(), "^T");
  }
  return out;
}

std::string render_word_order(const Trace& a, const Trace& b, const std::vector<OrderRow>& rows, const RenderOptions& options) {
  const bool positions = a.config.positions != "none";
  std::string out = wrap_text(fmt::format("word order, {}: \"{}\" against \"{}\"",
                                          positions ? fmt::format("with {} positions", a.config.positions) : "without positions",
                                          a.sentence, b.sentence),
                              options.width, 2);
  out += "  " + wrap_text("each token's output row O in the first order (1st) and in the second (2nd)", options.width - 2, 2);
  int width = 5;
  for (const auto& r : rows) width = std::max(width, display_width(r.token));
  // "  token  where  1st: v0 v1 …", the numbers continued under the first when they pass the width.
  auto row_lines = [&](const std::string& head, const Vector& v) {
    std::vector<std::string> items{head};
    for (Eigen::Index c = 0; c < v.size(); ++c) items.push_back(format_number(v(c), options.precision, options.unicode));
    return render_detail::join_wrapped(items, " ", options.width, display_width(head) + 1);
  };
  const std::string arrow = options.unicode ? "→" : "->";
  float largest = 0.0f;
  for (const auto& r : rows) {
    largest = std::max(largest, r.max_difference);
    const std::string where = fmt::format("{} {} {}", r.position_a, arrow, r.position_b);
    out += row_lines(fmt::format("  {}  {}  1st:", padded(r.token, width), padded(where, 8)), r.output_a);
    std::string second = row_lines(fmt::format("  {}  {}  2nd:", padded("", width), padded("", 8)), r.output_b);
    second.pop_back();  // its newline
    const std::string difference = fmt::format("largest difference {:.2e}", r.max_difference);
    // Beside the row when it is one line and there is room, else under it.
    out += second.find('\n') == std::string::npos && display_width(second) + 3 + display_width(difference) <= options.width
               ? fmt::format("{}   {}\n", second, difference)
               : fmt::format("{}\n  {}  {}  {}\n", second, padded("", width), padded("", 8), difference);
  }
  // float32 rounding differs with the order of a sum, so "the same" means equal to about 1e-6.
  const bool same = largest <= 1e-5f;
  out += "  " + wrap_text(fmt::format("largest difference over all tokens: {:.2e}: {}", largest,
                                     same ? "the same rows, only moved (attention without positions cannot see word order)"
                                          : "the rows differ (the positions make word order visible)"),
                         options.width - 2, 4);
  return out;
}

}  // namespace attnviz
