// The choice of kernel path, once per process: the best this CPU runs, or a lower one named by ATTNVIZ_CPU.
#include "dispatch.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace attnviz::kernels {

namespace {

constexpr const char* kVariable = "ATTNVIZ_CPU";
constexpr const char* kNames = "baseline, avx2, avx512";

// Every path compiled into this binary, lowest first, and whether this CPU (and its OS) can run it.
struct Path {
  const Table* table;
  bool runs;
};

std::vector<Path> compiled() {
  std::vector<Path> paths{{&table_baseline(), true}};
#if ATTNVIZ_KERNELS_X86
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  paths.push_back({&table_avx2(), avx2});
  paths.push_back({&table_avx512(), avx512});
#endif
  return paths;
}

const Table* best() {
  const Table* t = nullptr;
  for (const Path& p : compiled())
    if (p.runs) t = p.table;
  return t;
}

// The path ATTNVIZ_CPU names, or, when it names one this CPU cannot run, the best below it.
const Table* requested() {
  const char* value = std::getenv(kVariable);
  if (!value || !*value) return nullptr;
  const Table* chosen = nullptr;
  bool named = false;
  for (const Path& p : compiled()) {
    if (p.runs) chosen = p.table;
    if (std::strcmp(value, p.table->name) == 0) {
      named = true;
      break;
    }
  }
  // A name of a path this build lacks (avx2 on arm64): the best there is, which is lower anyway.
  if (!named) return std::strcmp(value, "avx2") == 0 || std::strcmp(value, "avx512") == 0 ? best() : nullptr;
  return chosen;
}

std::atomic<const Table*>& current() {
  static std::atomic<const Table*> table{[] {
    const Table* r = requested();
    return r ? r : best();
  }()};
  return table;
}

}  // namespace

const Table& active() { return *current().load(std::memory_order_relaxed); }

std::vector<const Table*> available() {
  std::vector<const Table*> out;
  for (const Path& p : compiled())
    if (p.runs) out.push_back(p.table);
  return out;
}

void use(const Table& table) { current().store(&table, std::memory_order_relaxed); }

std::optional<std::string> environment_error() {
  const char* value = std::getenv(kVariable);
  if (!value || !*value) return std::nullopt;
  for (const char* name : {"baseline", "avx2", "avx512"})
    if (std::strcmp(value, name) == 0) return std::nullopt;
  return fmt::format("{}='{}' is not a kernel path: use one of {} (or leave it unset for the best this CPU runs)",
                     kVariable, value, kNames);
}

std::string describe() {
  const Table& a = active();
  const Table* b = best();
  std::string s = fmt::format("{} ({})", a.name, a.detail);
  const char* value = std::getenv(kVariable);
  if (b != &a) s += fmt::format("; this CPU also runs {}", b->name);
  if (value && *value) {
    s += fmt::format("; {}={}", kVariable, value);
    if (environment_error())
      s += " is not a path name (baseline, avx2, avx512)";
    else if (std::strcmp(value, a.name) != 0)
      s += " is more than this CPU runs";
  }
  return s;
}

}  // namespace attnviz::kernels
