#include "attnviz/train.hpp"

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "../backends/parallel.hpp"

namespace attnviz {

Sentences fit_to_length(const Sentences& sentences, int max_len) {
  Sentences out;
  const auto n = static_cast<std::size_t>(max_len);
  for (const auto& s : sentences)
    for (std::size_t at = 0; at + 1 < s.size(); at += n)
      out.emplace_back(s.begin() + static_cast<std::ptrdiff_t>(at), s.begin() + static_cast<std::ptrdiff_t>(std::min(s.size(), at + n)));
  return out;
}

namespace {

// Sum of the losses of `sentences`, cut into `slices` contiguous slices computed by up to `threads` threads;
// with `grads` (one buffer per slice), slice i's gradient lands in grads[i]. The sums run in slice order.
LmLoss run_slices(const LmConfig& c, const float* params, const RowMat<float>& E, const Sentences& sentences, std::size_t begin,
                  std::size_t end, int slices, int threads, std::vector<std::vector<float>>* grads, float scale) {
  std::vector<LmLoss> losses(static_cast<std::size_t>(slices));
  const std::size_t n = end - begin;
  parallel_for(slices, threads, [&](int i) {
    const std::size_t a = begin + n * static_cast<std::size_t>(i) / static_cast<std::size_t>(slices);
    const std::size_t b = begin + n * static_cast<std::size_t>(i + 1) / static_cast<std::size_t>(slices);
    const Sentences part(sentences.begin() + static_cast<std::ptrdiff_t>(a), sentences.begin() + static_cast<std::ptrdiff_t>(b));
    float* g = nullptr;
    if (grads) {
      auto& buf = (*grads)[static_cast<std::size_t>(i)];
      std::fill(buf.begin(), buf.end(), 0.0f);
      g = buf.data();
    }
    losses[static_cast<std::size_t>(i)] = lm_forward_backward<float>(c, params, E, part, g, scale);
  });
  LmLoss total;
  for (const auto& l : losses) {
    total.nll += l.nll;
    total.tokens += l.tokens;
  }
  return total;
}

}  // namespace

Perplexity perplexity(const LmConfig& c, const std::vector<float>& params, const RowMat<float>& E, const Sentences& sentences, int threads) {
  // Fixed groups of 64 sentences (not one per thread): bounded memory, and the same sum for any thread count.
  constexpr std::size_t kGroup = 64;
  const int groups = static_cast<int>((sentences.size() + kGroup - 1) / kGroup);
  std::vector<LmLoss> losses(static_cast<std::size_t>(groups));
  parallel_for(groups, resolve_threads(threads), [&](int i) {
    const std::size_t a = static_cast<std::size_t>(i) * kGroup, b = std::min(sentences.size(), a + kGroup);
    const Sentences part(sentences.begin() + static_cast<std::ptrdiff_t>(a), sentences.begin() + static_cast<std::ptrdiff_t>(b));
    losses[static_cast<std::size_t>(i)] = lm_forward_backward<float>(c, params.data(), E, part, nullptr, 1.0f);
  });
  LmLoss total;
  for (const auto& l : losses) {
    total.nll += l.nll;
    total.tokens += l.tokens;
  }
  if (total.tokens == 0) throw InputError("no sentence of two or more known tokens to measure");
  return {std::exp(total.nll / static_cast<double>(total.tokens)), total.tokens};
}

std::vector<EpochResult> train_lm(const LmConfig& c, std::vector<float>& params, const RowMat<float>& E, const Sentences& train,
                                  const Sentences& dev, const TrainOptions& o, const TrainCallbacks& cb) {
  if (train.empty()) throw InputError("the training split has no sentence of two or more tokens");
  if (o.epochs < 1 || o.batch < 1 || !(o.lr > 0) || o.threads < 1) throw InputError("epochs, batch, learning rate and threads must be positive");
  const LmLayout lay(c);
  if (params.size() != lay.size) throw Error("train_lm: the parameters do not match the configuration");
  const int threads = o.threads;
  const int slices = std::min(threads, o.batch);
  std::vector<std::vector<float>> grads(static_cast<std::size_t>(slices), std::vector<float>(lay.size));
  std::vector<float> grad(lay.size), m(lay.size, 0.0f), v(lay.size, 0.0f);
  std::vector<char> decay(lay.size, 0);
  for (const auto& t : lay.tensors) std::fill(decay.begin() + static_cast<std::ptrdiff_t>(t.offset), decay.begin() + static_cast<std::ptrdiff_t>(t.offset + t.size()), t.decay);

  const std::size_t per_epoch = o.max_sentences ? std::min(o.max_sentences, train.size()) : train.size();
  const std::size_t steps_per_epoch = (per_epoch + static_cast<std::size_t>(o.batch) - 1) / static_cast<std::size_t>(o.batch);
  const std::size_t total_steps = steps_per_epoch * static_cast<std::size_t>(o.epochs);
  const std::size_t warmup = std::max<std::size_t>(1, std::min<std::size_t>(100, total_steps / 10));
  constexpr double kBeta1 = 0.9, kBeta2 = 0.95, kEps = 1e-8;

  std::vector<std::size_t> order(train.size());
  std::mt19937_64 shuffle_rng(o.seed ^ 0x5deece66dull);
  const auto start = std::chrono::steady_clock::now();
  std::size_t step = 0, tokens_seen = 0;
  std::vector<EpochResult> results;
  const Sentences dev_sample(dev.begin(), dev.begin() + static_cast<std::ptrdiff_t>(std::min(dev.size(), kProgressDevSentences)));
  const std::size_t dev_every = std::max<std::size_t>(1, total_steps / 10);
  double dev_now = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Fisher–Yates with the generator's raw output: the same order on every standard library.
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[shuffle_rng() % i]);
    Sentences epoch_sentences;
    epoch_sentences.reserve(per_epoch);
    for (std::size_t i = 0; i < per_epoch; ++i) epoch_sentences.push_back(train[order[i]]);
    double epoch_nll = 0;
    std::size_t epoch_tokens = 0;
    for (std::size_t b = 0; b < per_epoch; b += static_cast<std::size_t>(o.batch)) {
      const std::size_t e = std::min(per_epoch, b + static_cast<std::size_t>(o.batch));
      std::size_t targets = 0;
      for (std::size_t i = b; i < e; ++i) targets += epoch_sentences[i].size() - 1;
      const LmLoss loss = run_slices(c, params.data(), E, epoch_sentences, b, e, slices, threads, &grads, 1.0f / static_cast<float>(targets));
      std::copy(grads[0].begin(), grads[0].end(), grad.begin());
      for (std::size_t s = 1; s < grads.size(); ++s)
        for (std::size_t i = 0; i < lay.size; ++i) grad[i] += grads[s][i];
      // AdamW (Loshchilov & Hutter): m, v the moving averages of g and g², bias-corrected; decay apart.
      ++step;
      const double progress = static_cast<double>(step - std::min(step, warmup)) / static_cast<double>(std::max<std::size_t>(1, total_steps - warmup));
      const double lr = step <= warmup ? o.lr * static_cast<double>(step) / static_cast<double>(warmup)
                                       : o.lr * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(3.141592653589793 * progress)));
      const double c1 = 1.0 - std::pow(kBeta1, static_cast<double>(step)), c2 = 1.0 - std::pow(kBeta2, static_cast<double>(step));
      for (std::size_t i = 0; i < lay.size; ++i) {
        const float g = grad[i];
        m[i] = static_cast<float>(kBeta1 * m[i] + (1 - kBeta1) * g);
        v[i] = static_cast<float>(kBeta2 * v[i] + (1 - kBeta2) * g * g);
        const double update = (m[i] / c1) / (std::sqrt(v[i] / c2) + kEps) + (decay[i] ? o.weight_decay * params[i] : 0.0);
        params[i] = static_cast<float>(params[i] - lr * update);
      }
      epoch_nll += loss.nll;
      epoch_tokens += loss.tokens;
      tokens_seen += loss.tokens;
      if (cb.progress) {
        // The dev perplexity of the progress line: on the first sentences of dev, every tenth of the run
        // (the full dev split is measured after each epoch). Reading the weights changes none of them.
        if (!dev_sample.empty() && (step == 1 || step % dev_every == 0 || step == total_steps))
          dev_now = perplexity(c, params, E, dev_sample, threads).perplexity;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        TrainProgress p;
        p.epoch = epoch;
        p.epochs = o.epochs;
        p.step = step;
        p.steps = total_steps;
        p.loss = epoch_nll / static_cast<double>(std::max<std::size_t>(1, epoch_tokens));
        p.tokens_per_second = elapsed > 0 ? static_cast<double>(tokens_seen) / elapsed : 0;
        p.elapsed_seconds = elapsed;
        p.dev_perplexity = dev_now;
        p.seconds_left = elapsed / static_cast<double>(step) * static_cast<double>(total_steps - step);
        cb.progress(p);
      }
    }
    EpochResult r;
    r.epoch = epoch;
    r.train_loss = epoch_nll / static_cast<double>(std::max<std::size_t>(1, epoch_tokens));
    r.dev_perplexity = dev.empty() ? 0.0 : perplexity(c, params, E, dev, threads).perplexity;
    results.push_back(r);
    if (cb.epoch_end) cb.epoch_end(r, params);
  }
  return results;
}

