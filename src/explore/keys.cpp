// Keys: terminal input bytes and the --dump-after notation, both to the same Key values.
#include <cstdlib>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/explore.hpp"
#include "attnviz/utf8.hpp"

namespace attnviz::explore {

namespace {

Key make(KeyCode code) { return {code, "", 0, 0}; }

// One escape sequence at the start of `s` (s[0] == ESC): the key and its length; length 0 when incomplete.
std::pair<std::optional<Key>, std::size_t> escape_sequence(std::string_view s) {
  if (s.size() < 2) return {std::nullopt, 0};
  if (s[1] != '[' && s[1] != 'O') return {make(KeyCode::escape), 1};  // ESC then an ordinary key
  if (s.size() < 3) return {std::nullopt, 0};
  if (s[1] == 'O') {  // SS3: arrows in application cursor mode
    switch (s[2]) {
      case 'A': return {make(KeyCode::up), 3};
      case 'B': return {make(KeyCode::down), 3};
      case 'C': return {make(KeyCode::right), 3};
      case 'D': return {make(KeyCode::left), 3};
      default: return {std::nullopt, 3};
    }
  }
  // CSI: parameters and intermediates, then a final byte in 0x40..0x7E.
  std::size_t end = 2;
  while (end < s.size() && !(s[end] >= 0x40 && s[end] <= 0x7E)) ++end;
  if (end == s.size()) return {std::nullopt, 0};
  const std::string_view params = s.substr(2, end - 2);
  const char final_byte = s[end];
  const std::size_t length = end + 1;
  switch (final_byte) {
    case 'A': return {make(KeyCode::up), length};
    case 'B': return {make(KeyCode::down), length};
    case 'C': return {make(KeyCode::right), length};
    case 'D': return {make(KeyCode::left), length};
    case 'Z': return {make(KeyCode::backtab), length};
    case 'M':
    case 'm':
      if (!params.empty() && params[0] == '<') {  // SGR mouse: <button;x;y, M press, m release
        int b = 0, x = 0, y = 0;
        if (std::sscanf(std::string(params.substr(1)).c_str(), "%d;%d;%d", &b, &x, &y) == 3 && final_byte == 'M' && (b & ~3) == 0 &&
            (b & 3) == 0)
          return {Key{KeyCode::click, "", x - 1, y - 1}, length};
      }
      return {std::nullopt, length};
    default: return {std::nullopt, length};  // a key explore has no use for
  }
}

}  // namespace

std::vector<Key> decode_input(std::string& pending, bool final) {
  std::vector<Key> keys;
  std::size_t i = 0;
  const std::string_view s = pending;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b) {
      auto [key, length] = escape_sequence(s.substr(i));
      if (length == 0) {
        if (!final) break;  // wait for the rest
        keys.push_back(make(KeyCode::escape));
        ++i;
        continue;
      }
      if (key) keys.push_back(*key);
      i += length;
      continue;
    }
    ++i;
    if (c == '\r' || c == '\n') keys.push_back(make(KeyCode::enter));
    else if (c == '\t') keys.push_back(make(KeyCode::tab));
    else if (c == 0x7f || c == 0x08) keys.push_back(make(KeyCode::backspace));
    else if (c == 0x03) keys.push_back(make(KeyCode::ctrl_c));
    else if (c == 0x15) keys.push_back(make(KeyCode::ctrl_u));
    else if (c < 0x20) continue;  // other control keys do nothing
    else {
      const std::size_t length = utf8_sequence_length(c);
      if (i - 1 + length > s.size()) {
        if (!final) {
          --i;
          break;
        }
        continue;
      }
      keys.push_back(Key::character(s.substr(i - 1, length)));
      i += length - 1;
    }
  }
  pending.erase(0, i);
  return keys;
}

std::vector<Key> parse_key_script(std::string_view script) {
  std::vector<Key> keys;
  for (std::size_t i = 0; i < script.size();) {
    if (script[i] != '<') {
      const std::size_t length = std::min(utf8_sequence_length(static_cast<unsigned char>(script[i])), script.size() - i);
      keys.push_back(Key::character(script.substr(i, length)));
      i += length;
      continue;
    }
    const std::size_t close = script.find('>', i);
    if (close == std::string_view::npos)
      throw InputError(fmt::format("--dump-after: '<' at position {} opens a key name that is never closed with '>' (write <lt> for '<')", i + 1));
    const std::string name(script.substr(i + 1, close - i - 1));
    i = close + 1;
    static const std::vector<std::pair<std::string, KeyCode>> kNames{
        {"up", KeyCode::up},         {"down", KeyCode::down},   {"left", KeyCode::left},      {"right", KeyCode::right},
        {"tab", KeyCode::tab},       {"s-tab", KeyCode::backtab}, {"enter", KeyCode::enter}, {"esc", KeyCode::escape},
        {"bs", KeyCode::backspace},  {"c-c", KeyCode::ctrl_c},  {"c-u", KeyCode::ctrl_u}};
    bool found = false;
    for (const auto& [n, code] : kNames)
      if (n == name) {
        keys.push_back(make(code));
        found = true;
      }
    if (found) continue;
    if (name == "space") {
      keys.push_back(Key::character(" "));
      continue;
    }
    if (name == "lt") {
      keys.push_back(Key::character("<"));
      continue;
    }
    int a = 0, b = 0;
    char tail = 0;
    if (name.rfind("click:", 0) == 0 && std::sscanf(name.c_str() + 6, "%d,%d%c", &a, &b, &tail) == 2 && a >= 0 && b >= 0) {
      keys.push_back(Key{KeyCode::click, "", a, b});
      continue;
    }
    if (name.rfind("resize:", 0) == 0 && std::sscanf(name.c_str() + 7, "%dx%d%c", &a, &b, &tail) == 2 && a > 0 && b > 0 && a <= 10000 &&
        b <= 10000) {
      keys.push_back(Key{KeyCode::resize, "", a, b});
      continue;
    }
    throw InputError(fmt::format("--dump-after: unknown key <{}>; the names are <up> <down> <left> <right> <tab> <s-tab> <enter> "
                                 "<esc> <bs> <space> <lt> <c-c> <c-u> <click:X,Y> <resize:WxH>",
                                 name));
  }
  return keys;
}

}  // namespace attnviz::explore
