#include "attnviz/report.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/error.hpp"

namespace attnviz {

const std::vector<std::string>& report_stage_names() {
  static const std::vector<std::string> names{"tokens", "positional_encoding", "embeddings", "queries", "keys",
                                              "values", "scores",  "scaled_scores", "weights", "context",
                                              "concat", "output"};
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

namespace {

bool selected(const ReportOptions& options, const std::string& name) {
  return options.stages.empty() || std::find(options.stages.begin(), options.stages.end(), name) != options.stages.end();
}

std::string sep(const RenderOptions& o) { return o.unicode ? " · " : " | "; }

// `items` joined by `separator`, starting a new line (indented by `indent` spaces) where the next item would
// pass `width`; an item wider than the width stands alone on its line.
std::string join_wrapped(const std::vector<std::string>& items, const std::string& separator, int width, int indent = 0) {
  std::string out, line;
  for (const auto& item : items) {
    if (!line.empty() && display_width(line) + display_width(separator) + display_width(item) > width) {
      out += line + "\n";
      line = std::string(static_cast<std::size_t>(indent), ' ') + item;
    } else {
      line += (line.empty() ? "" : separator) + item;
    }
  }
  return out + line + "\n";
}

// Prose wrapped at its spaces.
std::string wrap_text(const std::string& text, int width, int indent = 0) {
  std::vector<std::string> words;
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return join_wrapped(words, " ", width, indent);
}

}  // namespace

std::string render_top_keys(const Stage& weights, int k, int heads, const RenderOptions& options) {
  std::string out = fmt::format("top {} keys per query{}\n", k, weights.head && heads > 1 ? fmt::format(" (head {} of {})", *weights.head + 1, heads) : "");
  int label_width = 0;
  for (const auto& l : weights.row_labels) label_width = std::max(label_width, display_width(l));
  for (Eigen::Index i = 0; i < weights.data.rows(); ++i) {
    const auto& label = weights.row_labels[static_cast<std::size_t>(i)];
    std::vector<std::string> items{
        fmt::format("  {}{} attends to:", label, std::string(static_cast<std::size_t>(label_width - display_width(label)), ' '))};
    auto top = top_keys(weights, static_cast<int>(i), k);
    for (std::size_t t = 0; t < top.size(); ++t)
      items.push_back(fmt::format("{} {}{}", top[t].first, format_number(top[t].second, options.precision, options.unicode),
                                  t + 1 < top.size() ? "," : ""));
    out += join_wrapped(items, " ", options.width, label_width + 16);
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
                       fmt::format("model: {} ({} head{}, d_k {}, d_v {})", c.model, c.heads, c.heads == 1 ? "" : "s", c.d_k, c.d_v),
                       fmt::format("backend: {}", c.backend), scale, fmt::format("temperature {}", c.temperature),
                       c.causal ? "causal mask" : (c.custom_mask ? "custom mask" : "no mask"),
                       fmt::format("positions: {}", c.positions)},
                      sep(ro), ro.width);
  for (const auto& note : trace.notes) out += wrap_text("note: " + note, ro.width, 2);

  if (selected(options, "tokens")) {
    out += "\n" + render_tokens(trace.tokens, ro);
    if (!trace.context_tokens.empty()) out += "context " + render_tokens(trace.context_tokens, ro);
  }
  for (const Stage& stage : trace.stages) {
    if (!selected(options, stage.name)) continue;
    out += "\n" + render_stage(stage, c.heads, ro);
    if (stage.name == "weights" && options.top_k > 0) out += render_top_keys(stage, options.top_k, c.heads, ro);
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

std::string render_shift(const std::string& word, const std::vector<Shift>& shifts, const RenderOptions& options) {
  std::string out = fmt::format("\"{}\" before and after attention (cosine similarity to each neighbourhood)\n", word);
  std::size_t width = 13;
  for (const auto& s : shifts) width = std::max(width, s.neighbourhood.size());
  out += fmt::format("  {:<{}}  {:>7}  {:>7}  {:>7}\n", "neighbourhood", width, "before", "after", "change");
  for (const auto& s : shifts) {
    const float change = s.after - s.before;
    std::string signed_change = format_number(change, options.precision, options.unicode);
    if (signed_change.front() != '-') signed_change.insert(0, "+");
    out += fmt::format("  {:<{}}  {:>7}  {:>7}  {:>7}\n", s.neighbourhood, width, format_number(s.before, options.precision, options.unicode),
                       format_number(s.after, options.precision, options.unicode), signed_change);
  }
  if (shifts.size() >= 2) {
    auto best = std::max_element(shifts.begin(), shifts.end(),
                                 [](const Shift& a, const Shift& b) { return a.after - a.before < b.after - b.before; });
    out += fmt::format("  → attention moved \"{}\" most toward the {} neighbourhood\n", word, best->neighbourhood);
    if (!options.unicode) out.replace(out.rfind("→"), std::string("→").size(), "->");
  }
  return out;
}

}  // namespace attnviz
