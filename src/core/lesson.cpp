#include "attnviz/lesson.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "../io/json_util.hpp"
#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/utf8.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/stages.hpp"

namespace attnviz {

namespace {

LessonOptions lesson_options(const io::json& o, const std::string& source) {
  if (!o.is_object()) throw InputError(fmt::format("{}: \"options\" must be an object", source));
  static const std::vector<std::string> known{"heads", "causal", "temperature", "no_scale", "positions", "word_order", "layer"};
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
  if (o.contains("layer")) l.layer = io::get_positive_int(o, "layer", source);
  if (o.contains("temperature")) {
    l.temperature = io::to_float(o.at("temperature"), "options.temperature", source);
    // The lesson's file and option named, not the --temperature the teacher did not type.
    if (const auto why = temperature_problem(l.temperature))
      throw InputError(fmt::format("{}: option \"temperature\" is {}: {}", source, l.temperature, *why));
  }
  l.causal = flag("causal");
  l.no_scale = flag("no_scale");
  l.word_order = flag("word_order");
  l.positions = io::get_string(o, "positions", source, "none");
  if (l.positions != "none" && l.positions != "sinusoidal")
    throw InputError(fmt::format("{}: option \"positions\" must be \"none\" or \"sinusoidal\", found \"{}\"", source, l.positions));
  return l;
}

LessonClaim lesson_claim(const io::json& c, const Lesson& l, const std::string& source) {
  if (!c.is_object()) throw InputError(fmt::format("{}: each of \"claims\" must be an object", source));
  static const std::vector<std::string> known{"sentence", "head", "attends_to", "ends_closer_to", "moves_toward", "no_clear_effect"};
  for (const auto& [key, value] : c.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw InputError(fmt::format("{}: unknown claim field \"{}\"; known: {}", source, key, fmt::join(known, ", ")));
  LessonClaim claim;
  claim.sentence = io::get_positive_int(c, "sentence", source);
  if (claim.sentence > static_cast<int>(l.sentences.size()))
    throw InputError(fmt::format("{}: a claim is about sentence {}, but the lesson has {}", source, claim.sentence, l.sentences.size()));
  if (c.contains("head")) claim.head = io::get_positive_int(c, "head", source);
  if (auto it = c.find("attends_to"); it != c.end()) {
    if (!it->is_array()) throw InputError(fmt::format("{}: \"attends_to\" must be a list of words", source));
    for (const auto& w : *it) {
      if (!w.is_string()) throw InputError(fmt::format("{}: \"attends_to\" must hold words", source));
      claim.attends_to.push_back(w.get<std::string>());
    }
  }
  claim.ends_closer_to = io::get_string(c, "ends_closer_to", source, "");
  claim.moves_toward = io::get_string(c, "moves_toward", source, "");
  if (auto it = c.find("no_clear_effect"); it != c.end()) {
    if (!it->is_boolean()) throw InputError(fmt::format("{}: \"no_clear_effect\" must be true or false", source));
    claim.no_clear_effect = it->get<bool>();
  }
  for (const std::string* name : {&claim.ends_closer_to, &claim.moves_toward})
    if (!name->empty() && std::none_of(l.neighbourhoods.begin(), l.neighbourhoods.end(), [&](const Neighbourhood& nb) { return nb.name == *name; }))
      throw InputError(fmt::format("{}: a claim names the neighbourhood \"{}\", which the lesson does not define", source, *name));
  return claim;
}

}  // namespace

Lesson load_lesson(const std::filesystem::path& path) {
  const std::string source = path.string();
  const io::json doc = io::parse_json(io::read_file(path, "lesson file"), source);
  io::check_header(doc, "attnviz-lesson", source);
  // The fields of docs/schema/attnviz-lesson.schema.json, no other (a misspelt "sentence" is not ignored).
  io::check_fields(doc, {"format", "version", "name", "title", "description", "embeddings", "model", "sentences", "word", "neighbourhoods",
                         "options", "claims"},
                   source);
  Lesson l;
  // Shown on the terminal: control characters escaped (escape_controls), as for every text from a file.
  l.name = escape_controls(io::get_nonempty_string(doc, "name", source));
  l.title = escape_controls(io::get_string(doc, "title", source, l.name));
  l.description = escape_controls(io::get_string(doc, "description", source, ""));
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
  for (std::string* spec : {&l.embeddings, &l.model})
    // A file beside the lesson (a name with '/' or '.'; bundled names have neither) is relative to it.
    if (spec->find_first_of("/.") != std::string::npos && std::filesystem::path(*spec).is_relative() && path.has_parent_path())
      *spec = (path.parent_path() / *spec).string();
  if (auto it = doc.find("claims"); it != doc.end()) {
    if (!it->is_array()) throw InputError(fmt::format("{}: \"claims\" must be a list", source));
    for (const auto& c : *it) l.claims.push_back(lesson_claim(c, l, source));
    if (!l.claims.empty() && l.word.empty()) throw InputError(fmt::format("{}: \"claims\" need a \"word\" they are about", source));
  }
  if (l.word.empty() && !l.neighbourhoods.empty())
    throw InputError(fmt::format("{}: \"neighbourhoods\" needs a \"word\" whose shift they measure", source));
  return l;
}

Lesson resolve_lesson(const std::string& spec, const std::optional<std::string>& data_dir_flag) {
  if (spec.empty()) throw InputError("the lesson name is empty; give a bundled lesson's name (attnviz demo lists them) or a file path");
  return load_lesson(input_file("lessons", spec, data_dir_flag));
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

Vector neighbourhood_centre(const Embeddings& emb, const Neighbourhood& nb) {
  Vector centre = Vector::Zero(emb.dim);
  for (const auto& w : nb.words) centre += emb.vector(w);
  return centre / static_cast<float>(nb.words.size());
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
    const Vector centre = neighbourhood_centre(emb, nb);
    shifts.push_back({nb.name, cosine(X->data.row(row), centre), cosine(O->data.row(row), centre)});
  }
  return shifts;
}

}  // namespace attnviz
