#include "attnviz/positions.hpp"

#include <cmath>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/stages.hpp"

namespace attnviz {

Matrix sinusoidal_positions(int n, int d) {
  Matrix PE(n, d);  // n × d
  for (int p = 0; p < n; ++p)
    for (int c = 0; c < d; ++c) {
      // Pairs of columns (2i, 2i+1) share one frequency 1 / 10000^(2i/d).
      const double angle = p / std::pow(10000.0, static_cast<double>(c - c % 2) / d);
      PE(p, c) = static_cast<float>(c % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  return PE;
}

void check_positions(const std::string& kind) {
  if (kind != "none" && kind != "sinusoidal")
    throw InputError(fmt::format("--positions must be 'none' or 'sinusoidal', got '{}'", kind));
}

void add_positions(const std::string& kind, AttentionInput& in, bool cross, Trace& trace) {
  check_positions(kind);
  if (kind != "sinusoidal") return;
  const auto d = static_cast<int>(in.X.cols());
  // E, then PE, then X = E + PE: the reader sees both parts of the sum (docs/math.md: `embeddings` includes PE).
  Matrix PE = sinusoidal_positions(static_cast<int>(in.X.rows()), d);  // n × d
  trace.stages.push_back(make_embedding_stage(stage_name::token_embeddings, in.query_tokens, in.dim_labels, in.X));
  trace.stages.push_back(make_embedding_stage(stage_name::positional_encoding, in.query_tokens, in.dim_labels, PE));
  in.X += PE;
  // The context has positions of its own, counted from 0.
  if (cross) in.X_kv += sinusoidal_positions(static_cast<int>(in.X_kv.rows()), d);
}

}  // namespace attnviz
