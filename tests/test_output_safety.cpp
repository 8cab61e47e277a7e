// No command may damage a file or lose output silently (docs/reliability.md, "Promises").
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace fs = std::filesystem;
using attnviz::test::read_text;
using attnviz::test::run_attnviz;
using attnviz::test::run_shell;
using attnviz::test::TempDir;
using Catch::Contains;

extern char** environ;

namespace {

bool is_root() { return geteuid() == 0; }

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

bool is_trace(const std::string& text) {
  try {
    return nlohmann::json::parse(text)["format"] == "attnviz-trace";
  } catch (const std::exception&) {
    return false;
  }
}

// The names in `dir` other than `keep` (a temporary file left behind shows here).
std::vector<std::string> other_files(const fs::path& dir, const std::vector<std::string>& keep) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) names.push_back(name);
  }
  return names;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

// ---- 1. Links, devices, modes, read-only files ----------------------------------------------------------------

TEST_CASE("Output safety: --json through a link to /proc/self/fd/1 (as /dev/stdout is) writes into the redirected file and keeps the link",
          "[cli][output][safety]") {
  // /dev/stdout itself is this very link; a private one tests the same path without risking the machine's.
  TempDir dir;
  const auto link = dir.path() / "stdout";
  fs::create_symlink("/proc/self/fd/1", link);
  const auto r = run_shell("\"$ATTNVIZ\" run 'the cat' --json " + quoted(link) + " > " + quoted(dir.path() / "out.txt"));
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(fs::is_symlink(link));  // not replaced by a regular file
  const std::string out = read_text(dir.path() / "out.txt");
  CHECK(out.starts_with("{\n  \"format\": \"attnviz-trace\""));  // the JSON first, then the tables after it
  CHECK(out.find("weights") != std::string::npos);
  CHECK(other_files(dir.path(), {"stdout", "out.txt"}).empty());
}

TEST_CASE("Output safety: --json /dev/stderr and /dev/fd/N redirected to files are written through", "[cli][output][safety]") {
  TempDir dir;
  const auto link = dir.path() / "stderr";
  fs::create_symlink("/proc/self/fd/2", link);
  auto r = run_shell("\"$ATTNVIZ\" run 'the cat' --json " + quoted(link) + " > /dev/null 2> " + quoted(dir.path() / "err.txt"));
  CHECK(r.exit_code == 0);
  CHECK(fs::is_symlink(link));
  CHECK(is_trace(read_text(dir.path() / "err.txt")));
  r = run_shell("\"$ATTNVIZ\" run 'the cat' --json /dev/fd/3 > /dev/null 3> " + quoted(dir.path() / "three.txt"));
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(is_trace(read_text(dir.path() / "three.txt")));
  CHECK(other_files(dir.path(), {"stderr", "err.txt", "three.txt"}).empty());
}

TEST_CASE("Output safety: a symlink to a regular file is replaced at its target; the link stays, the mode is kept", "[cli][output][safety]") {
  TempDir dir;
  const auto target = dir.write("target.json", "old");
  REQUIRE(::chmod(target.c_str(), 0640) == 0);
  const auto link = dir.path() / "link.json";
  fs::create_symlink("target.json", link);
  const auto r = run_attnviz({"run", "the cat", "--json", link.string()});
  CHECK(r.exit_code == 0);
  CHECK(fs::is_symlink(link));
  CHECK(fs::read_symlink(link) == "target.json");
  CHECK(is_trace(read_text(target)));
  CHECK(mode_of(target) == 0640);
  CHECK(other_files(dir.path(), {"target.json", "link.json"}).empty());
}

TEST_CASE("Output safety: a dangling symlink gets its target created, and stays a link", "[cli][output][safety]") {
  TempDir dir;
  const auto link = dir.path() / "link.json";
  fs::create_symlink("new.json", link);
  const auto r = run_attnviz({"run", "the cat", "--json", link.string()});
  CHECK(r.exit_code == 0);
  CHECK(fs::is_symlink(link));
  CHECK(is_trace(read_text(dir.path() / "new.json")));
}

