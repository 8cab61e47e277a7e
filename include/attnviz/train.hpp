// Training the language model (include/attnviz/lm.hpp): mini-batches, AdamW, threads, perplexity.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "attnviz/corpus.hpp"
#include "attnviz/embeddings.hpp"
#include "attnviz/lm.hpp"

namespace attnviz {

using Sentences = std::vector<std::vector<int>>;

// Sentences longer than `max_len` tokens cut into consecutive pieces of at most `max_len` (each piece is
// read on its own); sentences of fewer than two tokens dropped (they predict nothing).
Sentences fit_to_length(const Sentences& sentences, int max_len);

struct TrainOptions {
  int epochs = 1;
  int batch = 32;              // sentences per step
  double lr = 3e-3;            // peak learning rate: linear warm-up, then cosine decay to a tenth
  double weight_decay = 0.01;  // AdamW's, on the weight matrices only
  std::uint64_t seed = 1;      // initial weights and the order of the sentences each epoch
  int threads = 1;             // a batch is cut into this many slices, one per thread; same seed and threads: same bits
  std::size_t max_sentences = 0;  // per epoch, 0: all (the first of each epoch's shuffled order)
};

struct TrainProgress {
  int epoch = 0, epochs = 0;       // epoch counts from 1
  std::size_t step = 0, steps = 0; // over the whole run
  double loss = 0;                 // mean loss (nats a token) of the epoch so far
  double tokens_per_second = 0;
  double elapsed_seconds = 0, seconds_left = 0;
  double dev_perplexity = 0;       // on the first kProgressDevSentences of dev, measured every tenth of the run (0: no dev)
};
inline constexpr std::size_t kProgressDevSentences = 1000;

struct EpochResult {
  int epoch = 0;
  double train_loss = 0;      // mean over the epoch, nats a token
  double dev_perplexity = 0;  // exp(mean −log p) on the dev split after the epoch
};

struct TrainCallbacks {
  std::function<void(const TrainProgress&)> progress;                                    // after each step
  std::function<void(const EpochResult&, const std::vector<float>& params)> epoch_end;  // after each epoch
};

// Trains `params` (initialised by lm_init from `options.seed`; `out_bias` the initial output bias) on `train`,
// measuring `dev` after each epoch. Returns every epoch's result.
std::vector<EpochResult> train_lm(const LmConfig& config, std::vector<float>& params, const RowMat<float>& embeddings, const Sentences& train,
                                  const Sentences& dev, const TrainOptions& options, const TrainCallbacks& callbacks = {});

// exp(Σ −log p / tokens) over `sentences` (already fitted to the length), and the tokens predicted.
struct Perplexity {
  double perplexity = 0;
  std::size_t tokens = 0;
};
Perplexity perplexity(const LmConfig& config, const std::vector<float>& params, const RowMat<float>& embeddings, const Sentences& sentences,
                      int threads);

// log p(w) of each of `vocab` words from their counts in `sentences`, add-one smoothed: the unigram model.
std::vector<float> unigram_log_probs(const Sentences& sentences, int vocab);

// The unigram baseline as a language model: no layer, LN_f's gain and bias zero, so the logits are the
// output bias alone (log p(w)) whatever the words before.
LanguageModel unigram_model(const std::vector<float>& log_probs, int d_model, int max_len, const std::string& embeddings);

// The vocabulary of a language model over `emb` (its words plus <unk>) and its V × C input matrix (the
// word vectors, and a zero row for <unk>).
struct LmEmbeddings {
  Vocabulary vocab;
  RowMat<float> E;
};
LmEmbeddings lm_embeddings(const Embeddings& emb);

// A trained model (a bundled name under data/models, or a path) with its embeddings, checked to agree.
struct LoadedLm {
  std::filesystem::path path;
  LanguageModel model;
  LmEmbeddings inputs;
  Embeddings emb;  // the embeddings as loaded (words, vectors, dimension labels)
};
LoadedLm load_trained_model(const std::string& spec, const std::optional<std::string>& data_dir);

}  // namespace attnviz
