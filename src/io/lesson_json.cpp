// The "lesson" object of a demo's JSON export: the numbers a program needs to check a lesson's claim.
#include "attnviz/export.hpp"
#include "attnviz/lesson_truth.hpp"

namespace attnviz {

namespace {

nlohmann::ordered_json by_name(const std::vector<std::string>& names, const std::vector<float>& values) {
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  for (std::size_t k = 0; k < names.size(); ++k) o[names[k]] = float_json(values[k]);
  return o;
}

nlohmann::ordered_json margin_json(const SenseMargin& m) {
  nlohmann::ordered_json o;
  o["closer_to"] = m.closer;
  o["than"] = m.other.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(m.other);
  o["by"] = float_json(m.by);
  return o;
}

}  // namespace

nlohmann::ordered_json lesson_to_json(const LessonNumbers& n) {
  nlohmann::ordered_json o;
  o["word"] = n.word;
  o["token"] = n.token;
  o["threshold"] = float_json(n.threshold);
  o["neighbourhoods"] = n.neighbourhoods;
  o["before"] = by_name(n.neighbourhoods, n.before);
  o["uniform"] = by_name(n.neighbourhoods, n.uniform);
  o["after"] = by_name(n.neighbourhoods, n.after);
  std::vector<float> gain;
  for (std::size_t k = 0; k < n.after.size(); ++k) gain.push_back(n.after[k] - n.uniform[k]);
  o["gain"] = by_name(n.neighbourhoods, gain);
  o["margin"] = {{"before", margin_json(n.margin_before)}, {"uniform", margin_json(n.margin_uniform)}, {"after", margin_json(n.margin_after)}};
  if (n.neighbourhoods.size() >= 2)
    o["moved"] = {{"toward", n.toward}, {"by", float_json(n.moved)}, {"plain_average", float_json(n.plain_average)},
                  {"pattern_adds", float_json(n.pattern_adds)}};
  else
    o["moved"] = nullptr;
  o["claim"] = n.claim ? nlohmann::ordered_json(*n.claim) : nlohmann::ordered_json();
  return o;
}

}  // namespace attnviz
