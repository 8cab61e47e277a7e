// The machine's practical float32 limit for bench/attention.sh: Eigen's matrix product built for this CPU
// (-march=native, all its vector units), 1024 × 1024 times 1024 × 1024, one thread, median of 5 after a
// warm-up. Independent of attnviz: compiled by the script with `g++ -O3 -march=native`.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <Eigen/Core>

int main() {
  const int N = 1024;
  Eigen::setNbThreads(1);
  const Eigen::MatrixXf A = Eigen::MatrixXf::Random(N, N), B = Eigen::MatrixXf::Random(N, N);
  Eigen::MatrixXf C(N, N);
  C.noalias() = A * B;
  std::vector<double> wall, cpu;
  for (int r = 0; r < 5; ++r) {
    timespec c0{}, c1{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    const auto t0 = std::chrono::steady_clock::now();
    C.noalias() = A * B;
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    cpu.push_back(static_cast<double>(c1.tv_sec - c0.tv_sec) + static_cast<double>(c1.tv_nsec - c0.tv_nsec) * 1e-9);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  const double flops = 2.0 * N * N * N;
  std::printf("{\"sgemm\": \"Eigen %d.%d.%d -march=native\", \"n\": %d, \"gflops\": %.2f, \"gflops_cpu\": %.2f, \"check\": %.3f}\n",
              EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, N, flops / wall[2] / 1e9, flops / cpu[2] / 1e9, C(0, 0));
}
