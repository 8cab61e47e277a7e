// The stage catalogue: the JSON Schema's copy (what the Python tools read) agrees with it, and every stage
// of a real trace is labelled as its entry says, on every backend.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "attnviz/attention.hpp"
#include "attnviz/data.hpp"
#include "attnviz/narration.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/report.hpp"
#include "attnviz/stages.hpp"
#include "attnviz/train.hpp"
#include "support.hpp"

using namespace attnviz;

namespace {

std::string_view rows_name(RowTokens r) { return r == RowTokens::queries ? "queries" : "keys"; }

std::string_view columns_name(Columns c) {
  switch (c) {
    case Columns::dimensions: return "dimensions";
    case Columns::numbered: return "numbered";
    case Columns::keys: return "keys";
    case Columns::heads: return "heads";
    case Columns::words: return "words";
  }
  return "";
}

Eigen::Index width_of(std::string_view width, const TraceConfig& c, Eigen::Index m) {
  if (width == "d_model") return c.d_model;
  if (width == "d_k") return c.d_k;
  if (width == "d_v") return c.d_v;
  if (width == "m") return m;
  if (width == "heads*d_v") return static_cast<Eigen::Index>(c.heads) * c.d_v;
  FAIL("unknown width " << width);
  return -1;
}

// One stage of trace `t` (n queries, m keys) labelled as its catalogue entry says.
void check_labels(const Stage& s, const Trace& t, Eigen::Index n, Eigen::Index m) {
  const StageInfo* info = find_stage_info(s.name);
  REQUIRE(info != nullptr);
  const auto& keys = t.context_tokens.empty() ? t.tokens : t.context_tokens;
  CHECK(s.symbol == info->symbol);
  CHECK(s.head.has_value() == info->per_head);
  CHECK(s.row_axis == info->row_axis());
  CHECK(s.col_axis == info->col_axis());
  CHECK(s.row_labels == (info->rows == RowTokens::queries ? t.tokens : keys));
  CHECK(s.data.rows() == (info->rows == RowTokens::queries ? n : m));
  if (info->columns != Columns::words) CHECK(s.data.cols() == width_of(info->width, t.config, m));
  CHECK(s.col_labels.size() == static_cast<std::size_t>(s.data.cols()));
  if (info->columns == Columns::numbered) CHECK(s.col_labels.back() == fmt::format("{}{}", info->column_prefix, s.data.cols() - 1));
  if (info->columns == Columns::heads)
    CHECK(s.col_labels.back() == fmt::format("h{}.{}{}", t.config.heads, info->column_prefix, t.config.d_v - 1));
  if (info->columns == Columns::keys) CHECK(s.col_labels == keys);
}

}  // namespace

TEST_CASE("Stages: the schema's catalogue is the code's, in order", "[stages]") {
  std::ifstream in(test::source_dir() / "docs" / "schema" / "attnviz-trace.schema.json");
  const auto schema = nlohmann::json::parse(in);
  const auto& name = schema["$defs"]["stage"]["properties"]["name"];
  const auto& listed = name["x-attnviz-catalogue"]["stages"];
  const auto& catalogue = stage_catalogue();
  REQUIRE(listed.size() == catalogue.size());
  REQUIRE(name["enum"].size() == catalogue.size());
  for (std::size_t i = 0; i < catalogue.size(); ++i) {
    const StageInfo& s = catalogue[i];
    INFO(s.name);
    CHECK(name["enum"][i] == s.name);
    CHECK(listed[i]["name"] == s.name);
    CHECK(listed[i]["symbol"] == s.symbol);
    CHECK(listed[i]["per_head"] == s.per_head);
    CHECK(listed[i]["rows"] == rows_name(s.rows));
    CHECK(listed[i]["columns"] == columns_name(s.columns));
    CHECK(listed[i]["width"] == s.width);
    CHECK_FALSE(s.formula.empty());
    CHECK_FALSE(narration(s.name).empty());
  }
  // --stages takes "tokens" and every stage of the catalogue, each with its paragraph.
  CHECK(report_stage_names().size() == catalogue.size() + 1);
  for (const auto& n : report_stage_names()) CHECK_FALSE(narration(n).empty());
}

TEST_CASE("Stages: every stage of a trace is labelled as the catalogue says, on every backend", "[stages]") {
  const Embeddings emb = resolve_embeddings("toy", test::data_dir().string());
  const Model model = resolve_model("identity", emb.dim, 2, test::data_dir().string());
  for (const auto& backend : backend_names()) {
    if (backend.starts_with("cuda")) continue;  // no GPU in the test runs; test_cuda covers them
    PipelineOptions options;
    options.backend = backend;
    options.positions = "sinusoidal";
    options.context = "a computer mouse";  // cross-attention: m differs from n
    const Trace t = run_attention(emb, model, "the cat chased the mouse", options);
    const auto n = static_cast<Eigen::Index>(t.tokens.size()), m = static_cast<Eigen::Index>(t.context_tokens.size());
    std::size_t count = 0;
    for (const Stage& s : t.stages) {
      INFO(backend << " " << s.name);
      check_labels(s, t, n, m);
      ++count;
    }
    // Every stage once (per head twice), the attention matrices only where the backend keeps them.
    const bool keeps = make_backend(backend)->stores_attention_matrices();
    CHECK(count == 4 + 2 * (keeps ? 7 : 4) + 2);
  }
}

TEST_CASE("Stages: a trained model's trace is labelled as the catalogue says, on every backend", "[stages][lm_trace]") {
  const std::string dir = test::data_dir().string();
  for (int layer : {0, 1}) {
    const Model model = resolve_model("wordnet-lm", 0, 0, dir, layer);
    for (const auto& backend : backend_names()) {
      if (backend.starts_with("cuda")) continue;
      PipelineOptions options;
      options.backend = backend;
      const Trace t = run_attention(model.language_model->emb, model, "the computer mouse and the keyboard", options);
      const auto n = static_cast<Eigen::Index>(t.tokens.size());
      std::set<std::string> names;
      for (const Stage& s : t.stages) {
        INFO(backend << " layer " << layer + 1 << " " << s.name);
        check_labels(s, t, n, n);
        names.insert(s.name);
      }
      // The stages a trained model adds: layer 2 reads the residual stream, the last layer predicts.
      for (const char* name : {"position_embeddings", "layer_norm", "residual"}) CHECK(names.count(name) == 1);
      CHECK(names.count("layer_input") == static_cast<std::size_t>(layer));
      CHECK(names.count("predictions") == static_cast<std::size_t>(layer));
      CHECK(names.count("weights") == (make_backend(backend)->stores_attention_matrices() ? 1u : 0u));
    }
  }
}
