// libFuzzer's entry point for one harness; CMake compiles this once per harness with
// ATTNVIZ_FUZZ_HARNESS set to its name (fuzz/CMakeLists.txt). A HarnessFailure, or any exception other
// than the InputError the harness catches, aborts: libFuzzer reports it as a crash and keeps the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "harnesses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const attnviz::fuzz::Harness harness = attnviz::fuzz::find_harness(ATTNVIZ_FUZZ_HARNESS);
  try {
    harness(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const attnviz::fuzz::HarnessFailure& e) {
    std::fprintf(stderr, "fuzz_%s: invariant broken: %s\n", ATTNVIZ_FUZZ_HARNESS, e.what());
    std::abort();
  }
  return 0;
}
