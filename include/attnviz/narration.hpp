// --narrate: a short plain-language paragraph for each stage, written for a student who has never seen a
// matrix product.
#pragma once

#include <string>
#include <string_view>

namespace attnviz {

// The paragraph for a report stage name ("tokens", "embeddings", "queries", ... as report_stage_names());
// empty for a name it does not know. Plain ASCII, so it prints the same on every terminal.
std::string narration(std::string_view stage_name);

}  // namespace attnviz
