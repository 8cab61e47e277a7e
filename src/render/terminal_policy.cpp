// The terminal's policies: how many colours (--color, NO_COLOR, FORCE_COLOR, TERM, COLORTERM), Unicode or
// ASCII (--ascii, the locale) and how wide (--width, COLUMNS, the terminal's size).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "attnviz/render.hpp"

namespace attnviz {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool non_empty(const std::optional<std::string>& value) { return value && !value->empty(); }

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::optional<std::string>(value) : std::nullopt;
}

}  // namespace

ColorDepth decide_color(const ColorEnvironment& env) {
  auto depth = [&] {
    if (env.colorterm) {
      auto value = lower(*env.colorterm);
      if (value == "truecolor" || value == "24bit") return ColorDepth::truecolor;
    }
    if (env.term && env.term->ends_with("-256color")) return ColorDepth::ansi256;
    return ColorDepth::basic16;
  };
  auto forces = [](const std::optional<std::string>& v) { return non_empty(v) && *v != "0"; };

  if (env.flag == "never") return ColorDepth::none;
  if (env.flag == "always") return depth();
  if (non_empty(env.no_color)) return ColorDepth::none;
  if (forces(env.force_color) || forces(env.clicolor_force)) return depth();
  if (env.term && *env.term == "dumb") return ColorDepth::none;
  return env.is_terminal ? depth() : ColorDepth::none;
}

ColorEnvironment color_environment_from_process(const std::string& flag, bool is_terminal) {
  ColorEnvironment e;
  e.flag = flag;
  e.no_color = environment("NO_COLOR");
  e.force_color = environment("FORCE_COLOR");
  e.clicolor_force = environment("CLICOLOR_FORCE");
  e.term = environment("TERM");
  e.colorterm = environment("COLORTERM");
  e.is_terminal = is_terminal;
  return e;
}

bool decide_unicode(bool ascii_flag, const std::optional<std::string>& lc_all,
                    const std::optional<std::string>& lc_ctype, const std::optional<std::string>& lang) {
  if (ascii_flag) return false;
  // POSIX precedence: the first variable that is set and non-empty names the character set.
  for (const auto* locale : {&lc_all, &lc_ctype, &lang}) {
    if (!non_empty(*locale)) continue;
    auto name = lower(**locale);
    return name.find("utf-8") != std::string::npos || name.find("utf8") != std::string::npos;
  }
  return false;
}

bool decide_unicode_from_process(bool ascii_flag) {
  return decide_unicode(ascii_flag, environment("LC_ALL"), environment("LC_CTYPE"), environment("LANG"));
}

int decide_width(std::optional<int> width_flag) {
  constexpr int kMinWidth = 20;  // narrower than this, no table is readable anyway
  if (width_flag && *width_flag > 0) return std::max(kMinWidth, *width_flag);
  if (auto columns = environment("COLUMNS")) {
    int value = 0;
    auto [end, error] = std::from_chars(columns->data(), columns->data() + columns->size(), value);
    if (error == std::errc() && end == columns->data() + columns->size() && value > 0)
      return std::max(kMinWidth, value);
  }
  // Standard output first; when it is piped (attnviz ... | less), the terminal the user sits at is still
  // standard error's, standard input's or the controlling terminal's.
  for (int fd : {STDOUT_FILENO, STDERR_FILENO, STDIN_FILENO}) {
    winsize size{};
    if (ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return std::max(kMinWidth, static_cast<int>(size.ws_col));
  }
  if (int tty = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC); tty >= 0) {
    winsize size{};
    const bool known = ioctl(tty, TIOCGWINSZ, &size) == 0 && size.ws_col > 0;
    close(tty);
    if (known) return std::max(kMinWidth, static_cast<int>(size.ws_col));
  }
  return 80;
}

}  // namespace attnviz
