// Helpers shared by the tests: run the real executable, make temporary files.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace attnviz::test {

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the attnviz executable with `args`, `input` on standard input, and a clean environment: only PATH,
// HOME, LANG=C.UTF-8 plus `env` (so colour and locale never leak in from the developer's terminal).
Run run_attnviz(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                const std::string& input = "");

// Runs `script` with /bin/sh -c (for redirections: "$ATTNVIZ demo mouse > /dev/full"), the environment as
// run_attnviz's plus ATTNVIZ, the executable's path. A command killed by a signal exits 128 + n.
Run run_shell(const std::string& script, std::map<std::string, std::string> env = {});

// A fresh empty directory under the system's temporary folder, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

std::string read_text(const std::filesystem::path& path);
// The rest of the first line of `text` from a word starting with `prefix` (at the line's start or after a
// space), or "": a panel's line beside a table on a screen.
std::string text_from(const std::string& text, const std::string& prefix);
// `text` with each line break and the indentation after it read as one space: prose wrapped to --width
// reads as the sentence it is.
std::string unwrapped(const std::string& text);
std::filesystem::path source_dir();  // the repository root
std::filesystem::path data_dir();    // the repository's data/

}  // namespace attnviz::test
