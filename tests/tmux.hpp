// A real terminal for the tests: tmux runs a command in a pseudo-terminal on its own server; send-keys
// types, capture-pane reads the screen, display-message reads the pane's state (e.g. #{alternate_on}).
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <unistd.h>

namespace attnviz::test {

class Tmux {
 public:
  // Runs `command` in a width × height pane; after it ends the pane prints EXIT=<status> and stays open.
  explicit Tmux(const std::string& command, int width = 200, int height = 50)
      : socket_("attnviz-test-" + std::to_string(getpid()) + "-" + std::to_string(next_++)) {
    tmux("new-session -d -x " + std::to_string(width) + " -y " + std::to_string(height) + " -s t " +
         quote(command + "; echo EXIT=$?; sleep 60"));
  }
  ~Tmux() { tmux("kill-server"); }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  static bool available() { return std::system("command -v tmux >/dev/null 2>&1") == 0; }

  void keys(const std::string& keys) { tmux("send-keys -t t " + keys); }
  void resize(int width, int height) { tmux("resize-window -t t -x " + std::to_string(width) + " -y " + std::to_string(height)); }

  // The pane's text (with its colour escapes when `escapes`).
  std::string screen(bool escapes = false) { return read("capture-pane -p -J " + std::string(escapes ? "-e " : "") + "-S - -t t"); }
  // A tmux format of the pane, e.g. "#{alternate_on}".
  std::string display(const std::string& format) {
    std::string out = read("display-message -p -t t " + quote(format));
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  // Waits (at most 15 s) until `text` is on the screen `times` times; returns the screen.
  std::string wait_for(const std::string& text, std::size_t times = 1) {
    std::string s;
    for (int i = 0; i < 300; ++i) {
      s = screen();
      if (count(s, text) >= times) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("timed out waiting for '" << text << "' (" << times << "x); the screen:\n" << s);
    return s;
  }

  static std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  }

 private:
  static std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
  }
  std::string read(const std::string& args) {
    std::string out;
    FILE* p = popen(("tmux -L " + socket_ + " " + args + " 2>/dev/null").c_str(), "r");
    if (!p) return out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
    return out;
  }
  void tmux(const std::string& args) { (void)std::system(("tmux -L " + socket_ + " " + args + " >/dev/null 2>&1").c_str()); }

  std::string socket_;
  static inline int next_ = 0;
};

}  // namespace attnviz::test
