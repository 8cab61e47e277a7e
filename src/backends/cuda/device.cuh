// Internal to the CUDA kernels: CUDA errors as exceptions, device memory freed by scope, stage timing on the
// GPU's timeline, and the device checks (checks.cu). Included only by the .cu files.
#pragma once

#include <cuda_runtime.h>

#include <string>
#include <utility>
#include <vector>

#include "attnviz/error.hpp"
#include "kernels.hpp"

namespace attnviz::cuda::detail {

[[noreturn]] inline void fail(cudaError_t status, const char* what, const char* file, int line) {
  throw Error(std::string("CUDA error in ") + what + " (" + file + ":" + std::to_string(line) + "): " +
              cudaGetErrorName(status) + ": " + cudaGetErrorString(status));
}

#define ATTNVIZ_CUDA_CHECK(call)                                      \
  do {                                                                \
    cudaError_t status_ = (call);                                     \
    if (status_ != cudaSuccess) ::attnviz::cuda::detail::fail(status_, #call, __FILE__, __LINE__); \
  } while (0)

// A device array of floats (or bytes), freed when it goes out of scope.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t count) : count_(count) {
    if (count_ > 0) ATTNVIZ_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), count_ * sizeof(T)));
  }
  DeviceArray(const T* host, std::size_t count) : DeviceArray(count) {
    if (count_ > 0) ATTNVIZ_CUDA_CHECK(cudaMemcpy(ptr_, host, count_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~DeviceArray() {
    if (ptr_) cudaFree(ptr_);  // nothing useful to do with an error while unwinding
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return ptr_; }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    if (count_ > 0) ATTNVIZ_CUDA_CHECK(cudaMemcpy(host.data(), ptr_, count_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

// A host array of `count` zeros when `host` is null (an absent bias), else a copy onto the device.
inline DeviceArray<float> upload_or_zeros(const float* host, std::size_t count) {
  if (host) return DeviceArray<float>(host, count);
  std::vector<float> zeros(count, 0.0f);
  return DeviceArray<float>(zeros.data(), count);
}

// Marks on the GPU's timeline; the time between two consecutive marks is one stage's.
class StageClock {
 public:
  StageClock() { mark(""); }
  ~StageClock() {
    for (auto& e : events_) cudaEventDestroy(e.second);
  }
  StageClock(const StageClock&) = delete;
  StageClock& operator=(const StageClock&) = delete;
  // Ends the stage `what` (the work queued since the previous mark).
  void mark(const std::string& what) {
    cudaEvent_t e;
    ATTNVIZ_CUDA_CHECK(cudaEventCreate(&e));
    events_.emplace_back(what, e);
    ATTNVIZ_CUDA_CHECK(cudaEventRecord(e));
  }
  Timings finish() {
    ATTNVIZ_CUDA_CHECK(cudaEventSynchronize(events_.back().second));
    Timings out;
    for (std::size_t i = 1; i < events_.size(); ++i) {
      float ms = 0;
      ATTNVIZ_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[i - 1].second, events_[i].second));
      out.emplace_back(events_[i].first, static_cast<double>(ms));
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, cudaEvent_t>> events_;
};

// A kernel launch's own errors (bad configuration) show at once; faults inside it at the next sync.
inline void check_launch(const char* kernel) {
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) fail(status, kernel, __FILE__, __LINE__);
}

inline unsigned int blocks_for(std::size_t count, unsigned int threads) {
  return static_cast<unsigned int>((count + threads - 1) / threads);
}


// The compute capability of device 0 as major·10 + minor.
int compute_capability();
// Error (not InputError) when no device is usable: the backends check device_unavailable() first.
void require_device();

}  // namespace attnviz::cuda::detail
