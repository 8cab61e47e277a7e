// Fast, correctly rounded parsing of one float32 from text, for the embeddings loaders (millions of numbers).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>

namespace attnviz::io {

// Parses a number starting at `p` (before `end`); returns the position after it, or nullptr when there is
// no number or it is not finite. Word-vector files hold short decimals ("-0.074645"): when the digits fit
// in 2^24 and there are at most 10 of them after the point, m / 10^k of two exact floats is the correctly
// rounded result (one IEEE division), several times faster than std::from_chars; anything else (exponents,
// long mantissas) goes to std::from_chars.
inline const char* parse_float(const char* p, const char* end, float& out) {
  static constexpr float kPow10[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};
  const char* q = p;
  const bool negative = q < end && *q == '-';
  if (negative) ++q;
  std::uint32_t m = 0;
  int digits = 0, frac = 0;
  const char* int_start = q;
  while (q < end && *q >= '0' && *q <= '9' && digits < 8) m = m * 10 + static_cast<std::uint32_t>(*q++ - '0'), ++digits;
  bool fast = q > int_start;
  if (fast && q < end && *q == '.') {
    ++q;
    const char* frac_start = q;
    while (q < end && *q >= '0' && *q <= '9' && digits < 8) m = m * 10 + static_cast<std::uint32_t>(*q++ - '0'), ++digits, ++frac;
    fast = q > frac_start;
  }
  // The fast path needs: no more digits, no exponent, m exact in a float, and 10^frac exact in a float.
  if (fast && (q == end || ((*q < '0' || *q > '9') && *q != 'e' && *q != 'E' && *q != '.')) && m <= (1u << 24) && frac <= 10) {
    const float v = static_cast<float>(m) / kPow10[frac];
    out = negative ? -v : v;
    return q;
  }
  float v = 0.0f;
  // from_chars accepts "inf" and "nan" but not a leading '+'; both are rejected as not finite or no number.
  auto [ptr, ec] = std::from_chars(p, end, v);
  if (ec == std::errc::result_out_of_range) {
    // Too small for a normal float (1e-50) rounds toward zero, as a cast from double does; too large fails.
    double d = 0.0;
    auto [dptr, dec] = std::from_chars(p, end, d);
    if (dec != std::errc() || !(std::fabs(d) < 1.0)) return nullptr;
    out = static_cast<float>(d);
    return dptr;
  }
  if (ec != std::errc() || !std::isfinite(v)) return nullptr;
  out = v;
  return ptr;
}

}  // namespace attnviz::io
