#include "harnesses.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "attnviz/attention.hpp"
#include "../src/cli/cli.hpp"
#include "attnviz/data.hpp"
#include "attnviz/embeddings.hpp"
#include "attnviz/error.hpp"
#include "attnviz/mask.hpp"
#include "attnviz/model.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/tokenizer.hpp"
#include "../tests/compare_util.hpp"  // random inputs, stage lookup and comparison, shared with the tests

namespace attnviz::fuzz {

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw HarnessFailure(what);
}

bool valid_utf8(std::string_view s) { return sanitize_utf8(s) == s; }

using test::input_of;

// A fixed pseudo-random n × d input (the same for every run of a harness).
Matrix fixed_input(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  return test::random_matrix(n, d, rng);
}

const Stage& stage(const std::vector<Stage>& stages, const std::string& name, std::optional<int> head = std::nullopt) {
  return test::stage_of(stages, name, head);
}

// The reference and the flash backend (with tiles smaller than the input) on the same input: each either
// refuses with an InputError, or both give finite outputs that agree; the reference's weights are exact 0
// in masked cells, and every row sums to 1.
void check_backends(const Model& model, const AttentionInput& in, AttentionOptions options) {
  options.threads = 1;
  std::vector<Stage> ref, flash;
  try {
    ref = make_backend("cpu")->compute(model, in, options);
  } catch (const InputError&) {
    return;  // e.g. a fully masked row: refused, clearly
  }
  options.block_rows = 2;
  options.block_cols = 3;
  flash = make_backend("flash")->compute(model, in, options);  // the same input must not be refused here
  const auto n = static_cast<int>(in.X.rows()), m = static_cast<int>(in.X_kv.rows());
  const auto allowed = allowed_cells(options, n, m);
  for (int h = 0; h < model.heads; ++h) {
    const Matrix& P = stage(ref, "weights", h).data;
    for (int i = 0; i < n; ++i) {
      double sum = 0;
      for (int j = 0; j < m; ++j) {
        const float p = P(i, j);
        if (!allowed[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]) require(p == 0.0f, "a masked weight is not 0");
        require(std::isfinite(p) && p >= 0.0f && p <= 1.0f, fmt::format("weight [{}][{}] is {}", i, j, p));
        sum += p;
      }
      require(std::abs(sum - 1.0) < 1e-5, fmt::format("row {} of the weights sums to {}", i, sum));
    }
  }
  const Matrix& out = stage(ref, "output").data;
  if (!out.allFinite()) return;  // overflow: the pipeline's check_finite turns this into an InputError
  const test::Comparison c = test::compare_matrices(stage(flash, "output").data, out, {1e-4f, 1e-4f});
  require(c.ok(), "flash output against the reference: " + (c.first.empty() ? std::string() : c.first.front()));
}

// What a loaded Embeddings must satisfy, whatever the file was.
void check_embeddings(const Embeddings& emb) {
  const auto n = static_cast<Eigen::Index>(emb.words.size());
  require(emb.vectors.rows() == n, "rows of the vectors != words");
  require(emb.vectors.cols() == emb.dim, "columns of the vectors != dim");
  require(emb.dim > 0, "dim is not positive");
  require(emb.dimension_labels.size() == static_cast<std::size_t>(emb.dim), "a label per dimension");
  require(emb.index.size() == emb.words.size(), "index and words differ in size");
  for (std::size_t i = 0; i < emb.words.size(); ++i) {
    const auto it = emb.index.find(emb.words[i]);
    require(it != emb.index.end() && it->second == static_cast<int>(i), "index does not point back to the word");
    require(valid_utf8(emb.words[i]), "a word is not valid UTF-8");
    require(lower_case(emb.words[i]) == emb.words[i], "a word is not lower case as the tokenizer lower-cases");
  }
  for (const auto& label : emb.dimension_labels) require(valid_utf8(label), "a dimension label is not valid UTF-8");
  require(valid_utf8(emb.name) && valid_utf8(emb.description), "the name or description is not valid UTF-8");
  require(emb.vectors.allFinite(), "a vector has a non-finite value");
  require(emb.file_words >= emb.words.size(), "fewer words in the file than kept");
}

