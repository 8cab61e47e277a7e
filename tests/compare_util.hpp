// Element-by-element comparison of a backend's stages with the Eigen reference (docs/architecture.md): absolute +
// relative tolerance, masked cells (−∞ in the reference) skipped, the first mismatches printed. Also the
// random inputs the backend tests share (random matrices, models and attention inputs, seeded).
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "attnviz/attention.hpp"
#include "attnviz/matrix.hpp"
#include "attnviz/model.hpp"
#include "attnviz/trace.hpp"

namespace attnviz::test {

// rows × cols, each entry drawn from N(0, stddev²).
inline Matrix random_matrix(int rows, int cols, std::mt19937& rng, float stddev = 1.0f) {
  std::normal_distribution<float> dist(0.0f, stddev);
  Matrix M(rows, cols);
  for (Eigen::Index i = 0; i < M.size(); ++i) M.data()[i] = dist(rng);
  return M;
}

// A model of H heads with random weights (N(0, 1/d), so Q, K, V stay of the embeddings' size) and random
// biases, so every index of every stage matters. W_q, W_k: d × H·d_k; W_v: d × H·d_v; W_o: H·d_v × d.
inline Model random_model(int d, int H, int d_k, int d_v, std::mt19937& rng) {
  Model m;
  m.name = "random";
  m.d_model = d;
  m.heads = H;
  m.d_k = d_k;
  m.d_v = d_v;
  const float s = 1.0f / std::sqrt(static_cast<float>(d));
  m.W_q = random_matrix(d, H * d_k, rng, s);
  m.W_k = random_matrix(d, H * d_k, rng, s);
  m.W_v = random_matrix(d, H * d_v, rng, s);
  m.W_o = random_matrix(H * d_v, d, rng, s);
  m.b_q = random_matrix(1, H * d_k, rng, 0.1f);
  m.b_k = random_matrix(1, H * d_k, rng, 0.1f);
  m.b_v = random_matrix(1, H * d_v, rng, 0.1f);
  m.b_o = random_matrix(1, d, rng, 0.1f);
  m.has_biases = true;
  return m;
}

// The backend input for queries X (n × d) and keys/values X_kv (m × d), labelled q0…, k0…, d0….
inline AttentionInput input_of(Matrix X, Matrix X_kv) {
  AttentionInput in;
  in.X = std::move(X);
  in.X_kv = std::move(X_kv);
  for (Eigen::Index i = 0; i < in.X.rows(); ++i) in.query_tokens.push_back("q" + std::to_string(i));
  for (Eigen::Index i = 0; i < in.X_kv.rows(); ++i) in.key_tokens.push_back("k" + std::to_string(i));
  for (Eigen::Index c = 0; c < in.X.cols(); ++c) in.dim_labels.push_back("d" + std::to_string(c));
  return in;
}

// n random queries and m random keys of width d; self-attention (X_kv = X) when m == n.
inline AttentionInput random_input(int n, int m, int d, std::mt19937& rng) {
  Matrix X = random_matrix(n, d, rng);
  Matrix X_kv = m == n ? X : random_matrix(m, d, rng);
  return input_of(std::move(X), std::move(X_kv));
}

// Whether this build has the backend `name` (the CUDA ones only in CUDA builds).
inline bool compiled_in(const std::string& name) {
  const auto names = backend_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Why the GPU backend `name` cannot run here (not compiled in, or no usable device), or nullopt when it can.
inline std::optional<std::string> gpu_unavailable(const std::string& name) {
  if (!compiled_in(name)) return "this build has no CUDA backends (ATTNVIZ_CUDA found no nvcc, or was OFF)";
  std::mt19937 rng(1);
  return make_backend(name)->unsupported(random_model(4, 1, 4, 4, rng), random_input(2, 2, 4, rng), AttentionOptions{});
}

// The stage of that name and head; std::logic_error when there is none.
inline const Stage& stage_of(const std::vector<Stage>& stages, const std::string& name, std::optional<int> head) {
  for (const auto& s : stages)
    if (s.name == name && s.head == head) return s;
  throw std::logic_error("no stage " + name);
}

struct Tolerance {
  float abs = 1e-5f;
  float rel = 1e-4f;
};

struct Comparison {
  long long checked = 0;         // cells compared
  long long skipped = 0;         // masked cells (−∞ in the reference, and in the result)
  long long mismatches = 0;
  std::vector<std::string> first;  // the first mismatches, "[row][col] got … want …"
  bool ok() const { return mismatches == 0; }
};

// |got − want| ≤ abs + rel · |want| for every cell; a −∞ reference cell must be −∞ in `got` and is not
// compared further; NaN anywhere is a mismatch. A shape difference is one mismatch.
inline Comparison compare_matrices(const Matrix& got, const Matrix& want, Tolerance tol = {}, std::size_t max_listed = 5) {
  Comparison c;
  if (got.rows() != want.rows() || got.cols() != want.cols()) {
    c.mismatches = 1;
    c.first.push_back(fmt::format("shape {} × {}, want {} × {}", got.rows(), got.cols(), want.rows(), want.cols()));
    return c;
  }
  for (Eigen::Index i = 0; i < want.rows(); ++i)
    for (Eigen::Index j = 0; j < want.cols(); ++j) {
      const float g = got(i, j), w = want(i, j);
      bool bad;
      if (std::isinf(w) && w < 0) {
        bad = !(std::isinf(g) && g < 0);
        if (!bad) {
          ++c.skipped;
          continue;
        }
      } else {
        bad = !(std::fabs(g - w) <= tol.abs + tol.rel * std::fabs(w));  // NaN compares false: a mismatch
      }
      ++c.checked;
      if (!bad) continue;
      ++c.mismatches;
      if (c.first.size() < max_listed) c.first.push_back(fmt::format("[{}][{}] got {:.9g} want {:.9g}", i, j, g, w));
    }
  return c;
}

// Every stage of `got` against the stage of the same name and head in `want` (stages `got` lacks, like the
// n × n ones of a flash backend, are not compared). Empty when all match; otherwise one line per
// mismatching stage with its first mismatches, to print.
inline std::string compare_traces(const std::vector<Stage>& got, const std::vector<Stage>& want, Tolerance tol = {}) {
  std::string report;
  for (const Stage& g : got) {
    const Stage* w = nullptr;
    for (const Stage& s : want)
      if (s.name == g.name && s.head == g.head) w = &s;
    const std::string name = g.head ? fmt::format("{} (head {})", g.name, *g.head) : g.name;
    if (!w) {
      report += fmt::format("{}: not in the reference\n", name);
      continue;
    }
    const Comparison c = compare_matrices(g.data, w->data, tol);
    if (c.ok()) continue;
    report += fmt::format("{}: {} of {} cells differ:", name, c.mismatches, c.checked);
    for (const auto& m : c.first) report += " " + m + ";";
    report += "\n";
  }
  return report;
}

}  // namespace attnviz::test
