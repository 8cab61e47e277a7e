#include "attnviz/limits.hpp"

#include <cmath>
#include <functional>
#include <optional>
#include <limits>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/stages.hpp"

namespace attnviz {

std::optional<std::string> temperature_problem(double t) {
  if (!std::isfinite(t) || !(t > 0.0)) return fmt::format("must be a finite number > 0, got {}", t);
  if (t < std::numeric_limits<float>::min() || t > std::numeric_limits<float>::max())
    return fmt::format("{} is outside the float32 range the computation uses ({} to {})", t, std::numeric_limits<float>::min(),
                       std::numeric_limits<float>::max());
  return std::nullopt;
}

float checked_temperature(double t) {
  if (const auto why = temperature_problem(t)) throw InputError("--temperature " + *why);
  return static_cast<float>(t);
}

void check_mask(const AttentionOptions& options, long n, long m, const std::string& source, const std::vector<std::string>& queries,
                bool cross) {
  const auto& mask = options.mask;
  if (!mask) return;
  if (mask->rows() != n || mask->cols() != m)
    throw InputError(cross ? fmt::format("{} is {} × {} but the sentence has {} tokens and the context {} ({} × {} needed: "
                                         "a row per sentence token, a column per context token)",
                                         source, mask->rows(), mask->cols(), n, m, n, m)
                           : fmt::format("{} is {} × {} but the sentence has {} tokens ({} × {} needed)", source,
                                         mask->rows(), mask->cols(), n, n, n));
  for (Eigen::Index i = 0; i < n; ++i) {
    bool any = false;
    for (Eigen::Index j = 0; j < m; ++j) any = any || ((*mask)(i, j) != 0.0f && !(options.causal && j > i));
    if (!any)
      throw InputError(fmt::format("{}{} every key of row {}{}, so its softmax would be 0/0; "
                                   "allow at least one key (a 1{}) in every row",
                                   source, options.causal ? " with --causal masks" : " masks", i,
                                   static_cast<std::size_t>(i) < queries.size()
                                       ? fmt::format(" (query '{}')", queries[static_cast<std::size_t>(i)]) : "",
                                   options.causal ? " at or left of the diagonal" : ""));
  }
}

// float32 can overflow with extreme inputs or a tiny temperature: +inf − +inf in the softmax is NaN. Refuse
// rather than print NaN. A −inf is legitimate only in a masked cell of scaled_scores: the trace, its export
// (null) and explain read −inf there as "masked", so an unmasked score that overflowed to −inf is refused too.
namespace {

const Stage* stage_of(const std::vector<Stage>& stages, std::string_view name, std::optional<int> head) {
  for (const Stage& s : stages)
    if (s.name == name && s.head == head) return &s;
  return nullptr;
}

std::string too_large(const AttentionOptions& options, bool scaled) {
  return scaled ? fmt::format(" for --temperature {}{}: use a larger temperature", options.temperature, options.scale ? "" : " with --no-scale")
                : ": scale the embeddings or the weights down";
}

// A backend that keeps no scores (flash) only sees their overflow later, as NaN in the context. The scores
// and scaled scores of `head` are recomputed from its queries and keys, a row at a time, and the first
// cell that overflows is named as the standard backend names it, so the two backends give one answer and
// the real cause (the inputs, or the temperature).
void check_unkept_scores(const std::vector<Stage>& stages, int head, const AttentionOptions& options,
                         const std::function<bool(Eigen::Index, Eigen::Index)>& masked) {
  const Stage* q = stage_of(stages, stage_name::queries, head);
  const Stage* k = stage_of(stages, stage_name::keys, head);
  if (!q || !k || stage_of(stages, stage_name::scores, head)) return;
  const float factor = score_factor(options, static_cast<int>(q->data.cols()));
  Vector row(k->data.rows());
  for (int pass = 0; pass < 2; ++pass)  // the scores first, as the standard backend checks its stages in order
    for (Eigen::Index i = 0; i < q->data.rows(); ++i) {
      row.noalias() = k->data * q->data.row(i).transpose();
      for (Eigen::Index j = 0; j < row.size(); ++j) {
        const float v = pass == 0 ? row(j) : row(j) * factor;
        if (std::isfinite(v) || (pass == 1 && masked(i, j))) continue;
        throw InputError(fmt::format("the {} stage of head {} overflows float32 (row {}, column {}); the inputs are too large{}",
                                     pass == 0 ? stage_name::scores : stage_name::scaled_scores, head + 1, i, j, too_large(options, pass == 1)));
      }
    }
}

}  // namespace

void check_finite(const std::vector<Stage>& stages, const AttentionOptions& options) {
  const AttentionOptions& a = options;
  auto masked = [&](Eigen::Index i, Eigen::Index j) { return (a.causal && j > i) || (a.mask && (*a.mask)(i, j) == 0.0f); };
  for (const Stage& s : stages) {
    if (s.head && !s.data.allFinite()) check_unkept_scores(stages, *s.head, options, masked);
    const bool may_be_minus_inf = s.name == stage_name::scaled_scores;
    for (Eigen::Index i = 0; i < s.data.rows(); ++i)
      for (Eigen::Index j = 0; j < s.data.cols(); ++j) {
        const float v = s.data(i, j);
        if (std::isfinite(v) || (may_be_minus_inf && v < 0.0f && masked(i, j))) continue;
        throw InputError(fmt::format(
            "the {} stage{} overflows float32 (row {}, column {}); the inputs are too large{}",
            s.name, s.head ? fmt::format(" of head {}", *s.head + 1) : "", i, j,
            too_large(options, s.name == stage_name::scaled_scores || s.name == stage_name::weights)));
      }
  }
}


std::string format_bytes(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} bytes", bytes) : fmt::format("{:.3g} {}", bytes, units[u]);
}