// The whole pipeline on a sentence of the file's first words (unknown pieces get zero vectors): the output
// is finite or the run is refused with an InputError (overflow says so), never NaN.
void check_pipeline(const Embeddings& emb) {
  std::string sentence;
  for (std::size_t i = 0; i < emb.words.size() && i < 4; ++i) sentence += emb.words[i] + " ";
  PipelineOptions options;
  options.unknown = UnknownWords::zero;
  options.attention.threads = 1;
  const Model model = identity_model(emb.dim);
  for (const char* backend : {"cpu", "flash"}) {
    options.backend = backend;
    try {
      const Trace t = run_attention(emb, model, sentence, options);
      const Stage* out = t.find("output");
      require(out != nullptr && out->data.allFinite(), std::string(backend) + ": the output is not finite");
    } catch (const InputError&) {
    }
  }
}

void embeddings_harness(std::string_view input, const char* source) {
  try {
    const Embeddings all = parse_embeddings_for(input, source, {}, static_cast<std::size_t>(-1));
    check_embeddings(all);
    check_pipeline(all);
  } catch (const InputError&) {
  }
  // Streaming: the words asked for plus the first row; the rest skipped unparsed. Whatever this keeps
  // must satisfy the same invariants (and a file refused whole may be accepted here: skipped rows are
  // not parsed).
  try {
    check_embeddings(parse_embeddings_for(input, source, {"mouse", "the", "a"}, 1));
  } catch (const InputError&) {
  }
}

void embeddings_json(std::string_view input) { embeddings_harness(input, "fuzz.json"); }
void embeddings_text(std::string_view input) { embeddings_harness(input, "fuzz.txt"); }

void model(std::string_view input) {
  Model m;
  try {
    m = parse_model(std::string(input), "fuzz-model.json");
  } catch (const InputError&) {
    return;
  }
  const int d = m.d_model, H = m.heads;
  require(d > 0 && H > 0 && m.d_k > 0 && m.d_v > 0, "non-positive sizes");
  require(m.W_q.rows() == d && m.W_q.cols() == H * m.d_k, "W_q shape");
  require(m.W_k.rows() == d && m.W_k.cols() == H * m.d_k, "W_k shape");
  require(m.W_v.rows() == d && m.W_v.cols() == H * m.d_v, "W_v shape");
  require(m.W_o.rows() == H * m.d_v && m.W_o.cols() == d, "W_o shape");
  require(m.b_q.size() == H * m.d_k && m.b_k.size() == H * m.d_k && m.b_v.size() == H * m.d_v && m.b_o.size() == d, "bias sizes");
  require(m.W_q.allFinite() && m.W_k.allFinite() && m.W_v.allFinite() && m.W_o.allFinite(), "a weight is not finite");
  if (static_cast<double>(d) * H * (m.d_k + m.d_v) > 1e6) return;  // accepted; too big to run per input
  const Matrix X = fixed_input(3, d, 1), C = fixed_input(2, d, 2);
  AttentionOptions causal;
  causal.causal = true;
  check_backends(m, input_of(X, X), AttentionOptions{});
  check_backends(m, input_of(X, X), causal);
  check_backends(m, input_of(X, C), AttentionOptions{});
}

void mask(std::string_view input) {
  Matrix M;
  try {
    M = parse_mask(std::string(input), "fuzz-mask.json");
  } catch (const InputError&) {
    return;
  }
  for (Eigen::Index i = 0; i < M.size(); ++i) require(M.data()[i] == 0.0f || M.data()[i] == 1.0f, "a cell is not 0 or 1");
  const auto n = static_cast<int>(M.rows()), m = static_cast<int>(M.cols());
  if (n == 0 || m == 0 || static_cast<double>(n) * m > 1e5) return;
  const Model model = identity_model(4, 2);
  AttentionOptions options;
  options.mask = M;
  check_backends(model, input_of(fixed_input(n, 4, 3), fixed_input(m, 4, 4)), options);
  options.causal = true;
  check_backends(model, input_of(fixed_input(n, 4, 3), fixed_input(m, 4, 4)), options);
  // A mask of the wrong shape is an InputError, never a read past the end.
  options.causal = false;
  try {
    (void)make_backend("cpu")->compute(model, input_of(fixed_input(n + 1, 4, 5), fixed_input(m, 4, 6)), options);
    throw HarnessFailure("a mask of the wrong shape was accepted");
  } catch (const InputError&) {
  }
}

