// The exp of the softmax, from the kernel path in use (kernels/kernels.inc: the same bits on every path).
#include "vexp.hpp"

#include "kernels/dispatch.hpp"

namespace attnviz {

void exp_inplace(float* x, std::size_t count) { kernels::active().exp(x, count); }

const char* exp_instruction_set() { return kernels::active().name; }

}  // namespace attnviz
