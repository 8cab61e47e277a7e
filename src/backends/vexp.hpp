// A vectorised exp for the softmax: the Cephes single-precision polynomial, 8 floats at a time with AVX2
// (+FMA when available), 4 at a time with SSE2 (every x86-64), one at a time elsewhere. Every element goes
// through the same code whatever its position, so a row's result never depends on how it was split.
#pragma once

#include <cstddef>

namespace attnviz {

// x[i] = exp(x[i]) for i < count. Relative error ≤ 2e-7 against std::exp for normal results; arguments
// below about −103.97 (and −∞) give exactly 0, above 88.72 (and +∞) give +∞, NaN stays NaN. Never NaN
// from a finite or infinite argument.
void exp_inplace(float* x, std::size_t count);

// Which instruction set exp_inplace was compiled for: "avx2+fma", "avx2", "sse2" or "scalar".
const char* exp_instruction_set();

}  // namespace attnviz
