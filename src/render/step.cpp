#include "attnviz/step.hpp"

#include <istream>
#include <ostream>

#include <fmt/format.h>

#include "attnviz/lesson.hpp"
#include "attnviz/render.hpp"
#include "attnviz/stages.hpp"

namespace attnviz {

namespace {

std::string ordinal(std::size_t k) {
  const char* suffix = (k % 100 >= 11 && k % 100 <= 13) ? "th" : k % 10 == 1 ? "st" : k % 10 == 2 ? "nd" : k % 10 == 3 ? "rd" : "th";
  return fmt::format("{}{}", k, suffix);
}

std::string trim_lower(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r"));
  s.erase(s.find_last_not_of(" \t\r") + 1);
  for (char& ch : s)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return s;
}

}  // namespace

StepController::StepController(std::istream& in, std::ostream& out, bool interactive, bool unicode, int precision)
    : in_(in), out_(out), interactive_(interactive), unicode_(unicode), precision_(precision) {}

std::optional<std::string> StepController::read_line() {
  std::string line;
  if (!std::getline(in_, line)) {
    interactive_ = false;  // input ended: go on to the end without waiting
    return std::nullopt;
  }
  return trim_lower(line);
}

bool StepController::pause(const std::string& shown, const std::string& label) {
  if (quit_) return false;
  out_ << shown;
  if (!interactive_) return true;
  out_ << fmt::format("\n[next: {} {} Enter: continue, q: quit] ", label, unicode_ ? "—" : "-") << std::flush;
  auto line = read_line();
  if (line && !line->empty() && (*line)[0] == 'q') quit_ = true;
  return !quit_;
}

int StepController::guess_row(const Stage& weights) const {
  if (guess_query_) {
    const std::string want = trim_lower(*guess_query_);
    for (std::size_t i = 0; i < weights.row_labels.size(); ++i)
      if (weights.row_labels[i] == want) return static_cast<int>(i);
  }
  int best = 0;
  float best_weight = -1.0f;
  for (Eigen::Index i = 0; i < weights.data.rows(); ++i)
    if (weights.data.row(i).maxCoeff() > best_weight) {
      best_weight = weights.data.row(i).maxCoeff();
      best = static_cast<int>(i);
    }
  return best;
}

void StepController::guess(const Stage& weights) {
  const int row = guess_row(weights);
  const std::string& query = weights.row_labels[static_cast<std::size_t>(row)];
  auto num = [&](float v) { return format_number(v, precision_, unicode_); };
  out_ << fmt::format("\nGuess before the softmax{}: which key will \"{}\" attend to most?",
                      weights.head ? fmt::format(" (head {})", *weights.head + 1) : "", query);
  std::optional<std::string> answer;
  if (interactive_) {
    out_ << "\nYour guess (a word and Enter; Enter alone reveals the answer): " << std::flush;
    answer = read_line();
    if (answer && *answer == "q") {
      quit_ = true;
      return;
    }
  }
  out_ << "\n";
  const auto ranking = top_keys(weights, row, static_cast<int>(weights.data.cols()));
  const auto& [winner, weight] = ranking.front();
  out_ << fmt::format("{} \"{}\" attends most to \"{}\": weight {}", unicode_ ? "→" : "->", query, winner, num(weight));
  if (ranking.size() > 1) out_ << fmt::format(" (next: \"{}\" {})", ranking[1].first, num(ranking[1].second));
  out_ << "\n";
  if (answer && !answer->empty()) {
    std::size_t place = 0;
    for (std::size_t r = 0; r < ranking.size() && !place; ++r)
      if (ranking[r].first == *answer) place = r + 1;
    if (place == 1)
      out_ << fmt::format("Your guess \"{}\" is right.\n", *answer);
    else if (place)
      out_ << fmt::format("Your guess \"{}\" comes {} of {}, with weight {}.\n", *answer, ordinal(place), ranking.size(),
                          num(ranking[place - 1].second));
    else
      out_ << fmt::format("Your guess \"{}\" is not a key of this sentence.\n", *answer);
  }
  out_ << std::flush;
}

bool StepController::before_stage(const std::string& shown, const Stage& next, int heads) {
  if (quit_) return false;
  if (next.name == stage_name::weights) {
    out_ << shown;
    guess(next);
    return !quit_;
  }
  std::string label = next.symbol.empty() ? next.name : next.name + " " + next.symbol;
  if (next.head) label += fmt::format(", head {} of {}", *next.head + 1, heads);
  return pause(shown, label);
}

}  // namespace attnviz
