// The one UTF-8 module (utf8.hpp) that the tokenizer, the loaders, the terminal, the page and the explorer use.
#include <catch2/catch.hpp>

#include <string>

#include "attnviz/html.hpp"
#include "attnviz/render.hpp"
#include "attnviz/utf8.hpp"
#include "../src/render/colormap.hpp"

using namespace attnviz;

TEST_CASE("UTF-8: decoding is strict about overlong forms, surrogates and values past U+10FFFF", "[utf8]") {
  const std::string ok = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a é € 😀
  CodePoint cp = decode_utf8(ok, 0);
  CHECK((cp.valid && cp.value == U'a' && cp.length == 1));
  cp = decode_utf8(ok, 1);
  CHECK((cp.valid && cp.value == 0xE9 && cp.length == 2));
  cp = decode_utf8(ok, 3);
  CHECK((cp.valid && cp.value == 0x20AC && cp.length == 3));
  cp = decode_utf8(ok, 6);
  CHECK((cp.valid && cp.value == 0x1F600 && cp.length == 4));
  for (const std::string bad : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80", "\x80", "\xE2\x82"}) {
    INFO(bad.size() << " bytes");
    cp = decode_utf8(bad, 0);
    CHECK(!cp.valid);
    CHECK(cp.length == 1);  // an invalid sequence takes one byte
  }
  CHECK(sanitize_utf8("a\xED\xA0\x80z") == "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");  // each byte of a surrogate: U+FFFD
}

TEST_CASE("UTF-8: boundaries never split a character", "[utf8]") {
  const std::string s = "x\xE2\x82\xAC" "y";  // x € y
  CHECK(starts_code_point(s, 0));
  CHECK(starts_code_point(s, 1));
  CHECK(!starts_code_point(s, 2));
  CHECK(starts_code_point(s, s.size()));
  CHECK(next_code_point_start(s, 1) == 4);
  CHECK(next_code_point_start(s, 4) == 5);
  CHECK(previous_code_point_start(s, 4) == 1);
  CHECK(previous_code_point_start(s, 1) == 0);
  CHECK(previous_code_point_start(s, 0) == 0);
  CHECK(utf8_sequence_length(0xE2) == 3);
  CHECK(utf8_sequence_length(0x82) == 1);  // a continuation byte starts nothing
  CHECK(utf8_sequence_length(0xF0) == 4);
  std::string out;
  append_utf8(out, 0x1F600);
  CHECK(out == "\xF0\x9F\x98\x80");
}

TEST_CASE("UTF-8: the terminal and the page read text with the same decoder", "[utf8]") {
  // A surrogate (invalid UTF-8) is one '?' per byte in a table label and on the page alike.
  const std::string label = "a\xED\xA0\x80" "b";
  CHECK(render_detail::sanitize(label) == "a???b");
  CHECK(escape_html(label) == "a???b");
  CHECK(display_width("\xE4\xB8\xAD" "a") == 3);  // a wide character and a narrow one
}