namespace {
double budget = 2.0 * 1024 * 1024 * 1024;  // --max-memory's default
}

double memory_budget() { return budget; }

void set_memory_budget(double bytes) { budget = bytes; }

void check_memory(double bytes, const std::string& what, const std::string& hint) {
  if (bytes <= budget) return;
  throw InputError(fmt::format("{} needs about {}, more than --max-memory allows ({}){}", what, format_bytes(bytes), format_bytes(budget),
                               hint.empty() ? "" : "\nhint: " + hint));
}

void check_attention_memory(const Backend& backend, double n, double m, int heads, double max_memory_bytes,
                            double output_bytes_per_cell, const std::string& outputs_named, const std::string& shorter,
                            double held_bytes, const std::string& held_what) {
  if (!backend.stores_attention_matrices()) return;
  // Three n × m float32 stages per head are kept (scores, scaled scores, weights), and each cell may be
  // written out too; they are held beside what the run already holds (held_bytes): the sum is compared
  // with the budget, not each part alone.
  const double cells = 3.0 * n * m * heads;
  const double bytes = cells * (sizeof(float) + output_bytes_per_cell);
  if (bytes + held_bytes > max_memory_bytes)
    throw InputError(fmt::format("{} × {} tokens ({} head{}) need about {} for the {} backend's n × n matrices{}{}, more than "
                                 "--max-memory allows ({})\n"
                                 "hint: use --backend flash, which never stores them, or {}, or raise --max-memory",
                                 n, m, heads, heads == 1 ? "" : "s", format_bytes(bytes), backend.name(),
                                 output_bytes_per_cell > 0 && !outputs_named.empty() ? " and " + outputs_named : "",
                                 held_bytes > 0 ? fmt::format(", and {} for {} beside them ({} in all)", format_bytes(held_bytes), held_what,
                                                              format_bytes(bytes + held_bytes))
                                                : "",
                                 format_bytes(max_memory_bytes), shorter));
}

double token_matrices_bytes(double n, double m, double d_model) { return (5.0 * n + 3.0 * m) * d_model * sizeof(float); }

void check_token_memory(double n, double m, double d_model, double max_memory_bytes, double held_bytes, const std::string& held_what) {
  const double bytes = token_matrices_bytes(n, m, d_model);
  if (bytes + held_bytes <= max_memory_bytes) return;
  throw InputError(fmt::format("{} tokens{} of {} dimensions need about {} for the n × d matrices (embeddings, queries, keys, values, "
                               "outputs){}, more than --max-memory allows ({})\nhint: use a shorter sentence, or raise --max-memory",
                               n, m != n ? fmt::format(" (and {} of context)", m) : "", d_model, format_bytes(bytes),
                               held_bytes > 0 ? fmt::format(", and {} for {} beside them ({} in all)", format_bytes(held_bytes), held_what,
                                                            format_bytes(bytes + held_bytes))
                                              : "",
                               format_bytes(max_memory_bytes)));
}

}  // namespace attnviz
