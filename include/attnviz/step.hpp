// --step: the report pauses after each stage (any key continues, q quits, neither needs Enter in a
// terminal) and, before the softmax, asks the class which key will win for a chosen query (a wrong guess
// gets a second try), then reveals it. The controller reads and writes the streams
// it is given, so the tests drive it without a terminal; the command line passes std::cin and std::cout and
// interactive = both are terminals. When not interactive it never waits: it prints the question and the
// answer and goes on.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "attnviz/trace.hpp"

namespace attnviz {

class StepController {
 public:
  // `width`: the question and the reveal wrap to it (0: not wrapped).
  StepController(std::istream& in, std::ostream& out, bool interactive, bool unicode = true, int precision = 3, int width = 0);

  // The query the class guesses for (its first occurrence). Unset, or not in the sentence: of the queries
  // whose strongest key is another word (guessing "itself" teaches little), the one whose strongest key has
  // the largest weight; when every word's strongest key is itself, the largest of those.
  void set_guess_query(std::optional<std::string> word) { guess_query_ = std::move(word); }
  // What the lesson claims the query attends to most in head `head` (0-based; its claim's attends_to for
  // this sentence): a guess among them is right, and the reveal says what the lesson claims. Empty: the
  // strongest key is right.
  void set_expected(std::vector<std::string> words, int head = 0) {
    expected_ = std::move(words);
    expected_head_ = head;
  }

  // Writes `shown` (the report so far), then pauses before `next`; before a weights stage, asks for the
  // guess and reveals the answer. False once the user has quit.
  bool before_stage(const std::string& shown, const Stage& next, int heads);

  // Writes `shown`, then pauses with a free label ("sentence 2 of 2"). False once the user has quit.
  bool pause(const std::string& shown, const std::string& label);

  bool quit() const { return quit_; }

  // The row of `weights` the guess is about (see set_guess_query).
  int guess_row(const Stage& weights) const;

 private:
  std::optional<std::string> read_line();  // nullopt at end of input (from then on: never wait)
  // The pause's key: from a terminal one key without Enter (q quits at once); from a stream a line.
  std::optional<std::string> read_key();
  void guess(const Stage& weights);

  std::istream& in_;
  std::ostream& out_;
  bool interactive_;
  bool unicode_;
  int precision_;
  int width_;
  bool quit_ = false;
  std::string wrapped(const std::string& text) const;  // `text` wrapped to width_, without its final newline
  std::string prompt(const std::string& text) const;   // wrapped, then one space where the cursor waits (within width_)
  std::optional<std::string> guess_query_;
  std::vector<std::string> expected_;
  int expected_head_ = 0;
};

}  // namespace attnviz
