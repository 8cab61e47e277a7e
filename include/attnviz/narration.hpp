// --narrate: a short plain-language paragraph for each stage, written for a student who has never seen a
// matrix product. The paragraph follows the run: where the weights came from (set by hand, the identity,
// trained), whether the scores are divided by √d_k, the temperature, the diagonal mask.
#pragma once

#include <string>
#include <string_view>

#include "attnviz/trace.hpp"

namespace attnviz {

// The paragraph for a report stage name ("tokens", "embeddings", "queries", ... as report_stage_names())
// as it applies to a run with `config`; empty for a name it does not know. Plain ASCII, so it prints the
// same on every terminal.
std::string narration(std::string_view stage_name, const TraceConfig& config);
// The same for the default run: a model file that does not say where its weights came from, scores
// divided by √d_k, temperature 1.
std::string narration(std::string_view stage_name);

}  // namespace attnviz
