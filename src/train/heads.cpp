#include "attnviz/heads.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "attnviz/lesson_truth.hpp"
#include "attnviz/render.hpp"
#include "../render/text_table.hpp"

namespace attnviz {

std::string describe_head(const HeadStats& s) {
  auto pct = [](double x) { return fmt::format("{:.0f}%", 100 * x); };
  if (s.previous >= 0.5) return fmt::format("previous-word head: {} of its weight on the word just before", pct(s.previous));
  if (s.self >= 0.5) return fmt::format("self head: {} of its weight on the word itself", pct(s.self));
  if (s.first >= 0.5) return fmt::format("first-word head: {} of its weight on the sentence's first word", pct(s.first));
  const char* back = s.causal ? "back" : "away";
  if (s.evenness >= 0.85)
    return fmt::format("broad head: spreads its weight almost evenly over the words {} (evenness {:.2f}), {:.1f} words {} on average",
                       s.causal ? "so far" : "it sees", s.evenness, s.distance, back);
  // Where it leans: named only when that share is ahead of the next by kClaimThreshold (0.05, the margin
  // every claim of attnviz needs); shares closer than that are named together, none over the others.
  std::array<std::pair<double, const char*>, 3> shares = {{{s.previous, "the previous word"}, {s.self, "itself"}, {s.first, "the first word"}}};
  std::stable_sort(shares.begin(), shares.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  const std::string looks = fmt::format("looks {:.1f} words {} on average", s.distance, back);
  if (shares[0].first - shares[1].first >= kClaimThreshold)
    return fmt::format("mixed head: leans to {} ({}), {}", shares[0].second, pct(shares[0].first), looks);
  if (shares[1].first - shares[2].first >= kClaimThreshold)
    return fmt::format("mixed head: splits its weight between {} ({}) and {} ({}), {}", shares[0].second, pct(shares[0].first), shares[1].second,
                       pct(shares[1].first), looks);
  return fmt::format("mixed head: no clear lean ({} {}, {} {}, {} {}), {}", shares[0].second, pct(shares[0].first), shares[1].second,
                     pct(shares[1].first), shares[2].second, pct(shares[2].first), looks);
}

namespace {

// Adds the query positions of one attention pattern A to `s` (the averages are taken by finish). `masked`:
// whether query i may not see key j. Causal: position 0 (which sees only itself) is left out and distance
// counts words back; otherwise distance is |i − j|. A row that sees fewer than two keys is left out.
template <typename Masked>
void add_positions(HeadStats& s, const RowMat<float>& A, bool causal, Masked masked) {
  for (Eigen::Index i = causal ? 1 : 0; i < A.rows(); ++i) {
    double entropy = 0, distance = 0;
    int visible = 0;
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      if (masked(i, j)) continue;
      ++visible;
      const double a = A(i, j);
      if (a > 0) entropy -= a * std::log2(a);
      distance += a * static_cast<double>(causal ? i - j : std::abs(i - j));
    }
    if (visible < 2) continue;
    s.previous += i > 0 ? A(i, i - 1) : 0.0;
    s.self += i < A.cols() ? A(i, i) : 0.0;
    s.first += A(i, 0);
    s.distance += distance;
    s.entropy += entropy;
    s.evenness += entropy / std::log2(static_cast<double>(visible));
    ++s.positions;
  }
}

void finish(HeadStats& s) {
  const double n = static_cast<double>(std::max<std::size_t>(1, s.positions));
  for (double* x : {&s.previous, &s.self, &s.first, &s.distance, &s.entropy, &s.evenness}) *x /= n;
  s.description = describe_head(s);
}

}  // namespace

std::vector<HeadStats> measure_heads(const LmConfig& c, const std::vector<float>& params, const RowMat<float>& E, const Sentences& sentences) {
  std::vector<HeadStats> stats(static_cast<std::size_t>(c.layers * c.heads));
  for (int l = 0; l < c.layers; ++l)
    for (int h = 0; h < c.heads; ++h) {
      stats[static_cast<std::size_t>(l * c.heads + h)].layer = l + 1;
      stats[static_cast<std::size_t>(l * c.heads + h)].head = h + 1;
    }
  for (const auto& ids : sentences) {
    if (ids.size() < 2) continue;
    const auto att = lm_attention(c, params, E, ids);
    for (int l = 0; l < c.layers; ++l)
      for (int h = 0; h < c.heads; ++h)
        add_positions(stats[static_cast<std::size_t>(l * c.heads + h)], att[static_cast<std::size_t>(l)][static_cast<std::size_t>(h)], true,
                      [](Eigen::Index i, Eigen::Index j) { return j > i; });
  }
  for (HeadStats& s : stats) finish(s);
  return stats;
}

HeadStats measure_trace_head(const Stage& weights, const Stage* scaled, bool causal) {
  HeadStats s;
  s.layer = 1;
  s.head = weights.head.value_or(0) + 1;
  s.causal = causal;
  add_positions(s, weights.data, causal, [&](Eigen::Index i, Eigen::Index j) {
    return (causal && j > i) || (scaled && std::isinf(scaled->data(i, j)) && scaled->data(i, j) < 0);
  });
  finish(s);
  return s;
}

std::string render_head_grid(const std::vector<std::vector<RowMat<float>>>& att, const std::vector<std::string>& words, bool ascii, int width) {
  static const std::vector<std::string> unicode = {" ", "░", "▒", "▓", "█"}, plain = {" ", ".", ":", "*", "#"};
  const auto& shades = ascii ? plain : unicode;
  auto shade = [&](float w) { return shades[static_cast<std::size_t>(std::clamp(std::lround(w * 4.0f), 0L, 4L))]; };
  const auto T = words.size();
  std::size_t label = fmt::format("layer {}", att.size()).size() - 1;  // the labels' column fits "layer L" and every word
  for (const auto& w : words) label = std::max(label, static_cast<std::size_t>(display_width(w)));
  // Each head's block is T + 3 columns wide (a space, two bars); with a width, as many heads a line as fit.
  const std::size_t heads = att.empty() ? 0 : att.front().size();
  std::size_t per_line = std::max<std::size_t>(1, heads);
  if (width > 0) {
    const auto columns = static_cast<std::size_t>(width);
    per_line = std::clamp<std::size_t>((columns > label + 1 ? columns - label - 1 : 0) / (T + 3), 1, per_line);
  }
  std::string out;
  for (std::size_t l = 0; l < att.size(); ++l)
    for (std::size_t from = 0; from < att[l].size(); from += per_line) {
      const std::size_t to = std::min(att[l].size(), from + per_line);
      out += fmt::format("{:<{}}", fmt::format("layer {}", l + 1), label + 1);
      for (std::size_t h = from; h < to; ++h) out += fmt::format(" {:<{}}", fmt::format("h{}", h + 1), T + 2);
      out += "\n";
      for (std::size_t i = 0; i < T; ++i) {
        out += std::string(label - static_cast<std::size_t>(display_width(words[i])), ' ') + words[i] + " ";
        for (std::size_t h = from; h < to; ++h) {
          out += ascii ? " |" : " │";
          for (std::size_t j = 0; j < T; ++j) out += shade(att[l][h](static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)));
          out += ascii ? "|" : "│";
        }
        out += "\n";
      }
    }
  const std::string key = fmt::format("(each block: rows are the words as queries, columns the words they attend to, in order; ' ' is 0, {} is 1)",
                                      shades.back());
  return out + (width > 0 ? render_detail::wrap_text(key, width) : key + "\n");
}

nlohmann::ordered_json heads_json(const std::vector<HeadStats>& stats, std::size_t sentences) {
  nlohmann::ordered_json doc;
  doc["sentences"] = sentences;
  doc["heads"] = nlohmann::ordered_json::array();
  auto r = [](double x) { return std::round(x * 10000) / 10000; };
  for (const auto& s : stats)
    doc["heads"].push_back({{"layer", s.layer},
                            {"head", s.head},
                            {"previous", r(s.previous)},
                            {"self", r(s.self)},
                            {"first", r(s.first)},
                            {"distance", r(s.distance)},
                            {"entropy_bits", r(s.entropy)},
                            {"evenness", r(s.evenness)},
                            {"positions", s.positions},
                            {"description", s.description}});
  return doc;
}

}  // namespace attnviz
