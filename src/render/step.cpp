#include "attnviz/step.hpp"

#include <algorithm>
#include <iostream>
#include <istream>
#include <ostream>

#include <termios.h>
#include <unistd.h>

#include <fmt/format.h>

#include "attnviz/lesson.hpp"
#include "attnviz/render.hpp"
#include "attnviz/stages.hpp"
#include "text_table.hpp"

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

StepController::StepController(std::istream& in, std::ostream& out, bool interactive, bool unicode, int precision, int width)
    : in_(in), out_(out), interactive_(interactive), unicode_(unicode), precision_(precision), width_(width) {}

std::string StepController::wrapped(const std::string& text) const {
  if (width_ <= 0) return text;
  std::string out = render_detail::wrap_text(text, width_, 2);
  out.pop_back();
  return out;
}

std::string StepController::prompt(const std::string& text) const {
  if (width_ <= 1) return text + " ";
  std::string out = render_detail::wrap_text(text, width_ - 1, 2);  // the last line keeps a column for the space
  out.back() = ' ';
  return out;
}

std::optional<std::string> StepController::read_line() {
  std::string line;
  if (!std::getline(in_, line)) {
    interactive_ = false;  // input ended: go on to the end without waiting
    return std::nullopt;
  }
  return trim_lower(line);
}

std::optional<std::string> StepController::read_key() {
  termios old{};
  if (&in_ != &std::cin || isatty(STDIN_FILENO) == 0 || tcgetattr(STDIN_FILENO, &old) != 0) return read_line();
  // One key, without Enter and without echo; the terminal's settings are put back at once.
  termios raw = old;
  raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  char key = 0;
  const ssize_t n = ::read(STDIN_FILENO, &key, 1);
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  if (n != 1 || key == 4) {  // end of input, or Ctrl-D
    interactive_ = false;
    return std::nullopt;
  }
  out_ << "\n";
  return trim_lower(std::string(1, key));
}

bool StepController::pause(const std::string& shown, const std::string& label) {
  if (quit_) return false;
  out_ << shown;
  if (!interactive_) return true;
  // From a terminal one key is read (no Enter needed); from a stream a line.
  const bool one_key = &in_ == &std::cin && isatty(STDIN_FILENO) != 0;
  out_ << "\n" << prompt(fmt::format("[next: {} {} {}: continue, q: quit]", label, unicode_ ? "—" : "-", one_key ? "any key" : "Enter"))
       << std::flush;
  auto key = read_key();
  if (key && !key->empty() && (*key)[0] == 'q') quit_ = true;
  return !quit_;
}

int StepController::guess_row(const Stage& weights) const {
  if (guess_query_) {
    const std::string want = trim_lower(*guess_query_);
    for (std::size_t i = 0; i < weights.row_labels.size(); ++i)
      if (weights.row_labels[i] == want) return static_cast<int>(i);
  }
  // The clearest row whose strongest key is another word; when there is none, the clearest row.
  int best = 0, best_other = -1;
  float best_weight = -1.0f, best_other_weight = -1.0f;
  for (Eigen::Index i = 0; i < weights.data.rows(); ++i) {
    Eigen::Index key = 0;
    const float top = weights.data.row(i).maxCoeff(&key);
    const bool itself = static_cast<std::size_t>(key) < weights.col_labels.size() &&
                        weights.col_labels[static_cast<std::size_t>(key)] == weights.row_labels[static_cast<std::size_t>(i)];
    if (top > best_weight) {
      best_weight = top;
      best = static_cast<int>(i);
    }
    if (!itself && top > best_other_weight) {
      best_other_weight = top;
      best_other = static_cast<int>(i);
    }
  }
  return best_other >= 0 ? best_other : best;
}

void StepController::guess(const Stage& weights) {
  const int row = guess_row(weights);
  const std::string& query = weights.row_labels[static_cast<std::size_t>(row)];
  auto num = [&](float v) { return format_number(v, precision_, unicode_); };
  const auto ranking = top_keys(weights, row, static_cast<int>(weights.data.cols()));
  static const std::vector<std::string> none;
  const std::vector<std::string>& claimed = weights.head.value_or(0) == expected_head_ ? expected_ : none;
  // Where a word ranks (1-based; 0 when it is no key of the sentence), and whether it counts as right: one
  // of the lesson's claimed keys, or else the strongest key.
  const auto place_of = [&](const std::string& word) {
    for (std::size_t r = 0; r < ranking.size(); ++r)
      if (ranking[r].first == word) return r + 1;
    return std::size_t{0};
  };
  const auto right = [&](const std::string& word) {
    if (!claimed.empty()) return std::find(claimed.begin(), claimed.end(), word) != claimed.end();
    return place_of(word) == 1;
  };
  out_ << "\n" << wrapped(fmt::format("Guess before the softmax{}: which key will \"{}\" attend to most?",
                                      weights.head ? fmt::format(" (head {})", *weights.head + 1) : "", query));
  std::optional<std::string> answer;
  bool second_try = false;
  if (interactive_) {
    out_ << "\n" << prompt("Your guess (a word and Enter; Enter alone reveals the answer; q quits):") << std::flush;
    answer = read_line();
    if (answer && *answer == "q") {
      quit_ = true;
      return;
    }
    // A wrong guess gets a second try, with where the first one ranks as a hint.
    if (answer && !answer->empty() && !right(*answer) && interactive_) {
      const std::size_t place = place_of(*answer);
      out_ << prompt((place ? fmt::format("Not \"{}\" (it comes {} of {}). ", *answer, ordinal(place), ranking.size())
                             : fmt::format("\"{}\" is not a word of this sentence. ", *answer)) +
                      "One more try (Enter alone reveals the answer):")
           << std::flush;
      auto again = read_line();
      if (again && *again == "q") {
        quit_ = true;
        return;
      }
      if (again && !again->empty()) {
        answer = again;
        second_try = true;
      }
    }
  }
  out_ << "\n";
  const auto& [winner, weight] = ranking.front();
  std::string reveal = fmt::format("{} \"{}\" attends most to \"{}\": weight {}", unicode_ ? "→" : "->", query, winner, num(weight));
  if (ranking.size() > 1) reveal += fmt::format(" (next: \"{}\" {})", ranking[1].first, num(ranking[1].second));
  out_ << wrapped(reveal) << "\n";
  if (!claimed.empty()) {
    std::string list;
    for (std::size_t k = 0; k < claimed.size(); ++k)
      list += (k == 0 ? "" : k + 1 == claimed.size() ? " and " : ", ") + claimed[k];
    out_ << wrapped(fmt::format("The lesson says \"{}\" attends most to {}.", query, list)) << "\n";
  }
  if (answer && !answer->empty()) {
    const std::string which = second_try ? "Your second guess" : "Your guess";
    const std::size_t place = place_of(*answer);
    std::string result;
    if (right(*answer) && !claimed.empty())
      result = fmt::format("{} \"{}\" is right: one of them ({} of {}, weight {}).", which, *answer, ordinal(place), ranking.size(),
                           num(ranking[place - 1].second));
    else if (right(*answer))
      result = fmt::format("{} \"{}\" is right.", which, *answer);
    else if (place)
      result = fmt::format("{} \"{}\" comes {} of {}, with weight {}.", which, *answer, ordinal(place), ranking.size(),
                           num(ranking[place - 1].second));
    else
      result = fmt::format("{} \"{}\" is not a key of this sentence.", which, *answer);
    out_ << wrapped(result) << "\n";
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
