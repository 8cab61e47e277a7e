// The "attnviz-model" version 2 file: a trained language model (docs/formats.md).
#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/export.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/lm.hpp"
#include "attnviz/tokenizer.hpp"
#include "../io/json_util.hpp"

namespace attnviz {

namespace {

using ojson = nlohmann::ordered_json;

ojson tensor_json(const std::vector<float>& params, const LmTensor& t) {
  const Eigen::Map<const Matrix> m(params.data() + t.offset, t.rows, t.cols);
  if (t.rows == 1) return matrix_json(m)[0];  // a vector: one flat array
  return matrix_json(m);
}

ojson body_json(const LanguageModel& m) {
  const LmConfig& c = m.config;
  ojson doc;
  doc["name"] = m.name;
  doc["description"] = m.description;
  doc["embeddings"] = m.embeddings;
  doc["vocabulary_size"] = c.vocab;
  doc["d_model"] = c.d_model;
  doc["layers"] = c.layers;
  doc["heads"] = c.heads;
  doc["d_k"] = c.d_k;
  doc["mlp"] = c.mlp;
  doc["max_len"] = c.max_len;
  doc["mixing"] = mixing_name(c.mixing);
  doc["training"] = m.training;
  const LmLayout lay(c);
  ojson blocks = ojson::array();
  for (int l = 0; l < c.layers; ++l) blocks.push_back(ojson::object());
  ojson tail = ojson::object();
  for (const LmTensor& t : lay.tensors) {
    if (t.size() == 0) continue;
    if (t.layer >= 0) blocks[static_cast<std::size_t>(t.layer)][t.name] = tensor_json(m.params, t);
    else if (t.name == "positions") doc["positions"] = tensor_json(m.params, t);
    else tail[t.name] = tensor_json(m.params, t);
  }
  doc["blocks"] = std::move(blocks);
  for (const auto& [k, v] : tail.items()) doc[k] = v;
  return doc;
}

int get_int(const ojson& doc, const std::string& key, const std::string& source, int min) {
  const ojson& v = io::require(doc, key, source);
  if (!v.is_number_integer() || v.get<long long>() < min || v.get<long long>() > 1'000'000)
    throw InputError(fmt::format("{}: field \"{}\" must be an integer from {} to 1000000", source, key, min));
  return v.get<int>();
}

// `held`: the bytes already held (the text, its parse, the weights parsed before); the weights this body
// declares are counted on top, against --max-memory, before they are allocated.
LanguageModel parse_body(const ojson& doc, const std::string& source, bool top, double& held) {
  if (!doc.is_object()) throw InputError(fmt::format("{}: a language model must be a JSON object", source));
  // The fields docs/schema/attnviz-model.schema.json allows (version 2 and its baselines).
  if (top)
    io::check_fields(doc, {"format", "version", "baselines", "name", "description", "embeddings", "vocabulary_size", "d_model", "layers",
                           "heads", "d_k", "mlp", "max_len", "mixing", "training", "positions", "blocks", "ln_f_gain", "ln_f_bias", "output_bias"},
                     source);
  else
    io::check_fields(doc, {"name", "description", "embeddings", "vocabulary_size", "d_model", "layers", "heads", "d_k", "mlp", "max_len",
                           "mixing", "training", "positions", "blocks", "ln_f_gain", "ln_f_bias", "output_bias"},
                     source);
  LanguageModel m;
  m.name = escape_controls(io::get_nonempty_string(doc, "name", source));  // shown on the terminal
  m.description = escape_controls(io::get_string(doc, "description", source, ""));
  m.embeddings = io::get_nonempty_string(doc, "embeddings", source);
  LmConfig& c = m.config;
  c.vocab = get_int(doc, "vocabulary_size", source, 2);
  c.d_model = get_int(doc, "d_model", source, 1);
  c.layers = get_int(doc, "layers", source, 0);
  c.heads = get_int(doc, "heads", source, 1);
  c.d_k = get_int(doc, "d_k", source, 1);
  c.mlp = get_int(doc, "mlp", source, 0);
  c.max_len = get_int(doc, "max_len", source, 2);
  try {
    c.mixing = parse_mixing(io::get_string(doc, "mixing", source));
    check_config(c);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", source, e.what()));
  }
  if (auto it = doc.find("training"); it != doc.end() && it->is_object()) m.training = *it;
  const LmLayout lay(c);
  held += sizeof(float) * static_cast<double>(lay.size);
  check_memory(held, fmt::format("{}: the weights of '{}' ({} numbers: {} layers of {} heads of width {}, d_model {}, {} words, {} positions)",
                                 source, m.name, lay.size, c.layers, c.heads, c.d_k, c.d_model, c.vocab, c.max_len),
               "raise --max-memory, or check that this is the file you meant");
  m.params.assign(lay.size, 0.0f);
  const ojson& blocks = io::require(doc, "blocks", source);
  if (!blocks.is_array() || blocks.size() != static_cast<std::size_t>(c.layers))
    throw InputError(fmt::format("{}: \"blocks\" must be an array of {} layers", source, c.layers));
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (!blocks[i].is_object()) throw InputError(fmt::format("{}: blocks[{}] must be an object", source, i));
    io::check_fields(blocks[i], {"ln1_gain", "ln1_bias", "W_q", "b_q", "W_k", "b_k", "W_v", "b_v", "W_o", "b_o", "ln2_gain", "ln2_bias", "W_1",
                                 "b_1", "W_2", "b_2"},
                     source, fmt::format(" in blocks[{}]", i));
  }
  for (const LmTensor& t : lay.tensors) {
    if (t.size() == 0) continue;
    const ojson& holder = t.layer >= 0 ? blocks[static_cast<std::size_t>(t.layer)] : doc;
    const std::string field = t.layer >= 0 ? fmt::format("blocks[{}].{}", t.layer, t.name) : t.name;
    const ojson& value = io::require(holder, t.name, source + (t.layer >= 0 ? fmt::format(" blocks[{}]", t.layer) : ""));
    Eigen::Map<Matrix> dst(m.params.data() + t.offset, t.rows, t.cols);
    if (t.rows == 1) dst = io::get_vector(value, field, t.cols, source);
    else dst = io::get_matrix(value, field, t.rows, t.cols, source);
  }
  return m;
}

}  // namespace

