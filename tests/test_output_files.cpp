// --json into something that is not a regular file: it is written into, never replaced.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support.hpp"

TEST_CASE("Output: --json into a named pipe writes through it and leaves it a pipe", "[cli][output]") {
  attnviz::test::TempDir dir;
  const auto fifo = dir.path() / "trace.fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  // A non-blocking reader keeps the pipe open, so the writer never blocks; the trace fits the pipe's buffer.
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  const auto r = attnviz::test::run_attnviz({"run", "the cat", "--json", fifo.string()});
  CHECK(r.exit_code == 0);
  struct stat st {};
  REQUIRE(stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));  // renaming a temporary file over it would have made it a regular file
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(reader, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  close(reader);
  REQUIRE_FALSE(text.empty());
  CHECK(nlohmann::json::parse(text)["format"] == "attnviz-trace");
}
