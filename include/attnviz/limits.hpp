// The checks of a run's inputs and sizes, each once: the temperature, the mask against the tokens, the memory
// the n × m stages and what grows with the input would take, and float32 overflow in the results.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attnviz/attention.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

// Memory one n × m cell costs beyond its float32 when it is also written out, measured on `attnviz run` with
// 2000 tokens (docs/reliability.md), rounded up: as JSON (the document tree and its text), as terminal
// tables (text with colour escapes).
inline constexpr double kJsonBytesPerCell = 40;
inline constexpr double kTableBytesPerCell = 64;

// "512 KiB", "1.5 GiB": a size for messages.
std::string format_bytes(double bytes);

// What is wrong with a temperature as typed, to follow its name in a message ("must be a finite number > 0,
// got 0", "1e-50 is outside the float32 range …"); nothing when it is finite, > 0 and within float32's range.
std::optional<std::string> temperature_problem(double t);
// --temperature as typed (a double, so a message shows the user's value, not its float32 rounding): the
// float32 the computation uses; InputError "--temperature " + temperature_problem otherwise.
float checked_temperature(double t);

// The one check of a mask (options.mask; nothing to check without one) against n queries and m keys: its
// shape, and no query row left without a key (its softmax would be 0/0). Messages name the mask by `source`
// ("--mask FILE") and, when `queries` are given, the query's token; `cross` words the shape for a context.
void check_mask(const AttentionOptions& options, long n, long m, const std::string& source = "the mask",
                const std::vector<std::string>& queries = {}, bool cross = false);

// InputError when `backend` would store n × m matrices (scores, scaled scores, weights, per head) that, with
// `output_bytes_per_cell` more for each cell written out (`outputs_named`) and the `held_bytes` the run holds
// beside them (`held_what`: the n × d matrices, bench's weights), exceed `max_memory_bytes`: the budget
// holds for the sum. Suggests --backend flash, `shorter` or --max-memory. Called before anything n × m is
// allocated.
void check_attention_memory(const Backend& backend, double n, double m, int heads, double max_memory_bytes,
                            double output_bytes_per_cell = 0, const std::string& outputs_named = "",
                            const std::string& shorter = "a shorter sentence", double held_bytes = 0,
                            const std::string& held_what = "");

// Bytes of the n × d matrices a run holds whatever its backend, for n sentence tokens, m keys (m = n without
// --context) and d_model dimensions: five n × d (the embeddings stage, X, the queries, the heads' outputs,
// the output) and three m × d (the keys' input, the keys, the values), float32. bench counts the same.
double token_matrices_bytes(double n, double m, double d_model);

// InputError when token_matrices_bytes, with the `held_bytes` already held (`held_what`: the loaded
// embeddings and model), exceed `max_memory_bytes` (hint: a shorter sentence). Called once the tokens are
// known, before any n × d matrix is made.
void check_token_memory(double n, double m, double d_model, double max_memory_bytes, double held_bytes = 0,
                        const std::string& held_what = "");

// The memory budget of --max-memory for everything that grows with the input: files read whole (models,
// masks, lessons), the vectors kept from an embeddings file, the identity model, the pieces --unknown
// subword looks up, the traces compare keeps. Each is checked before it is allocated (docs/reliability.md).
// The budget is one per process, as a ulimit is: the command line sets it once from --max-memory before
// any file is read, and every loader reads it (2 GiB unless set).
double memory_budget();
void set_memory_budget(double bytes);

// InputError when `bytes` exceed the budget: "WHAT needs about X, more than --max-memory allows (Y)", then
// "hint: HINT" on its own line when a hint is given.
void check_memory(double bytes, const std::string& what, const std::string& hint = "");

// InputError when a stage overflowed float32 (a −inf is allowed only in a masked cell of scaled_scores).
void check_finite(const std::vector<Stage>& stages, const AttentionOptions& options);

}  // namespace attnviz
