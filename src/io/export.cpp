#include "attnviz/export.hpp"


#include <cmath>
#include <cstdlib>


#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/output_file.hpp"
#include "attnviz/version.hpp"

namespace attnviz {

using ojson = nlohmann::ordered_json;

ojson float_json(float value) {
  if (!std::isfinite(value)) return nullptr;
  // fmt prints the shortest decimal that round-trips the float; reading it as a double keeps those digits,
  // and the JSON writer prints the shortest round-trip of that double, which is the same text.
  const std::string text = fmt::format("{}", value);
  return std::strtod(text.c_str(), nullptr);
}

ojson matrix_json(const Matrix& m) {
  ojson rows = ojson::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    ojson row = ojson::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j) row.push_back(float_json(m(i, j)));
    rows.push_back(std::move(row));
  }
  return rows;
}

namespace {

bool is_flat_array(const ojson& v) {
  if (!v.is_array()) return false;
  for (const auto& e : v)
    if (e.is_array() || e.is_object()) return false;
  return true;
}

void pretty(const ojson& v, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  if (v.is_object() && !v.empty()) {
    out += "{\n";
    std::size_t i = 0;
    for (const auto& [key, value] : v.items()) {
      out += pad + ojson(key).dump() + ": ";
      pretty(value, indent + 2, out);
      out += ++i < v.size() ? ",\n" : "\n";
    }
    out += std::string(static_cast<std::size_t>(indent), ' ') + "}";
  } else if (v.is_array() && !v.empty() && !is_flat_array(v)) {
    out += "[\n";
    for (std::size_t i = 0; i < v.size(); ++i) {
      out += pad;
      pretty(v[i], indent + 2, out);
      out += i + 1 < v.size() ? ",\n" : "\n";
    }
    out += std::string(static_cast<std::size_t>(indent), ' ') + "]";
  } else if (v.is_array()) {
    // A flat array (a matrix row, a label list) on one line.
    out += "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i].dump(-1, ' ', false, ojson::error_handler_t::replace);
    out += "]";
  } else {
    out += v.dump(-1, ' ', false, ojson::error_handler_t::replace);
  }
}

}  // namespace

std::string to_pretty_json(const ojson& doc) {
  std::string out;
  pretty(doc, 0, out);
  out += "\n";
  return out;
}

ojson trace_to_json(const Trace& trace) {
  const TraceConfig& c = trace.config;
  ojson config = {{"embeddings", c.embeddings}, {"model", c.model},   {"backend", c.backend},
                  {"heads", c.heads},           {"d_model", c.d_model}, {"d_k", c.d_k},
                  {"d_v", c.d_v},               {"scale", float_json(c.scale)},
                  {"temperature", float_json(c.temperature)},
                  {"causal", c.causal},         {"custom_mask", c.custom_mask}, {"positions", c.positions}};
  if (c.exclude_self) config["exclude_self"] = true;
  if (c.context) config["context"] = *c.context;
  if (c.layers > 0) {
    config["layer"] = c.layer;
    config["layers"] = c.layers;
  }

  ojson doc = {{"format", "attnviz-trace"},
               {"version", 1},
               {"generator", {{"name", "attnviz"}, {"version", kVersion}}},
               {"input", {{"sentence", trace.sentence}}},
               {"tokens", trace.tokens}};
  if (c.context) doc["input"]["context"] = *c.context;
  if (!trace.context_tokens.empty()) doc["context_tokens"] = trace.context_tokens;
  doc["config"] = std::move(config);
  if (!trace.notes.empty()) doc["notes"] = trace.notes;

  ojson stages = ojson::array();
  for (const Stage& s : trace.stages) {
    stages.push_back({{"name", s.name},
                      {"symbol", s.symbol},
                      {"head", s.head ? ojson(*s.head) : ojson(nullptr)},
                      {"shape", {s.data.rows(), s.data.cols()}},
                      {"row_axis", s.row_axis},
                      {"col_axis", s.col_axis},
                      {"row_labels", s.row_labels},
                      {"col_labels", s.col_labels},
                      {"data", matrix_json(s.data)}});
  }
  doc["stages"] = std::move(stages);
  return doc;
}

void write_output(const std::string& path, const std::string& content) { write_output_file(path, content); }

}  // namespace attnviz
