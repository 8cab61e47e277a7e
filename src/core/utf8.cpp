#include "attnviz/utf8.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>

#include <fmt/format.h>
#include <utf8proc.h>

namespace attnviz {

std::size_t utf8_sequence_length(unsigned char lead) {
  if (lead >= 0xC0 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF7) return 4;
  return 1;
}

CodePoint decode_utf8(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return {lead, 1, true};
  const std::size_t length = utf8_sequence_length(lead);
  if (length == 1 || i + length > s.size()) return {};
  auto value = static_cast<char32_t>(lead & (0x7F >> length));
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xC0) != 0x80) return {};
    value = (value << 6) | (next & 0x3Fu);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid too.
  const char32_t min = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return {};
  return {value, length, true};
}

bool starts_code_point(std::string_view s, std::size_t i) { return i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80; }

std::size_t next_code_point_start(std::string_view s, std::size_t i) {
  do ++i;
  while (!starts_code_point(s, i));
  return i;
}

std::size_t previous_code_point_start(std::string_view s, std::size_t end) {
  while (end > 0 && !starts_code_point(s, --end)) {
  }
  return end;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const CodePoint cp = decode_utf8(text, i);
    if (cp.valid) out.append(text.substr(i, cp.length));
    else append_utf8(out, 0xFFFD);
    i += cp.length;
  }
  return out;
}

std::string nfc(std::string_view text) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) return std::string(text);
  const std::string valid = sanitize_utf8(text);
  utf8proc_uint8_t* composed = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(valid.data()), static_cast<utf8proc_ssize_t>(valid.size()),
                                          &composed, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    if (n == UTF8PROC_ERROR_NOMEM) throw std::bad_alloc();
    return valid;  // cannot happen for valid UTF-8; the text as it is
  }
  std::string out(reinterpret_cast<const char*>(composed), static_cast<std::size_t>(n));
  std::free(composed);
  return out;
}

char32_t simple_lower(char32_t cp) {
  if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

std::string escape_controls(std::string_view text, bool keep_newlines) {
  const auto needs = [&](std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) return !(keep_newlines && c == '\n');
    return c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 && static_cast<unsigned char>(text[i + 1]) <= 0x9F;
  };
  std::size_t i = 0;
  while (i < text.size() && !needs(i)) ++i;
  if (i == text.size()) return std::string(text);
  std::string out(text.substr(0, i));
  for (; i < text.size(); ++i) {
    if (!needs(i)) {
      out += text[i];
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0xC2) out += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[++i]));  // a C1 control, U+0080 to U+009F
    else out += fmt::format("\\u{:04x}", c);
  }
  return out;
}

}  // namespace attnviz
