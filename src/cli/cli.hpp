// The command line. main() parses, runs, catches every error once and maps it to the exit
// code: 0 success, 2 usage or input error, 1 anything else.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attnviz::cli {

int main(int argc, char** argv);
// The same with the arguments after the program name.
int run(std::vector<std::string> args);

// The command line, built once and used for any number of argument vectors: parse() then, when it returns
// nothing, execute(). The command-line fuzzer parses millions of vectors with one Parser.
class Parser {
 public:
  Parser();
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Parses `args` (after the program name), every option back at its default first. Returns the exit code
  // when nothing is to run: 0 after --help or --version (printed), 2 for a usage error (on standard error).
  std::optional<int> parse(std::vector<std::string> args);
  // Runs the command parsed last (or prints the help when none was given); returns the exit code.
  int execute();
  // Each command's name with the long names of the options it accepts, read from the parser's own tables.
  std::vector<std::pair<std::string, std::vector<std::string>>> command_options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attnviz::cli
