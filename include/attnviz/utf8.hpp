// UTF-8, once for the whole program: decoding one code point (strict: overlong forms, surrogates and values
// past U+10FFFF are invalid), code point boundaries, encoding, and making text valid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace attnviz {

struct CodePoint {
  char32_t value = 0;
  std::size_t length = 1;  // bytes taken; an invalid sequence takes one byte
  bool valid = false;
};

// The code point at s[i] (i < s.size()).
CodePoint decode_utf8(std::string_view s, std::size_t i);

// The bytes a sequence starting with `lead` announces: 2–4 for a lead byte, 1 for ASCII, a continuation byte
// or a byte that starts nothing (for input that arrives in pieces: how many bytes to wait for).
std::size_t utf8_sequence_length(unsigned char lead);

// Whether a code point starts at s[i] (true at the end): s[i] is not a continuation byte.
bool starts_code_point(std::string_view s, std::size_t i);
// The start of the next code point after s[i] (s.size() at the end), and of the one ending before s[end]
// (0 at the start): continuation bytes skipped, so a cut never splits a character.
std::size_t next_code_point_start(std::string_view s, std::size_t i);
std::size_t previous_code_point_start(std::string_view s, std::size_t end);

// Appends the UTF-8 encoding of code point `cp`.
void append_utf8(std::string& out, char32_t cp);

// Replaces every invalid UTF-8 sequence by U+FFFD.
std::string sanitize_utf8(std::string_view text);

// The text in Unicode normalization form C, so that a decomposed "café" (e + U+0301) typed in a sentence
// matches a composed "café" in a file: the tokenizer and lower_case apply it (with utf8proc; docs/embeddings.md).
// Plain ASCII is returned as it is; invalid UTF-8 becomes U+FFFD first.
std::string nfc(std::string_view text);

// The lower-case form of one code point, Unicode's simple case mapping (utf8proc): 'A' -> 'a', 'É' -> 'é',
// 'Ж' -> 'ж', 'Ł' -> 'ł'; a code point with no lower-case form is returned as it is.
char32_t simple_lower(char32_t cp);

// Text from a file made safe for a terminal: every control character (C0, DEL and the C1 range U+0080 to
// U+009F, which holds CSI) becomes "\u001b", so a name or word cannot clear the screen or set the window
// title; NUL becomes "\u0000" instead of cutting a message short. Newlines are kept when `keep_newlines`
// (a message's hint line).
std::string escape_controls(std::string_view text, bool keep_newlines = false);

}  // namespace attnviz
