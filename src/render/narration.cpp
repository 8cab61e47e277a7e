// --narrate: the paragraphs live in the stage catalogue (src/core/stages.cpp), beside each stage.
#include "attnviz/narration.hpp"

#include "attnviz/stages.hpp"

namespace attnviz {

std::string narration(std::string_view stage_name) {
  if (stage_name == kTokensView) return std::string(tokens_narration());
  const StageInfo* info = find_stage_info(stage_name);
  return info ? std::string(info->narration) : "";
}

}  // namespace attnviz
