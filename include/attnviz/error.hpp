// Typed errors. Library code throws; the command line catches once (src/cli/app.cpp) and maps the type to
// an exit code: InputError -> 2 (the user can fix it), anything else -> 1.
#pragma once

#include <stdexcept>
#include <string>

namespace attnviz {

// Something the user gave us is wrong: an option, a word, a file. The message names the culprit and, where
// it helps, what to do. Exit code 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

// Anything else that stops us (an I/O failure we did not expect, a backend fault). Exit code 1.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace attnviz
