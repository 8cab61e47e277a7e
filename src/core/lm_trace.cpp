// A trained language model in the tracing commands (include/attnviz/lm_trace.hpp): the numbers are the
// model's own forward (lm_activations); only the chosen layer's attention is handed to the backend, through
// the same Model and stage catalogue as every other model, so explain, --step, the page and the JSON read it
// as they read any trace. tests/test_lm_trace.cpp checks it against lm_activations.
#include "attnviz/lm_trace.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "attnviz/attention.hpp"
#include "attnviz/error.hpp"
#include "attnviz/lm.hpp"
#include "attnviz/softmax.hpp"
#include "attnviz/stages.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/train.hpp"

namespace attnviz {

Model language_model_layer(std::shared_ptr<const LoadedLm> lm, int layer) {
  const LmConfig& c = lm->model.config;
  const std::string name = lm->model.name;
  if (c.layers == 0 || c.mixing != Mixing::attention)
    throw InputError(fmt::format("the model '{}' ({}) has no learned attention to show (mixing {}, {} layers); run, explain and "
                                 "compare read a model trained with attention",
                                 name, lm->path.string(), mixing_name(c.mixing), c.layers));
  if (layer < 0 || layer >= c.layers)
    throw InputError(fmt::format("--layer {}: the model '{}' has {} layer{} (1 to {})", layer + 1, name, c.layers, c.layers == 1 ? "" : "s",
                                 c.layers));
  const LmLayout lay(c);
  auto tensor = [&](LmLayout::Id id) {
    const LmTensor& t = lay.layer(layer, id);
    return Matrix(Eigen::Map<const Matrix>(lm->model.params.data() + t.offset, t.rows, t.cols));
  };
  Model m;
  m.name = name;
  m.description = lm->model.description;
  m.d_model = c.d_model;
  m.heads = c.heads;
  m.d_k = m.d_v = c.d_k;
  m.W_q = tensor(LmLayout::W_q);
  m.W_k = tensor(LmLayout::W_k);
  m.W_v = tensor(LmLayout::W_v);
  m.W_o = tensor(LmLayout::W_o);
  m.b_q = tensor(LmLayout::b_q);
  m.b_k = tensor(LmLayout::b_k);
  m.b_v = tensor(LmLayout::b_v);
  m.b_o = tensor(LmLayout::b_o);
  m.has_biases = true;
  m.language_model = std::move(lm);
  m.layer = layer;
  m.layers = c.layers;
  return m;
}

namespace {

// What the model's forward has no place for: refused rather than silently left out.
void check_language_model_options(const Model& model, const PipelineOptions& o) {
  auto refuse = [&](const std::string& what) {
    throw InputError(fmt::format("{}: the trained model '{}' computes its own forward, which has no {}; leave it out", what, model.name,
                                 what == "--positions sinusoidal" ? "sinusoidal positions (it learned its own)" : "such setting"));
  };
  if (o.positions != "none") refuse("--positions " + o.positions);
  if (o.context) refuse("--context");
  if (o.attention.mask) refuse("--mask");
  if (o.exclude_self) refuse("--exclude-self");
  if (o.attention.temperature != 1.0f) refuse(fmt::format("--temperature {}", o.attention.temperature));
  if (!o.attention.scale) refuse("--no-scale");
  if (o.unknown == UnknownWords::subword)
    throw InputError(fmt::format("--unknown subword: the trained model '{}' reads a word it lacks as <unk>; use --unknown zero "
                                 "(<unk>, a zero vector, as in training) or give known words",
                                 model.name));
}

// The predictions stage: each row's kPredictionsPerRow likeliest next words (their union, in the order
// they first appear, are the columns), with the probability every row gives each of them. The softmax is
// the teaching one (softmax.hpp) over all V logits of the row.
Stage predictions_stage(const LmActivations& acts, const Vocabulary& vocab, const std::vector<std::string>& tokens) {
  const auto T = acts.logits.rows();
  const auto V = acts.logits.cols();
  std::vector<std::vector<float>> probs;
  std::vector<int> columns;
  for (Eigen::Index t = 0; t < T; ++t) {
    std::vector<float> row(acts.logits.row(t).data(), acts.logits.row(t).data() + V);
    probs.push_back(softmax_row(row).p);
    std::vector<int> order(static_cast<std::size_t>(V));
    for (Eigen::Index w = 0; w < V; ++w) order[static_cast<std::size_t>(w)] = static_cast<int>(w);
    const auto& p = probs.back();
    std::partial_sort(order.begin(), order.begin() + kPredictionsPerRow, order.end(), [&](int a, int b) {
      return p[static_cast<std::size_t>(a)] > p[static_cast<std::size_t>(b)] || (p[static_cast<std::size_t>(a)] == p[static_cast<std::size_t>(b)] && a < b);
    });
    for (int i = 0; i < kPredictionsPerRow; ++i)
      if (std::find(columns.begin(), columns.end(), order[static_cast<std::size_t>(i)]) == columns.end())
        columns.push_back(order[static_cast<std::size_t>(i)]);
  }
  Matrix data(T, static_cast<Eigen::Index>(columns.size()));  // n × (the words shown)
  std::vector<std::string> labels;
  for (std::size_t j = 0; j < columns.size(); ++j) {
    labels.push_back(vocab.words[static_cast<std::size_t>(columns[j])]);
    for (Eigen::Index t = 0; t < T; ++t)
      data(t, static_cast<Eigen::Index>(j)) = probs[static_cast<std::size_t>(t)][static_cast<std::size_t>(columns[j])];
  }
  return make_labelled_stage(stage_name::predictions, tokens, labels, std::move(data));
}

}  // namespace

Trace run_language_model(const Embeddings& emb, const Model& model, const std::string& sentence, const PipelineOptions& options) {
  const LoadedLm& lm = *model.language_model;
  const LmConfig& c = lm.model.config;
  check_language_model_options(model, options);
  if (emb.name != lm.emb.name || emb.dim != lm.emb.dim || emb.words.size() != lm.emb.words.size())
    throw InputError(fmt::format("the trained model '{}' reads its own embeddings '{}' (--embeddings {}), not '{}'", model.name,
                                 lm.emb.name, lm.model.embeddings, emb.name));
  Trace trace;
  trace.sentence = sanitize_utf8(sentence);
  // The model's vocabulary is its embeddings' words plus <unk> (a zero row): --unknown zero reads a word it
  // lacks as <unk>, as training did.
  const TokenLookup lookup = lookup_tokens(lm.emb, sentence, options.unknown);
  trace.tokens = lookup.labels;
  trace.token_notes = lookup.notes;
  trace.warnings = lookup.warnings;
  const auto n = static_cast<Eigen::Index>(trace.tokens.size());
  if (n > c.max_len)
    throw InputError(fmt::format("the sentence has {} tokens; the trained model '{}' reads at most {} (its positions)", n, model.name, c.max_len));
  std::vector<int> ids;
  for (int row : lookup.rows) ids.push_back(row < 0 ? lm.inputs.vocab.unknown : row);

  const LmActivations acts = lm_activations(c, lm.model.params, lm.inputs.E, ids);
  const LmLayerActivations& L = acts.layers[static_cast<std::size_t>(model.layer)];
  const std::vector<std::string>& dims = lm.emb.dimension_labels;
  auto add = [&](std::string_view name, const RowMat<float>& data) { trace.stages.push_back(make_labelled_stage(name, trace.tokens, dims, data)); };

  // The embeddings: the words' own rows, the learned positions, their sum.
  Matrix E(n, c.d_model);
  for (Eigen::Index t = 0; t < n; ++t) E.row(t) = lm.inputs.E.row(ids[static_cast<std::size_t>(t)]);
  add(stage_name::token_embeddings, E);
  const LmLayout lay(c);
  add(stage_name::position_embeddings, Eigen::Map<const Matrix>(lm.model.params.data() + lay.positions().offset, n, c.d_model));
  add(stage_name::embeddings, acts.x0);
  if (model.layer > 0) add(stage_name::layer_input, L.x_in);
  add(stage_name::layer_norm, L.a);

  // The layer's attention, by the backend, on what the model's attention reads (LN₁ of its input), causal.
  AttentionInput in;
  in.X = L.a;
  in.X_kv = L.a;
  in.query_tokens = in.key_tokens = trace.tokens;
  in.dim_labels = dims;
  PipelineOptions causal = options;
  causal.attention.causal = true;
  auto backend = make_backend(options.backend);
  for (auto& s : compute_stages(*backend, model, in, causal, trace.timings)) trace.stages.push_back(std::move(s));

  add(stage_name::residual, L.x_mid);
  if (c.mlp > 0) {
    add(stage_name::mlp, L.mlp_out);
    add(stage_name::layer_output, L.x_out);
  }
  const bool last = model.layer + 1 == c.layers;
  if (last) {
    add(stage_name::final_norm, acts.f);
    trace.stages.push_back(predictions_stage(acts, lm.inputs.vocab, trace.tokens));
  }

  TraceConfig& cfg = trace.config = trace_config(lm.emb.name, model, backend->name(), causal);
  cfg.positions = "learned";
  cfg.layer = model.layer + 1;
  cfg.layers = c.layers;
  for (const auto& w : trace.warnings) trace.notes.push_back(w);
  trace.notes.push_back(fmt::format("a trained language model: layer {} of {}; its attention reads the layer norm of the layer's input "
                                    "and is causal (a word sees only itself and the words before it)",
                                    cfg.layer, cfg.layers));
  if (!backend->stores_attention_matrices())
    trace.notes.push_back(fmt::format("the {} backend never stores the n × n matrices (scores, scaled_scores, weights)", backend->name()));
  if (last)
    trace.notes.push_back(fmt::format("predictions: row t is the next word after token t, as probabilities over all {} words; the "
                                      "columns are each row's {} likeliest ({} stands for every word outside the vocabulary, \"a\" among them)",
                                      c.vocab, kPredictionsPerRow, kUnknownToken));
  else
    trace.notes.push_back(fmt::format("the next-word predictions come after the last layer: --layer {}", c.layers));
  return trace;
}

}  // namespace attnviz