// The toy embeddings, loaded once, for the subword lookup.
const Embeddings& toy() {
  static const Embeddings emb = resolve_embeddings("toy", std::nullopt);
  return emb;
}

void tokenizer(std::string_view input) {
  const auto known = [](const std::string& w) { return w == "co-created" || w == "hand-held" || w == "ub"; };
  const std::vector<std::string> tokens = tokenize(input, known);
  for (const auto& t : tokens) {
    require(!t.empty(), "an empty token");
    require(valid_utf8(t), "a token is not valid UTF-8");
    require(t.find_first_of(" \t\n\r\f\v") == std::string::npos, "a token holds white space");
    require(lower_case(t) == t, "a token is not lower case");
  }
  const std::string clean = sanitize_utf8(input);
  require(valid_utf8(clean), "sanitize_utf8 left invalid UTF-8");
  require(valid_utf8(lower_case(clean)), "lower_case broke UTF-8");
  // Tokenizing is a function of the sanitized text: invalid bytes are U+FFFD either way.
  require(tokenize(clean, known) == tokens, "tokens of the sanitized sentence differ");
  for (const UnknownWords unknown : {UnknownWords::subword, UnknownWords::zero}) {
    try {
      const TokenLookup t = lookup_tokens(toy(), std::string(input), unknown);
      require(t.labels.size() == t.rows.size() && t.rows.size() == t.notes.size(), "lookup sizes differ");
      for (std::size_t i = 0; i < t.rows.size(); ++i) {
        require(t.rows[i] >= -1 && t.rows[i] < static_cast<int>(toy().words.size()), "a row outside the embeddings");
        require(valid_utf8(t.labels[i]) && valid_utf8(t.notes[i]), "a label or note is not valid UTF-8");
      }
    } catch (const InputError&) {
    }
  }
}

// Standard output and error go nowhere while the command line is parsed (--help prints).
class Silence {
 public:
  Silence() : out_(std::cout.rdbuf(&sink_)), err_(std::cerr.rdbuf(&sink_)) {}
  ~Silence() {
    std::cout.rdbuf(out_);
    std::cerr.rdbuf(err_);
  }
  Silence(const Silence&) = delete;
  Silence& operator=(const Silence&) = delete;

 private:
  std::stringbuf sink_;
  std::streambuf* out_;
  std::streambuf* err_;
};

// The bytes are the argument vector, split at NUL bytes (at most 32 arguments).
void cli(std::string_view input) {
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start <= input.size() && args.size() < 32) {
    const std::size_t end = std::min(input.find('\0', start), input.size());
    args.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  // One parser for every input, as a CLI11 app is slow to build; parse() puts every option back first.
  static cli::Parser parser;
  std::optional<int> code;
  {
    const Silence quiet;
    code = parser.parse(args);
  }
  require(!code || *code == 0 || *code == 2, fmt::format("the parser returned {} (only 0 and 2 are allowed)", *code));
}

}  // namespace

const std::vector<NamedHarness>& harnesses() {
  static const std::vector<NamedHarness> all{{"embeddings_json", embeddings_json}, {"embeddings_text", embeddings_text},
                                             {"model", model}, {"mask", mask}, {"tokenizer", tokenizer}, {"cli", cli}};
  return all;
}

Harness find_harness(std::string_view name) {
  for (const auto& h : harnesses())
    if (name == h.name) return h.run;
  return nullptr;
}

}  // namespace attnviz::fuzz