ojson language_model_json(const LanguageModel& m) {
  ojson doc;
  doc["format"] = "attnviz-model";
  doc["version"] = 2;
  const ojson body = body_json(m);
  for (const auto& [k, v] : body.items()) doc[k] = v;
  if (!m.baselines.empty()) {
    doc["baselines"] = ojson::array();
    for (const auto& b : m.baselines) doc["baselines"].push_back(body_json(b));
  }
  return doc;
}

LanguageModel parse_language_model(const std::string& text, const std::string& source) {
  const ojson doc = io::parse_json(text, source);
  // Compared as JSON values: doc.value("format", "") throws a type error when "format" is not a string.
  if (!doc.is_object() || !doc.contains("format") || doc["format"] != "attnviz-model")
    throw InputError(fmt::format("{}: not an attnviz model (expected \"format\": \"attnviz-model\")", source));
  const auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() || version->get<long long>() != 2)
    throw InputError(fmt::format("{}: not a trained language model (\"version\" must be 2; version 1 files hold one attention "
                                 "layer's weights for run, explain and compare)",
                                 source));
  // The text and its parse are held while the weights are made (read_file counts them as three times the text).
  double held = 3.0 * static_cast<double>(text.size());
  LanguageModel m = parse_body(doc, source, true, held);
  if (auto it = doc.find("baselines"); it != doc.end()) {
    if (!it->is_array()) throw InputError(fmt::format("{}: \"baselines\" must be an array", source));
    for (std::size_t i = 0; i < it->size(); ++i) {
      m.baselines.push_back(parse_body((*it)[i], fmt::format("{} baselines[{}]", source, i), false, held));
      if (m.baselines.back().config.vocab != m.config.vocab || m.baselines.back().config.d_model != m.config.d_model)
        throw InputError(fmt::format("{}: baselines[{}] has another vocabulary or width than the model", source, i));
    }
  }
  return m;
}

LanguageModel load_language_model(const std::filesystem::path& path) {
  return parse_language_model(io::read_file(path, "model file"), path.string());
}

}  // namespace attnviz
