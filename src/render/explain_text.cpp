// attnviz explain as text: the steps from qᵢ·kⱼ to the weight and its share of the context row.
#include <fmt/format.h>

#include "attnviz/explain.hpp"
#include "text_table.hpp"

namespace attnviz {

namespace {

struct Math {
  const char *times, *divide, *minus, *sqrt, *sum, *arrow, *dot;
};
const Math kUnicode{"×", "÷", "−", "√", "Σ", "←", "·"};
const Math kAscii{"x", "/", "-", "sqrt", "sum", "<-", "."};

std::string at(const std::vector<std::string>& labels, std::size_t i) { return i < labels.size() ? labels[i] : std::to_string(i); }

}  // namespace

std::string render_explanation(const CellExplanation& e, const Trace& trace, const RenderOptions& options) {
  const Math& M = options.unicode ? kUnicode : kAscii;
  auto num = [&](float v) { return format_number(v, options.precision, options.unicode); };
  const std::string q = fmt::format("\"{}\"", e.query_token), k = fmt::format("\"{}\"", e.key_token);
  const auto key = static_cast<std::size_t>(e.key);
  using render_detail::text_table;
  auto why = [&](const std::string& text) { return "   " + render_detail::wrap_text(text, std::min(options.width, 100) - 3, 3); };

  std::string out = fmt::format("explain: how much does {} (query, token {}) attend to {} (key, token {})? head {} of {}\n", q,
                                e.query, k, e.key, e.head + 1, trace.config.heads);
  out += fmt::format("sentence: \"{}\"\n", trace.sentence);
  if (trace.config.context) out += fmt::format("context:  \"{}\" (the keys and values)\n", *trace.config.context);
  if (trace.config.layers > 0)
    out += fmt::format("model:    {}, layer {} of {}: q and k are made from the layer norm of the layer's input (stage layer_norm), "
                       "and the mask is causal\n",
                       trace.config.model, trace.config.layer, trace.config.layers);

  // 1. The raw score, term by term.
  out += fmt::format("\n1. score: multiply the query of {} and the key of {} dimension by dimension, then add (S = q {} k)\n", q, k, M.dot);
  std::vector<std::vector<std::string>> rows{{"dim", fmt::format("q ({})", e.query_token), fmt::format("k ({})", e.key_token),
                                              fmt::format("q {} k", M.times)}};
  for (std::size_t c = 0; c < e.products.size(); ++c)
    rows.push_back({at(e.q_labels, c), num(e.q(static_cast<Eigen::Index>(c))), num(e.k(static_cast<Eigen::Index>(c))), num(e.products[c])});
  out += text_table(rows, 3);
  out += fmt::format("   S = {} (sum)\n", num(e.score));

  // 2. The scale factor: 1/√d_k (unless --no-scale), divided by the temperature.
  const int precise = std::max(options.precision, 4);
  const std::string root = options.unicode ? fmt::format("√{}", trace.config.d_k) : fmt::format("sqrt({})", trace.config.d_k);
  std::string factor = e.scale == 1.0f ? "1" : "1/" + root;
  if (e.temperature != 1.0f) factor += fmt::format(" {} {}", M.divide, e.temperature);
  out += fmt::format("2. scale: S' = S {} {}{} = {} {} {} = {}\n", M.times, factor,
                     e.scale == 1.0f && e.temperature == 1.0f ? " (no scaling)" : "", num(e.score), M.times,
                     format_number(e.factor, precise, options.unicode),
                     num(e.masked() ? e.score * e.factor : e.scaled()));
  if (e.scale != 1.0f)
    out += why(fmt::format("why: a sum of {} products grows with the number of dimensions; dividing by {} keeps the scores in "
                           "the range where softmax still tells them apart",
                           e.products.size(), root));

  // 3. The mask.
  if (e.masked()) {
    const bool causal = trace.config.causal && e.key > e.query;
    out += fmt::format("3. mask: {} hides {} from {}{}, so S' = {}\n", causal ? "the causal mask" : "the mask", k, q,
                       causal ? " (a word may not look at later words)" : "", num(e.scaled()));
  } else {
    out += fmt::format("3. mask: {} may look at {}, so S' stays {}\n", q, k, num(e.scaled()));
  }

  // 4-7. Softmax over the query's row.
  out += fmt::format("4. minus the row maximum: the largest S' in the row of {} is {} (key \"{}\")\n", q, num(e.row_max),
                     at(e.key_tokens, static_cast<std::size_t>(e.row_argmax)));
  out += fmt::format("   S' {} max = {} {} {} = {}\n", M.minus, num(e.scaled()), M.minus, num(e.row_max),
                     num(e.scaled() - e.row_max));
  out += why("why: subtracting the maximum changes no weight, and keeps e^x from overflowing");
  // A zero here is either the mask (e^−∞) or float32 running out of range: say which.
  std::string exp_note;
  if (e.exp_value() == 0.0f)
    exp_note = e.masked() ? " (exactly 0)" : " (exactly 0 in float32: e^x underflows to 0 when x is this far below 0)";
  out += fmt::format("5. exp: e^({}) = {}{}\n", num(e.scaled() - e.row_max), num(e.exp_value()), exp_note);
  out += fmt::format("6. the row's sum: e^(S' {} max) for each of the {} keys of {}, added up\n", M.minus, e.key_tokens.size(), q);
  rows = {{"key", "S'", fmt::format("S' {} max", M.minus), fmt::format("e^(S' {} max)", M.minus), ""}};
  for (std::size_t j = 0; j < e.key_tokens.size(); ++j)
    rows.push_back({e.key_tokens[j], num(e.scaled_row[j]), num(e.scaled_row[j] - e.row_max), num(e.exp_row[j]), j == key ? M.arrow : ""});
  out += text_table(rows, 3);
  out += fmt::format("   {} = {}\n", M.sum, num(e.row_sum));
  std::string weight_note;
  if (e.weight() == 0.0f)
    weight_note = e.masked() ? " (exactly 0: a masked key gets no attention)"
                             : fmt::format(" (exactly 0 in float32, although {} is not masked: its score is so far below the row's "
                                           "largest that the weight rounds to 0)",
                                           k);
  out += fmt::format("7. the weight: P = {} {} {} = {}{}\n", num(e.exp_value()), M.divide, num(e.row_sum),
                     paint_weight(num(e.weight()), e.weight(), options), weight_note);
  out += fmt::format("   {} gives {} of its attention to {}; the {} weights of its row add up to 1\n", q, num(e.weight()), k,
                     e.key_tokens.size());

  // 8. The weight's share of the context row.
  out += fmt::format("8. its share of the context row: {}'s context A is {} over every key of P {} v(key); {} adds P {} v({})\n",
                     e.query_token, M.sum, M.times, k, M.times, e.key_token);
  rows = {{"dim", fmt::format("v ({})", e.key_token), fmt::format("P {} v", M.times), fmt::format("A ({})", e.query_token)}};
  for (Eigen::Index c = 0; c < e.v.cols(); ++c)
    rows.push_back({at(e.v_labels, static_cast<std::size_t>(c)), num(e.v(c)), num(e.share(c)), num(e.context(c))});
  out += text_table(rows, 3);
  return out;
}

}  // namespace attnviz
