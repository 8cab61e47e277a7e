#include "attnviz/lesson.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "../io/json_util.hpp"
#include "attnviz/error.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/stages.hpp"

namespace attnviz {

namespace {

LessonOptions lesson_options(const io::json& o, const std::string& source) {
  if (!o.is_object()) throw InputError(fmt::format("{}: \"options\" must be an object", source));
  static const std::vector<std::string> known{"heads", "causal", "temperature", "no_scale", "positions", "word_order"};
  for (const auto& [key, value] : o.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw InputError(fmt::format("{}: unknown lesson option \"{}\"; known: {}", source, key, fmt::join(known, ", ")));
  auto flag = [&](const char* key) {
    auto it = o.find(key);
    if (it == o.end()) return false;
    if (!it->is_boolean()) throw InputError(fmt::format("{}: option \"{}\" must be true or false", source, key));
    return it->get<bool>();
  };
  LessonOptions l;
  if (o.contains("heads")) l.heads = io::get_positive_int(o, "heads", source);
  if (o.contains("temperature")) l.temperature = io::to_float(o.at("temperature"), "options.temperature", source);
  l.causal = flag("causal");
  l.no_scale = flag("no_scale");
  l.word_order = flag("word_order");
  l.positions = io::get_string(o, "positions", source, "none");
  return l;
}

}  // namespace

Lesson load_lesson(const std::filesystem::path& path) {
  const std::string source = path.string();
  const io::json doc = io::parse_json(io::read_file(path, "lesson file"), source);
  io::check_header(doc, "attnviz-lesson", source);
  Lesson l;
  l.name = io::get_string(doc, "name", source);
  l.title = io::get_string(doc, "title", source, l.name);
  l.description = io::get_string(doc, "description", source, "");
  l.embeddings = io::get_string(doc, "embeddings", source, "toy");
  l.model = io::get_string(doc, "model", source, "toy");
  l.word = io::get_string(doc, "word", source, "");
  const io::json& sentences = io::require(doc, "sentences", source);
  if (!sentences.is_array() || sentences.empty()) throw InputError(fmt::format("{}: \"sentences\" must be a non-empty array", source));
  for (const auto& s : sentences) {
    if (!s.is_string()) throw InputError(fmt::format("{}: \"sentences\" must hold strings", source));
    l.sentences.push_back(s.get<std::string>());
  }
  if (auto it = doc.find("neighbourhoods"); it != doc.end()) {
    if (!it->is_object()) throw InputError(fmt::format("{}: \"neighbourhoods\" must map names to word lists", source));
    for (const auto& [name, words] : it->items()) {
      Neighbourhood nb{name, {}};
      if (!words.is_array() || words.empty()) throw InputError(fmt::format("{}: neighbourhood \"{}\" must be a non-empty word list", source, name));
      for (const auto& w : words) {
        if (!w.is_string()) throw InputError(fmt::format("{}: neighbourhood \"{}\" must hold strings", source, name));
        nb.words.push_back(w.get<std::string>());
      }
      l.neighbourhoods.push_back(std::move(nb));
    }
  }
  if (auto it = doc.find("options"); it != doc.end()) l.options = lesson_options(*it, source);
  if (l.word.empty() && !l.neighbourhoods.empty())
    throw InputError(fmt::format("{}: \"neighbourhoods\" needs a \"word\" whose shift they measure", source));
  return l;
}

std::vector<int> permutation_between(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<int> where(a.size(), -1);
  std::vector<bool> used(b.size(), false);
  for (std::size_t i = 0; i < a.size() && a.size() == b.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j)
      if (!used[j] && b[j] == a[i]) {
        used[j] = true;
        where[i] = static_cast<int>(j);
        break;
      }
  if (a.size() != b.size() || std::find(where.begin(), where.end(), -1) != where.end())
    throw InputError(fmt::format("\"{}\" is not the words of \"{}\" in another order", fmt::join(b, " "), fmt::join(a, " ")));
  return where;
}

std::vector<OrderRow> compare_word_order(const Trace& a, const Trace& b) {
  const auto where = permutation_between(a.tokens, b.tokens);
  const Stage* Oa = a.find(stage_name::output);
  const Stage* Ob = b.find(stage_name::output);
  if (!Oa || !Ob) throw Error("a trace lacks the output stage");
  std::vector<OrderRow> rows;
  for (std::size_t i = 0; i < where.size(); ++i) {
    OrderRow r;
    r.token = a.tokens[i];
    r.position_a = static_cast<int>(i);
    r.position_b = where[i];
    r.output_a = Oa->data.row(r.position_a);
    r.output_b = Ob->data.row(r.position_b);
    r.max_difference = (r.output_a - r.output_b).cwiseAbs().maxCoeff();
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<std::pair<std::string, float>> top_keys(const Stage& weights, int row, int k) {
  std::vector<int> order(static_cast<std::size_t>(weights.data.cols()));
  std::iota(order.begin(), order.end(), 0);
  // Stable: ties keep sentence order, so the output is deterministic.
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return weights.data(row, a) > weights.data(row, b); });
  std::vector<std::pair<std::string, float>> out;
  for (int i = 0; i < k && i < static_cast<int>(order.size()); ++i) {
    const int j = order[static_cast<std::size_t>(i)];
    out.emplace_back(weights.col_labels[static_cast<std::size_t>(j)], weights.data(row, j));
  }
  return out;
}

std::vector<Shift> word_shift(const Trace& trace, const Embeddings& emb, const std::string& word,
                              const std::vector<Neighbourhood>& neighbourhoods) {
  auto it = std::find(trace.tokens.begin(), trace.tokens.end(), word);
  if (it == trace.tokens.end())
    throw InputError(fmt::format("the word '{}' is not in the sentence \"{}\"", word, trace.sentence));
  const auto row = static_cast<Eigen::Index>(it - trace.tokens.begin());
  const Stage* X = trace.find(stage_name::embeddings);
  const Stage* O = trace.find(stage_name::output);
  if (!X || !O) throw Error("the trace lacks the embeddings or output stage");
  std::vector<Shift> shifts;
  for (const auto& nb : neighbourhoods) {
    Vector centre = Vector::Zero(emb.dim);
    for (const auto& w : nb.words) centre += emb.vector(w);
    centre /= static_cast<float>(nb.words.size());
    shifts.push_back({nb.name, cosine(X->data.row(row), centre), cosine(O->data.row(row), centre)});
  }
  return shifts;
}

}  // namespace attnviz