TEST_CASE("Output safety: a replaced file keeps its mode (0600 stays 0600, 0755 stays 0755)", "[cli][output][safety]") {
  TempDir dir;
  for (const mode_t mode : {mode_t{0600}, mode_t{0755}}) {
    const auto out = dir.write("out.html", "old");
    REQUIRE(::chmod(out.c_str(), mode) == 0);
    const auto r = run_attnviz({"run", "the cat", "--html", out.string()});
    CHECK(r.exit_code == 0);
    CHECK(mode_of(out) == mode);
  }
}

TEST_CASE("Output safety: a file the user could not write with > is refused (exit 2) and left as it was", "[cli][output][safety]") {
  // As root `>` writes anything, so the run drops to the unprivileged user nobody; a plain user tests
  // their own read-only file.
  TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);  // the folder is writable: only the file says no
  const auto out = dir.write("ro.json", "keep me");
  REQUIRE(::chmod(out.c_str(), 0444) == 0);
  const std::string command = "\"$ATTNVIZ\" run 'the cat' --json " + quoted(out);
  const auto r = run_shell(is_root() ? "setpriv --reuid=65534 --regid=65534 --clear-groups " + command : command);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("cannot write '" + out.string() + "': Permission denied") != std::string::npos);
  CHECK(read_text(out) == "keep me");
  CHECK(other_files(dir.path(), {"ro.json"}).empty());
}

TEST_CASE("Output safety: a 250-byte file name works (the temporary name is short)", "[cli][output][safety]") {
  TempDir dir;
  const auto out = dir.path() / (std::string(245, 'a') + ".json");
  const auto r = run_attnviz({"run", "the cat", "--json", out.string()});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(is_trace(read_text(out)));
}

// ---- 2. Every write checked ---------------------------------------------------------------------------------

TEST_CASE("Output safety: standard output that cannot be written is an error for every command, --help and --version",
          "[cli][output][safety]") {
  const std::vector<std::string> commands = {
      "demo mouse", "demo", "run 'the cat'", "flash 'the cat'", "explain 'the cat' --query cat --key the",
      "compare 'the cat' 'the mouse' --word the", "bench --seq 16 --min-time 0", "--help", "--version", "run --help", ""};
  for (const auto& c : commands) {
    INFO(c);
    const auto r = run_shell("\"$ATTNVIZ\" " + c + " > /dev/full");
    CHECK(r.exit_code == 1);
    CHECK(r.err == "attnviz: error: standard output: write error: No space left on device\n");
  }
}

