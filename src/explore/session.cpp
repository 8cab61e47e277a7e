// The explorer on a real terminal: raw keys, the alternate screen, mouse reports and resizes around the
// pure state machine (state.cpp) and screen (screen.cpp). The terminal is restored on every way out:
// q and Ctrl-C end the loop; an exception unwinds through the Session; SIGTERM, SIGHUP, SIGQUIT and the
// crash signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, which std::terminate raises) restore it in the
// handler with async-signal-safe calls only, then die of the same signal.
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "attnviz/error.hpp"
#include "attnviz/explore.hpp"

namespace attnviz::explore {

namespace {

// Alternate screen, cursor hidden, mouse button reports in SGR form; and their undoing.
constexpr char kEnter[] = "\x1b[?1049h\x1b[?25l\x1b[?1000h\x1b[?1006h";
constexpr char kLeave[] = "\x1b[?1006l\x1b[?1000l\x1b[0m\x1b[?25h\x1b[?1049l";

termios g_saved{};
volatile std::sig_atomic_t g_active = 0;
volatile std::sig_atomic_t g_resized = 0;
int g_wake[2] = {-1, -1};  // the SIGWINCH handler writes a byte here to wake poll()

constexpr std::array kFatalSignals{SIGTERM, SIGHUP, SIGQUIT, SIGINT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

void write_all(const char* data, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the terminal is gone: nothing more to restore on it
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Async-signal-safe: write(2) and tcsetattr(3) only.
void restore_terminal() noexcept {
  if (!g_active) return;
  g_active = 0;
  write_all(kLeave, sizeof kLeave - 1);
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
}

void on_fatal_signal(int sig) {
  const int saved_errno = errno;
  restore_terminal();
  std::signal(sig, SIG_DFL);
  errno = saved_errno;
  std::raise(sig);  // die of it, as without the explorer (exit status 128 + sig)
}

void on_resize(int) {
  const int saved_errno = errno;
  g_resized = 1;
  if (g_wake[1] >= 0) (void)!::write(g_wake[1], "w", 1);
  errno = saved_errno;
}

std::pair<int, int> terminal_size() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) return {ws.ws_col, ws.ws_row};
  return {kMinWidth, kMinHeight};
}

// The terminal in raw mode on the alternate screen for the object's lifetime.
class Session {
 public:
  Session() {
    if (::tcgetattr(STDIN_FILENO, &g_saved) != 0) throw InputError("explore cannot read the terminal's settings");
    if (::pipe(g_wake) != 0) throw std::runtime_error("explore: pipe() failed");
    struct sigaction fatal {};
    fatal.sa_handler = on_fatal_signal;
    sigemptyset(&fatal.sa_mask);
    for (std::size_t i = 0; i < kFatalSignals.size(); ++i) ::sigaction(kFatalSignals[i], &fatal, &previous_[i]);
    struct sigaction winch {};
    winch.sa_handler = on_resize;
    sigemptyset(&winch.sa_mask);
    ::sigaction(SIGWINCH, &winch, &previous_winch_);

    termios raw = g_saved;
    raw.c_iflag &= ~static_cast<tcflag_t>(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
    raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | IEXTEN | ISIG);
    raw.c_cflag |= CS8;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    g_active = 1;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
    write_all(kEnter, sizeof kEnter - 1);
  }
  ~Session() {
    restore_terminal();
    for (std::size_t i = 0; i < kFatalSignals.size(); ++i) ::sigaction(kFatalSignals[i], &previous_[i], nullptr);
    ::sigaction(SIGWINCH, &previous_winch_, nullptr);
    for (int& fd : g_wake) {
      ::close(fd);
      fd = -1;
    }
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

 private:
  std::array<struct sigaction, kFatalSignals.size()> previous_{};
  struct sigaction previous_winch_ {};
};

void draw(const Context& context, const State& state) {
  std::string frame = "\x1b[H";
  const std::string screen = compose_screen(context, state);
  std::size_t start = 0;
  bool first = true;
  while (start < screen.size()) {
    const std::size_t end = screen.find('\n', start);
    if (!first) frame += "\r\n";
    frame += screen.substr(start, end - start);
    frame += "\x1b[0m\x1b[K";
    first = false;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  frame += "\x1b[J";
  write_all(frame.data(), frame.size());
}

}  // namespace

int run_terminal(const Context& context, const std::string& sentence) {
  auto [width, height] = terminal_size();
  State state = initial_state(context, sentence, width, height);  // input errors before the screen changes
  Session session;
  draw(context, state);
  std::string pending;
  while (!state.quit) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {g_wake[0], POLLIN, 0}};
    // A lone ESC may be the start of a sequence: wait a moment for the rest, then take it as Escape.
    const int ready = ::poll(fds, 2, pending.empty() ? -1 : 50);
    if (ready < 0 && errno != EINTR) break;
    std::vector<Key> keys;
    if (g_resized) {
      g_resized = 0;
      char drain[64];
      (void)!::read(g_wake[0], drain, sizeof drain);
      const auto [w, h] = terminal_size();
      keys.push_back(Key{KeyCode::resize, "", w, h});
    }
    if (ready > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buffer[4096];
      const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;  // the terminal went away
      if (n > 0) pending.append(buffer, static_cast<std::size_t>(n));
      for (Key& key : decode_input(pending, false)) keys.push_back(std::move(key));
    } else if (ready == 0 && !pending.empty()) {
      for (Key& key : decode_input(pending, true)) keys.push_back(std::move(key));
    }
    for (const Key& key : keys) {
      state = press(context, std::move(state), key);
      if (state.quit) break;
    }
    if (!keys.empty() && !state.quit) draw(context, state);
  }
  return 0;
}

}  // namespace attnviz::explore
