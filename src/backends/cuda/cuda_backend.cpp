// The cuda and cuda-flash backends: the Backend contract on top of kernels.hpp. Ordinary C++ (compiled with
// the project's warnings and sanitizers); every CUDA call is in the .cu files beside it.
// Legend: n query tokens, m key tokens, d = d_model, H heads, d_k, d_v per head.
#include <cstdlib>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "attnviz/attention.hpp"
#include "attnviz/error.hpp"
#include "../backends.hpp"
#include "kernels.hpp"

namespace attnviz {

namespace {

// A bias of the expected length, or null (absent: zero).
const float* bias_or_null(const Vector& b, int expected) { return b.size() == expected ? b.data() : nullptr; }

// Columns [first, first + count) of a row-major rows × cols array.
Matrix column_block(const std::vector<float>& data, int rows, int cols, int first, int count) {
  const Eigen::Map<const Matrix> all(data.data(), rows, cols);
  return all.middleCols(first, count);
}

// Head h's rows × cols matrix out of an H × rows × cols array.
Matrix head_slice(const std::vector<float>& data, int h, int rows, int cols) {
  return Eigen::Map<const Matrix>(data.data() + static_cast<std::size_t>(h) * static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols),
                                  rows, cols);
}

// ATTNVIZ_FLASH_VERSION selects a fused kernel version (flash.cuh lists them); by default the
// one cuda::default_flash_version picks for this GPU.
int flash_version() {
  const char* env = std::getenv("ATTNVIZ_FLASH_VERSION");
  if (!env || !*env) return cuda::default_flash_version();
  const std::string v = env;
  if (v.size() == 1 && v[0] >= '1' && v[0] <= '0' + cuda::kFlashLatestVersion) return v[0] - '0';
  throw InputError(fmt::format("ATTNVIZ_FLASH_VERSION is '{}'; use a kernel version from 1 to {}", v, cuda::kFlashLatestVersion));
}

// --kernel N, the same choice as ATTNVIZ_FLASH_VERSION (and before it).
int kernel_option(int kernel) {
  if (kernel >= 1 && kernel <= cuda::kFlashLatestVersion) return kernel;
  throw InputError(fmt::format("--kernel {} does not exist; cuda-flash has kernel versions 1 to {}", kernel, cuda::kFlashLatestVersion));
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(bool flash) : flash_(flash) {}

  std::string name() const override { return flash_ ? "cuda-flash" : "cuda"; }
  bool stores_attention_matrices() const override { return !flash_; }

  std::optional<std::string> unsupported(const Model& model, const AttentionInput&, const AttentionOptions&) const override {
    if (auto why = cuda::device_unavailable())
      return fmt::format("--backend {}: no CUDA device can be used on this machine ({}); run it on a machine with an NVIDIA GPU "
                         "and its driver, or use --backend cpu",
                         name(), *why);
    if (flash_ && (model.d_k > cuda::kFlashMaxHeadDim || model.d_v > cuda::kFlashMaxHeadDim))
      return fmt::format("--backend cuda-flash supports heads of width at most {}, but this model's heads have d_k = {}, d_v = {}; "
                         "use more heads (--heads) or --backend cuda",
                         cuda::kFlashMaxHeadDim, model.d_k, model.d_v);
    return std::nullopt;
  }

  AttentionNumbers run(const Model& model, const AttentionInput& in, const AttentionOptions& options, StageTimes* times) const override {
    if (auto why = unsupported(model, in, options)) throw InputError(*why);
    const auto n = static_cast<int>(in.X.rows());     // query tokens
    const auto m = static_cast<int>(in.X_kv.rows());  // key/value tokens
    const int H = model.heads, d_k = model.d_k, d_v = model.d_v, d = model.d_model;
    const int version = flash_ ? (options.kernel != 0 ? kernel_option(options.kernel) : flash_version()) : 0;

    // n × m, 1 = may attend: the causal flag and the custom mask combined (and checked) as on the CPU.
    // cuda-flash masks causally by index and needs the array only for a custom mask (at n = 16k it would
    // be 256 MiB built on the host for nothing).
    std::vector<unsigned char> allowed;
    if (!flash_ || options.mask) {
      const auto allowed_rows = allowed_cells(options, n, m);
      allowed.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(m));
      for (std::size_t i = 0; i < allowed_rows.size(); ++i)
        for (std::size_t j = 0; j < allowed_rows[i].size(); ++j) allowed[i * static_cast<std::size_t>(m) + j] = allowed_rows[i][j] ? 1 : 0;
    }

    cuda::Problem p;
    p.n = n;
    p.m = m;
    p.d = d;
    p.H = H;
    p.d_k = d_k;
    p.d_v = d_v;
    p.X = in.X.data();
    p.X_kv = in.X_kv.data();
    p.W_q = model.W_q.data();
    p.W_k = model.W_k.data();
    p.W_v = model.W_v.data();
    p.W_o = model.W_o.data();
    p.b_q = bias_or_null(model.b_q, H * d_k);
    p.b_k = bias_or_null(model.b_k, H * d_k);
    p.b_v = bias_or_null(model.b_v, H * d_v);
    p.b_o = bias_or_null(model.b_o, d);
    p.allowed = allowed.empty() ? nullptr : allowed.data();
    p.causal = options.causal;
    p.custom_mask = options.mask.has_value();
    p.factor = score_factor(options, d_k);

    const cuda::Result r = flash_ ? cuda::run_flash(p, version) : cuda::run_stages(p);
    if (times) *times = r.timings;

    AttentionNumbers out;
    for (int h = 0; h < H; ++h) {
      HeadNumbers head{column_block(r.Q, n, H * d_k, h * d_k, d_k), column_block(r.K, m, H * d_k, h * d_k, d_k),
                       column_block(r.V, m, H * d_v, h * d_v, d_v), {}, {}, {}};
      if (!flash_) {
        head.S = head_slice(r.S, h, n, m);
        head.S_scaled = head_slice(r.S_scaled, h, n, m);
        head.P = head_slice(r.P, h, n, m);
      }
      out.heads.push_back(std::move(head));
    }
    out.concat = Eigen::Map<const Matrix>(r.concat.data(), n, H * d_v);
    out.O = Eigen::Map<const Matrix>(r.O.data(), n, d);
    return out;
  }

  std::optional<KernelTiming> time_kernel(int n, int d, int heads, bool causal) const override {
    if (!flash_) return std::nullopt;  // cuda is separate stage kernels: the whole computation is its time
    if (cuda::device_unavailable()) return std::nullopt;
    const int version = flash_version();
    constexpr int kWarmup = 2, kRuns = 10;
    const cuda::FlashBench b = cuda::bench_flash(n, d, heads, causal, version, kWarmup, kRuns);
    return KernelTiming{b.median_ms / 1e3, b.min_ms / 1e3, kRuns, b.device, fmt::format("flash v{}", version)};
  }

 private:
  bool flash_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(bool flash) { return std::make_unique<CudaBackend>(flash); }

}  // namespace attnviz
