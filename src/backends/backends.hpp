// The seam where backends are registered; only this folder knows which ones are compiled in.
#pragma once

#include <memory>
#include <vector>

#include "attnviz/attention.hpp"

namespace attnviz {

std::unique_ptr<Backend> make_cpu_backend();

// concat (n × H·d_v) and output O = concat · W_o + b_o (n × d), shared by every backend.
void append_output_stages(const Model& model, const AttentionInput& in, Matrix concat, std::vector<Stage>& stages);

}  // namespace attnviz
