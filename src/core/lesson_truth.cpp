// What a lesson may claim: the uniform-row baseline, the sense margins, the thresholded claim.
#include "attnviz/lesson_truth.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/error.hpp"
#include "attnviz/pipeline.hpp"

namespace attnviz {

namespace {

std::string fixed(float v, int precision) {
  if (std::fabs(v) < 0.5f * std::pow(10.0f, static_cast<float>(-precision))) v = 0.0f;  // never "-0.000"
  return fmt::format("{:.{}f}", v, precision);
}

std::size_t index_of(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

// The growth of the margin of `k` over the best other entry, from `from` to `to`.
float margin_growth(const std::vector<float>& from, const std::vector<float>& to, std::size_t k) {
  float best_other = -INFINITY;
  for (std::size_t j = 0; j < from.size(); ++j)
    if (j != k) best_other = std::max(best_other, to[j] - from[j]);
  return (to[k] - from[k]) - best_other;
}

}  // namespace

Vector uniform_output_row(const Trace& trace, const Model& model, int row) {
  // What attention reads: the context's rows, a trained model's layer norm, or the embeddings.
  const Stage* kv = trace.find("context_embeddings");
  if (!kv) kv = trace.find("layer_norm");
  if (!kv) kv = trace.find("embeddings");
  if (!kv) throw Error("the trace lacks the embeddings stage");
  const bool cross = trace.find("context_embeddings") != nullptr;
  const Eigen::Index m = kv->data.rows();
  Vector concat(model.heads * model.d_v);
  for (int h = 0; h < model.heads; ++h) {
    const Stage* scaled = trace.find("scaled_scores", h);
    Vector mean = Vector::Zero(kv->data.cols());
    int visible = 0;
    for (Eigen::Index j = 0; j < m; ++j) {
      const bool hidden = scaled ? (std::isinf(scaled->data(row, j)) && scaled->data(row, j) < 0)
                                 : (trace.config.causal && !cross && j > row);
      if (hidden) continue;
      mean += kv->data.row(j);
      ++visible;
    }
    if (visible > 0) mean /= static_cast<float>(visible);
    Vector v = mean * model.W_v.middleCols(h * model.d_v, model.d_v);
    if (model.b_v.size() > 0) v += model.b_v.segment(h * model.d_v, model.d_v);
    concat.segment(h * model.d_v, model.d_v) = v;
  }
  Vector out = concat * model.W_o;
  if (model.b_o.size() > 0) out += model.b_o;
  return out;
}

SenseMargin sense_margin(const std::vector<std::string>& names, const std::vector<float>& cosines) {
  SenseMargin m;
  if (names.empty()) return m;
  std::vector<std::size_t> order(names.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cosines[a] > cosines[b]; });
  m.closer = names[order[0]];
  if (order.size() > 1) {
    m.other = names[order[1]];
    m.by = cosines[order[0]] - cosines[order[1]];
  }
  return m;
}

LessonNumbers lesson_numbers(const std::string& word, int token, const std::vector<std::string>& names, std::vector<float> before,
                             std::vector<float> uniform, std::vector<float> after, int precision) {
  LessonNumbers n;
  n.word = word;
  n.token = token;
  n.neighbourhoods = names;
  n.before = std::move(before);
  n.uniform = std::move(uniform);
  n.after = std::move(after);
  n.margin_before = sense_margin(names, n.before);
  n.margin_uniform = sense_margin(names, n.uniform);
  n.margin_after = sense_margin(names, n.after);
  if (names.size() < 2) return n;
  std::size_t best = 0;
  for (std::size_t k = 1; k < names.size(); ++k)
    if (n.after[k] - n.before[k] > n.after[best] - n.before[best]) best = k;
  n.toward = names[best];
  n.moved = margin_growth(n.before, n.after, best);
  n.plain_average = margin_growth(n.before, n.uniform, best);
  n.pattern_adds = n.moved - n.plain_average;
  n.clear = n.moved >= n.threshold;
  if (!n.clear) return n;

  const auto& ends = n.margin_after;
  const float to_closer = n.after[index_of(names, ends.closer)], to_other = n.after[index_of(names, ends.other)];
  std::string claim = fmt::format("\"{}\" ends closer to {} ({}) than to {} ({}); attention moved it toward {} by {}", word, ends.closer,
                                  fixed(to_closer, precision), ends.other, fixed(to_other, precision), n.toward, fixed(n.moved, precision));
  if (n.plain_average < 0.0f)
    claim += fmt::format(", while the plain average would move it away from {} (by {}): all of the move is the attention pattern's",
                         n.toward, fixed(-n.plain_average, precision));
  else if (n.plain_average > n.moved)
    claim += fmt::format(", less than the plain average alone would ({}): the attention pattern adds nothing, it takes {} back",
                         fixed(n.plain_average, precision), fixed(-n.pattern_adds, precision));
  else
    claim += fmt::format(", of which {} the plain average also gives (the attention pattern adds {})", fixed(n.plain_average, precision),
                         fixed(n.pattern_adds, precision));
  n.claim = claim;
  return n;
}

LessonNumbers lesson_numbers(const Trace& trace, const Embeddings& emb, const Model& model, const std::string& word,
                             const std::vector<Neighbourhood>& neighbourhoods, int precision) {
  const auto shifts = word_shift(trace, emb, word, neighbourhoods);  // checks the word and the neighbourhoods
  const int row = static_cast<int>(std::find(trace.tokens.begin(), trace.tokens.end(), word) - trace.tokens.begin());
  const Vector u = uniform_output_row(trace, model, row);
  std::vector<std::string> names;
  std::vector<float> before, uniform, after;
  for (std::size_t k = 0; k < shifts.size(); ++k) {
    names.push_back(shifts[k].neighbourhood);
    before.push_back(shifts[k].before);
    uniform.push_back(cosine(u, neighbourhood_centre(emb, neighbourhoods[k])));
    after.push_back(shifts[k].after);
  }
  return lesson_numbers(word, row, names, std::move(before), std::move(uniform), std::move(after), precision);
}

std::vector<std::string> check_claims(const Lesson& lesson, const std::vector<Trace>& traces, const std::vector<LessonNumbers>& numbers) {
  std::vector<std::string> failed;
  for (const LessonClaim& c : lesson.claims) {
    const auto s = static_cast<std::size_t>(c.sentence - 1);
    if (s >= traces.size() || s >= numbers.size()) continue;
    const LessonNumbers& n = numbers[s];
    const std::string where = fmt::format("sentence {}", c.sentence);
    if (!c.attends_to.empty()) {
      const Stage* P = traces[s].find("weights", c.head - 1);
      if (!P) {
        failed.push_back(fmt::format("{}: the lesson speaks of head {}, but the model has {}", where, c.head, traces[s].config.heads));
      } else {
        const auto top = top_keys(*P, n.token, static_cast<int>(P->data.cols()));
        const std::size_t k = std::min(c.attends_to.size(), top.size());
        const float kth = top[k - 1].second;
        bool holds = true;
        for (const auto& w : c.attends_to) {
          auto it = std::find_if(top.begin(), top.end(), [&](const auto& t) { return t.first == w; });
          holds = holds && it != top.end() && it->second >= kth - 1e-3f;
        }
        if (!holds) {
          std::string shown;
          for (std::size_t i = 0; i < top.size() && i < k + 1; ++i) shown += fmt::format("{}{} {:.3f}", i ? ", " : "", top[i].first, top[i].second);
          failed.push_back(fmt::format("{}: the lesson says \"{}\"{} attends most to {}, but its top keys are {}", where, lesson.word,
                                       traces[s].config.heads > 1 ? fmt::format(" (head {})", c.head) : "",
                                       fmt::join(c.attends_to, ", "), shown));
        }
      }
    }
    if (!c.ends_closer_to.empty() && n.margin_after.closer != c.ends_closer_to)
      failed.push_back(fmt::format("{}: the lesson says \"{}\" ends closer to {}, but it ends closer to {}", where, lesson.word,
                                   c.ends_closer_to, n.margin_after.closer));
    if (!c.moves_toward.empty() && (!n.clear || n.toward != c.moves_toward))
      failed.push_back(fmt::format("{}: the lesson says attention moves \"{}\" toward {}, but {}", where, lesson.word, c.moves_toward,
                                   n.clear ? fmt::format("it moves it toward {}", n.toward)
                                           : fmt::format("the move stays under {:.2f}", n.threshold)));
    if (c.no_clear_effect && n.clear)
      failed.push_back(fmt::format("{}: the lesson says attention has no clear effect on \"{}\", but it moves it toward {} by {:.3f}", where,
                                   lesson.word, n.toward, n.moved));
  }
  return failed;
}

std::string claim_line(const LessonNumbers& n, int precision, bool unicode) {
  const std::string arrow = unicode ? "→" : "->";
  if (n.claim) return fmt::format("{} {}", arrow, *n.claim);
  if (n.neighbourhoods.size() < 2) return "";
  return fmt::format("{} no clear effect: attention moved \"{}\" toward {} by only {} (a claim needs {} or more)", arrow, n.word,
                     n.toward, fixed(n.moved, precision), fixed(n.threshold, 2));
}

}  // namespace attnviz
