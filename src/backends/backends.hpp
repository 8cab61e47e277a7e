// The seam where backends are registered; only this folder knows which ones are compiled in.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attnviz/attention.hpp"

namespace attnviz {

std::unique_ptr<Backend> make_cpu_backend();
// cuda (every stage on the GPU) or, with `flash`, cuda-flash (the fused kernel); only in CUDA builds
// (src/backends/cuda/).
std::unique_ptr<Backend> make_cuda_backend(bool flash);

// Labels "q0", "q1", ... of `count` columns.
std::vector<std::string> numbered(const char* prefix, int count);
// A stage with tokens as rows and named dimensions as columns (queries, keys, values, context, ...).
Stage token_stage(std::string name, std::string symbol, std::optional<int> head, const std::vector<std::string>& rows,
                  std::vector<std::string> cols, Matrix data);
// An n × m stage of head `head` with queries as rows and keys as columns (scores, scaled_scores, weights).
Stage attention_stage(std::string name, std::string symbol, int head, const AttentionInput& in, Matrix data);

// concat (n × H·d_v) and output O = concat · W_o + b_o (n × d), shared by every backend.
void append_output_stages(const Model& model, const AttentionInput& in, Matrix concat, std::vector<Stage>& stages);
// The same with O (n × d) computed elsewhere (on a GPU).
void append_output_stages(const Model& model, const AttentionInput& in, Matrix concat, Matrix O, std::vector<Stage>& stages);

}  // namespace attnviz
