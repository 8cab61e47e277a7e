// The lesson's numbers as text: before, uniform, after, the sense margins and the claim.
#include <fmt/format.h>

#include "attnviz/lesson_truth.hpp"
#include "text_table.hpp"

namespace attnviz {

namespace {

std::string signed_number(float v, const RenderOptions& o) {
  std::string s = format_number(v, o.precision, o.unicode);
  return s.front() == '-' ? s : "+" + s;
}

}  // namespace

std::string render_lesson_numbers(const LessonNumbers& n, const RenderOptions& options) {
  auto num = [&](float v) { return format_number(v, options.precision, options.unicode); };
  std::string out = render_detail::wrap_text(
      fmt::format("\"{}\" before and after attention (cosine similarity to each neighbourhood)", n.word), options.width, 2);
  std::vector<std::vector<std::string>> table{{"neighbourhood", "before", "uniform", "after", "change", "pattern"}};
  for (std::size_t k = 0; k < n.neighbourhoods.size(); ++k)
    table.push_back({n.neighbourhoods[k], num(n.before[k]), num(n.uniform[k]), num(n.after[k]), signed_number(n.after[k] - n.before[k], options),
                     signed_number(n.after[k] - n.uniform[k], options)});
  if (n.neighbourhoods.size() >= 2) {
    table.push_back({"closer to", n.margin_before.closer, n.margin_uniform.closer, n.margin_after.closer, "", ""});
    table.push_back({"by", num(n.margin_before.by), num(n.margin_uniform.by), num(n.margin_after.by), "", ""});
  }
  out += render_detail::text_table(table, 2, options.width);
  const std::string claim = claim_line(n, options.precision, options.unicode);
  if (!claim.empty()) {
    // Indented by two like the table; wrap_text drops leading spaces, so they go onto the first word.
    std::string wrapped = render_detail::wrap_text(claim, options.width - 2, 2);
    for (std::size_t at = 0; at < wrapped.size(); at = wrapped.find('\n', at) + 1) wrapped.insert(at, "  ");
    out += wrapped;
  }
  return out;
}

std::string render_lesson_key(const RenderOptions& options) {
  return render_detail::wrap_text(
      fmt::format("uniform: the output had every word the query sees been weighted the same (the sentence's plain average, "
                  "through the same W_v and W_o); pattern: after {} uniform, what the attention pattern adds to it; closer to / by: "
                  "the sense margin, the nearest neighbourhood and its lead over the next. A claim needs the word to move {} or more "
                  "toward one neighbourhood relative to the others.",
                  options.unicode ? "−" : "-", format_number(kClaimThreshold, 2, options.unicode)),
      options.width, 2);
}

std::string render_claim_notes(const std::vector<std::string>& failed, const RenderOptions& options) {
  std::string out;
  for (const auto& f : failed) out += render_detail::wrap_text("note: " + f, options.width, 2);
  return out;
}

}  // namespace attnviz
