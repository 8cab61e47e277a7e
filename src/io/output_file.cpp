#include "attnviz/output_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include <fmt/format.h>

namespace attnviz {

namespace {

namespace fs = std::filesystem;

// ---- Temporary files removed on SIGTERM, SIGHUP, SIGINT ----------------------------------------------------
// The handler may only call async-signal-safe functions: the names live in fixed buffers, and a slot is
// filled or emptied with the three signals blocked.

constexpr int kCleanupSignals[] = {SIGTERM, SIGHUP, SIGINT};
constexpr std::size_t kMaxTemps = 4;
char g_temp_names[kMaxTemps][PATH_MAX];
volatile sig_atomic_t g_temp_used[kMaxTemps];

extern "C" void remove_temps_and_die(int sig) {
  for (std::size_t i = 0; i < kMaxTemps; ++i)
    if (g_temp_used[i]) ::unlink(g_temp_names[i]);
  // Die of the signal itself, so the parent sees it (a shell reports 128 + n).
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Blocks the three signals for its lifetime.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kCleanupSignals) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

void install_cleanup_handlers() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  for (int s : kCleanupSignals) {
    struct sigaction old {};
    sigaction(s, nullptr, &old);
    if (old.sa_handler == SIG_IGN) continue;  // nohup: an ignored signal stays ignored
    struct sigaction sa {};
    sa.sa_handler = remove_temps_and_die;
    sigemptyset(&sa.sa_mask);
    for (int t : kCleanupSignals) sigaddset(&sa.sa_mask, t);
    sigaction(s, &sa, nullptr);
  }
}

// A temporary file registered for removal on a signal; removed by the destructor unless committed.
class TempFile {
 public:
  // Creates "<dir>/.attnviz-XXXXXX" (a short name: the target's own name may be 255 bytes long).
  explicit TempFile(const std::string& dir, const std::string& target) {
    std::string name = (dir.empty() ? std::string(".") : dir) + "/.attnviz-XXXXXX";
    if (name.size() >= PATH_MAX) throw InputError(fmt::format("cannot write '{}': {}", target, std::strerror(ENAMETOOLONG)));
    install_cleanup_handlers();
    SignalsBlocked blocked;
    for (std::size_t i = 0; i < kMaxTemps; ++i)
      if (!g_temp_used[i]) {
        slot_ = static_cast<int>(i);
        break;
      }
    if (slot_ < 0) throw Error("too many output files at once");
    std::memcpy(g_temp_names[slot_], name.c_str(), name.size() + 1);
    fd_ = ::mkstemp(g_temp_names[slot_]);
    if (fd_ < 0) {
      const int e = errno;
      slot_ = -1;
      throw InputError(fmt::format("cannot write '{}': {}", target, std::strerror(e)));
    }
    g_temp_used[slot_] = 1;
    name_ = g_temp_names[slot_];
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (slot_ >= 0) {
      SignalsBlocked blocked;
      ::unlink(name_.c_str());
      g_temp_used[slot_] = 0;
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  // Closes the file; returns errno, or 0.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }
  // Renames the file to `target`; returns errno, or 0 (then the file is no longer removed).
  int commit(const std::string& target) {
    SignalsBlocked blocked;
    if (::rename(name_.c_str(), target.c_str()) != 0) return errno;
    g_temp_used[slot_] = 0;
    slot_ = -1;
    return 0;
  }

 private:
  int fd_ = -1;
  int slot_ = -1;
  std::string name_;
};

// ---- Where a path leads --------------------------------------------------------------------------------------

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Whether `dir` is, or lies under, /proc (where /dev/fd/N and /proc/self/fd/N are links to open files, not
// to names that could be replaced).
bool under_proc(const std::string& dir) {
  char real[PATH_MAX];
  if (::realpath(dir.c_str(), real) == nullptr) return false;
  const std::string r = real;
  return r == "/proc" || r.starts_with("/proc/");
}

struct Destination {
  bool write_through = false;   // a device, a pipe, a terminal, an open file of /proc
  std::string path;             // where to write: the final target of any symlinks
  std::optional<struct stat> existing;  // the target's status when it exists
};

Destination destination_of(const std::string& path) {
  Destination d;
  d.path = path;
  for (int hop = 0; hop < 40; ++hop) {
    if (under_proc(parent_of(d.path))) {
      d.write_through = true;
      return d;
    }
    struct stat st {};
    if (::lstat(d.path.c_str(), &st) != 0) {
      if (errno == ENOENT) return d;  // a new file (perhaps at a dangling link's target)
      throw InputError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    }
    if (!S_ISLNK(st.st_mode)) {
      d.existing = st;
      d.write_through = !S_ISREG(st.st_mode);
      if (S_ISDIR(st.st_mode)) throw InputError(fmt::format("cannot write '{}': it is a directory", path));
      return d;
    }
    std::string target(PATH_MAX, '\0');
    const ssize_t n = ::readlink(d.path.c_str(), target.data(), target.size());
    if (n < 0) throw InputError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    target.resize(static_cast<std::size_t>(n));
    d.path = target.starts_with("/") ? target : parent_of(d.path) + "/" + target;
  }
  throw InputError(fmt::format("cannot write '{}': {}", path, std::strerror(ELOOP)));
}

[[noreturn]] void throw_write_error(const std::string& what, int e) {
  throw Error(fmt::format("{}: write error: {}", what, std::strerror(e != 0 ? e : EIO)));
}

// Writes all of `content` to `fd`; returns errno, or 0.
int write_all(int fd, std::string_view content) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t w = ::write(fd, content.data() + done, content.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : ENOSPC;
    done += static_cast<std::size_t>(w);
  }
  return 0;
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

void write_through(const std::string& path, std::string_view content) {
  // /dev/stdout, /dev/fd/2, a pipe or terminal that is standard output or error: written in order with the
  // rest of it, not through a second opening that would start again at offset 0.
  struct stat target {}, standard {};
  if (::stat(path.c_str(), &target) == 0) {
    if (::fstat(1, &standard) == 0 && same_file(target, standard)) return write_standard_output(content);
    if (::fstat(2, &standard) == 0 && same_file(target, standard)) {
      std::cerr.flush();
      if (const int e = write_all(2, content)) throw_write_error("standard error", e);
      return;
    }
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  const int e = write_all(fd, content);
  const int c = ::close(fd) == 0 ? 0 : errno;
  if (e != 0 || c != 0) throw_write_error(fmt::format("'{}'", path), e != 0 ? e : c);
}

// The rename needs only the folder's permission: refuse an existing file that `>` would refuse.
void check_replaceable(const std::string& path, const Destination& d) {
  if (d.existing && ::faccessat(AT_FDCWD, d.path.c_str(), W_OK, AT_EACCESS) != 0)
    throw InputError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
}

void replace_regular_file(const std::string& path, const Destination& d, std::string_view content) {
  check_replaceable(path, d);
  TempFile temp(parent_of(d.path), path);
  if (const int e = write_all(temp.fd(), content)) throw_write_error(fmt::format("'{}'", path), e);
  if (d.existing) {
    // Keep the old file's mode (and, where allowed, its owner).
    ::fchmod(temp.fd(), d.existing->st_mode & 07777);
    if (d.existing->st_uid != ::geteuid() || d.existing->st_gid != ::getegid())
      [[maybe_unused]] const int ignored = ::fchown(temp.fd(), d.existing->st_uid, d.existing->st_gid);
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(temp.fd(), static_cast<mode_t>(0666 & ~mask));
  }
  if (const int e = temp.close()) throw_write_error(fmt::format("'{}'", path), e);
  if (const int e = temp.commit(d.path)) throw InputError(fmt::format("cannot write '{}': {}", path, std::strerror(e)));
}

// What a path names, to compare two of them: the file when it exists, else the absolute path.
struct Identity {
  bool exists = false;
  struct stat st {};
  std::string path;
};

Identity identity_of(const std::string& path, int standard_fd) {
  Identity id;
  if (path == "-") {
    id.exists = ::fstat(standard_fd, &id.st) == 0;
    id.path = "-";
    return id;
  }
  id.exists = ::stat(path.c_str(), &id.st) == 0;
  std::error_code ec;
  id.path = fs::weakly_canonical(fs::absolute(path, ec), ec).string();
  return id;
}

bool same(const Identity& a, const Identity& b) {
  if (a.exists && b.exists) return same_file(a.st, b.st);
  return !a.exists && !b.exists && a.path == b.path && a.path != "-";
}

}  // namespace

namespace {

// Standard output through write(2), every write checked: the first failure's errno is kept for the message
// (stdio would lose it, and std::cout stops writing after a failure without saying why).
class CheckedOutput : public std::streambuf {
 public:
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (flush_buffer() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n >= static_cast<std::streamsize>(sizeof buffer_)) {  // a big block goes straight out
      if (flush_buffer() != 0) return 0;
      if (const int e = write_all(1, std::string_view(s, static_cast<std::size_t>(n)))) return fail(e), 0;
      return n;
    }
    return std::streambuf::xsputn(s, n);
  }
  int sync() override { return flush_buffer(); }

 private:
  int flush_buffer() {
    if (pbase() == nullptr) setp(buffer_, buffer_ + sizeof buffer_);
    if (error_ != 0) return -1;
    const std::string_view pending(pbase(), static_cast<std::size_t>(pptr() - pbase()));
    setp(buffer_, buffer_ + sizeof buffer_);
    if (const int e = write_all(1, pending)) return fail(e), -1;
    return 0;
  }
  void fail(int e) {
    if (error_ == 0) error_ = e;
  }
  char buffer_[1 << 16];
  int error_ = 0;
};

CheckedOutput* checked_output() {
  static CheckedOutput* out = [] {
    auto* buf = new CheckedOutput;  // lives until exit: static destructors may still print
    std::cout.rdbuf(buf);
    return buf;
  }();
  return out;
}

}  // namespace

void use_checked_standard_output() { checked_output(); }

void write_standard_output(std::string_view content) {
  std::cout.write(content.data(), static_cast<std::streamsize>(content.size()));
  std::cout.flush();
  if (!std::cout) throw_write_error("standard output", checked_output()->error());
}

int finish_standard_output(int exit_code) {
  std::cout.flush();
  const int e = checked_output()->error();
  if (std::cout && e == 0) return exit_code;
  // Told once: an error already reported (exit code != 0) is not followed by a second message.
  if (exit_code == 0) std::cerr << "attnviz: error: standard output: write error: " << std::strerror(e != 0 ? e : EIO) << "\n";
  return exit_code == 0 ? 1 : exit_code;
}

void write_output_file(const std::string& path, std::string_view content) {
  if (path == "-") {
    write_standard_output(content);
    return;
  }
  if (path.empty()) throw InputError("the output path is empty");
  const Destination d = destination_of(path);
  if (d.write_through) write_through(path, content);
  else replace_regular_file(path, d, content);
}

void check_writable(const std::string& path) {
  if (path == "-") return;
  if (path.empty()) throw InputError("the output path is empty");
  const Destination d = destination_of(path);
  if (d.write_through) return;
  check_replaceable(path, d);
  // A new file: its folder must exist and take a new name (the temporary file, then the rename).
  const std::string dir = parent_of(d.path);
  if (!d.existing && ::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
    throw InputError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
}

void check_output_files(const std::vector<NamedFile>& outputs, const std::vector<NamedFile>& inputs) {
  std::vector<Identity> out_ids;
  for (const auto& o : outputs) out_ids.push_back(identity_of(o.path, 1));
  auto shareable = [](const Identity& id) { return id.exists && !S_ISREG(id.st.st_mode); };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (shareable(out_ids[i])) continue;
    for (std::size_t j = 0; j < i; ++j)
      if (same(out_ids[i], out_ids[j]))
        throw InputError(fmt::format("{} {} and {} {} are the same file; the second would replace the first; give them different names",
                                     outputs[j].option, outputs[j].path, outputs[i].option, outputs[i].path));
    for (const auto& in : inputs)
      if (same(out_ids[i], identity_of(in.path, 0)))
        throw InputError(fmt::format("{} {} is the input of {} {}; writing it would destroy the input; give the output another name",
                                     outputs[i].option, outputs[i].path, in.option, in.path));
  }
}

}  // namespace attnviz
