#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/error.hpp"
#include "attnviz/limits.hpp"
#include "backends.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace attnviz {

std::vector<std::vector<bool>> allowed_cells(const AttentionOptions& options, int n, int m) {
  check_mask(options, n, m, "the mask", {}, n != m);  // the pipeline checked it already, naming the tokens
  std::vector<std::vector<bool>> allowed(static_cast<std::size_t>(n), std::vector<bool>(static_cast<std::size_t>(m), true));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j)
      allowed[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)] = !(options.causal && j > i) && !(options.mask && (*options.mask)(i, j) == 0.0f);
  return allowed;
}

float score_factor(const AttentionOptions& options, int d_k) {
  const float scale = options.scale ? 1.0f / std::sqrt(static_cast<float>(d_k)) : 1.0f;
  return scale / options.temperature;
}

std::optional<std::string> Backend::unsupported(const Model&, const AttentionInput&, const AttentionOptions&) const {
  return std::nullopt;
}

std::vector<Stage> Backend::compute(const Model& model, const AttentionInput& input, const AttentionOptions& options) const {
  return label_stages(model, input, run(model, input, options, nullptr));
}

std::vector<Stage> Backend::compute_timed(const Model& model, const AttentionInput& input, const AttentionOptions& options,
                                          StageTimes& times) const {
  return label_stages(model, input, run(model, input, options, &times));
}

std::optional<KernelTiming> Backend::time_kernel(int, int, int, bool) const { return std::nullopt; }

// The one place that knows whether the CUDA backends are compiled in (CMake sets ATTNVIZ_WITH_CUDA on this
// file only; docs/architecture.md: no #if outside this seam).
#ifndef ATTNVIZ_WITH_CUDA
#define ATTNVIZ_WITH_CUDA 0
#endif

std::vector<std::string> backend_names() {
  std::vector<std::string> names{"cpu", "flash"};
#if ATTNVIZ_WITH_CUDA
  names.emplace_back("cuda");
  names.emplace_back("cuda-flash");
#endif
  return names;
}

namespace {

// Each compute allocates its matrices anew (the reference's S, S' and P are 12 MiB at n = 1024) and the trace
// takes them. glibc gives blocks of that size fresh pages from the system and returns them on free, so every
// run paid a page fault and the zeroing of a page for each 4 KiB it wrote: at n = 1024 5 of the 7 ms a run took
// (docs/benchmarks.md). Keeping freed memory for the next allocation, as ONNX Runtime's and
// PyTorch's allocators do, removes that; the peak (what the process ever touched) does not change.
void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // blocks below 32 MiB (glibc's largest allowed) from the heap
    mallopt(M_TRIM_THRESHOLD, 64 << 20);  // keep up to 64 MiB freed at the heap's top instead of returning it
    return true;
  }();
  (void)once;
#endif
}

}  // namespace

std::unique_ptr<Backend> make_backend(std::string_view name) {
  keep_freed_memory_for_reuse();
  if (name == "cpu") return make_cpu_backend();
  if (name == "flash") return make_flash_backend();
#if ATTNVIZ_WITH_CUDA
  if (name == "cuda") return make_cuda_backend(false);
  if (name == "cuda-flash") return make_cuda_backend(true);
#else
  if (name == "cuda" || name == "cuda-flash")
    throw InputError(fmt::format("backend '{}' is not in this build: it was built without CUDA (configure with -DATTNVIZ_CUDA=ON "
                                 "on a machine with nvcc); this build has: {}",
                                 name, fmt::join(backend_names(), ", ")));
#endif
  throw InputError(fmt::format("unknown backend '{}'; this build has: {}", name, fmt::join(backend_names(), ", ")));
}

}  // namespace attnviz
