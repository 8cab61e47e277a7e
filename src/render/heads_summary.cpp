// The one-screen "what each head does" of a multi-head run: each head named by the rule of `attnviz heads`
// (describe_head), its strongest key per word, and every head's pattern side by side in shading characters.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "attnviz/heads.hpp"
#include "attnviz/report.hpp"
#include "attnviz/stages.hpp"
#include "text_table.hpp"

namespace attnviz {

namespace {

// A row whose entropy is this share of the most it could be (log₂ of the keys it sees) or more counts as even.
constexpr double kEvenRow = 0.97;

// Row i's entropy over the most it could have (log₂ of its keys with weight, the masked ones have none).
double row_evenness(const Stage& weights, Eigen::Index i) {
  const auto visible = (weights.data.row(i).array() > 0.0f).count();
  return visible < 2 ? 0.0 : entropy_bits(weights, i) / std::log2(static_cast<double>(visible));
}

}  // namespace

std::string render_heads_summary(const Trace& trace, const RenderOptions& options) {
  const TraceConfig& c = trace.config;
  std::vector<const Stage*> heads;
  for (int h = 0; h < c.heads; ++h)
    if (const Stage* w = trace.find(stage_name::weights, h)) heads.push_back(w);
  if (heads.size() < 2) return "";
  const bool self_attention = trace.context_tokens.empty();
  const std::string arrow = options.unicode ? "→" : "->";
  std::string out = render_detail::wrap_text(fmt::format("what each head does ({} heads, the same sentence):", heads.size()), options.width);
  std::vector<std::vector<RowMat<float>>> grid(1);
  bool any_flat = false;
  for (const Stage* w : heads) {
    const Stage* scaled = trace.find(stage_name::scaled_scores, w->head);
    const HeadStats s = measure_trace_head(*w, scaled, c.causal);
    out += render_detail::wrap_text(fmt::format("head {}: {}", s.head, self_attention ? s.description : "cross-attention"), options.width, 4);
    std::vector<std::string> items{"  strongest key:"};
    for (Eigen::Index i = 0; i < w->data.rows(); ++i) {
      Eigen::Index best = 0;
      w->data.row(i).maxCoeff(&best);
      // A row spread evenly has no strongest key worth reading (its largest weight is an even share plus
      // noise): it says so, and the rows that do focus stand out.
      const bool flat = row_evenness(*w, i) >= kEvenRow;
      any_flat = any_flat || flat;
      items.push_back(fmt::format("{}{}{}", w->row_labels[static_cast<std::size_t>(i)], arrow,
                                  flat ? std::string("(even)") : w->col_labels[static_cast<std::size_t>(best)]));
    }
    out += render_detail::join_wrapped(items, " ", options.width, 4);
    grid[0].push_back(w->data);
  }
  if (any_flat)
    out += render_detail::hanging("  (even):",
                                  fmt::format("the row spreads its weight evenly over the words it sees (evenness {} or more), so its "
                                              "largest weight names no key",
                                              format_number(static_cast<float>(kEvenRow), 2, options.unicode)),
                                  options.width);
  // The patterns side by side fit the width only for short sentences; longer ones are in the tables above.
  // The grid's last line is its key, wrapped like the other prose.
  if (self_attention) {
    std::string patterns = render_head_grid(grid, trace.tokens, !options.unicode);
    patterns.pop_back();  // the final newline
    const std::size_t key_at = patterns.rfind('\n') + 1;
    const std::string key = patterns.substr(key_at);
    patterns.erase(key_at);
    int widest = 0;
    for (std::size_t start = 0, end; start < patterns.size(); start = end + 1) {
      end = patterns.find('\n', start);
      if (end == std::string::npos) end = patterns.size();
      widest = std::max(widest, display_width(patterns.substr(start, end - start)));
    }
    if (widest <= options.width) out += patterns + render_detail::wrap_text(key, options.width, 1);
  }
  return out;
}

}  // namespace attnviz
