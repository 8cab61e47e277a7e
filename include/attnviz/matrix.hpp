// The one matrix type of the library: float32, row-major, so a row is a token as in the math (docs/math.md).
#pragma once

#include <Eigen/Core>

namespace attnviz {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::Matrix<float, 1, Eigen::Dynamic, Eigen::RowMajor>;  // a row vector

}  // namespace attnviz
