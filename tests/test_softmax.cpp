// The teaching softmax (softmax.hpp): the very bits of the reference's weights on every kernel path, and the
// numbers that attnviz explain and the HTML page's hover text show.
#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "../src/backends/kernels/dispatch.hpp"
#include "attnviz/data.hpp"
#include "attnviz/explain.hpp"
#include "attnviz/html.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/softmax.hpp"
#include "attnviz/stages.hpp"
#include "support.hpp"

using namespace attnviz;

namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

// Restores the kernel path in use when the test ends.
struct PathGuard {
  const kernels::Table& saved = kernels::active();
  ~PathGuard() { kernels::use(saved); }
};

}  // namespace

TEST_CASE("Softmax: one row step by step gives the reference's weights to the bit, on every kernel path", "[softmax]") {
  const PathGuard guard;
  std::mt19937 rng(7);
  std::normal_distribution<float> score(0.0f, 4.0f);
  std::bernoulli_distribution masked(0.2);
  for (const auto* path : kernels::available()) {
    kernels::use(*path);
    for (int m : {1, 2, 3, 7, 8, 15, 16, 17, 33, 100}) {
      INFO("path " << path->name << ", m " << m);
      // Twelve rows: the reference takes them eight at a time, then the rest.
      const int rows = 12;
      std::vector<float> S(static_cast<std::size_t>(rows * m)), P(S.size());
      for (int i = 0; i < rows; ++i)
        for (int j = 0; j < m; ++j)
          S[static_cast<std::size_t>(i * m + j)] = j != i % m && masked(rng) ? -std::numeric_limits<float>::infinity() : score(rng);
      path->softmax_rows(S.data(), P.data(), m, rows, m);
      for (int i = 0; i < rows; ++i) {
        const RowSoftmax r = softmax_row(std::span<const float>(S.data() + i * m, static_cast<std::size_t>(m)));
        float sum = 0.0f;
        for (int j = 0; j < m; ++j) {
          const float s = S[static_cast<std::size_t>(i * m + j)];
          CHECK(s <= r.max);
          if (std::isinf(s)) CHECK(r.exps[static_cast<std::size_t>(j)] == 0.0f);
          sum += r.exps[static_cast<std::size_t>(j)];
          if (!same_bits(r.p[static_cast<std::size_t>(j)], P[static_cast<std::size_t>(i * m + j)]))
            FAIL_CHECK("row " << i << ", key " << j << ": " << r.p[static_cast<std::size_t>(j)] << " against the reference's "
                              << P[static_cast<std::size_t>(i * m + j)]);
        }
        CHECK(same_bits(r.sum, sum));
        CHECK(same_bits(S[static_cast<std::size_t>(i * m + r.argmax)], r.max));
      }
    }
  }
}

TEST_CASE("Softmax: explain and the page's hover text show the trace's own numbers", "[softmax][html][explain]") {
  const Embeddings emb = resolve_embeddings("toy", test::data_dir().string());
  const Model model = resolve_model("toy", emb.dim, 0, test::data_dir().string());
  PipelineOptions options;
  options.attention.causal = true;
  const Trace trace = run_attention(emb, model, "mickey mouse is a cartoon character by walt disney", options);
  const Stage* S_scaled = trace.find(stage_name::scaled_scores, 0);
  const Stage* P = trace.find(stage_name::weights, 0);
  const std::string page = render_html(trace, HtmlOptions{});
  for (int i : {1, 5, 8}) {
    std::vector<float> row;
    for (Eigen::Index j = 0; j < S_scaled->data.cols(); ++j) row.push_back(S_scaled->data(i, j));
    const RowSoftmax r = softmax_row(row);
    const CellExplanation e = explain_cell(trace, 0, i, 0);
    CHECK(same_bits(e.row_max, r.max));
    CHECK(same_bits(e.row_sum, r.sum));
    for (std::size_t j = 0; j < row.size(); ++j) {
      INFO("row " << i << ", key " << j);
      CHECK(same_bits(r.p[j], P->data(i, static_cast<Eigen::Index>(j))));
      CHECK(same_bits(e.exp_row[j], r.exps[j]));
      CHECK(same_bits(e.weight_row[j], r.p[j]));
    }
    // The page's hover text of cell (i, 0) and of row i.
    CHECK(page.find(fmt::format("= {} / {} = {}", r.exps[0], r.sum, r.p[0])) != std::string::npos);
    CHECK(page.find(fmt::format("Σ = {}: the sum of exp(S&#39;[{}][k] − max) over the row", r.sum, i)) != std::string::npos);
  }
}
