#include "attnviz/model.hpp"

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/tokenizer.hpp"
#include "json_util.hpp"

namespace attnviz {

namespace {

// Checked field by field: json::value throws a type error when "format" or "version" has another type.
bool is_version_2(const io::json& doc) {
  const auto field_is = [&](const char* key, const io::json& want) { return doc.is_object() && doc.contains(key) && doc[key] == want; };
  return field_is("format", "attnviz-model") && field_is("version", 2);
}

}  // namespace

bool is_language_model_file(const std::filesystem::path& path) {
  return is_version_2(io::parse_json(io::read_file(path, "model file"), path.string()));
}

Model parse_model(const std::string& text, const std::string& source) {
  const io::json doc = io::parse_json(text, source);
  if (is_version_2(doc))
    throw InputError(fmt::format("{}: a trained language model (attnviz-model version 2): use it with attnviz evaluate "
                                 "(docs/training.md); run, explain and compare read version 1 models",
                                 source));
  io::check_header(doc, "attnviz-model", source);
  io::check_fields(doc, {"format", "version", "name", "description", "origin", "d_model", "heads", "W_q", "W_k", "W_v", "W_o", "b_q", "b_k", "b_v", "b_o"},
                   source);
  Model m;
  m.name = escape_controls(io::get_nonempty_string(doc, "name", source));  // shown on the terminal
  m.description = escape_controls(io::get_string(doc, "description", source, ""));
  const std::string origin = io::get_string(doc, "origin", source, "");
  if (origin == "hand-set") m.origin = WeightsOrigin::hand_set;
  else if (origin == "trained") m.origin = WeightsOrigin::trained;
  else if (!origin.empty())
    throw InputError(fmt::format("{}: \"origin\" must be \"hand-set\" or \"trained\", not {}", source, io::quoted_key(origin)));
  m.d_model = io::get_positive_int(doc, "d_model", source);
  m.heads = io::get_positive_int(doc, "heads", source);
  const int d = m.d_model;

  // W_q fixes heads·d_k, W_v fixes heads·d_v; both must split evenly into heads.
  m.W_q = io::get_matrix(io::require(doc, "W_q", source), "W_q", d, -1, source);
  const auto qk_width = static_cast<int>(m.W_q.cols());
  if (qk_width % m.heads != 0)
    throw InputError(fmt::format("{}: \"W_q\" has {} columns, which do not split into {} heads", source, qk_width, m.heads));
  m.W_k = io::get_matrix(io::require(doc, "W_k", source), "W_k", d, qk_width, source);
  m.W_v = io::get_matrix(io::require(doc, "W_v", source), "W_v", d, -1, source);
  const auto v_width = static_cast<int>(m.W_v.cols());
  if (v_width % m.heads != 0)
    throw InputError(fmt::format("{}: \"W_v\" has {} columns, which do not split into {} heads", source, v_width, m.heads));
  m.W_o = io::get_matrix(io::require(doc, "W_o", source), "W_o", v_width, d, source);
  m.d_k = qk_width / m.heads;
  m.d_v = v_width / m.heads;

  auto bias = [&](const char* key, int size) -> Vector {
    auto it = doc.find(key);
    if (it == doc.end() || it->is_null()) return Vector::Zero(size);
    m.has_biases = true;
    return io::get_vector(*it, key, size, source);
  };
  m.b_q = bias("b_q", qk_width);
  m.b_k = bias("b_k", qk_width);
  m.b_v = bias("b_v", v_width);
  m.b_o = bias("b_o", d);
  return m;
}

Model load_model(const std::filesystem::path& path) {
  return parse_model(io::read_file(path, "model file"), path.string());
}

Model identity_model(int d_model, int heads, double gain) {
  if (d_model < 1) throw InputError("the identity model needs a positive embedding size");
  if (heads < 1 || d_model % heads != 0)
    throw InputError(fmt::format("--heads {} does not divide the embedding size {}; choose a divisor of {}", heads, d_model, d_model));
  // Four d × d matrices, checked before they are made: 10,000 dimensions would take 1.5 GiB.
  check_memory(4.0 * sizeof(float) * d_model * static_cast<double>(d_model),
               fmt::format("the identity model for {}-dimensional embeddings (four {} × {} matrices)", d_model, d_model, d_model),
               "give --model a smaller model, use embeddings with fewer dimensions, or raise --max-memory");
  Model m;
  m.name = "identity";
  m.origin = WeightsOrigin::identity;
  m.description = "every W is the identity, no biases: attention is pure similarity of the embeddings";
  m.d_model = d_model;
  m.heads = heads;
  m.d_k = m.d_v = d_model / heads;
  m.W_q = m.W_k = m.W_v = m.W_o = Matrix::Identity(d_model, d_model);
  if (!(gain > 0.0 && gain < 1e6)) throw InputError(fmt::format("--gain must be a number between 0 and 1000000 (exclusive), got {}", gain));
  m.gain = gain;
  if (gain != 1.0) {
    m.W_q *= static_cast<float>(gain);
    m.name = fmt::format("identity, gain {}", gain);
    m.description = fmt::format("W_q = {} · I, W_k = W_v = W_o = I, no biases: every score is {} times the dot product of two "
                                "embeddings", gain, gain);
  }
  m.b_q = m.b_k = m.b_v = m.b_o = Vector::Zero(d_model);
  return m;
}

}  // namespace attnviz
