// Internal to the CUDA kernels: the stage kernels of the cuda backend (stage_kernels.cu), each launched by
// a host function.
#pragma once

namespace attnviz::cuda::detail {

// C[z] = alpha · A[z] · op(B[z]) + bias for z = 0 … batch − 1, op(B) = B or Bᵀ.
// A: rows × inner (row stride lda), op(B): inner × cols, C: rows × cols (row stride ldc), bias: cols or null.
struct GemmArgs {
  const float* A;
  const float* B;
  float* C;
  const float* bias;
  int rows, cols, inner;
  int lda, ldb, ldc;
  long long batch_A, batch_B, batch_C;  // element offsets between batch items
  float alpha;
};

void gemm(const GemmArgs& g, bool transpose_b, int batch);
// out = X · W + b: rows × cols from X (rows × inner) and W (inner × cols).
void project(const float* X, const float* W, const float* b, float* out, int rows, int inner, int cols);
// S' = S · factor for every head (H × n × m), and −∞ where allowed (n × m, the same for every head) is 0.
void scale_and_mask(const float* S, float* S_scaled, const unsigned char* allowed, float factor, long long cells_per_head, int heads);
// P = softmax of each of the `rows` rows of S' (rows × m).
void softmax_rows(const float* S_scaled, float* P, int rows, int m);

}  // namespace attnviz::cuda::detail
