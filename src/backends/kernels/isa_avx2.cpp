// The kernels compiled for the avx2 path (-mavx2 -mfma; see CMakeLists.txt).
#define ATTNVIZ_KERNEL_TABLE table_avx2
#include "kernels.inc"