TEST_CASE("Output safety: --json /dev/full says no space left on device (exit 1)", "[cli][output][safety]") {
  const auto r = run_attnviz({"run", "the cat", "--json", "/dev/full"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "attnviz: error: '/dev/full': write error: No space left on device\n");
}

TEST_CASE("Output safety: SIGPIPE from a reader that stops early stays quiet", "[cli][output][safety]") {
  const auto r = run_shell("\"$ATTNVIZ\" demo mouse | head -c 10 > /dev/null");
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("Output safety: a full disk (a 64 KiB tmpfs) fails --json and standard output with a message and leaves nothing",
          "[cli][output][safety]") {
  TempDir dir;
  const auto mnt = dir.path() / "small";
  fs::create_directory(mnt);
  if (!is_root() || ::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0) {
    WARN("skipped: mounting a small tmpfs needs root (and a system that allows mounts); /dev/full covers the messages");
    return;
  }
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount(p.c_str()); }
  } unmount{mnt};
  std::string sentence;
  for (int i = 0; i < 12; ++i) sentence += "the cat chased the mouse ";  // its trace is larger than 64 KiB
  auto r = run_attnviz({"run", sentence, "--json", (mnt / "k.json").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "attnviz: error: '" + (mnt / "k.json").string() + "': write error: No space left on device\n");
  CHECK(other_files(mnt, {}).empty());  // neither k.json nor a temporary file
  r = run_shell("\"$ATTNVIZ\" run '" + sentence + "' > " + quoted(mnt / "out.txt"));
  CHECK(r.exit_code == 1);
  CHECK(r.err == "attnviz: error: standard output: write error: No space left on device\n");
}

// ---- 3, 4. Outputs naming one file, outputs naming an input ---------------------------------------------------

TEST_CASE("Output safety: --json and --html naming the same file (path, ./path, hard link) are refused before any work",
          "[cli][output][safety]") {
  TempDir dir;
  const auto p = dir.path() / "P";
  auto r = run_attnviz({"run", "the cat", "--json", p.string(), "--html", p.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--json " + p.string() + " and --html " + p.string() + " are the same file") != std::string::npos);
  CHECK_FALSE(fs::exists(p));
  r = run_shell("cd " + quoted(dir.path()) + " && \"$ATTNVIZ\" demo mouse --json P --html ./P");
  CHECK(r.exit_code == 2);
  CHECK_FALSE(fs::exists(p));
  const auto a = dir.write("a.json", "A");
  fs::create_hard_link(a, dir.path() / "b.html");
  r = run_attnviz({"explain", "the cat", "--query", "cat", "--key", "the", "--json", a.string(), "--html", (dir.path() / "b.html").string()});
  CHECK(r.exit_code != 0);  // explain has no --html; run does:
  r = run_attnviz({"run", "the cat", "--json", a.string(), "--html", (dir.path() / "b.html").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("are the same file") != std::string::npos);
  CHECK(read_text(a) == "A");
  // Devices may be shared.
  r = run_attnviz({"run", "the cat", "--json", "/dev/null", "--html", "/dev/null"});
  CHECK(r.exit_code == 0);
}

TEST_CASE("Output safety: an output that is an input (embeddings, mask, bundled data) is refused and the input kept",
          "[cli][output][safety]") {
  TempDir dir;
  const std::string toy = read_text(attnviz::test::data_dir() / "embeddings" / "toy.json");
  const auto e = dir.write("e.json", toy);
  auto r = run_attnviz({"run", "the cat", "--embeddings", e.string(), "--json", e.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--json " + e.string() + " is the input of --embeddings " + e.string()) != std::string::npos);
  CHECK(read_text(e) == toy);
  const auto m = dir.write("m.json", "[[1, 1], [0, 1]]");
  r = run_shell("cd " + quoted(dir.path()) + " && \"$ATTNVIZ\" run 'the cat' --mask m.json --html ./m.json");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("is the input of --mask m.json") != std::string::npos);
  CHECK(read_text(m) == "[[1, 1], [0, 1]]");
  // The bundled data is an input too (as root nothing else would stop it).
  const auto data = dir.path() / "data";
  fs::copy(attnviz::test::data_dir(), data, fs::copy_options::recursive);
  const auto bundled = data / "models" / "toy.json";
  const std::string model = read_text(bundled);
  r = run_attnviz({"run", "the cat", "--data-dir", data.string(), "--json", bundled.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("is the input of --model") != std::string::npos);
  CHECK(read_text(bundled) == model);
}

// ---- 5. Signals during a write --------------------------------------------------------------------------------

TEST_CASE("Output safety: SIGTERM, SIGHUP and SIGINT during a large --json write remove the temporary file and end the process by the signal",
          "[cli][output][safety][signal]") {
  std::string sentence;
  for (int i = 0; i < 60; ++i) sentence += "the cat chased the mouse ";
  for (const int sig : {SIGTERM, SIGHUP, SIGINT}) {
    INFO("signal " << sig);
    // The signal is sent when inotify reports the temporary file; the write of several megabytes is then under
    // way. A run that finished first (a loaded machine) is repeated.
    bool hit = false;
    for (int attempt = 0; attempt < 8 && !hit; ++attempt) {
      TempDir dir;
      const int in = inotify_init1(IN_CLOEXEC);
      REQUIRE(in >= 0);
      REQUIRE(inotify_add_watch(in, dir.path().c_str(), IN_CREATE) >= 0);
      const std::string out = (dir.path() / "k.json").string();
      std::vector<std::string> args{ATTNVIZ_EXE, "run", sentence, "--json", out};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      posix_spawnattr_t attr;
      posix_spawnattr_init(&attr);
      sigset_t defaults, none;
      sigemptyset(&defaults);
      sigemptyset(&none);
      for (int s : {SIGTERM, SIGHUP, SIGINT}) sigaddset(&defaults, s);
      posix_spawnattr_setsigdefault(&attr, &defaults);
      posix_spawnattr_setsigmask(&attr, &none);
      posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
      pid_t pid = 0;
      REQUIRE(posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ) == 0);
      posix_spawn_file_actions_destroy(&actions);
      posix_spawnattr_destroy(&attr);
      alignas(inotify_event) char buf[4096];
      const ssize_t n = read(in, buf, sizeof buf);  // the first file created in the folder: the temporary one
      REQUIRE(n > 0);
      kill(pid, sig);
      int status = 0;
      waitpid(pid, &status, 0);
      close(in);
      if (WIFEXITED(status)) continue;  // it finished before the signal arrived
      CHECK(WIFSIGNALED(status));
      CHECK(WTERMSIG(status) == sig);  // a shell shows 128 + n
      if (fs::exists(out)) continue;   // the signal came after the rename: nothing to clean up
      hit = true;
      CHECK(other_files(dir.path(), {}).empty());
    }
    CHECK(hit);
  }
}

// ---- 6. Bundled names -----------------------------------------------------------------------------------------

TEST_CASE("Output safety: files named toy or glove in the current folder do not hijack the bundled names; ./toy is the file",
          "[cli][data][safety]") {
  TempDir dir;
  dir.write("toy", "junk\n");
  dir.write("glove", "junk\n");
  const std::string cd = "cd " + quoted(dir.path()) + " && ";
  auto r = run_shell(cd + "\"$ATTNVIZ\" run 'the cat' --stages weights");
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  r = run_shell(cd + "\"$ATTNVIZ\" demo mouse-glove --stages weights");
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  r = run_shell(cd + "\"$ATTNVIZ\" run 'the cat' --model toy --embeddings toy --stages weights");
  CHECK(r.exit_code == 0);
  r = run_shell(cd + "\"$ATTNVIZ\" run 'the cat' --embeddings ./toy");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("./toy:1:") != std::string::npos);
  r = run_attnviz({"run", "--help"});
  CHECK(r.out.find("a bundled name always means the bundled data") != std::string::npos);
  CHECK(r.out.find("a bundled name always means the bundled model") != std::string::npos);
}

TEST_CASE("Output safety: a symlink loop named like a file is reported as one, not as a missing bundled name", "[cli][data][safety]") {
  TempDir dir;
  fs::create_symlink("loop", dir.path() / "loop");
  const auto r = run_shell("cd " + quoted(dir.path()) + " && \"$ATTNVIZ\" run 'the cat' --embeddings loop");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "attnviz: error: cannot read embeddings file 'loop': Too many levels of symbolic links\n");
}

TEST_CASE("Output safety: a named pipe named like a file is read as the file it is", "[cli][data][safety]") {
  TempDir dir;
  REQUIRE(mkfifo((dir.path() / "vectors").c_str(), 0600) == 0);
  const std::string toy = (attnviz::test::data_dir() / "embeddings" / "toy.json").string();
  const auto r = run_shell("cd " + quoted(dir.path()) + " && { cat '" + toy + "' > vectors & \"$ATTNVIZ\" run 'the cat' --embeddings vectors --stages weights; rc=$?; kill $! 2>/dev/null; exit $rc; }");
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find("weights") != std::string::npos);
}

// ---- 4b. Every command's outputs against every file it reads ---------------------------------------------------

namespace {

// A corpus directory as attnviz corpus writes it, over the toy embeddings' words.
void write_small_corpus(const fs::path& dir) {
  fs::create_directories(dir);
  std::string lines;
  for (int i = 0; i < 30; ++i) lines += i % 2 ? "the cat chased the mouse\n" : "the dog ate the cheese\n";
  for (const char* split : {"train", "dev", "test"}) std::ofstream(dir / (std::string(split) + ".txt")) << lines;
  std::ofstream(dir / "corpus.json") << R"({"format": "attnviz-corpus", "version": 1})";
}

}  // namespace

TEST_CASE("Output safety: train, evaluate, heads, corpus and a lesson's model refuse an output that is one of their inputs",
          "[cli][output][safety]") {
  TempDir dir;
  const auto corpus = dir.path() / "corpus";
  write_small_corpus(corpus);
  const std::string train_text = read_text(corpus / "train.txt");
  const std::string toy = read_text(attnviz::test::data_dir() / "embeddings" / "toy.json");
  const auto e = dir.write("e.json", toy);
  const std::vector<std::string> train{"train", "--corpus", corpus.string(), "--embeddings", e.string(), "--heads", "1", "--d-k", "2",
                                       "--epochs", "1", "--threads", "1", "--out"};
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  // train: --out is a split of --corpus, or the --embeddings file.
  auto r = run_attnviz(with(train, {(corpus / "train.txt").string()}));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--out " + (corpus / "train.txt").string() + " is the input of --corpus"));
  CHECK(read_text(corpus / "train.txt") == train_text);
  r = run_attnviz(with(train, {e.string()}));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is the input of --embeddings"));
  CHECK(read_text(e) == toy);
  // A model to evaluate and measure.
  const auto lm = dir.path() / "lm.json";
  REQUIRE(run_attnviz(with(train, {lm.string()})).exit_code == 0);
  const std::string model = read_text(lm);
  const auto text = dir.write("t.txt", "the cat chased the mouse\n");
  // evaluate --json: the --text file, the model, a corpus split.
  r = run_attnviz({"evaluate", "--model", lm.string(), "--text", text.string(), "--json", text.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--json " + text.string() + " is the input of --text"));
  CHECK(read_text(text) == "the cat chased the mouse\n");
  r = run_shell("cd " + quoted(dir.path()) + " && \"$ATTNVIZ\" evaluate --model lm.json --text t.txt --json ./lm.json");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is the input of --model lm.json"));
  CHECK(read_text(lm) == model);
  r = run_attnviz({"evaluate", "--model", lm.string(), "--corpus", corpus.string(), "--split", "dev", "--json", (corpus / "test.txt").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is the input of --corpus"));
  CHECK(read_text(corpus / "test.txt") == train_text);
  // The model's own embeddings are read too.
  r = run_attnviz({"evaluate", "--model", lm.string(), "--text", text.string(), "--json", e.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is the input of the embeddings of --model"));
  CHECK(read_text(e) == toy);
  // run with a trained model reads the model's embeddings.
  r = run_attnviz({"run", "the cat", "--model", lm.string(), "--json", e.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is the input of the embeddings of --model"));
  CHECK(read_text(e) == toy);
  // heads --json and --html: the --text file, a corpus split.
  r = run_attnviz({"heads", "--model", lm.string(), "--text", text.string(), "--json", text.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is the input of --text"));
  CHECK(read_text(text) == "the cat chased the mouse\n");
  r = run_attnviz({"heads", "--model", lm.string(), "--corpus", corpus.string(), "--html", (corpus / "dev.txt").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is the input of --corpus"));
  CHECK(read_text(corpus / "dev.txt") == train_text);
  // corpus --out DIR holding the --embeddings file as DIR/corpus.json.
  const auto out = dir.path() / "out";
  fs::create_directories(out);
  std::ofstream(out / "corpus.json") << toy;
  r = run_attnviz({"corpus", "--out", out.string(), "--embeddings", (out / "corpus.json").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is the input of --embeddings"));
  CHECK(read_text(out / "corpus.json") == toy);
  // demo: the lesson's own model (a path beside the lesson).
  const auto lessons = dir.path() / "lesson";
  fs::create_directories(lessons);
  const std::string toy_model = read_text(attnviz::test::data_dir() / "models" / "toy.json");
  std::ofstream(lessons / "m.json") << toy_model;
  std::ofstream(lessons / "l.json") << R"({"format": "attnviz-lesson", "version": 1, "name": "l", "model": "m.json", "sentences": ["the cat"]})";
  r = run_attnviz({"demo", (lessons / "l.json").string(), "--html", (lessons / "m.json").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is the input of the lesson's model"));
  CHECK(read_text(lessons / "m.json") == toy_model);
}
