// --narrate: the paragraphs live in the stage catalogue (src/core/stages.cpp), beside each stage; the parts
// that depend on the run ({origin}, {scaling}) are filled in here from the trace's config.
#include "attnviz/narration.hpp"

#include <cmath>

#include <fmt/format.h>

#include "attnviz/stages.hpp"

namespace attnviz {

namespace {

// How the weights of W_q (and W_k, W_v) were made, ending the catalogue's "with weights (W_q) ...".
std::string origin_phrase(WeightsOrigin origin) {
  switch (origin) {
    case WeightsOrigin::hand_set: return "that were set by hand, so they can be read (in a real transformer they are learned in training)";
    case WeightsOrigin::identity:
      return "that are here the identity: each entry is copied unchanged, so the query is the embedding itself (in a real "
             "transformer the weights are learned in training)";
    case WeightsOrigin::trained: return "that were learned in training";
    case WeightsOrigin::unstated: break;
  }
  return "read from the model file, which does not say how they were made (in a real transformer they are learned in training)";
}

std::string number(double v) { return fmt::format("{:.3g}", v); }

// What happens between the scores and the softmax: the division by √d_k (or not), the temperature.
std::string scaling_sentences(const TraceConfig& c) {
  const bool scaled = c.scale != 1.0f || c.d_k == 1;  // 1/√1 = 1: a scaled run with d_k 1
  std::string out;
  const std::string d_k = c.d_k > 0 ? fmt::format("d_k = {}, so by {}", c.d_k, number(std::sqrt(static_cast<double>(c.d_k)))) : "d_k";
  if (scaled)
    out = fmt::format("The scores are divided by the square root of the number of dimensions of a key ({}). A sum of many "
                      "products grows with the number of entries; without this, the biggest score would dwarf the others and "
                      "one token would take nearly all the attention.",
                      d_k);
  else
    out = fmt::format("Here the scores are NOT divided by the square root of the number of dimensions of a key (--no-scale; d_k "
                      "= {}), as real transformers do. A sum of many products grows with the number of entries, so without the "
                      "division the biggest score dwarfs the others and one token takes nearly all the attention: watch the "
                      "weights.",
                      c.d_k);
  if (c.temperature != 1.0f)
    out += fmt::format(" Then every score is divided by the temperature T = {}: {}.", number(c.temperature),
                       c.temperature < 1.0f ? "a temperature below 1 stretches the gaps between scores, so the softmax gives "
                                              "more to the winner"
                                            : "a temperature above 1 shrinks the gaps between scores, so the softmax spreads the "
                                              "attention more evenly");
  if (c.exclude_self) out += " Here no word may look at itself (--exclude-self): the diagonal is masked.";
  return out;
}

void fill(std::string& text, std::string_view placeholder, const std::string& with) {
  for (std::size_t at; (at = text.find(placeholder)) != std::string::npos;) text.replace(at, placeholder.size(), with);
}

}  // namespace

std::string narration(std::string_view stage_name, const TraceConfig& config) {
  if (stage_name == kTokensView) return std::string(tokens_narration());
  const StageInfo* info = find_stage_info(stage_name);
  if (!info) return "";
  std::string text(info->narration);
  fill(text, "{origin}", origin_phrase(config.weights_origin));
  fill(text, "{scaling}", scaling_sentences(config));
  return text;
}

std::string narration(std::string_view stage_name) {
  TraceConfig config;  // d_k unknown (0): the paragraph names it without a number
  config.scale = 0.5f;
  return narration(stage_name, config);
}

}  // namespace attnviz
