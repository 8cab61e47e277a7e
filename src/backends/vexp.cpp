// exp(x) = 2^k · exp(r) with k = round(x / ln 2) and r = x − k·ln 2 in [−ln2/2, ln2/2] (ln 2 split in two
// parts so r is exact), exp(r) by Cephes' degree-7 polynomial, and 2^k built from exponent bits in two
// halves (2^(k/2) · 2^(k − k/2)) so that k down to −150 (denormal results) and up to 128 stay exact.
#include "vexp.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace attnviz {

namespace {

constexpr float kHi = 88.72283935546875f;   // ln(FLT_MAX): above, exp overflows to +∞
constexpr float kLo = -103.97208404541015f; // ln of the smallest denormal: below, exp is 0
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;      // ln 2 = kLn2Hi + kLn2Lo; kLn2Hi has few bits so k·kLn2Hi is exact
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f,
                kP3 = 4.1665795894e-2f, kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;

#if defined(__AVX2__)
using Packet = __m256;
constexpr std::size_t kWidth = 8;
#if defined(__FMA__)
inline Packet madd(Packet a, Packet b, Packet c) { return _mm256_fmadd_ps(a, b, c); }
#else
inline Packet madd(Packet a, Packet b, Packet c) { return _mm256_add_ps(_mm256_mul_ps(a, b), c); }
#endif
inline Packet exp_packet(Packet x) {
  const Packet inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  const Packet too_big = _mm256_cmp_ps(x, _mm256_set1_ps(kHi), _CMP_GT_OQ);
  const Packet too_small = _mm256_cmp_ps(x, _mm256_set1_ps(kLo), _CMP_LT_OQ);
  const Packet is_nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const Packet xc = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(kHi)), _mm256_set1_ps(kLo));
  const __m256i k = _mm256_cvtps_epi32(_mm256_mul_ps(xc, _mm256_set1_ps(kLog2e)));  // round to nearest
  const Packet kf = _mm256_cvtepi32_ps(k);
  Packet r = _mm256_sub_ps(xc, _mm256_mul_ps(kf, _mm256_set1_ps(kLn2Hi)));
  r = _mm256_sub_ps(r, _mm256_mul_ps(kf, _mm256_set1_ps(kLn2Lo)));
  Packet y = _mm256_set1_ps(kP0);
  y = madd(y, r, _mm256_set1_ps(kP1));
  y = madd(y, r, _mm256_set1_ps(kP2));
  y = madd(y, r, _mm256_set1_ps(kP3));
  y = madd(y, r, _mm256_set1_ps(kP4));
  y = madd(y, r, _mm256_set1_ps(kP5));
  y = madd(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i k1 = _mm256_srai_epi32(k, 1), k2 = _mm256_sub_epi32(k, k1);
  const __m256i bias = _mm256_set1_epi32(127);
  const Packet s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
  const Packet s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
  y = _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
  y = _mm256_blendv_ps(y, inf, too_big);
  y = _mm256_andnot_ps(too_small, y);
  return _mm256_blendv_ps(y, x, is_nan);
}
inline void exp_block(float* p) { _mm256_storeu_ps(p, exp_packet(_mm256_loadu_ps(p))); }
constexpr const char* kIsa =
#if defined(__FMA__)
    "avx2+fma";
#else
    "avx2";
#endif

#elif defined(__SSE2__)
using Packet = __m128;
constexpr std::size_t kWidth = 4;
inline Packet madd(Packet a, Packet b, Packet c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
inline Packet select(Packet mask, Packet a, Packet b) { return _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b)); }
inline Packet exp_packet(Packet x) {
  const Packet inf = _mm_set1_ps(std::numeric_limits<float>::infinity());
  const Packet too_big = _mm_cmpgt_ps(x, _mm_set1_ps(kHi));
  const Packet too_small = _mm_cmplt_ps(x, _mm_set1_ps(kLo));
  const Packet is_nan = _mm_cmpunord_ps(x, x);
  const Packet xc = _mm_max_ps(_mm_min_ps(x, _mm_set1_ps(kHi)), _mm_set1_ps(kLo));
  const __m128i k = _mm_cvtps_epi32(_mm_mul_ps(xc, _mm_set1_ps(kLog2e)));  // round to nearest
  const Packet kf = _mm_cvtepi32_ps(k);
  Packet r = _mm_sub_ps(xc, _mm_mul_ps(kf, _mm_set1_ps(kLn2Hi)));
  r = _mm_sub_ps(r, _mm_mul_ps(kf, _mm_set1_ps(kLn2Lo)));
  Packet y = _mm_set1_ps(kP0);
  y = madd(y, r, _mm_set1_ps(kP1));
  y = madd(y, r, _mm_set1_ps(kP2));
  y = madd(y, r, _mm_set1_ps(kP3));
  y = madd(y, r, _mm_set1_ps(kP4));
  y = madd(y, r, _mm_set1_ps(kP5));
  y = madd(y, _mm_mul_ps(r, r), _mm_add_ps(r, _mm_set1_ps(1.0f)));
  const __m128i k1 = _mm_srai_epi32(k, 1), k2 = _mm_sub_epi32(k, k1);
  const __m128i bias = _mm_set1_epi32(127);
  const Packet s1 = _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(k1, bias), 23));
  const Packet s2 = _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(k2, bias), 23));
  y = _mm_mul_ps(_mm_mul_ps(y, s1), s2);
  y = select(too_big, inf, y);
  y = _mm_andnot_ps(too_small, y);
  return select(is_nan, x, y);
}
inline void exp_block(float* p) { _mm_storeu_ps(p, exp_packet(_mm_loadu_ps(p))); }
constexpr const char* kIsa = "sse2";

#else
constexpr std::size_t kWidth = 1;
float pow2i(int k) {  // 2^k for k in [-63, 64] from exponent bits
  const std::uint32_t bits = static_cast<std::uint32_t>(k + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
inline void exp_block(float* p) {
  const float x = *p;
  if (std::isnan(x)) return;
  if (x > kHi) { *p = std::numeric_limits<float>::infinity(); return; }
  if (x < kLo) { *p = 0.0f; return; }
  const int k = static_cast<int>(std::nearbyint(x * kLog2e));
  const auto kf = static_cast<float>(k);
  const float r = (x - kf * kLn2Hi) - kf * kLn2Lo;
  float y = kP0;
  for (float c : {kP1, kP2, kP3, kP4, kP5}) y = y * r + c;
  y = y * (r * r) + (r + 1.0f);
  const int k1 = k >> 1;
  *p = y * pow2i(k1) * pow2i(k - k1);
}
constexpr const char* kIsa = "scalar";
#endif

}  // namespace

void exp_inplace(float* x, std::size_t count) {
  std::size_t i = 0;
  for (; i + kWidth <= count; i += kWidth) exp_block(x + i);
  if (i < count) {
    // The tail goes through the same packet code via a padded copy, so every element gets the same result.
    float tail[kWidth] = {};
    std::memcpy(tail, x + i, (count - i) * sizeof(float));
    exp_block(tail);
    std::memcpy(x + i, tail, (count - i) * sizeof(float));
  }
}

const char* exp_instruction_set() { return kIsa; }

}  // namespace attnviz
