// The kernels compiled for the baseline path (no extra flags: SSE2 on x86-64, the compiler's default elsewhere; see CMakeLists.txt).
#define ATTNVIZ_KERNEL_TABLE table_baseline
#include "kernels.inc"
