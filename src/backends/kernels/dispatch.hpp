// Which kernel path runs: the best this CPU supports, chosen once, or a lower one forced with the
// environment variable ATTNVIZ_CPU=baseline|avx2|avx512 (for tests and comparisons).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kernels.hpp"

namespace attnviz::kernels {

// The table in use, chosen on the first call: ATTNVIZ_CPU's path when set (never one the CPU lacks:
// then the best it has), else the best.
const Table& active();
// The paths compiled into this binary that this CPU can run, lowest first.
std::vector<const Table*> available();
// Switches every later call to `table` (the tests run each available path in one process).
void use(const Table& table);
// A message when ATTNVIZ_CPU holds something other than a path's name; the caller reports it (exit 2).
std::optional<std::string> environment_error();
// One line for --version and bench: the path in use and, when lower than the best, why.
std::string describe();

}  // namespace attnviz::kernels
