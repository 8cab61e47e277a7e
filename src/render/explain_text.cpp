// attnviz explain as text: the steps from qᵢ·kⱼ to the weight and its share of the context row.
#include <cmath>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/explain.hpp"
#include "attnviz/lm.hpp"
#include "attnviz/model.hpp"
#include "attnviz/stages.hpp"
#include "attnviz/train.hpp"
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
  auto why = [&](const std::string& text) { return "   " + render_detail::wrap_text(text, options.width - 3, 3); };

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
    const bool self = !causal && trace.config.exclude_self && e.key == e.query;  // --exclude-self, explore's x
    out += fmt::format("3. mask: {} hides {} from {}{}, so S' = {}\n", causal ? "the causal mask" : self ? "the diagonal mask" : "the mask", k,
                       self ? "itself" : q, causal ? " (a word may not look at later words)" : self ? " (no word may look at itself)" : "",
                       num(e.scaled()));
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
  // Each step's sentence within --width (the tables keep their rows whole).
  return render_detail::wrap_lines_to(out, options.width);
}

std::string render_projection(const ProjectionExplanation& e, const RenderOptions& options) {
  const Math& M = options.unicode ? kUnicode : kAscii;
  auto num = [&](float v) { return format_number(v, options.precision, options.unicode); };
  const std::string cell = fmt::format("{}[\"{}\"][{}]", e.symbol, e.token, e.column);
  std::string out = fmt::format("{} = {} over the {} columns of {}: {}[\"{}\"][k] {} {}[k][{}]{}\n", cell, M.sum, e.inputs.size(),
                                e.input_symbol, e.input_symbol, e.token, M.times, e.weight_symbol, e.column,
                                e.has_bias ? fmt::format(", plus {}[{}]", e.bias_symbol, e.column) : "");
  std::vector<std::vector<std::string>> rows{{"k", e.input_symbol, e.weight_symbol, fmt::format("{} {} {}", e.input_symbol, M.times, e.weight_symbol)}};
  for (std::size_t k = 0; k < e.inputs.size(); ++k)
    rows.push_back({at(e.input_labels, k), num(e.inputs[k]), num(e.weights[k]), num(e.products[k])});
  out += render_detail::text_table(rows, 3);
  if (e.has_bias) out += fmt::format("   + {}[{}] = {}\n", e.bias_symbol, e.column, num(e.bias));
  out += fmt::format("   {} = {} {} {} {}{} = {} (the trace's own entry)\n", e.symbol, M.sum, e.input_symbol, M.times, e.weight_symbol,
                     e.has_bias ? " + " + e.bias_symbol : "", num(e.value));
  return out;
}

