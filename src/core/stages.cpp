// The stage catalogue (include/attnviz/stages.hpp) and the one function that labels a backend's numbers.
#include "attnviz/stages.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "attnviz/attention.hpp"

namespace attnviz {

const std::vector<StageInfo>& stage_catalogue() {
  // Narration: plain words first, the symbol after: the student should be able to follow without knowing
  // what a matrix product is.
  static const std::vector<StageInfo> catalogue{
      {stage_name::token_embeddings, "E", false, RowTokens::queries, Columns::dimensions, "", "d_model", "E = the embedding of each token, looked up",
       "Each token is looked up in a dictionary of vectors. A vector is just a list of numbers, one per dimension, and "
       "words with similar meanings have similar lists. These are the dictionary's vectors alone; the next two tables "
       "add each token's position to them."},
      {stage_name::positional_encoding, "PE", false, RowTokens::queries, Columns::dimensions, "", "d_model", "PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(p / 10000^(2i/d))",
       "Attention on its own cannot tell word order: shuffle the words and every token would get the same result. So each "
       "token gets a pattern of waves (sines and cosines) that depends only on its position, and the pattern is added to "
       "its embedding. Row p of this table is what is added to the token at position p."},
      {stage_name::position_embeddings, "P", false, RowTokens::queries, Columns::dimensions, "", "d_model", "P = the learned row of each position (a trained model)",
       "A trained model learns its own position patterns instead of using waves: one row of numbers per position, "
       "adjusted in training like every other weight. Row p is what is added to the word at position p, whatever the word."},
      {stage_name::embeddings, "X", false, RowTokens::queries, Columns::dimensions, "", "d_model", "X = E (+ PE with --positions sinusoidal; + P in a trained model)",
       "Each token is looked up in a dictionary of vectors. A vector is just a list of numbers, one per dimension, and "
       "words with similar meanings have similar lists. The toy dimensions have names (animal, cartoon, ...) so you can "
       "read them. Note: a word gets the same numbers in every sentence. That is the problem attention solves. (With "
       "positions on, this table is the dictionary vector plus the position pattern: what attention receives.)"},
      {stage_name::context_embeddings, "Xc", false, RowTokens::keys, Columns::dimensions, "", "d_model", "Xc = the context's embeddings (+ its PE)",
       "With cross-attention there is a second sentence, the context. The questions (queries) still come from the first "
       "sentence, but the keys and values come from the context: these are the context's vectors, one row per token."},
      {stage_name::layer_input, "x", false, RowTokens::queries, Columns::dimensions, "", "d_model", "x = the output of the layer before (the residual stream)",
       "A trained model stacks layers. This layer does not start from the dictionary vectors: it reads what the layers "
       "before it made of them. Each row is still one token, now carrying what the earlier layers added from the words "
       "around it. This running sum is called the residual stream."},
      {stage_name::layer_norm, "a", false, RowTokens::queries, Columns::dimensions, "", "d_model", "a = (x − mean) / √(variance + 10⁻⁵) ∘ γ + β, per row",
       "Before attention reads a row, the row is normalised: subtract the row's average, divide by its spread, so every "
       "row has average 0 and spread 1; then every dimension is stretched and shifted by two learned lists (gain and "
       "bias). Long or short rows are put on one scale, so no token shouts over the others. This is layer norm; the "
       "queries, keys and values below are made from these rows."},
      {stage_name::queries, "Q", true, RowTokens::queries, Columns::numbered, "q", "d_k", "Q = X W_q + b_q",
       "Each token now asks a question. Its query is a new list of numbers made from its embedding: every entry is a "
       "weighted sum of the embedding's entries, with weights (W_q) {origin}. Think of the query as "
       "\"what am I looking for?\"."},
      {stage_name::keys, "K", true, RowTokens::keys, Columns::numbered, "k", "d_k", "K = X W_k + b_k (Xc with --context)",
       "Each token also says what it offers. Its key is made the same way, with another table of weights (W_k). "
       "Think of the key as the label on a folder: queries are matched against keys."},
      {stage_name::values, "V", true, RowTokens::keys, Columns::numbered, "v", "d_v", "V = X W_v + b_v (Xc with --context)",
       "Finally each token prepares what it hands over to whoever pays attention to it: its value, made with a third "
       "table of weights (W_v). Keys decide who gets attention; values are what gets passed along."},
      {stage_name::scores, "S", true, RowTokens::queries, Columns::keys, "", "m", "S = Q Kᵀ",
       "Now every query is compared with every key. The score of a pair is the dot product: multiply the query and the "
       "key entry by entry, then add the products up. A large positive score means the key matches the question. Rows "
       "are the tokens asking, columns the tokens looked at. (attnviz explain works one cell out in full.)"},
      {stage_name::scaled_scores, "S'", true, RowTokens::queries, Columns::keys, "", "m", "S' = S · (1/√d_k) / T, −∞ where masked",
       "{scaling} Where a mask forbids looking (with a causal mask: at later words), the score becomes minus "
       "infinity."},
      {stage_name::weights, "P", true, RowTokens::queries, Columns::keys, "", "m", "P = softmax(S') row by row: exp(S' − max) / Σ exp(S' − max)",
       "Softmax turns each row of scores into shares that add up to 1. Take e to the power of each score (after "
       "subtracting the row's largest score, which changes nothing but keeps the numbers small), then divide each by the "
       "row's total. Bigger score, bigger share; every share is between 0 and 1; minus infinity gets exactly 0."},
      {stage_name::context, "A", true, RowTokens::queries, Columns::numbered, "a", "d_v", "A = P V",
       "Each token's new vector is a blend of the values. For every key, take its value and multiply it by the share of "
       "attention the token gives that key, then add everything up. A token that gave 80% of its attention to \"cat\" "
       "ends up mostly made of cat's value."},
      {stage_name::concat, "A", false, RowTokens::queries, Columns::heads, "a", "heads*d_v", "concat = [A_1 … A_H], the heads side by side",
       "With several heads, each head did all of the above on its own, with its own tables of weights, so each can look "
       "for a different kind of relation. Their results are put side by side, one long row per token."},
      {stage_name::output, "O", false, RowTokens::queries, Columns::dimensions, "", "d_model", "O = concat W_o + b_o",
       "A last table of weights (W_o) mixes the result back to the size of an embedding. This is the contextualized "
       "embedding: the same word now has different numbers in different sentences, because it has absorbed what it "
       "attended to. Compare it with the embeddings table above."},
      {stage_name::residual, "x'", false, RowTokens::queries, Columns::dimensions, "", "d_model", "x' = x + O (the residual connection)",
       "A trained model does not replace a token's row with the attention output: it adds the output to the row it "
       "already had. So each token keeps its own word and gains what it read from the others. This addition is the "
       "residual connection; it is why deep models can be trained at all."},
      {stage_name::mlp, "M", false, RowTokens::queries, Columns::dimensions, "", "d_model", "M = GELU(LN₂(x') W₁ + b₁) W₂ + b₂",
       "Then each token is worked on alone, with no look at the others: its row is normalised again, multiplied by a "
       "wide table of weights, bent by a smooth function (GELU, which lets positive numbers through and squashes "
       "negative ones), and multiplied back to the row's size. This small network is the MLP."},
      {stage_name::layer_output, "x''", false, RowTokens::queries, Columns::dimensions, "", "d_model", "x'' = x' + M",
       "The MLP's result is added to the row too (another residual connection). This is what the layer hands to the "
       "next one."},
      {stage_name::final_norm, "f", false, RowTokens::queries, Columns::dimensions, "", "d_model", "f = LN_f(x), the last layer's output normalised",
       "After the last layer every row is normalised once more (a last layer norm with its own gain and bias). Each row "
       "is now the model's summary of the sentence up to that word, ready to be compared with every word of the "
       "vocabulary."},
      {stage_name::predictions, "p", false, RowTokens::queries, Columns::words, "", "words", "p = softmax(f Eᵀ + b_out) over every word of the vocabulary",
       "Finally each row is compared with every word's dictionary vector (the same vectors the model started from), "
       "plus a learned bias per word, and softmax turns the comparisons into probabilities for the next word. Row "
       "\"computer\" holds what the model expects right after \"computer\". Only each row's likeliest words are shown."},
  };
  return catalogue;
}

std::string_view tokens_narration() {
  return "First the sentence is cut into tokens: here one token per word, lower-cased, with punctuation dropped. Each token "
      "gets a number, its position, counted from 0. From now on every table has one row per token.";
}

const StageInfo* find_stage_info(std::string_view name) {
  for (const auto& info : stage_catalogue())
    if (info.name == name) return &info;
  return nullptr;
}

const StageInfo& stage_info(std::string_view name) {
  if (const StageInfo* info = find_stage_info(name)) return *info;
  throw std::logic_error(fmt::format("'{}' is not a stage of the catalogue", name));
}

namespace {

std::vector<std::string> numbered(std::string_view prefix, Eigen::Index count) {
  std::vector<std::string> labels;
  for (Eigen::Index i = 0; i < count; ++i) labels.push_back(fmt::format("{}{}", prefix, i));
  return labels;
}

}  // namespace

Stage make_stage(std::string_view name, std::optional<int> head, const AttentionInput& in, Matrix data, int heads) {
  const StageInfo& info = stage_info(name);
  std::vector<std::string> cols;
  switch (info.columns) {
    case Columns::dimensions: cols = in.dim_labels; break;
    case Columns::numbered: cols = numbered(info.column_prefix, data.cols()); break;
    case Columns::keys: cols = in.key_tokens; break;
    case Columns::words: throw std::logic_error(fmt::format("'{}' has word columns: make it with make_labelled_stage", name));
    case Columns::heads:
      for (int h = 0; h < heads; ++h)
        for (Eigen::Index c = 0; c < data.cols() / heads; ++c)
          cols.push_back(heads == 1 ? fmt::format("{}{}", info.column_prefix, c) : fmt::format("h{}.{}{}", h + 1, info.column_prefix, c));
      break;
  }
  return Stage{std::string(info.name), std::string(info.symbol), info.per_head ? head : std::nullopt,
               std::string(info.row_axis()), std::string(info.col_axis()),
               info.rows == RowTokens::queries ? in.query_tokens : in.key_tokens, std::move(cols), std::move(data)};
}

Stage make_labelled_stage(std::string_view name, const std::vector<std::string>& rows, const std::vector<std::string>& cols, Matrix data) {
  const StageInfo& info = stage_info(name);
  return Stage{std::string(info.name), std::string(info.symbol), std::nullopt, std::string(info.row_axis()),
               std::string(info.col_axis()), rows, cols, std::move(data)};
}

Stage make_embedding_stage(std::string_view name, const std::vector<std::string>& tokens, const std::vector<std::string>& dims,
                           Matrix data) {
  return make_labelled_stage(name, tokens, dims, std::move(data));
}

std::vector<Stage> label_stages(const Model& model, const AttentionInput& in, AttentionNumbers numbers) {
  std::vector<Stage> stages;
  const int d_v = model.d_v;
  for (int h = 0; h < static_cast<int>(numbers.heads.size()); ++h) {
    HeadNumbers& n = numbers.heads[static_cast<std::size_t>(h)];
    stages.push_back(make_stage(stage_name::queries, h, in, std::move(n.Q)));
    stages.push_back(make_stage(stage_name::keys, h, in, std::move(n.K)));
    stages.push_back(make_stage(stage_name::values, h, in, std::move(n.V)));
    if (n.S) stages.push_back(make_stage(stage_name::scores, h, in, std::move(*n.S)));
    if (n.S_scaled) stages.push_back(make_stage(stage_name::scaled_scores, h, in, std::move(*n.S_scaled)));
    if (n.P) stages.push_back(make_stage(stage_name::weights, h, in, std::move(*n.P)));
    stages.push_back(make_stage(stage_name::context, h, in, numbers.concat.middleCols(h * d_v, d_v)));
  }
  stages.push_back(make_stage(stage_name::concat, std::nullopt, in, std::move(numbers.concat), model.heads));
  stages.push_back(make_stage(stage_name::output, std::nullopt, in, std::move(numbers.O)));
  return stages;
}

}  // namespace attnviz
