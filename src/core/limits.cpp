#include "attnviz/limits.hpp"

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/pipeline.hpp"

namespace attnviz {

namespace {
double budget = 2.0 * 1024 * 1024 * 1024;  // --max-memory's default
}

double memory_budget() { return budget; }

void set_memory_budget(double bytes) { budget = bytes; }

void check_memory(double bytes, const std::string& what, const std::string& hint) {
  if (bytes <= budget) return;
  throw InputError(fmt::format("{} needs about {}, more than --max-memory allows ({}){}", what, format_bytes(bytes), format_bytes(budget),
                               hint.empty() ? "" : "\nhint: " + hint));
}

}  // namespace attnviz