std::string render_entry(const Trace& trace, const Model& model, const std::string& stage, int head, int row, int col,
                         const RenderOptions& options) {
  if (stage == stage_name::queries || stage == stage_name::keys || stage == stage_name::values || stage == stage_name::output)
    return render_projection(explain_projection(trace, model, stage, head, row, col), options);
  auto num = [&](float v) { return format_number(v, options.precision, options.unicode); };
  const Stage* st = trace.find(stage);
  if (!st || row < 0 || row >= st->data.rows() || col < 0 || col >= st->data.cols())
    throw InputError(fmt::format("the trace has no cell ({}, {}) of a {} stage", row, col, stage));
  const std::string token = st->row_labels[static_cast<std::size_t>(row)], column = st->col_labels[static_cast<std::size_t>(col)];
  const float value = st->data(row, col);
  const std::string cell = fmt::format("{}[\"{}\"][{}]", stage == stage_name::concat ? std::string("concat") : st->symbol, token, column);
  const bool positions = trace.config.positions != "none";  // sinusoidal, or a trained model's learned ones
  if (stage == stage_name::token_embeddings || ((stage == stage_name::embeddings || stage == stage_name::context_embeddings) && !positions))
    return fmt::format("{} = {}: the word's own vector, row \"{}\" of the {} embeddings, its {} entry; the same in every sentence\n", cell,
                       num(value), token, trace.config.embeddings, column);
  if (stage == stage_name::positional_encoding) {
    // PE(p, c) = sin or cos of p / 10000^(2i/d), 2i = c rounded down to even: the pipeline's own formula.
    const int d = static_cast<int>(st->data.cols()), pair = col - col % 2;
    const double angle = row / std::pow(10000.0, static_cast<double>(pair) / d);
    return fmt::format("{} = {}(p / 10000^({}/{})) with position p = {}\n   = {}({}) = {}: the same for every word at position {}\n", cell,
                       col % 2 == 0 ? "sin" : "cos", pair, d, row, col % 2 == 0 ? "sin" : "cos",
                       format_number(static_cast<float>(angle), std::max(options.precision, 4), options.unicode), num(value), row);
  }
  if (stage == stage_name::embeddings) {
    // X = E + PE (sinusoidal positions) or E + P (a trained model's learned positions).
    const Stage* E = trace.find(stage_name::token_embeddings);
    const Stage* PE = trace.find(stage_name::positional_encoding);
    if (!PE) PE = trace.find(stage_name::position_embeddings);
    if (E && PE)
      return fmt::format("{} = E + {} = {} + {} = {}: the word's vector plus its position's {}\n", cell, PE->symbol, num(E->data(row, col)),
                         num(PE->data(row, col)), num(value), PE->name == stage_name::positional_encoding ? "pattern" : "learned row");
  }
  if (stage == stage_name::context_embeddings)  // positions: the context's own, counted from 0
    return fmt::format("{} = {}: the context word's vector plus the pattern of its position {} in the context\n", cell, num(value), row);
  if (stage == stage_name::concat) {
    const int d_v = trace.config.d_v, h = col / std::max(1, d_v);
    const Stage* A = trace.find(stage_name::context, h);
    if (A)
      return fmt::format("{} = A[\"{}\"][{}] of head {} = {}: the heads' context rows side by side, head {} in columns {}{}{}\n", cell, token,
                         A->col_labels[static_cast<std::size_t>(col % d_v)], h + 1, num(A->data(row, col % d_v)), h + 1, h * d_v,
                         options.unicode ? "–" : "-", h * d_v + d_v - 1);
  }
  // A trained model's layer norms: the row's mean and variance, the normalised entry, its gain and bias.
  if ((stage == stage_name::layer_norm || stage == stage_name::final_norm) && model.language_model) {
    const LmConfig& c = model.language_model->model.config;
    const LmLayout lay(c);
    const bool final = stage == stage_name::final_norm;
    // What the norm reads: the layer's input (X for the first layer); the final norm, the last layer's output.
    const std::string_view input = final ? (trace.find(stage_name::layer_output) ? stage_name::layer_output : stage_name::residual)
                                   : trace.find(stage_name::layer_input) ? stage_name::layer_input
                                                                          : stage_name::embeddings;
    const Stage* X = trace.find(input);
    const LmTensor& gain = final ? lay.lnf_gain() : lay.layer(model.layer, LmLayout::ln1_gain);
    const LmTensor& bias = final ? lay.lnf_bias() : lay.layer(model.layer, LmLayout::ln1_bias);
    if (X && X->data.cols() == st->data.cols() && gain.size() == static_cast<std::size_t>(st->data.cols())) {
      const auto x = X->data.row(row);
      const double mean = x.cast<double>().mean(), variance = (x.cast<double>().array() - mean).square().mean();
      const double normalised = (x(col) - mean) / std::sqrt(variance + kLayerNormEpsilon);
      const std::vector<float>& p = model.language_model->model.params;
      const float g = p[gain.offset + static_cast<std::size_t>(col)], b = p[bias.offset + static_cast<std::size_t>(col)];
      const auto wide = [&](double v) { return format_number(static_cast<float>(v), std::max(options.precision, 4), options.unicode); };
      const Math& M = options.unicode ? kUnicode : kAscii;
      // Under the stage's formula (a = (x − mean) / √(variance + 10⁻⁵) ∘ γ + β), its numbers for this cell.
      const std::string gamma = options.unicode ? "γ" : "gain", beta = options.unicode ? "β" : "bias";
      const std::string norm = final ? std::string("the final norm's") : fmt::format("the layer {} norm's", model.layer + 1);
      return fmt::format(
          "{cell}: x is the row \"{token}\" of {X}, whose {n} entries have mean {mean} and variance {variance}\n"
          "   (x {minus} mean) {div} {sqrt}(variance + 0.00001) = ({x} {minus} {mean}) {div} {sqrt}({variance} + 0.00001) = {z}\n"
          "   {z} {times} {gamma} + {beta} = {z} {times} {g} + {b} = {value} (the trace's own entry; {gamma} and {beta}: {norm} learned "
          "gain and bias for {column})\n",
          fmt::arg("cell", cell), fmt::arg("token", token), fmt::arg("X", X->symbol), fmt::arg("n", x.size()), fmt::arg("mean", wide(mean)),
          fmt::arg("variance", wide(variance)), fmt::arg("minus", M.minus), fmt::arg("div", M.divide), fmt::arg("sqrt", M.sqrt),
          fmt::arg("x", num(x(col))), fmt::arg("z", wide(normalised)), fmt::arg("times", M.times), fmt::arg("gamma", gamma),
          fmt::arg("beta", beta), fmt::arg("g", num(g)), fmt::arg("b", num(b)), fmt::arg("value", num(value)), fmt::arg("norm", norm),
          fmt::arg("column", column));
    }
  }
  // A trained model's residual connections: a sum of two stages of the trace.
  const auto sum = [&](std::string_view a, std::string_view b, const std::string& what) -> std::string {
    const Stage* A = trace.find(a);
    const Stage* B = trace.find(b);
    if (!A || !B) return "";
    return fmt::format("{} = {} + {} = {} + {} = {}: {}\n", cell, A->symbol, B->symbol, num(A->data(row, col)), num(B->data(row, col)),
                       num(value), what);
  };
  std::string out;
  if (stage == stage_name::residual)  // the layer's input: the first layer's is X
    out = sum(trace.find(stage_name::layer_input) ? stage_name::layer_input : stage_name::embeddings, stage_name::output,
              "the layer's input plus what attention added");
  if (stage == stage_name::layer_output) out = sum(stage_name::residual, stage_name::mlp, "the row after attention plus what the MLP added");
  if (stage == stage_name::predictions)
    out = fmt::format("{} = {}: how likely the model finds \"{}\" as the word after \"{}\"\n", cell, num(value), column, token);
  return out.empty() ? fmt::format("{} = {}\n", cell, num(value)) : out;
}

}  // namespace attnviz
