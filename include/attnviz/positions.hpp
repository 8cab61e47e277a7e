// Positional encodings: what --positions adds to the embeddings before attention.
#pragma once

#include <string>

#include "attnviz/attention.hpp"
#include "attnviz/matrix.hpp"
#include "attnviz/trace.hpp"

namespace attnviz {

// The sinusoidal positional encoding of "Attention Is All You Need": n × d,
// PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).
Matrix sinusoidal_positions(int n, int d);

// InputError unless `kind` is a --positions value: "none" or "sinusoidal".
void check_positions(const std::string& kind);

// Adds the positions of `kind` to in.X (and, with a context, to in.X_kv, counted from 0 again). With
// "sinusoidal", first appends the stages token_embeddings (E) and positional_encoding (PE) to `trace`, so the
// reader sees both parts of X = E + PE.
void add_positions(const std::string& kind, AttentionInput& in, bool cross, Trace& trace);

}  // namespace attnviz
