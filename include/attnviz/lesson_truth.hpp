// What a lesson may honestly claim from its numbers. Beside "before" (the word's embedding X) and "after"
// (its output O), the baseline a class must see: the output a uniform attention row would give (every key
// the query may see weighted the same: the plain average of the sentence, through the same W_v and W_o).
// The part of the change the attention *pattern* adds is after − uniform. A claim ("mouse ends closer to
// cartoon ...") is made only when the move passes a stated threshold; otherwise "no clear effect".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attnviz/embeddings.hpp"
#include "attnviz/lesson.hpp"
#include "attnviz/model.hpp"
#include "attnviz/render.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

// The smallest move (in cosine, of the margin between neighbourhoods) a claim needs.
inline constexpr float kClaimThreshold = 0.05f;

// Output row `row` of `trace` had its weights row been uniform over the keys the query may see (the mask:
// -inf cells of scaled_scores, or the causal rule when that stage is absent): for each head, the mean of the
// visible rows of what attention reads (X, the context's rows, or a trained model's layer_norm) through W_v and b_v, concatenated, through W_o and b_o.
Vector uniform_output_row(const Trace& trace, const Model& model, int row);

// Which of several named cosines is largest, and by how much over the runner-up.
struct SenseMargin {
  std::string closer;  // "cartoon"
  std::string other;   // the runner-up, "technology"
  float by = 0.0f;     // cosine(closer) − cosine(other) ≥ 0
};
SenseMargin sense_margin(const std::vector<std::string>& names, const std::vector<float>& cosines);

// The `lesson` object of one sentence: the word against each neighbourhood before, with a uniform row, and
// after attention; which way attention moved it, how much of that the plain average gives; the claim.
struct LessonNumbers {
  std::string word;
  int token = 0;  // the word's first occurrence
  float threshold = kClaimThreshold;
  std::vector<std::string> neighbourhoods;
  std::vector<float> before, uniform, after;  // cosines, one per neighbourhood
  SenseMargin margin_before, margin_uniform, margin_after;
  // The neighbourhood whose cosine grew most relative to the others, and the growth of the margin over the
  // best other neighbourhood: by attention (moved), by a uniform row (plain_average), and the difference
  // (pattern_adds = moved − plain_average: what the attention pattern adds over the plain average).
  std::string toward;
  float moved = 0.0f, plain_average = 0.0f, pattern_adds = 0.0f;
  bool clear = false;  // moved ≥ threshold
  // "\"bank\" ends closer to money (0.693) than to river (0.602); attention moved it toward river by 0.105,
  // of which 0.090 the plain average also gives"; nullopt when the move is below the threshold.
  std::optional<std::string> claim;
};

// The lesson numbers for `word` (its first occurrence) in `trace`; InputError as word_shift. Needs at least
// one neighbourhood; with one, there is no margin and no claim.
LessonNumbers lesson_numbers(const Trace& trace, const Embeddings& emb, const Model& model, const std::string& word,
                             const std::vector<Neighbourhood>& neighbourhoods, int precision = 3);

// The same numbers for cosines already computed (compare's probe words): names, before, uniform, after.
LessonNumbers lesson_numbers(const std::string& word, int token, const std::vector<std::string>& names, std::vector<float> before,
                             std::vector<float> uniform, std::vector<float> after, int precision = 3);

// Each of the lesson's claims (Lesson::claims) that its numbers do not bear out, as a sentence saying what
// the lesson says and what the numbers are; empty when every claim holds. `traces` and `numbers` are one per
// sentence. attends_to holds when the listed words are the word's top keys in that head (a tie at the
// boundary, within 0.001, counts for either).
std::vector<std::string> check_claims(const Lesson& lesson, const std::vector<Trace>& traces, const std::vector<LessonNumbers>& numbers);

// The claim line for the summary: the claim, or "no clear effect: ..." naming the threshold.
std::string claim_line(const LessonNumbers& n, int precision, bool unicode);

// The summary table: per neighbourhood before, uniform, after, change and what the pattern adds; the
// sense margin (closer to which, by how much) for before, uniform and after; the claim line; a key.
std::string render_lesson_numbers(const LessonNumbers& n, const RenderOptions& options);
// What "uniform", "pattern" and "closer to / by" mean, and the claim threshold: printed once under them.
std::string render_lesson_key(const RenderOptions& options);
// check_claims's findings, one "note: the lesson says ..." paragraph each (nothing when there are none).
std::string render_claim_notes(const std::vector<std::string>& failed, const RenderOptions& options);

}  // namespace attnviz
