// The kernels compiled for the avx512 path (-mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma; see CMakeLists.txt).
#define ATTNVIZ_KERNEL_TABLE table_avx512
#include "kernels.inc"
