// What each head of a trained language model does, measured on sentences (attnviz heads; docs/training.md).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnviz/lm.hpp"
#include "attnviz/trace.hpp"
#include "attnviz/train.hpp"

namespace attnviz {

// One head's measurements, averaged over every query position i ≥ 1 of every sentence (position 0 can
// only attend to itself, so it is left out).
struct HeadStats {
  int layer = 0, head = 0;     // from 1
  double previous = 0;         // mean weight on the word just before (j = i − 1)
  double self = 0;             // mean weight on itself (j = i)
  double first = 0;            // mean weight on the sentence's first word (j = 0)
  double distance = 0;         // mean Σ_j A_ij (i − j): how far back it looks, in words
  double entropy = 0;          // mean −Σ_j A_ij log₂ A_ij, bits
  double evenness = 0;         // mean entropy / log₂(i + 1): 1 is uniform over the words so far
  std::size_t positions = 0;   // query positions measured
  std::string description;     // one line derived from the numbers above
  bool causal = true;          // false: a query also sees later words, and `distance` is Σ_j A_ij |i − j|
};

std::vector<HeadStats> measure_heads(const LmConfig& config, const std::vector<float>& params, const RowMat<float>& embeddings,
                                     const Sentences& sentences);

// The rule that names a head from its numbers (exposed for tests).
std::string describe_head(const HeadStats& s);

// One head of a run's trace (`weights`, and `scaled_scores` for the mask) measured the same way, its
// description set: causal, query 0 is left out and distance is how far back; otherwise distance is |i − j|.
HeadStats measure_trace_head(const Stage& weights, const Stage* scaled_scores, bool causal);

// Every head's T × T pattern for one sentence, as shading characters: one row of layers, heads side by
// side (BertViz's model view in a terminal). `ascii`: " .:*#" instead of " ░▒▓█". `width` > 0: as many
// heads a line as fit in that many columns (at least one), and the key wrapped to it; 0: every head of a
// layer on one line.
std::string render_head_grid(const std::vector<std::vector<RowMat<float>>>& attention, const std::vector<std::string>& words, bool ascii,
                             int width = 0);

nlohmann::ordered_json heads_json(const std::vector<HeadStats>& stats, std::size_t sentences);

}  // namespace attnviz
