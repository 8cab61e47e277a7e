// The device checks: whether a GPU is usable, what it is, its compute capability.
#include "device.cuh"

namespace attnviz::cuda {

namespace detail {

int compute_capability() {
  static const int cc = [] {
    int major = 0, minor = 0;
    ATTNVIZ_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
    ATTNVIZ_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0));
    return major * 10 + minor;
  }();
  return cc;
}

void require_device() {
  if (auto why = device_unavailable()) throw Error("no usable CUDA device: " + *why);
}


}  // namespace detail

std::optional<std::string> device_unavailable() {
  static const std::optional<std::string> answer = []() -> std::optional<std::string> {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess)
      return std::string(cudaGetErrorString(status)) + " (" + cudaGetErrorName(status) + ")";
    if (count == 0) return std::string("the CUDA driver reports no device");
    return std::nullopt;
  }();
  return answer;
}

std::string device_description() {
  detail::require_device();
  cudaDeviceProp prop{};
  ATTNVIZ_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
         std::to_string(prop.multiProcessorCount) + " SMs)";
}

}  // namespace attnviz::cuda