std::vector<float> unigram_log_probs(const Sentences& sentences, int vocab) {
  std::vector<double> counts(static_cast<std::size_t>(vocab), 1.0);  // add-one
  double total = vocab;
  // Only predicted tokens count (every token but a sentence's first), as the perplexity scores them.
  for (const auto& s : sentences)
    for (std::size_t i = 1; i < s.size(); ++i) {
      counts[static_cast<std::size_t>(s[i])] += 1.0;
      total += 1.0;
    }
  std::vector<float> out(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) out[i] = static_cast<float>(std::log(counts[i] / total));
  return out;
}

LmEmbeddings lm_embeddings(const Embeddings& emb) {
  LmEmbeddings out{Vocabulary(emb.words), RowMat<float>::Zero(static_cast<Eigen::Index>(emb.words.size()) + 1, emb.dim)};
  out.E.topRows(static_cast<Eigen::Index>(emb.words.size())) = emb.vectors;
  return out;
}

LoadedLm load_trained_model(const std::string& spec, const std::optional<std::string>& data_dir) {
  const auto path = input_file("models", spec, data_dir);
  LanguageModel model = load_language_model(path);
  Embeddings emb = resolve_embeddings(model.embeddings, data_dir);
  LmEmbeddings inputs = lm_embeddings(emb);
  if (inputs.vocab.size() != model.config.vocab || emb.dim != model.config.d_model)
    throw InputError(fmt::format("{}: the model expects {} words of width {}, its embeddings '{}' have {} of width {}", path.string(),
                                 model.config.vocab, model.config.d_model, model.embeddings, inputs.vocab.size(), emb.dim));
  return {path, std::move(model), std::move(inputs), std::move(emb)};
}

LanguageModel unigram_model(const std::vector<float>& log_probs, int d_model, int max_len, const std::string& embeddings) {
  LanguageModel m;
  m.name = "unigram";
  m.description = "each word's frequency in the training split (add-one smoothed), whatever the words before";
  m.embeddings = embeddings;
  m.config = LmConfig{.vocab = static_cast<int>(log_probs.size()), .d_model = d_model, .layers = 0, .heads = 1, .d_k = 1, .mlp = 0,
                      .max_len = max_len, .mixing = Mixing::current};
  const LmLayout lay(m.config);
  m.params.assign(lay.size, 0.0f);  // LN_f's gain and bias 0: f = 0, the logits are the output bias
  std::copy(log_probs.begin(), log_probs.end(), m.params.begin() + static_cast<std::ptrdiff_t>(lay.out_bias().offset));
  return m;
}

}  // namespace attnviz
