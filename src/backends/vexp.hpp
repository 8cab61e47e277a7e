// A vectorised exp for the softmax: the Cephes single-precision polynomial at the width of the kernel path
// in use (16 floats with AVX-512, 8 with AVX2, 4 on the baseline; kernels/kernels.inc). Products and sums
// are never fused, so every path and every position in a row gives the same bits.
#pragma once

#include <cstddef>

namespace attnviz {

// x[i] = exp(x[i]) for i < count. Relative error ≤ 2e-7 against std::exp for normal results; arguments
// below about −103.97 (and −∞) give exactly 0, above 88.72 (and +∞) give +∞, NaN stays NaN. Never NaN
// from a finite or infinite argument.
void exp_inplace(float* x, std::size_t count);

// The kernel path in use: "baseline", "avx2" or "avx512" (kernels/dispatch.hpp).
const char* exp_instruction_set();

}  // namespace attnviz
