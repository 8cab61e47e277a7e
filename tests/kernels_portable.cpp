// The kernels' portable branch (GCC vector extensions: what arm64 and other non-x86 builds compile),
// compiled into the tests on x86 too, so test_kernels.cpp can check it against the baseline path.
#define ATTNVIZ_KERNELS_PORTABLE 1
#define ATTNVIZ_KERNEL_TABLE table_portable
#include "../src/backends/kernels/kernels.inc"
