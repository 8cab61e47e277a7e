// The run report: every stage of a trace in order, as the class sees it, built from render_stage.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "attnviz/lesson.hpp"
#include "attnviz/render.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

struct ReportOptions {
  RenderOptions render;
  std::vector<std::string> stages;  // which stages to print ("tokens" and stage names); empty = all
  int top_k = 3;                    // top keys listed under each weights table
  bool narrate = false;             // --narrate: a plain-language paragraph before each stage (narration.hpp)
  std::optional<int> head;          // run --head: only this head's per-head stages (0-based); nullopt = every head
  // --step: called before each printed stage with the text rendered so far, which the callee shows and which
  // is then left out of render_report's result; returning false (the user quit) ends the report there.
  std::function<bool(const std::string& shown, const Stage& next)> before_stage;
};

// The names --stages accepts, in print order.
const std::vector<std::string>& report_stage_names();
// Splits and checks a --stages list ("weights,output"); InputError naming an unknown stage.
std::vector<std::string> parse_stage_list(const std::string& list);

// The header (sentence, configuration), the tokens, and each selected stage with its notes. With
// before_stage set, only the text after the last call (or nothing, when it returned false) is returned.
std::string render_report(const Trace& trace, const ReportOptions& options);

// "mouse attends to: mickey 0.310, cartoon 0.220, disney 0.180", one line per query of a weights stage.
// With the head's scaled_scores stage, masked keys (−∞) are left out rather than listed with weight 0.
std::string render_top_keys(const Stage& weights, int k, int heads, const RenderOptions& options, const Stage* scaled = nullptr);

// What a careful reader checks beside a weights table, one line per query: the row's sum (1), its entropy
// in bits (0: one key; log2(k): even over k keys) and that maximum, k counting the keys not masked in
// `scaled` (the head's scaled_scores stage; nullptr: none masked).
std::string render_row_checks(const Stage& weights, const Stage* scaled, int heads, const RenderOptions& options);

// The --timings table: each step the backend measured, in milliseconds, and their total; or a line saying
// the backend measures none.
std::string render_timings(const Trace& trace, const RenderOptions& options);

// The word-order comparison of two traces whose sentences hold the same words (compare_word_order): per
// token its positions, its output row in both orders and the largest difference, then the largest
// difference overall and what it means.
// A multi-head trace on one screen: each head named by the rule of `attnviz heads` (describe_head: a
// previous-word, self, first-word, broad or mixed head, from its weights), its strongest key per word, and
// every head's pattern side by side (when it fits the width). Empty with one head. render_report prints it
// after the stages when the weights are among them and no single head was chosen (ReportOptions::head).
std::string render_heads_summary(const Trace& trace, const RenderOptions& options);
// Shannon entropy of row i of a weights stage, in bits: 0 when all the weight is on one key, log2(k) when it
// is spread evenly over k keys (0 · log 0 counts as 0). The row checks print it; the heads summary reads it.
double entropy_bits(const Stage& weights, Eigen::Index i);

std::string render_word_order(const Trace& a, const Trace& b, const std::vector<OrderRow>& rows, const RenderOptions& options);

}  // namespace attnviz
